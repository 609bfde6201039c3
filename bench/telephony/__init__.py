"""What the telephony benchmarks (1 and 3) share: the Asterisk test bed held under its lock,
the plain-dialplan baseline, the engine process, SIPp load steps, and a caller of our own
that hears the prompts on the wire."""
