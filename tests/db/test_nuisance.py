"""Nuisance callers on a real database (SQLite and PostgreSQL): N calls in M minutes pass,
the next is refused and puts the number on the blacklist the screening reads, with its
reason and expiry; after the expiry the number passes again. Engine instances on one
PostgreSQL database count together. A call through the interpreter takes the menu's
refusal path, and the blacklist API lists the entry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.database import make_engine
from ivr_engine.data.nuisance import COUNTER, NuisanceGuard, Verdict
from ivr_engine.data.sql import SqlBackend
from ivr_engine.data.tables import BlacklistRow, CounterRow
from ivr_engine.privacy import LogMasking
from ivr_engine.reports.registry import REPORTS
from ivr_engine.settings import DatabaseSettings, NuisanceSettings, Settings
from tests.db.api_support import api_harness
from tests.db.conftest import PgDatabase
from tests.db.reports_support import add_call, settings_at
from tests.unit.nodes.support import MemoryBackend, run_menu

NUMBER = "13400134777"
REASON = "nuisance: 3 calls in 10 min"


@dataclass
class Clock:
    """The guard's time, from the real now (the screening and the API read the entries'
    expiry against the real clock), moved on by the tests."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class Guarded:
    guard: NuisanceGuard
    clock: Clock
    engine: AsyncEngine
    blocks: list[int]

    async def calls(self, number: str, count: int, every_min: float = 0.1) -> list[Verdict | None]:
        verdicts = []
        for _ in range(count):
            verdicts.append(await self.guard.screen(number))
            self.clock.advance(every_min)
        return verdicts

    async def counted(self, number: str) -> int:
        query = (
            select(func.count())
            .select_from(CounterRow)
            .where(CounterRow.name == COUNTER, CounterRow.key == number)
        )
        async with self.engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    async def entry(self, number: str) -> tuple[str, datetime | None] | None:
        table = BlacklistRow.__table__
        query = select(table.c.reason, table.c.expires_at).where(table.c.number == number)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.reason, row.expires_at)


SETTINGS = NuisanceSettings(max_calls=3, window_min=10, block_min=30, exempt=["10086123"])


@asynccontextmanager
async def guarded(
    url: str, settings: NuisanceSettings = SETTINGS, clock: Clock | None = None
) -> AsyncIterator[Guarded]:
    engine = make_engine(url, connect_timeout=5, command_timeout=10)
    clock = clock or Clock()
    blocks: list[int] = []
    guard = NuisanceGuard(settings, engine, engine, clock=clock, on_block=lambda: blocks.append(1))
    try:
        yield Guarded(guard, clock, engine, blocks)
    finally:
        await engine.dispose()


async def _screened(url: str, number: str) -> bool:
    backend = SqlBackend(url)
    try:
        return (await backend.profile(number)).blacklisted
    finally:
        await backend.close()


async def test_n_calls_pass_the_next_is_refused_until_the_expiry(db_url: str) -> None:
    async with guarded(db_url) as g:
        assert await g.calls(NUMBER, 3) == [None, None, None]
        assert not await _screened(db_url, NUMBER)
        refused_at = g.clock.now
        verdict = await g.guard.screen(NUMBER)
        assert verdict == Verdict(REASON, refused_at + timedelta(minutes=30), new=True)
        assert await g.entry(NUMBER) == (REASON, refused_at + timedelta(minutes=30))
        assert await _screened(db_url, NUMBER)  # the menus' screening refuses it now
        assert g.blocks == [1] and g.guard.blocked == 1

        # While blocked: refused, not counted, not blocked again.
        counted = await g.counted(NUMBER)
        g.clock.advance(29)
        again = await g.guard.screen(NUMBER)
        assert again == Verdict(REASON, refused_at + timedelta(minutes=30), new=False)
        assert await g.counted(NUMBER) == counted
        assert g.blocks == [1]

        # After the expiry the number calls as anyone does, and its old calls are gone.
        g.clock.advance(1.5)
        assert await g.guard.screen(NUMBER) is None
        assert await g.counted(NUMBER) == 1
        # ... until it calls too often again: the expired entry is replaced.
        assert await g.calls(NUMBER, 2) == [None, None]
        third = await g.guard.screen(NUMBER)
        assert third is not None and third.new
        assert await g.entry(NUMBER) == (REASON, g.clock.now + timedelta(minutes=30))
        assert g.blocks == [1, 1]


async def test_the_window_slides(db_url: str) -> None:
    async with guarded(db_url) as g:
        assert await g.calls(NUMBER, 3, every_min=4.5) == [None, None, None]  # 0, 4.5, 9
        g.clock.advance(1.5 - 4.5)  # 10.5 min after the first: it has left the window
        assert await g.guard.screen(NUMBER) is None
        assert await g.counted(NUMBER) == 3  # 4.5, 9, 10.5
        g.clock.advance(0.5)
        assert await g.guard.screen(NUMBER) is not None  # 4.5, 9, 10.5, 11: four in 10 min


async def test_other_numbers_exempt_numbers_and_short_ids_are_not_counted(db_url: str) -> None:
    async with guarded(db_url) as g:
        assert await g.calls(NUMBER, 3) == [None] * 3
        assert await g.calls("13400134778", 3) == [None] * 3  # each number its own count
        assert await g.calls("10086123", 10) == [None] * 10  # exempt
        assert await g.calls("8001", 10) == [None] * 10  # an extension
        assert await g.calls("", 10) == [None] * 10  # no caller id
        assert await g.calls("anonymous", 10) == [None] * 10
        assert await g.counted("10086123") == await g.counted("8001") == 0
        # +86 and national forms are the same caller.
        assert await g.guard.screen("+86" + NUMBER) is not None


