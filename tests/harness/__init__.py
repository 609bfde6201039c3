"""Test harness for the Asterisk test bed: SIPp calls, RFC 4733 key presses, an AMI observer.

- :mod:`tests.harness.sipp`: ``place_call`` (a caller) and ``answer_as_agent`` (an agent's
  phone), each one SIPp process; results as :class:`~tests.harness.sipp.SippResult`.
- :mod:`tests.harness.dtmf_pcap`: one RTP capture per call holding all its key presses.
- :mod:`tests.harness.observer`: an independent AMI observer (pyst2) recording all events.
- :mod:`tests.harness.asterisk`: start/stop the test bed through ``asterisk/ctl.sh``.
"""
