"""The soak's calls as the engine's journal recorded them: one record per call placed, each
gone the whole way.

A load call (benchmark 1's, testbed/telephony/hotline_call.py) went the whole way when its
record is finished, the caller hung up, the keys were 1 and 1, the balance was queried,
its read-out played to the end and the billing menu was played twice: what benchmark 1
checks of each of its calls. An agent call went the whole way when the ACD put it
through to an agent who talked to the caller (a step ``acd talked 80NN``) and the flow
ended with the outcome ``agent``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from ground.database import make_engine
from ivr_engine.journal.tables import CallRow, StepRow
from testbed.telephony.hotline_call import BALANCE, READ_OUT


@dataclass
class JournalTally:
    load: int = 0  # records of load calls
    load_ok: int = 0  # of them, gone the whole way
    agent: int = 0
    agent_ok: int = 0
    unfinished: int = 0  # records without an end
    others: int = 0  # records from neither range of numbers
    outcomes: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common())
        return (
            f"journal: {self.load} load calls ({self.load_ok} went the whole way), "
            f"{self.agent} agent calls ({self.agent_ok} talked to an agent), "
            f"{self.unfinished} unfinished, {self.others} other; outcomes: {shown or '-'}"
        )


def _step(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(StepRow.call_id == CallRow.call_id, *conditions)


def _load_ok() -> ColumnElement[bool]:
    billing_menus = (
        select(func.count())
        .where(
            StepRow.call_id == CallRow.call_id,
            StepRow.kind == "prompt",
            StepRow.detail == "cm-billing-menu",
        )
        .scalar_subquery()
    )
    return and_(
        CallRow.outcome == "caller-hangup",
        CallRow.keys == "11",
        _step(StepRow.kind == "query", StepRow.detail == f"balance: balance={BALANCE}"),
        _step(
            StepRow.kind == "stream_file",
            StepRow.detail.like(f'"hotline/{READ_OUT[-1]}"%'),
            StepRow.detail.like("%result=0%"),
        ),
        billing_menus == 2,
    )


def _agent_ok() -> ColumnElement[bool]:
    return and_(
        CallRow.outcome == "agent",
        _step(StepRow.kind == "acd", StepRow.detail.like("talked %")),
    )


async def journal_tally(
    url: str,
    since: datetime,
    load_numbers: tuple[int, int],
    agent_numbers: tuple[int, int],
) -> JournalTally:
    """The records of the calls started at or after ``since``, sorted by the range of
    numbers (first, last) their caller is in."""
    engine = make_engine(url, connect_timeout=10, command_timeout=300)
    query = select(
        CallRow.caller,
        CallRow.outcome,
        CallRow.ended_at.is_not(None),
        case((_load_ok(), True), else_=False),
        case((_agent_ok(), True), else_=False),
    ).where(CallRow.started_at >= since)
    tally = JournalTally()
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
    finally:
        await engine.dispose()
    for caller, outcome, ended, load_ok, agent_ok in rows:
        tally.outcomes[str(outcome)] += 1
        if not ended:
            tally.unfinished += 1
        number = int(caller) if str(caller).isdigit() else -1
        if load_numbers[0] <= number <= load_numbers[1]:
            tally.load += 1
            tally.load_ok += bool(load_ok)
        elif agent_numbers[0] <= number <= agent_numbers[1]:
            tally.agent += 1
            tally.agent_ok += bool(agent_ok)
        else:
            tally.others += 1
    return tally
