"""Exceptions raised by the FastAGI layer."""

from __future__ import annotations


class AgiError(Exception):
    """Base class of every FastAGI error."""


class CallerHangup(AgiError):
    """The caller hung up, or Asterisk ended the AGI: no further command can run.

    Raised for the unsolicited ``HANGUP`` line, for ``511 Command Not Permitted on a dead
    channel``, for a hang-up result (``-1`` on a dead channel, ``(hangup)``) and for the
    socket being closed by Asterisk.
    """


class AgiTimeout(AgiError):
    """A header block or a command reply did not arrive in time; the session is unusable."""


class AgiCommandError(AgiError):
    """Asterisk refused or failed a command (510 invalid, 520 usage, -1 on a live channel)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class AgiProtocolError(AgiError):
    """The peer sent something that is not FastAGI: ``kind`` says what went wrong.

    Kinds: ``truncated`` (closed mid-block), ``oversized`` (block or line too long),
    ``garbage`` (not ``agi_x: value`` lines, not UTF-8, unparseable reply).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