async def test_a_number_listed_by_staff_is_left_to_the_screening(db_url: str) -> None:
    async with guarded(db_url) as g:
        async with g.engine.begin() as conn:
            await conn.execute(insert(BlacklistRow).values(number=NUMBER, reason="fraud"))
        assert await g.calls(NUMBER, 10) == [None] * 10  # refused by the blacklist itself
        assert await g.counted(NUMBER) == 0
        assert await g.entry(NUMBER) == ("fraud", None)  # its entry untouched
        assert await _screened(db_url, NUMBER)


async def test_a_database_outage_lets_calls_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'none.db'}"  # cannot be opened
    async with guarded(url) as g:
        assert await g.calls(NUMBER, 5) == [None] * 5
    assert "nuisance check skipped" in caplog.text
    # Only the first call waited for the database to fail; the next went unchecked.
    assert sum("nuisance check skipped" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.postgres
async def test_two_instances_on_one_postgres_count_together(fresh_postgres: PgDatabase) -> None:
    url = fresh_postgres.url()
    clock = Clock()
    async with guarded(url, clock=clock) as east, guarded(url, clock=clock) as west:
        assert await east.guard.screen(NUMBER) is None
        assert await west.guard.screen(NUMBER) is None
        assert await east.guard.screen(NUMBER) is None
        refused = await west.guard.screen(NUMBER)  # the fourth call, on the other engine
        assert refused is not None and refused.new
        assert await east.guard.screen(NUMBER) == Verdict(REASON, refused.until, new=False)

        # Calls at the same moment on both instances: exactly N of them pass.
        other = "13400134779"
        verdicts = await asyncio.gather(
            *(g.guard.screen(other) for _ in range(6) for g in (east, west))
        )
        assert sum(v is None for v in verdicts) == 3
        assert sum(v is not None and v.new for v in verdicts) >= 1
        assert await east.entry(other) == (REASON, clock.now + timedelta(minutes=30))
        assert east.guard.blocked + west.guard.blocked == 2  # one per number


MENU = """
entries: {"10086": find}
nodes:
  find: {type: lookup, next: screen, on_error: sorry}
  screen:
    type: branch
    cases:
      - when: {profile.blacklisted: true}
        goto: refuse
    default: welcome
  refuse: {type: hangup, prompts: [refused], outcome: refused}
  welcome: {type: hangup, prompts: [welcome], outcome: welcomed}
  sorry: {type: transfer, prompts: [sorry], to: "8001"}
"""


async def test_the_refused_call_takes_the_menus_refusal_path_and_is_listed(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the interpreter (the subscriber data in memory, which knows no blacklist:
    the guard's verdict alone refuses), the blacklist API and the engine's log line."""
    masking = LogMasking()
    caplog.handler.addFilter(masking)
    caplog.set_level(logging.INFO)
    try:
        async with guarded(db_url) as g:
            outcomes = [
                await run_menu(
                    tmp_path, MENU, caller=NUMBER, backend=MemoryBackend(), nuisance=g.guard
                )
                for _ in range(4)
            ]
    finally:
        caplog.handler.removeFilter(masking)
    assert [o.heard for o in outcomes] == [["welcome"]] * 3 + [["refused"]]
    last = outcomes[-1]
    assert last.record.outcome == "refused"
    assert last.steps("nuisance")[0].startswith(REASON + " (until ")
    assert "blacklisted=True" in last.steps("lookup")[0]
    assert [o.steps("nuisance") for o in outcomes[:3]] == [[], [], []]
    # Logged, with the number masked by the engine's log filter.
    assert "nuisance caller 134****4777 blacklisted until" in caplog.text
    assert NUMBER not in caplog.text

    settings = Settings(database=DatabaseSettings(url=db_url))
    async with api_harness(db_url, settings=settings) as api:
        status, listing = await api.call("GET", "/blacklist", "admin")
    assert status == 200
    assert [(e["number"], e["reason"], e["live"]) for e in listing["entries"]] == [
        (NUMBER, REASON, True)
    ]


async def test_the_ivr_report_counts_the_refusals(db_url: str) -> None:
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    blocked = Verdict(REASON, datetime.now(UTC), new=True).describe()
    still = Verdict(REASON, datetime.now(UTC), new=False).describe()
    try:
        for call_id, caller, steps in [
            ("n1", NUMBER, [("nuisance", blocked)]),
            ("n2", NUMBER, [("nuisance", still)]),
            ("n3", "13400134778", []),
        ]:
            await add_call(
                engine,
                call_id,
                caller=caller,
                dialled="10086",
                start="2025-06-16 09:00:00",
                end="2025-06-16 09:00:05",
                outcome="refused" if steps else "self-service",
                steps=steps,
            )
        spec = REPORTS["ivr"]
        query = spec.params.model_validate({"start": "2025-06-16", "end": "2025-06-16"})
        report = await spec.build(engine, query, settings_at("2025-06-18 12:00:00"))
    finally:
        await engine.dispose()
    assert (
        "Nuisance callers: 2 calls refused for calling too often (counted as contained);"
        " 1 number(s) put on the blacklist in the period."
    ) in report.notes
