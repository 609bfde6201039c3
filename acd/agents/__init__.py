"""Agents of the ACD: their states, the state machine, feature codes and reconciliation.

Pure logic without I/O; the service that stores statuses and the state log, the dialplan
that turns feature codes into events and the HTTP API all call in here. See the module
docstrings: :mod:`.states` (states, events, pause reasons), :mod:`.policy` (settings),
:mod:`.machine` (transition table and rules), :mod:`.feature_codes` (``*11`` .. ``*14``),
:mod:`.reconcile` (repairs from Asterisk's view) and :mod:`.clock` (time as epoch seconds).
"""

from acd.agents.clock import epoch_seconds, utc_datetime
from acd.agents.feature_codes import FeatureRequest, feature_codes, parse_feature_code
from acd.agents.machine import (
    AgentStatus,
    Pending,
    PendingKind,
    StateChange,
    TransitionError,
    apply,
    new_day,
    wrap_up_remaining,
)
from acd.agents.policy import DEFAULT_POLICY, AgentPolicy
from acd.agents.reconcile import STUCK_GRACE, due_wrap_ups, reconcile
from acd.agents.states import (
    DEFAULT_PAUSE_REASONS,
    MISSED_CALLS,
    SUPERVISOR,
    AgentEvent,
    AgentState,
    PauseReasonError,
    PauseReasons,
)

__all__ = [
    "DEFAULT_PAUSE_REASONS",
    "DEFAULT_POLICY",
    "MISSED_CALLS",
    "STUCK_GRACE",
    "SUPERVISOR",
    "AgentEvent",
    "AgentPolicy",
    "AgentState",
    "AgentStatus",
    "FeatureRequest",
    "PauseReasonError",
    "PauseReasons",
    "Pending",
    "PendingKind",
    "StateChange",
    "TransitionError",
    "apply",
    "due_wrap_ups",
    "epoch_seconds",
    "feature_codes",
    "new_day",
    "parse_feature_code",
    "reconcile",
    "utc_datetime",
    "wrap_up_remaining",
]
