"""JournalWriter: background writes, outages, close, bounds — against real databases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from ivr_engine.db_schema import upgrade
from ivr_engine.journal import CallRecord, JournalStore, JournalWriter, RecordSink
from testbed.proxy import CuttableProxy
from tests.db.conftest import PgDatabase, sqlite_url


def fast_writer(store: RecordSink, *, max_buffer: int = 100_000) -> JournalWriter:
    """A writer that retries every 10-50 ms instead of 0.2-5 s."""
    return JournalWriter(store, max_buffer=max_buffer, retry_min=0.01, retry_max=0.05)


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    for _ in range(100_000):
        if predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached in time")


def make_record(n: int) -> CallRecord:
    return CallRecord(caller=f"10{n:03d}", dialled="8000", channel=f"SIP/{n}", unique_id=f"{n}.0")


def writer_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "journal-writer"]


class Saved:
    """(call_id, outcome) of each successful save, in order."""

    def __init__(self) -> None:
        self.order: list[tuple[str, str | None]] = []


class FlakyStore:
    """A real store behind a switch: while ``down``, every save fails like a lost database."""

    def __init__(self, inner: JournalStore) -> None:
        self.inner = inner
        self.down = False
        self.attempts = 0
        self.saved = Saved()
        self.reject: set[str] = set()

    async def save(self, record: CallRecord) -> None:
        self.attempts += 1
        if self.down:
            raise OperationalError("INSERT INTO calls", None, ConnectionRefusedError(111, "down"))
        if record.call_id in self.reject:
            raise IntegrityError("INSERT INTO calls", None, ValueError("constraint failed"))
        await self.inner.save(record)
        self.saved.order.append((record.call_id, record.outcome))


class HangingStore:
    """save() never returns (a database that accepted the connection and went silent).

    When cancelled it takes ``cleanup`` seconds to unwind, like a driver rolling back.
    """

    def __init__(self, cleanup: float = 0.0) -> None:
        self.entered = asyncio.Event()
        self.cancelled = False
        self.cleanup = cleanup

    async def save(self, record: CallRecord) -> None:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            if self.cleanup:
                await asyncio.shield(asyncio.sleep(self.cleanup))
            raise


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[JournalStore]:
    opened = await JournalStore.connect(db_url)
    yield opened
    await opened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[JournalStore]:
    url = sqlite_url(tmp_path / "journal.db")
    await upgrade(url)
    opened = await JournalStore.connect(url)
    yield opened
    await opened.close()


async def test_writes_in_background_with_snapshots(store: JournalStore) -> None:
    flaky = FlakyStore(store)
    writer = fast_writer(flaky)
    writer.start()
    record = make_record(1)
    record.add_step("answer")
    assert writer.submit(record) is True  # call start
    record.add_keys("5")
    record.finish("completed", "caller")
    assert writer.submit(record) is True  # call end, before the first one is even written
    assert writer.pending == 2
    assert writer.written == 0  # submit did not wait for the database

    await wait_until(lambda: writer.pending == 0)
    # The first save saw the record as it was at submit time, not the finished one.
    assert flaky.saved.order == [(record.call_id, None), (record.call_id, "completed")]
    assert (writer.written, writer.failures, writer.dropped, writer.healthy) == (2, 0, 0, True)
    assert await store.get(record.call_id) == record.to_dict()
    await writer.close()
    assert writer_tasks() == []


async def test_outage_loses_nothing_and_writes_in_order(
    sqlite_store: JournalStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ivr_engine.journal")
    flaky = FlakyStore(sqlite_store)
    writer = fast_writer(flaky)
    writer.start()
    flaky.down = True
    expected: list[tuple[str, str | None]] = []
    for n in range(20):
        record = make_record(n)
        writer.submit(record)
        expected.append((record.call_id, None))
        record.finish("completed", "engine")
        writer.submit(record)
        expected.append((record.call_id, "completed"))
    await wait_until(lambda: writer.failures >= 5)
    assert writer.healthy is False
    assert writer.written == 0
    assert writer.pending == 40
    outage_logs = [r for r in caplog.records if "database write failed" in r.getMessage()]
    assert len(outage_logs) == 1  # once per outage, not once per retry
    assert outage_logs[0].levelno == logging.ERROR

    flaky.down = False
    await wait_until(lambda: writer.pending == 0)
    assert flaky.saved.order == expected
    assert writer.written == 40
    assert writer.healthy is True
    assert writer.dropped == 0
    calls = await sqlite_store.recent(100)
    assert len(calls) == 20
    assert {c["outcome"] for c in calls} == {"completed"}
    assert sum("recovered" in r.getMessage() for r in caplog.records) == 1

    # A second outage is logged again.
    flaky.down = True
    before = writer.failures
    writer.submit(make_record(99))
    await wait_until(lambda: writer.failures > before)
    assert writer.healthy is False
    flaky.down = False
    await writer.close(timeout=5)
    assert sum("database write failed" in r.getMessage() for r in caplog.records) == 2
    assert writer.written == 41
    assert writer.pending == 0


async def test_close_flushes_what_is_queued(store: JournalStore) -> None:
    writer = JournalWriter(store)
    writer.start()
    records = [make_record(n) for n in range(50)]
    for record in records:
        writer.submit(record)
    await writer.close()
    assert writer.pending == 0
    assert writer.written == 50
    assert writer_tasks() == []
    assert len(await store.recent(100)) == 50
    assert writer.submit(make_record(51)) is False  # closed: refused and counted
    assert writer.dropped == 1


async def test_close_gives_up_after_timeout_when_database_stays_down(
    sqlite_store: JournalStore, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyStore(sqlite_store)
    flaky.down = True
    writer = fast_writer(flaky)
    writer.start()
    writer.submit(make_record(1))
    writer.submit(make_record(2))
    loop = asyncio.get_running_loop()
    began = loop.time()
    closing = asyncio.create_task(writer.close(timeout=0.3))
    await asyncio.wait({closing}, timeout=5)
    assert closing.done(), "close() must cancel the task once its timeout is over"
    await closing
    assert 0.25 <= loop.time() - began < 2.0
    assert writer_tasks() == []
    assert writer.written == 0
    assert any("2 record(s) not written" in r.getMessage() for r in caplog.records)


async def test_cancelled_close_propagates_and_leaves_no_task() -> None:
    hanging = HangingStore()
    writer = JournalWriter(hanging)
    writer.start()
    writer.submit(make_record(1))
    await asyncio.wait_for(hanging.entered.wait(), 5)
    closing = asyncio.create_task(writer.close(timeout=60))
    await asyncio.sleep(0.05)
    assert not closing.done()
    closing.cancel()
    await asyncio.wait({closing}, timeout=5)
    assert closing.done(), "a cancelled close() must not hang"
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert closing.cancelled()
    assert hanging.cancelled  # the in-flight save was cancelled, not orphaned
    assert writer_tasks() == []


async def test_close_cancelled_while_stopping_the_task_still_propagates() -> None:
    hanging = HangingStore(cleanup=0.3)
    writer = JournalWriter(hanging)
    writer.start()
    writer.submit(make_record(1))
    await asyncio.wait_for(hanging.entered.wait(), 5)
    closing = asyncio.create_task(writer.close(timeout=0.05))
    await asyncio.sleep(0.15)  # timeout passed: close() is now waiting for the task to unwind
    assert hanging.cancelled
    assert not closing.done()
    closing.cancel()
    await asyncio.wait({closing}, timeout=5)
    assert closing.done(), "a cancelled close() must not hang"
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert closing.cancelled()
    assert writer_tasks() == []


async def test_writer_task_cancelled_by_someone_else(sqlite_store: JournalStore) -> None:
    writer = JournalWriter(sqlite_store)
    writer.start()
    (task,) = writer_tasks()
    task.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert task.cancelled()
    assert writer.healthy is False  # the health check sees the dead writer
    await writer.close(timeout=1)  # does not raise: close() itself was not cancelled


async def test_buffer_bound_counts_drops(sqlite_store: JournalStore) -> None:
    writer = JournalWriter(sqlite_store, max_buffer=3)
    records = [make_record(n) for n in range(10)]
    accepted = [writer.submit(record) for record in records]  # not started: nothing drains
    assert accepted == [True] * 3 + [False] * 7
    assert (writer.pending, writer.dropped) == (3, 7)
    writer.start()
    await writer.close()
    stored = await sqlite_store.recent(100)
    assert sorted(c["call_id"] for c in stored) == sorted(r.call_id for r in records[:3])


async def test_buffer_bound_during_outage_counts_the_record_in_flight(
    sqlite_store: JournalStore, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyStore(sqlite_store)
    flaky.down = True
    writer = fast_writer(flaky, max_buffer=5)
    writer.start()
    records = [make_record(n) for n in range(10)]
    writer.submit(records[0])
    await wait_until(lambda: writer.failures >= 1)  # records[0] is being retried
    accepted = [writer.submit(record) for record in records[1:]]
    assert accepted == [True] * 4 + [False] * 5
    assert (writer.pending, writer.dropped) == (5, 5)
    assert sum("dropping new ones" in r.getMessage() for r in caplog.records) == 1
    flaky.down = False
    await writer.close(timeout=5)
    assert [call_id for call_id, _ in flaky.saved.order] == [r.call_id for r in records[:5]]


async def test_record_refused_by_database_is_skipped_not_retried(
    sqlite_store: JournalStore,
) -> None:
    flaky = FlakyStore(sqlite_store)
    writer = fast_writer(flaky)
    bad, good = make_record(1), make_record(2)
    flaky.reject.add(bad.call_id)
    writer.start()
    writer.submit(bad)
    writer.submit(good)
    await writer.close(timeout=5)
    assert flaky.attempts == 2
    assert (writer.rejected, writer.written, writer.failures) == (1, 1, 0)
    assert writer.healthy is True
    assert await sqlite_store.get(good.call_id) is not None


@pytest.mark.postgres
async def test_real_postgres_outage_recovers_without_loss(
    fresh_postgres: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = CuttableProxy(fresh_postgres.host, fresh_postgres.port)
    await proxy.start()
    store = await JournalStore.connect(fresh_postgres.url(port=proxy.port))
    recorder = FlakyStore(store)  # never switched down: the proxy makes the real outage
    writer = fast_writer(recorder)
    writer.start()
    try:
        first = make_record(0)
        writer.submit(first)
        await wait_until(lambda: writer.written == 1)

        proxy.cut()  # pooled connection dies, new connections are refused
        records = [make_record(n) for n in range(1, 11)]
        for record in records:
            writer.submit(record)
        await wait_until(lambda: writer.failures >= 3)
        assert writer.healthy is False
        assert writer.pending == 10

        proxy.restore()
        await wait_until(lambda: writer.pending == 0, timeout=15)
        assert writer.healthy is True
        assert writer.written == 11
        stored = await store.recent(100)
        assert sorted(c["call_id"] for c in stored) == sorted(r.call_id for r in [first, *records])
        assert [call_id for call_id, _ in recorder.saved.order] == [
            r.call_id for r in [first, *records]
        ]
        assert sum("database write failed" in r.getMessage() for r in caplog.records) == 1
    finally:
        await writer.close(timeout=5)
        await store.close()
        await proxy.close()
