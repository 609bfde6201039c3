"""A caller waiting for an agent, in the caller's own FastAGI session.

:func:`serve` puts the call in its queue and holds it: music on hold, with the caller's
place in the queue and the estimated wait announced every ``announce_every_s`` seconds.
When the ACD reserves an agent, the session dials the agent's endpoint for
``ring_timeout_s`` seconds (music goes on while it rings). The agent's leg runs the
``acd-agent`` subroutine before it is connected: the engine hears the answer there and
plays the whisper (:mod:`ivr_engine.acd_asterisk.agent_leg`). If the agent does not answer, the call
goes back to waiting in its place and the next agent is tried. Once the agent hangs up,
the caller is still on the line: the menu continues (``after_agent``, e.g. a survey).

At the queue's maximum wait its action applies: overflow to another queue (same place by
age), a callback offer (1: call me back on this number, 2: key another number), or an
announcement and a destination. The queue's ``recording`` records the talk (MixMonitor,
bridged audio only) to ``acd/<call id>.wav`` in Asterisk's monitor directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from acd.config import QueueSettings
from acd.routing import Announce, OfferCallback, Overflow
from acd.service.acd import Acd
from acd.service.tickets import Offer, Ticket
from ivr_engine.acd_asterisk.hold_dialogue import (
    FIRST_ANNOUNCEMENT_S,
    announce_place,
    ask_callback_number,
)
from ivr_engine.agi.channel import AgiChannel
from ivr_engine.agi.errors import CallerHangup
from ivr_engine.interpreter.waiting import DeskUnavailable, Note, QueueOutcome

__all__ = ["CallerDesk", "QueueDesk", "serve"]

TICK_MS = 250  # how often the waiting loop looks for an offer (WAIT FOR DIGIT with music)


@dataclass(frozen=True)
class QueueDesk:
    """What the engine's queue nodes need to hand calls to the ACD; ``for_call`` binds it
    to one caller's FastAGI channel (the menu flow does, for every call)."""

    acd: Acd
    agi_host: str  # where the agent's leg reaches this instance (its own FastAGI server)
    agi_port: int
    max_talk_s: float = 4 * 3600.0  # the longest agent call the Dial command may last

    def serves(self, queue: str) -> bool:
        return queue in self.acd.config.queues

    def for_call(self, channel: AgiChannel) -> CallerDesk:
        return CallerDesk(self, channel)

    async def wait(self, channel: AgiChannel, call_id: str, queue: str, note: Note) -> QueueOutcome:
        """:func:`serve`; the ACD's database failing is counted (``acd_database``) and
        raised as ``DeskUnavailable``, so the queue node puts the call through to its
        ring seat."""
        try:
            return await serve(self, channel, call_id, queue, note)
        except (SQLAlchemyError, OSError) as exc:
            self.acd.metrics.error("acd_database")
            raise DeskUnavailable(exc) from exc


@dataclass(frozen=True)
class CallerDesk:
    """The interpreter's ``WaitingDesk`` for one FastAGI call: the desk and the call's
    channel, which the queue node never needs to know is AGI."""

    desk: QueueDesk
    channel: AgiChannel

    def serves(self, queue: str) -> bool:
        return self.desk.serves(queue)

    async def wait(self, call_id: str, queue: str, note: Note) -> QueueOutcome:
        return await self.desk.wait(self.channel, call_id, queue, note)


@dataclass
class _Wait:
    desk: QueueDesk
    channel: AgiChannel
    ticket: Ticket
    note: Note
    acted_on_max_wait: bool = False

    @property
    def acd(self) -> Acd:
        return self.desk.acd

    @property
    def settings(self) -> QueueSettings:
        return self.acd.config.queues[self.ticket.queue]


