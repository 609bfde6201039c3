"""Feature codes agents dial on their phones, and the events they stand for.

========  ============================================================================
``*11``   log in (``log_in``)
``*12``   log out (``log_out``; during a call: log out after it)
``*13``   pause with the default reason, ``break`` (``pause``; during a call: after it)
``*13*N`` pause with reason number N of the configured list, from 1: with the default
          list ``*13*1`` break, ``*13*2`` lunch, ``*13*3`` training, ``*13*4`` meeting
``*14``   ready (``ready``): end a pause, or finish wrap-up early
========  ============================================================================

The built-in reasons ``missed-calls`` and ``supervisor`` have no number. Anything else,
a number out of range (``*13*9``), a leading zero (``*13*02``) or a suffix on another code
(``*11*5``) is no feature code: :func:`parse_feature_code` returns None and the dialplan
plays "invalid code". Which agent dialled comes from the calling endpoint, not the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.agents.states import DEFAULT_PAUSE_REASONS, AgentEvent, PauseReasons

__all__ = [
    "LOG_IN_CODE",
    "LOG_OUT_CODE",
    "PAUSE_CODE",
    "READY_CODE",
    "FeatureRequest",
    "feature_codes",
    "parse_feature_code",
]

LOG_IN_CODE = "*11"
LOG_OUT_CODE = "*12"
PAUSE_CODE = "*13"
READY_CODE = "*14"


@dataclass(frozen=True)
class FeatureRequest:
    """The event a code asks for; ``reason`` None means the policy's default pause reason."""

    event: AgentEvent
    reason: str | None = None


def feature_codes(reasons: PauseReasons = DEFAULT_PAUSE_REASONS) -> dict[str, FeatureRequest]:
    """Every valid code with its request, in dialling order (for help prompts and docs)."""
    codes = {
        LOG_IN_CODE: FeatureRequest(AgentEvent.LOG_IN),
        LOG_OUT_CODE: FeatureRequest(AgentEvent.LOG_OUT),
        PAUSE_CODE: FeatureRequest(AgentEvent.PAUSE),
    }
    for number, reason in enumerate(reasons.selectable, start=1):
        codes[f"{PAUSE_CODE}*{number}"] = FeatureRequest(AgentEvent.PAUSE, reason)
    codes[READY_CODE] = FeatureRequest(AgentEvent.READY)
    return codes


def parse_feature_code(
    dialled: str, reasons: PauseReasons = DEFAULT_PAUSE_REASONS
) -> FeatureRequest | None:
    """The request for a dialled code (surrounding blanks ignored), None if it is none."""
    return feature_codes(reasons).get(dialled.strip())
