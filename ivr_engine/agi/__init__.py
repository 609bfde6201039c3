"""Hardened FastAGI core: a server owning one task per call and a typed session API."""

from ivr_engine.agi.errors import (
    AgiCommandError,
    AgiError,
    AgiProtocolError,
    AgiTimeout,
    CallerHangup,
)
from ivr_engine.agi.metrics import CommandTrace
from ivr_engine.agi.protocol import AgiReply, quote, read_headers, read_reply
from ivr_engine.agi.server import FastAgiServer, Handler, Outcome, Router
from ivr_engine.agi.session import AgiSession, Observer
from ivr_engine.agi.stats import AgiStats

__all__ = [
    "AgiCommandError",
    "AgiError",
    "AgiProtocolError",
    "AgiReply",
    "AgiSession",
    "AgiStats",
    "AgiTimeout",
    "CallerHangup",
    "CommandTrace",
    "FastAgiServer",
    "Handler",
    "Observer",
    "Outcome",
    "Router",
    "quote",
    "read_headers",
    "read_reply",
]
