"""The live figures a supervisor sees, each defined once, from the ACD's state.

The wallboard, the operations API (``GET /queues``, ``GET /agents``) and ``/metrics`` all
show these, so a queue reads the same wherever one looks:

- :mod:`acd.figures.now`: the queues and agents now (calls waiting, ringing, callbacks
  owed, longest wait, the agents who can take a queue's calls, agents by state), computed
  from the rows the store reads;
- :mod:`acd.figures.today`: today's answered and abandoned calls per queue and the service
  level they give, read from the queue log.

What they mean, for people: ``docs/wallboard.md`` ("What the figures mean").
"""

from acd.figures.now import (
    STATES,
    QueueNow,
    agents_by_state,
    is_waiting,
    longest_wait_s,
    queues_now,
)
from acd.figures.today import QueueDay, Today, day_start, queue_definition, read_today

__all__ = [
    "STATES",
    "QueueDay",
    "QueueNow",
    "Today",
    "agents_by_state",
    "day_start",
    "is_waiting",
    "longest_wait_s",
    "queue_definition",
    "queues_now",
    "read_today",
]
