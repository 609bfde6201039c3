"""The ACD's Asterisk side: device states, live channels, dialling agents, callbacks."""
