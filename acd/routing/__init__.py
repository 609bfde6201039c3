"""Skill-based routing: which agent gets a call, which call an agent gets.

Pure and deterministic: no I/O, no clock (``now`` is passed in, in seconds), no state kept
between calls except in the optional indexes. The SQL-backed ACD, the Asterisk side and
the discrete-event simulation all run this same code.

- ``acd.routing.model``: the values (requirements, agents, calls, queues, actions).
- ``acd.routing.escalation``: escalation steps, maximum wait, overflow, missed rings.
- ``acd.routing.choose``: the rules themselves, the specification.
- ``acd.routing.index``: ``AgentIndex`` / ``CallIndex``, the same answers fast at scale, and
  ``match_all``, a whole matching pass over them.
"""

from acd.routing.choose import (
    choose_agent,
    choose_call,
    eligible,
    match_score,
    qualifies,
    strategy_key,
)
from acd.routing.escalation import (
    declined,
    effective,
    max_wait_action,
    next_change_at,
    overflowed,
    stage_at,
)
from acd.routing.index import AgentIndex, CallIndex, match_all
from acd.routing.model import (
    MATCHES,
    MAX_LEVEL,
    MIN_LEVEL,
    STRATEGIES,
    Action,
    AgentView,
    Announce,
    Match,
    OfferCallback,
    Overflow,
    QueueConfig,
    Requirement,
    Requirements,
    Stage,
    Step,
    Strategy,
    WaitingCall,
    check_queues,
)

__all__ = [
    "MATCHES",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "STRATEGIES",
    "Action",
    "AgentIndex",
    "AgentView",
    "Announce",
    "CallIndex",
    "Match",
    "OfferCallback",
    "Overflow",
    "QueueConfig",
    "Requirement",
    "Requirements",
    "Stage",
    "Step",
    "Strategy",
    "WaitingCall",
    "check_queues",
    "choose_agent",
    "choose_call",
    "declined",
    "effective",
    "eligible",
    "match_all",
    "match_score",
    "max_wait_action",
    "next_change_at",
    "overflowed",
    "qualifies",
    "stage_at",
    "strategy_key",
]
