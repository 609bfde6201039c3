"""Erlang B and Erlang C: what queueing theory promises a contact centre.

The standard formulas (see /work/shared/domain.md), for ``servers`` agents and an offered
load of ``load`` erlangs (arrival rate times the mean handling time):

- Erlang B, by the stable recurrence B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)): the
  probability that all agents are busy when callers who find no agent free are lost.
- Erlang C: C = N B / (N - A (1 - B)), the probability that a caller has to wait when
  callers wait for as long as it takes (no abandons), first come first served.
- Service level SL(t) = 1 - C exp(-(N - A) t / AHT): the share of callers answered within
  ``t`` seconds; ASA = C AHT / (N - A): the mean wait of all callers.

They assume Poisson arrivals, exponential handling times, interchangeable agents and one
queue. For skill-based routing they give the two bounds: one pool of every agent (the
best any router can do) and each call type served by its own agents only (the worst).
"""

from __future__ import annotations

import math

__all__ = ["asa", "erlang_b", "erlang_c", "service_level"]


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of ``servers`` agents offered ``load`` erlangs."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    b = 1.0
    for n in range(1, servers + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that a caller waits (``load < servers``, else every caller waits)."""
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def service_level(servers: int, load: float, aht: float, threshold: float) -> float:
    """Share of callers (0..1) answered within ``threshold`` seconds; AHT in seconds."""
    if load >= servers:
        return 0.0
    c = erlang_c(servers, load)
    return 1.0 - c * math.exp(-(servers - load) * threshold / aht)


def asa(servers: int, load: float, aht: float) -> float:
    """Average speed of answer (seconds) over all callers, those who did not wait too."""
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * aht / (servers - load)
