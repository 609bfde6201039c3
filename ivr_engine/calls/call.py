"""What a flow works with: the caller's AGI session and the call's journal record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivr_engine.agi.session import AgiSession
from ivr_engine.journal import CallRecord

# Every key a caller can press; used as the escape digits of interruptible prompts.
ALL_KEYS = "0123456789*#"


@dataclass
class Call:
    session: AgiSession
    record: CallRecord
    flow_outcome: str | None = None
    masked: bool = False  # the caller is keying in a secret: the journal hides the keys

    def pressed(self, keys: str) -> None:
        """Note keys the caller pressed, in order."""
        if keys:
            self.record.add_keys(keys)

    def outcome(self, outcome: str) -> None:
        """Say how the flow ended the call (the runner closes the record with it)."""
        self.record.add_step("outcome", outcome)
        self.flow_outcome = outcome


Flow = Callable[[Call], Awaitable[None]]