async def serve(
    desk: QueueDesk, channel: AgiChannel, call_id: str, queue: str, note: Note
) -> QueueOutcome:
    """Wait in ``queue`` until an agent has talked to the caller, or a max-wait action."""
    session = channel.session
    ticket = await desk.acd.enqueue(
        call_id,
        queue,
        caller=session.caller,
        channel=session.channel,
        unique_id=session.unique_id,
    )
    note(f"enter {queue} priority={ticket.priority}")
    wait = _Wait(desk, channel, ticket, note)
    try:
        while True:
            result = await _hold(wait)
            if isinstance(result, QueueOutcome):
                return result
            status = await _ring(wait, result)
            if status == "ANSWER" and ticket.answered_at is None:
                # The agent picked up, but the agent-answer route never confirmed it (the
                # engine could not be reached): the acd-agent subroutine hung the agent up
                # before the caller was connected. Not the agent's miss: back in line.
                note(f"ring {result.agent_id} -> answered, not connected")
                await desk.acd.not_answered(call_id, result.agent_id, "not connected", miss=False)
                continue
            if status == "ANSWER":
                note(f"talked {result.agent_id}")
                if ticket.supervisor_action:
                    note(ticket.supervisor_action)
                await desk.acd.finished(ticket, result.agent_id)
                return QueueOutcome("talked", result.agent_id)
            note(f"ring {result.agent_id} -> {status or 'no status'}")
            await desk.acd.not_answered(call_id, result.agent_id, status or "no status")
    except BaseException as exc:
        if not ticket.done:  # hung up (or the engine stops) while waiting or ringing
            offer = ticket.offer
            if ticket.answered_at is not None and offer is not None:
                # The caller hung up on the agent (or a supervisor ended or moved the call).
                note(f"talked {offer.agent_id}")
                if ticket.supervisor_action:
                    note(ticket.supervisor_action)
                await desk.acd.finished(ticket, offer.agent_id)
            else:
                why = (
                    "caller hung up"
                    if isinstance(exc, CallerHangup)
                    else f"engine: {type(exc).__name__}"
                )
                await desk.acd.abandon(ticket, why)
        raise


async def _hold(wait: _Wait) -> Offer | QueueOutcome:
    """Music and announcements until an offer comes, or a max-wait action ends the wait."""
    session = wait.channel.session
    acd = wait.acd
    await session.set_music(True)
    next_announce = acd.clock() + min(FIRST_ANNOUNCEMENT_S, wait.settings.announce_every_s)
    while True:
        offer = wait.ticket.offer
        if offer is not None:
            return offer
        now = acd.clock()
        every = wait.settings.announce_every_s
        if every > 0 and now >= next_announce:
            await _announce(wait)
            await session.set_music(True)
            next_announce = acd.clock() + every
            continue
        if not wait.acted_on_max_wait:
            outcome = await _max_wait(wait, now)
            if outcome is not None:
                return outcome
        await session.wait_for_digit(TICK_MS)


async def _announce(wait: _Wait) -> None:
    position, seconds = await wait.acd.estimate(wait.ticket)
    await announce_place(wait.channel, position, seconds, wait.note)


async def _max_wait(wait: _Wait, now: float) -> QueueOutcome | None:
    routing = wait.settings.routing
    if routing.max_wait is None or routing.on_max_wait is None:
        return None
    record_since = wait.ticket.queued_at
    if now < record_since + routing.max_wait:
        return None
    action = routing.on_max_wait
    if isinstance(action, Overflow):
        # Moved: the new queue's own max wait applies from now. Not moved (an agent was
        # reserved meanwhile): tried again on the next tick if that agent does not answer.
        if await wait.acd.overflow(wait.ticket, action.queue):
            wait.note(f"overflow to {action.queue}")
        return None
    wait.acted_on_max_wait = True
    if isinstance(action, OfferCallback):
        return await _offer_callback(wait)
    if isinstance(action, Announce):
        await wait.acd.abandon(wait.ticket, f"max wait: announce, to {action.destination}")
        await wait.channel.session.set_music(False)
        wait.note(f"max wait: announce {action.prompt}, to {action.destination}")
        await wait.channel.play([action.prompt])
        return QueueOutcome("announce", destination=action.destination)
    return None


async def _offer_callback(wait: _Wait) -> QueueOutcome | None:
    """The callback offer (see ``ask_callback_number``); declined: keep waiting."""
    channel = wait.channel
    await channel.session.set_music(False)
    number = await ask_callback_number(channel, wait.ticket.caller, wait.note)
    if number is None:
        await channel.session.set_music(True)
        return None
    if not await wait.acd.to_callback(wait.ticket, number):
        await channel.session.set_music(True)
        return None  # an agent was reserved meanwhile: take the call instead
    wait.note(f"callback to {number}")
    await channel.play(["acd-callback-confirmed"])
    return QueueOutcome("callback")


async def _ring(wait: _Wait, offer: Offer) -> str:
    """Dial the reserved agent; the Dial's status (ANSWER once the talk is over)."""
    session = wait.channel.session
    desk = wait.desk
    settings = wait.settings
    call_id = wait.ticket.call_id
    await session.set_music(False)
    if settings.recording:
        await session.exec("MixMonitor", f"acd/{call_id}.wav", "b")
        wait.note(f"recording acd/{call_id}.wav")
    ring = max(1, round(settings.ring_timeout_s))
    wait.note(f"offer {offer.agent_id}")
    options = f"gmU(acd-agent^{call_id}^{desk.agi_host}^{desk.agi_port})"
    await session.exec(
        "Dial", offer.endpoint, str(ring), options, timeout=ring + desk.max_talk_s + 5
    )
    return (await session.get_variable("DIALSTATUS")) or ""
