"""Test harness for the Asterisk test bed: SIPp calls, RFC 4733 key presses, an AMI observer.

- :mod:`tests.harness.sipp`: ``place_call`` (a caller) and ``answer_as_agent`` (an agent's
  phone), each one SIPp process; results as :class:`~tests.harness.sipp.SippResult`.
- :mod:`tests.harness.dtmf_pcap`: one RTP capture per call holding all its key presses.
- :mod:`tests.harness.observer`: an independent AMI observer (pyst2) recording all events.
- :mod:`tests.harness.asterisk`: start/stop the test bed through ``asterisk/ctl.sh``.
- :mod:`tests.harness.engine`: the real engine as a subprocess, on its own database and a
  copy of the menus, with the demo subscribers loaded.
- :mod:`tests.harness.prompt_timing`: how long built prompts play, to time key presses.
- ``python -m tests.harness CALLER DIALLED --key SECONDS:DIGIT``: one call by hand.
"""
