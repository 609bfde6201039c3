"""Decision times of the routing indexes at hotline scale (a script, not a test).

    .venv/bin/python -m bench.acd_routing [--agents 10000] [--calls 2000]

20 skills, 40 queues of 1-3 required skills with two escalation steps each, agents with
3-8 skills at random levels. choose_agent is timed with every agent available (the
largest pools: the worst case), choose_call with every call waiting, each against the
plain specification on a sample for comparison.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence

from acd.routing import (
    MATCHES,
    STRATEGIES,
    AgentIndex,
    AgentView,
    CallIndex,
    QueueConfig,
    Requirement,
    Step,
    WaitingCall,
    choose_agent,
    choose_call,
)

SKILLS = [f"skill{i:02}" for i in range(20)]


def make_queues(rng: random.Random, count: int) -> dict[str, QueueConfig]:
    queues: dict[str, QueueConfig] = {}
    for i in range(count):
        skills = rng.sample(SKILLS, rng.randint(1, 3))
        levels = [rng.randint(2, 4) for _ in skills]
        base = tuple(Requirement(s, lv) for s, lv in zip(skills, levels, strict=True))
        wider = tuple(Requirement(s, max(1, lv - 1)) for s, lv in zip(skills, levels, strict=True))
        name = f"queue{i:02}"
        queues[name] = QueueConfig(
            name,
            base,
            strategy=rng.choice(STRATEGIES),
            match=rng.choice(MATCHES),
            escalation=(
                Step(20.0, wider, priority_boost=1),
                Step(60.0, (Requirement(skills[0], 1),), priority_boost=1),
            ),
        )
    return queues


def make_agents(rng: random.Random, count: int, now: float) -> list[AgentView]:
    return [
        AgentView(
            f"agent{i:05}",
            {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(3, 8))},
            available=True,
            idle_since=now - rng.uniform(0, 600),
            calls_today=rng.randint(0, 80),
        )
        for i in range(count)
    ]


def make_calls(
    rng: random.Random, count: int, queues: Sequence[str], agents: Sequence[AgentView], now: float
) -> list[WaitingCall]:
    return [
        WaitingCall(
            f"call{i:05}",
            rng.choice(queues),
            rng.choice((0, 0, 0, 0, 1, 2)),
            now - rng.uniform(0, 120),
            frozenset(a.id for a in rng.sample(agents, rng.choice((0, 0, 0, 1, 2)))),
        )
        for i in range(count)
    ]


def timings_us(run: Callable[[int], object], count: int) -> list[float]:
    out: list[float] = []
    for i in range(count):
        start = time.perf_counter_ns()
        run(i)
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{label:<44} n={len(ordered):>5}  p50={statistics.median(ordered):9.1f} us"
        f"  p99={p99:9.1f} us  max={ordered[-1]:9.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--queues", type=int, default=40)
    parser.add_argument("--seed", type=int, default=10086)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = 100_000.0
    queues = make_queues(rng, args.queues)
    agents = make_agents(rng, args.agents, now)
    calls = make_calls(rng, args.calls, list(queues), agents, now)

    start = time.perf_counter()
    agent_index = AgentIndex(queues.values(), agents)
    call_index = CallIndex(queues.values(), calls)
    print(f"{args.agents} agents, {args.calls} calls, {args.queues} queues, 20 skills")
    print(f"indexes built in {time.perf_counter() - start:.2f} s")

    def index_agent(i: int) -> object:
        c = calls[i % len(calls)]
        return agent_index.choose_agent(c, now + i * 0.01, last_assigned=agents[i % len(agents)].id)

    def spec_agent(i: int) -> object:
        c = calls[i % len(calls)]
        return choose_agent(
            c, queues[c.queue], agents, now + i * 0.01, last_assigned=agents[i % len(agents)].id
        )

    def index_call(i: int) -> object:
        return call_index.choose_call(agents[i % len(agents)], now + i * 0.01)

    def spec_call(i: int) -> object:
        return choose_call(agents[i % len(agents)], calls, queues, now + i * 0.01)

    for i in range(200):  # every sampled answer agrees with the specification
        assert index_agent(i) == spec_agent(i) and index_call(i) == spec_call(i)
    call_index.choose_call(agents[0], now)  # time moved back in the check; re-stage now

    report("AgentIndex.choose_agent (all agents free)", timings_us(index_agent, 5000))
    report("spec choose_agent", timings_us(spec_agent, 100))
    report("CallIndex.choose_call (all calls waiting)", timings_us(index_call, 5000))
    report("spec choose_call", timings_us(spec_call, 100))

    flip = [AgentView(a.id, a.skills, False, a.idle_since, a.calls_today) for a in agents]
    report(
        "AgentIndex.upsert (agent busy <-> free)",
        timings_us(lambda i: agent_index.upsert(flip[i] if i % 2 == 0 else agents[i - 1]), 2000),
    )
    report(
        "CallIndex.remove + add",
        timings_us(lambda i: call_index.add(call_index.remove(calls[i % len(calls)].id)), 2000),
    )


if __name__ == "__main__":
    main()
