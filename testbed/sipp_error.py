"""The one exception of the SIPp harness."""

from __future__ import annotations


class SippError(Exception):
    """SIPp could not be started or did not start listening."""
