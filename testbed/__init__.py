"""Test harness for the Asterisk test bed: SIPp calls, RFC 4733 key presses, an AMI observer.

- :mod:`testbed.sipp`: ``place_call`` (a caller) and ``answer_as_agent`` (an agent's
  phone), each one SIPp process; results as :class:`~testbed.sipp.SippResult`.
- :mod:`testbed.dtmf_pcap`: one RTP capture per call holding all its key presses.
- :mod:`testbed.observer`: an independent AMI observer (pyst2) recording all events.
- :mod:`testbed.asterisk`: start/stop the test bed through ``asterisk/ctl.sh``.
- :mod:`testbed.engine`: the real engine as a subprocess, on its own database and a
  copy of the menus, with the demo subscribers loaded.
- :mod:`testbed.prompt_timing`: how long built prompts play, to time key presses.
- ``python -m testbed CALLER DIALLED --key SECONDS:DIGIT``: one call by hand.
"""
