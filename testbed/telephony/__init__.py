"""Calls on the wire: a SIP caller of our own that hears the prompts in the RTP it gets
(G.711 decoding and prompt recognition), the hotline call it places, and SIPp load steps.
Used by the soak test and by the telephony benchmarks."""
