"""The one channel variable through which the engine tells the dialplan how a call went.

``dialplans/hotline.conf`` sets ``IVR_RESULT=running`` before it hands the call over, then
reads it when the AGI returns: ``running`` still there (the engine died mid-call) or
``error`` (the session failed, or came while the engine was stopping) sends the caller to
the fallback; ``no-route`` means no menu answers the dialled number; empty means the
engine let go cleanly with the caller still on the line.
"""

from __future__ import annotations

from typing import Final

RESULT_VARIABLE: Final = "IVR_RESULT"
FINAL_COMMAND_TIMEOUT: Final = 2.0  # setting it is the session's last command: never wait long
