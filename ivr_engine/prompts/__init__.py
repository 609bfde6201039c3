"""The prompt catalogue and the builder that renders it into Asterisk sound files."""
