"""The journal written in batches: JournalStore.save_many and the writer that uses it, on a
real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ivr_engine.journal import CallRecord, JournalStore, JournalWriter

T0 = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)


def make_record(n: int) -> CallRecord:
    return CallRecord(
        caller=f"1391000{n:04d}",
        dialled="10086",
        channel=f"PJSIP/callers-{n:08x}",
        unique_id=f"1709287200.{n}",
        started_at=T0 + timedelta(seconds=n),
        instance="engine-a",
    )


def finished(record: CallRecord, steps: int) -> CallRecord:
    for i in range(steps):
        record.add_step("prompt", f"cm-main-menu {i}", at=record.started_at + timedelta(seconds=i))
    record.add_keys("11")
    record.finish("caller-hangup", "caller", at=record.started_at + timedelta(seconds=8))
    return record


async def test_save_many_stores_what_saving_one_by_one_stores(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    try:
        one_by_one = [finished(make_record(n), n % 4) for n in range(5)]
        for record in one_by_one:
            await store.save(record)
        expected = {r.call_id: await store.get(r.call_id) for r in one_by_one}

        batched = [make_record(n) for n in range(5, 10)]
        snapshots = [r.snapshot() for r in batched]  # the starts of the calls ...
        snapshots += [finished(r, 3).snapshot() for r in batched]  # ... and their ends
        alone = finished(make_record(10), 0)
        snapshots.append(alone.snapshot())
        await store.save_many(snapshots)

        for record in batched:
            saved = await store.get(record.call_id)
            assert saved == record.to_dict()  # the last snapshot of each call won
            assert saved is not None and len(saved["steps"]) == 4  # 3 prompts, the keys
        assert await store.get(alone.call_id) == alone.to_dict()
        # A batch that comes again (a retry) leaves the same rows, steps not doubled.
        await store.save_many(snapshots)
        for record in batched:
            assert await store.get(record.call_id) == record.to_dict()
        assert {r.call_id: await store.get(r.call_id) for r in one_by_one} == expected
        await store.save_many([])
    finally:
        await store.close()


class Counting:
    """A real store that counts its transactions and can refuse one call's records."""

    def __init__(self, inner: JournalStore) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.singles = 0
        self.refuse: str | None = None

    def _check(self, records: Sequence[CallRecord]) -> None:
        if any(r.call_id == self.refuse for r in records):
            raise IntegrityError("INSERT INTO calls", None, ValueError("constraint failed"))

    async def save(self, record: CallRecord) -> None:
        self._check([record])
        self.singles += 1
        await self.inner.save(record)

    async def save_many(self, records: Sequence[CallRecord]) -> None:
        self._check(records)
        self.batches.append(len(records))
        await self.inner.save_many(records)


async def test_the_writer_saves_what_waits_in_one_transaction(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    counting = Counting(store)
    writer = JournalWriter(counting, max_batch=50)
    try:
        records = [make_record(n) for n in range(120)]
        for record in records:
            writer.submit(record)  # the writer is not started: they all wait
            finished(record, 2)
            writer.submit(record)
        assert writer.pending == 240
        writer.start()
        await writer.close(timeout=30)
        assert counting.batches == [50, 50, 50, 50, 40]
        assert counting.singles == 0
        assert (writer.written, writer.pending, writer.failures) == (240, 0, 0)
        for record in records[::17]:
            assert await store.get(record.call_id) == record.to_dict()
    finally:
        await store.close()


async def test_a_refused_record_in_a_batch_costs_only_that_record(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    counting = Counting(store)
    writer = JournalWriter(counting)
    try:
        records = [finished(make_record(n), 1) for n in range(6)]
        counting.refuse = records[2].call_id
        for record in records:
            writer.submit(record)
        writer.start()
        await writer.close(timeout=30)
        assert counting.batches == []  # the batch was refused, then ...
        assert counting.singles == 5  # ... written record by record, but the bad one
        assert (writer.written, writer.rejected, writer.pending) == (5, 1, 0)
        assert writer.healthy is True
        assert await store.get(records[2].call_id) is None
        assert await store.get(records[3].call_id) == records[3].to_dict()
    finally:
        await store.close()


async def test_one_record_at_a_time_without_save_many() -> None:
    saved: list[str] = []

    class OneByOne:
        async def save(self, record: CallRecord) -> None:
            saved.append(record.call_id)
            await asyncio.sleep(0)

    writer = JournalWriter(OneByOne())
    records = [make_record(n) for n in range(5)]
    for record in records:
        writer.submit(record)
    writer.start()
    await writer.close(timeout=5)
    assert saved == [r.call_id for r in records]
    assert writer.written == 5


async def test_records_arriving_together_share_a_transaction(db_url: str) -> None:
    store = await JournalStore.connect(db_url)
    counting = Counting(store)
    writer = JournalWriter(counting, batch_wait=0.2)
    writer.start()
    try:
        first, second, third = (make_record(n) for n in range(3))
        writer.submit(first)
        await asyncio.sleep(0.05)  # the writer has the first one and waits for more
        writer.submit(second)
        writer.submit(third)
        for _ in range(200):
            if writer.written == 3:
                break
            await asyncio.sleep(0.02)
        assert counting.batches == [3]
        alone = make_record(3)
        writer.submit(alone)
        await writer.close(timeout=5)
        assert counting.batches == [3, 1]  # a record alone goes the same way
        assert await store.get(alone.call_id) == alone.to_dict()
    finally:
        await store.close()
