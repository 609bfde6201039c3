"""The engine's link to Asterisk's manager interface (AMI)."""

from ivr_engine.ami.link import AmiLink, AmiUnavailable, LinkState

__all__ = ["AmiLink", "AmiUnavailable", "LinkState"]
