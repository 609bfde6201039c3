"""The configurable rules of the agent state machine (one policy for a whole contact centre).

- ``pause_reasons``: the reasons agents choose from (see :mod:`acd.agents.states`).
- ``max_missed`` (default 2): after this many calls in a row ring out unanswered
  (``ring_no_answer``), the agent is paused with reason ``missed-calls``; 0 turns this off.
- ``log_in_paused`` (default None): a reason to log agents in paused with, so that they
  say ``ready`` (``*14``) once they sit down; None logs them in available.
- ``default_pause_reason`` (default ``break``): the reason of a ``pause`` without one
  (the plain feature code ``*13``).

The wrap-up time is not here: it belongs to the queue a call came from and is given with
each ``call_end``.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.agents.states import DEFAULT_PAUSE_REASONS, PauseReasonError, PauseReasons

__all__ = ["DEFAULT_POLICY", "AgentPolicy"]


@dataclass(frozen=True)
class AgentPolicy:
    pause_reasons: PauseReasons = DEFAULT_PAUSE_REASONS
    max_missed: int = 2
    log_in_paused: str | None = None
    default_pause_reason: str = "break"

    def __post_init__(self) -> None:
        if self.max_missed < 0:
            raise ValueError(f"max_missed must be 0 (off) or more, not {self.max_missed}")
        if self.log_in_paused is not None and self.log_in_paused not in self.pause_reasons:
            raise PauseReasonError(f"log_in_paused: unknown pause reason {self.log_in_paused!r}")
        if not self.pause_reasons.is_selectable(self.default_pause_reason):
            raise PauseReasonError(
                f"default_pause_reason {self.default_pause_reason!r} is not one agents may choose"
            )


DEFAULT_POLICY = AgentPolicy()
