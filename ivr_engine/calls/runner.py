"""Run one call: open its journal record, walk its flow, record how it ended.

The runner is the FastAGI route handler for the hotline. It picks the flow by the dialled
number, journals every AGI command as a step with its time, and whatever happens (the flow
finishes, the caller hangs up, the flow fails, the engine shuts down) the record is closed
with an outcome and the side that hung up, and handed to the journal writer.

The dialplan sets ``IVR_RESULT=running`` before it hands the call over; the runner clears
it when the flow has ended cleanly with the caller still on the line, so a call whose
engine died mid-way (the AGI connection just closes) is sent to the fallback. When the
call ends by a hang-up, Asterisk is asked who hung up (``CHANNEL(hangupsource)``: the
caller's own channel when the phone sent BYE, empty when Asterisk ended it itself, at a
restart say); when it cannot even be asked, the AGI connection was lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ivr_engine.agi.errors import AgiError, CallerHangup
from ivr_engine.agi.metrics import CommandTrace
from ivr_engine.agi.result import FINAL_COMMAND_TIMEOUT, RESULT_VARIABLE
from ivr_engine.agi.session import AgiSession
from ivr_engine.calls.call import Call, Flow
from ivr_engine.journal import JournalWriter
from ivr_engine.privacy import FULL, JournalPrivacy, journal_record

log = logging.getLogger(__name__)

FlowFinder = Callable[[str], Flow | None]  # dialled number -> its flow, or None


def describe(trace: CommandTrace, masked: bool = False) -> tuple[str, str]:
    """Turn one AGI command into a journal step: (kind, detail); ``masked`` hides the
    result, which for key-collecting commands is the key the caller pressed."""
    kind, rest = _kind_and_rest(trace.command)
    if trace.error:
        outcome = trace.error
    elif masked:
        outcome = "result=***"
    elif trace.reply is not None:
        outcome = f"result={trace.reply.result}"
        if trace.reply.data:
            outcome += f" ({trace.reply.data})"
    else:
        outcome = "no reply"
    detail = f"{rest} -> {outcome}" if rest else outcome
    return kind, f"{detail} [{trace.duration * 1000:.0f} ms]"


_SPLIT: dict[str, tuple[str, str]] = {}  # command -> (kind, arguments): calls repeat them
_SPLIT_MAX = 4096


def _kind_and_rest(command: str) -> tuple[str, str]:
    split = _SPLIT.get(command)
    if split is None:
        if len(_SPLIT) >= _SPLIT_MAX:
            _SPLIT.clear()
        split = _SPLIT[command] = _split(command)
    return split


def _split(command: str) -> tuple[str, str]:
    verb, _, args = command.partition(" ")
    words = [verb]
    rest = args
    # Two-word AGI verbs: STREAM FILE, SAY DIGITS, SET VARIABLE, WAIT FOR DIGIT, ...
    # (bare capitals only: a quoted argument such as "IVR_TRANSFER" is not part of the verb)
    while rest and _verb_word(rest.split(" ", 1)[0]) and len(words) < 3:
        word, _, rest = rest.partition(" ")
        words.append(word)
    return "_".join(w.lower() for w in words), rest


def _verb_word(word: str) -> bool:
    return word.isalpha() and word.isupper()


class CallRunner:
    """The route handler that turns an AGI session into a journalled call."""

    def __init__(
        self,
        flows: FlowFinder,
        journal: JournalWriter,
        instance: str,
        privacy: JournalPrivacy = FULL,
    ) -> None:
        self.flows = flows
        self.journal = journal
        self.instance = instance
        self.privacy = privacy  # how the journal keeps numbers; card numbers always starred

    async def __call__(self, session: AgiSession) -> None:
        record = journal_record(
            self.privacy,
            caller=session.caller,
            dialled=session.dialled,
            channel=session.channel,
            unique_id=session.unique_id,
            instance=self.instance,
        )
        call = Call(session, record)

        last_command = ""

        def journal_step(trace: CommandTrace) -> None:
            nonlocal last_command
            last_command = trace.command
            record.add_step(*describe(trace, call.masked))

        session.observer = journal_step
        self.journal.submit(record)
        flow = self.flows(session.dialled)
        try:
            if flow is None:
                log.warning("no flow for dialled number %r", session.dialled)
                record.finish("no-route", "unknown")
                await session.set_variable(RESULT_VARIABLE, "no-route")
                return
            await flow(call)
            record.finish(call.flow_outcome or "completed", "engine")
            session.observer = None  # letting go is not part of the caller's call
            if last_command != "HANGUP":
                await _let_go(session)
        except CallerHangup:
            outcome, side = await _hangup_of(session)
            record.finish(f"{outcome}{_during(call)}", side)
            raise
        except asyncio.CancelledError:
            record.finish("engine-shutdown", "engine")
            raise
        except Exception as exc:
            record.finish(f"error: {type(exc).__name__}", "unknown")
            raise
        finally:
            session.observer = None  # the observer refers to the session: no cycle left
            self.journal.submit(record)


def _during(call: Call) -> str:
    return f" after {call.flow_outcome}" if call.flow_outcome else ""


async def _let_go(session: AgiSession) -> None:
    """The flow is over and the caller still there: clear ``IVR_RESULT`` so the dialplan
    goes on (transfer or hang-up) instead of taking the fallback."""
    if not session.usable:
        return
    try:
        await session.set_variable(RESULT_VARIABLE, "", timeout=FINAL_COMMAND_TIMEOUT)
    except AgiError as exc:  # hung up meanwhile, or Asterisk went away: nothing to tell
        log.debug("could not clear %s on %s: %s", RESULT_VARIABLE, session.channel, exc)


async def _hangup_of(session: AgiSession) -> tuple[str, str]:
    """How a call that hung up really ended: (outcome, hangup side).

    ``caller-hangup`` (caller): the phone side hung up (Asterisk names the channel that
    did); ``asterisk-hangup`` (asterisk): Asterisk ended the channel itself (a restart or
    shutdown, an operator's hang-up, lost media); ``connection-lost`` (unknown): the AGI
    connection closed with nobody left to ask (Asterisk stopped or crashed)."""
    source = await session.variable_after_hangup("CHANNEL(hangupsource)")
    if source is None:
        return "connection-lost", "unknown"
    if source:
        return "caller-hangup", "caller"
    return "asterisk-hangup", "asterisk"
