"""The waiting desk of ``ivr-engine simulate``: a queue node's call waits in its queue of
the ACD configuration (config/acd.yaml), with that queue's settings, on a simulated clock.

No ACD runs and nothing is written (the live ACD database is never opened); no time
really passes: the clock jumps from one event to the next, and the time between two
things the caller hears is shown as music on hold. The events are those of a real call:

- **Announcements**: the first after 3 s (or ``announce_every_s``, if sooner), then every
  ``announce_every_s``. The simulated caller is alone in the queue, so the place is 1;
  the estimated wait is the time left until the agents are free.
- **An agent**: every agent of the configuration becomes free ``agent_after`` seconds
  after the call entered the queue, and the ACD's own routing rules (:mod:`acd.routing`:
  the requirements in force after escalation, the queue's match and strategy) choose who
  takes the call. The agent answers at once, talks, and hangs up: the menu goes on.
- **The queue's max wait**, when it comes first: an overflow (the other queue's settings
  apply from then on), a callback offer answered with the simulated caller's keys, or an
  announcement and a destination.
"""

from __future__ import annotations

from collections.abc import Callable

from acd.config import AcdConfig, QueueSettings
from acd.routing import (
    AgentView,
    Announce,
    OfferCallback,
    Overflow,
    WaitingCall,
    choose_agent,
    max_wait_action,
    next_change_at,
    overflowed,
)
from ivr_engine.acd_asterisk.hold_dialogue import (
    FIRST_ANNOUNCEMENT_S,
    announce_place,
    ask_callback_number,
)
from ivr_engine.interpreter.channel import Channel
from ivr_engine.interpreter.waiting import Note, QueueOutcome

__all__ = ["SimulatedDesk"]


class SimulatedDesk:
    """A ``WaitingDesk`` for one simulated call on ``channel`` from ``caller``: the agents
    are free ``agent_after`` simulated seconds after the call enters its queue; ``out``
    shows the time on hold and the agent's talk."""

    def __init__(
        self,
        config: AcdConfig,
        channel: Channel,
        caller: str,
        agent_after: float,
        out: Callable[[str], None],
    ) -> None:
        self.config = config
        self.channel = channel
        self.caller = caller
        self.agent_after = agent_after
        self.out = out
        self.now = 0.0  # simulated seconds since the call entered its queue
        self.held = 0.0  # seconds on hold not shown yet

    def serves(self, queue: str) -> bool:
        return queue in self.config.queues

    async def wait(self, call_id: str, queue: str, note: Note) -> QueueOutcome:
        """Raises ``ValueError`` when no agent of the configuration can ever take the call
        and the queue has no max-wait action left: the caller would wait for ever."""
        note = self._showing_hold(note)
        settings = self.config.queues[queue]
        call = WaitingCall(call_id, queue, settings.priority, entered_at=self.now)
        note(f"enter {queue} priority={settings.priority}")
        free_at = self.now + self.agent_after
        agents = [
            AgentView(agent.id, agent.skills, idle_since=free_at)
            for agent in self.config.agents.values()
        ]
        next_announce = self.now + min(FIRST_ANNOUNCEMENT_S, settings.announce_every_s)
        acted_on_max_wait = False
        while True:
            settings = self.config.queues[call.queue]
            routing = settings.routing
            if self.now >= free_at:
                agent = choose_agent(call, routing, agents, self.now)
                if agent is not None:
                    return self._talk(call, settings, agent.id, note)
            every = settings.announce_every_s
            if every > 0 and self.now >= next_announce:
                await announce_place(self.channel, 1, max(0.0, free_at - self.now), note)
                next_announce = self.now + every
                continue
            action = None if acted_on_max_wait else max_wait_action(call, routing, self.now)
            if isinstance(action, Overflow):
                call = overflowed(call, action.queue, self.now)
                note(f"overflow to {action.queue}")
                continue
            if action is not None:
                acted_on_max_wait = True
                outcome = await self._max_wait(action, note)
                if outcome is not None:
                    return outcome
                continue
            self._hold_until(self._next_event(call, settings, free_at, next_announce))

    def _next_event(
        self, call: WaitingCall, settings: QueueSettings, free_at: float, next_announce: float
    ) -> float:
        """When something next can change: agents free, an announcement, an escalation
        step or the max wait."""
        change = next_change_at(call, settings.routing, self.now)
        if self.now >= free_at and change is None:
            raise ValueError(
                f"no agent of {self.config.source} can take calls of queue {call.queue}"
                " and it has no max-wait action left: the caller would wait for ever"
            )
        times = [] if change is None else [change]
        if self.now < free_at:
            times.append(free_at)
        if settings.announce_every_s > 0:
            times.append(next_announce)
        return min(times)

    def _hold_until(self, then: float) -> None:
        self.held += then - self.now
        self.now = then

    def _showing_hold(self, note: Note) -> Note:
        """``note``, after the time on hold since the last thing noted (every event the
        caller hears is noted first, so holds broken by silent changes show as one)."""

        def noted(detail: str) -> None:
            if self.held > 0:
                self.out(f"  ... {self.held:g} s of music on hold")
                self.held = 0.0
            note(detail)

        return noted

    async def _max_wait(self, action: OfferCallback | Announce, note: Note) -> QueueOutcome | None:
        if isinstance(action, OfferCallback):
            number = await ask_callback_number(self.channel, self.caller, note)
            if number is None:
                return None
            note(f"callback to {number}")
            await self.channel.play(["acd-callback-confirmed"])
            return QueueOutcome("callback")
        note(f"max wait: announce {action.prompt}, to {action.destination}")
        await self.channel.play([action.prompt])
        return QueueOutcome("announce", destination=action.destination)

    def _talk(
        self, call: WaitingCall, settings: QueueSettings, agent: str, note: Note
    ) -> QueueOutcome:
        if settings.recording:
            note(f"recording acd/{call.id}.wav")
        note(f"offer {agent}")
        self.out(f"  (agent {agent} answers, talks with the caller, then hangs up)")
        note(f"talked {agent}")
        return QueueOutcome("talked", agent)
