"""JournalStore against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ground.database import sqlite_file
from ivr_engine.db_schema import upgrade
from ivr_engine.journal import CallRecord, JournalStore, recent_calls
from ivr_engine.journal.store import MissingTables
from tests.db.conftest import sqlite_url

T0 = datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


def make_record(n: int, started_at: datetime = T0) -> CallRecord:
    return CallRecord(
        caller=f"+4930{n:04d}",
        dialled="8000",
        channel=f"PJSIP/trunk-{n:08x}",
        unique_id=f"1709287200.{n}",
        started_at=started_at,
        instance="engine-a",
    )


async def count_rows(url: str, table: str, call_id: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE call_id = :c"), {"c": call_id}
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_save_at_start_then_at_end_replaces_steps(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    try:
        record = make_record(1)
        record.add_step("answer", at=T0 + timedelta(milliseconds=40))
        record.add_step("prompt", "welcome", at=T0 + timedelta(milliseconds=55))
        await store.save(record)  # at call start: visible while live

        live = await store.get(record.call_id)
        assert live is not None
        assert live["ended_at"] is None
        assert live["outcome"] is None
        assert live["hangup_side"] is None
        assert [(s["kind"], s["detail"]) for s in live["steps"]] == [
            ("answer", ""),
            ("prompt", "welcome"),
        ]

        record.add_keys("5", at=T0 + timedelta(seconds=3))
        record.add_step("say_digits", "5", at=T0 + timedelta(seconds=3, milliseconds=10))
        record.add_step("hangup", at=T0 + timedelta(seconds=5))
        record.finish("completed", "caller", at=T0 + timedelta(seconds=5, milliseconds=1))
        await store.save(record)  # at call end

        done = await store.get(record.call_id)
        assert done == record.to_dict()
        assert [(s["kind"], s["detail"], s["offset_ms"]) for s in done["steps"]] == [
            ("answer", "", 40),
            ("prompt", "welcome", 55),
            ("keys", "5", 3000),
            ("say_digits", "5", 3010),
            ("hangup", "", 5000),
        ]
        assert done["outcome"] == "completed"
        assert done["hangup_side"] == "caller"
        assert done["ended_at"] == "2024-03-01T10:00:05.124456+00:00"
        # Replaced, not appended: 5 step rows, 1 call row.
        assert await count_rows(db_url, "call_steps", record.call_id) == 5
        assert await count_rows(db_url, "calls", record.call_id) == 1
    finally:
        await store.close()


async def test_recent_is_newest_first_and_limited(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    try:
        records = [make_record(n, T0 + timedelta(minutes=n)) for n in range(5)]
        for n, record in enumerate(records):
            record.add_step("answer", at=record.started_at)
            record.add_keys(str(n), at=record.started_at + timedelta(seconds=1))
        shuffled = records[:]
        random.Random(7).shuffle(shuffled)
        for record in shuffled:  # insertion order must not matter
            await store.save(record)

        top3 = await store.recent(3)
        assert [c["call_id"] for c in top3] == [r.call_id for r in reversed(records[2:])]
        assert top3 == [r.to_dict() for r in reversed(records[2:])]
        assert [c["keys"] for c in top3] == ["4", "3", "2"]

        everything = await store.recent(50)
        assert [c["caller"] for c in everything] == [
            "+49300004",
            "+49300003",
            "+49300002",
            "+49300001",
            "+49300000",
        ]
        assert await store.recent(0) == []
        with pytest.raises(ValueError):
            await store.recent(-1)
    finally:
        await store.close()


async def test_get_unknown_call_is_none(db_url: str) -> None:
    async with await JournalStore.connect(db_url) as store:
        await store.save(make_record(1))
        assert await store.get("0" * 32) is None


async def test_keys_outcome_and_fields_round_trip(db_url: str) -> None:
    async with await JournalStore.connect(db_url) as store:
        record = make_record(7)
        record.add_keys("12", at=T0 + timedelta(seconds=1))
        record.add_keys("#", at=T0 + timedelta(seconds=2))
        record.add_keys("*9", at=T0 + timedelta(seconds=3))
        record.finish("no-route", "engine", at=T0 + timedelta(seconds=4))
        assert record.finish("completed", "caller") is False
        await store.save(record)

        got = await store.get(record.call_id)
        assert got is not None
        assert got["keys"] == "12#*9"
        assert got["outcome"] == "no-route"
        assert got["hangup_side"] == "engine"
        assert got["caller"] == "+49300007"
        assert got["dialled"] == "8000"
        assert got["channel"] == "PJSIP/trunk-00000007"
        assert got["unique_id"] == "1709287200.7"
        assert got["instance"] == "engine-a"
        assert [s["detail"] for s in got["steps"] if s["kind"] == "keys"] == ["12", "#", "*9"]


async def test_timezone_aware_times_round_trip_as_utc(db_url: str) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    started_local = datetime(2024, 3, 1, 15, 30, 0, 654321, tzinfo=india)  # 10:00 UTC
    record = make_record(3, started_local)
    record.add_step(
        "answer", at=datetime(2024, 3, 1, 5, 0, 1, 1, tzinfo=timezone(-timedelta(hours=5)))
    )
    record.finish("caller-hangup", "caller", at=datetime(2024, 3, 1, 10, 0, 2, 999999, tzinfo=UTC))
    async with await JournalStore.connect(db_url) as store:
        await store.save(record)
        got = await store.get(record.call_id)
    assert got is not None
    assert got["started_at"] == "2024-03-01T10:00:00.654321+00:00"
    assert got["steps"][0]["at"] == "2024-03-01T10:00:01.000001+00:00"
    assert got["steps"][0]["offset_ms"] == 345
    assert got["ended_at"] == "2024-03-01T10:00:02.999999+00:00"
    started = datetime.fromisoformat(got["started_at"])
    assert started.utcoffset() == timedelta(0)
    assert started == started_local

    # What is physically stored is UTC too.
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                raw = (await conn.execute(text("SELECT started_at FROM calls"))).scalar_one()
                assert raw == "2024-03-01 10:00:00.654321"
            else:
                raw = (
                    await conn.execute(
                        text("SELECT to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI') FROM calls")
                    )
                ).scalar_one()
                assert raw == "10:00"
    finally:
        await engine.dispose()


async def test_open_is_idempotent_and_concurrent_safe(db_url: str) -> None:
    first, second = await asyncio.gather(JournalStore.connect(db_url), JournalStore.connect(db_url))
    try:
        record = make_record(1)
        await first.save(record)
        assert (await second.get(record.call_id)) == record.to_dict()
    finally:
        await first.close()
        await second.close()
    async with await JournalStore.connect(db_url) as again:  # tables already there
        assert len(await again.recent(10)) == 1


async def test_nul_in_caller_does_not_make_the_record_unwritable(db_url: str) -> None:
    record = CallRecord(caller="10\x000", dialled="8000", channel="c", unique_id="u")
    async with await JournalStore.connect(db_url) as store:
        await store.save(record)
        got = await store.get(record.call_id)
    assert got is not None
    assert got["caller"] == "100"


async def test_recent_calls_helper(db_url: str) -> None:
    async with await JournalStore.connect(db_url) as store:
        for n in range(3):
            await store.save(make_record(n, T0 + timedelta(seconds=n)))
    calls = await recent_calls(db_url, 2)
    assert [c["caller"] for c in calls] == ["+49300002", "+49300001"]


async def test_closed_store_refuses_work(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(RuntimeError, match="not open"):
        await store.save(make_record(1))
    with pytest.raises(RuntimeError, match="not open"):
        await store.recent(1)


async def test_sqlite_directory_is_made_by_upgrade_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "journal.db"
    url = sqlite_url(path)
    assert sqlite_file(url) == path
    await upgrade(url)
    async with await JournalStore.connect(url) as store:
        await store.save(make_record(1))
        assert path.is_file()
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        finally:
            await engine.dispose()
    assert mode == "wal"


async def test_an_unmigrated_database_is_refused_and_reads_as_empty(empty_db_url: str) -> None:
    path = sqlite_file(empty_db_url)
    if path is not None:  # an existing SQLite file without the journal's tables
        path.parent.mkdir(parents=True)
        engine = create_async_engine(empty_db_url)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE other (x INTEGER)"))
        await engine.dispose()
    with pytest.raises(MissingTables, match="ivr-engine db upgrade"):
        await JournalStore.connect(empty_db_url)
    assert await recent_calls(empty_db_url, 5) == []


async def test_recent_calls_on_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "journal.db"
    assert await recent_calls(sqlite_url(path), 10) == []
    assert not path.parent.exists()


async def test_records_left_open_by_a_dead_run_are_closed_at_restart(db_url: str) -> None:
    """A run of engine-a died with two calls open: at its restart both are closed as
    engine-crashed, ending at the last moment the journal knew them alive; a finished call
    and another instance's open call are left alone."""
    store = await JournalStore.connect(db_url)
    try:
        talking = make_record(1)
        talking.add_step("stream_file", "cm-main-menu", at=T0 + timedelta(seconds=7))
        just_started = make_record(2, started_at=T0 + timedelta(seconds=3))
        finished = make_record(3)
        finished.finish("completed", "engine", at=T0 + timedelta(seconds=9))
        elsewhere = make_record(4)
        elsewhere.instance = "engine-b"
        for record in (talking, just_started, finished, elsewhere):
            await store.save(record)

        restart = T0 + timedelta(minutes=5)
        closed = await store.close_unfinished("engine-a", now=restart)
        assert closed == [talking.call_id, just_started.call_id]
        for record, last_seen in ((talking, T0 + timedelta(seconds=7)), (just_started, None)):
            got = await store.get(record.call_id)
            assert got is not None
            end = last_seen or record.started_at
            assert (got["outcome"], got["hangup_side"]) == ("engine-crashed", "unknown")
            assert datetime.fromisoformat(got["ended_at"]) == end
            kind, detail = got["steps"][-1]["kind"], got["steps"][-1]["detail"]
            assert kind == "closed" and "started again at 2024-03-01T10:05:00" in detail, detail
        assert (await store.get(finished.call_id) or {})["outcome"] == "completed"
        assert (await store.get(elsewhere.call_id) or {})["ended_at"] is None
        assert await store.close_unfinished("engine-a") == []  # nothing left open
    finally:
        await store.close()
