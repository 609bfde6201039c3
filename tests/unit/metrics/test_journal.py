"""Journal metrics: the queue depth, failed writes (each retry) and dropped records."""

from __future__ import annotations

import asyncio

from ivr_engine.journal import CallRecord, JournalWriter
from ivr_engine.metrics.engine import EngineMetrics
from tests.unit.agi.peer import eventually
from tests.unit.metrics.support import errors, value


class Database:
    """A sink that fails while ``down`` and holds every save while ``held`` is clear."""

    def __init__(self) -> None:
        self.down = False
        self.held = asyncio.Event()
        self.held.set()
        self.saved: list[str] = []

    async def save(self, record: CallRecord) -> None:
        await self.held.wait()
        if self.down:
            raise ConnectionRefusedError("database away")
        self.saved.append(record.call_id)


def record(n: int) -> CallRecord:
    return CallRecord(
        caller=f"1380013{n:04d}", dialled="10086", channel=f"PJSIP/{n}", unique_id=f"{n}.0"
    )


async def test_queue_depth_and_write_failures() -> None:
    metrics = EngineMetrics()
    database = Database()
    writer = JournalWriter(database, retry_min=0.01, retry_max=0.02, metrics=metrics)
    metrics.watch(journal=writer)
    writer.start()
    try:
        assert value(metrics, "ivr_journal_queue_depth") == 0
        database.held.clear()
        for n in range(3):
            writer.submit(record(n))
        assert value(metrics, "ivr_journal_queue_depth") == 3
        database.down = True
        database.held.set()
        await eventually(lambda: writer.failures >= 3)
        assert errors(metrics, "journal_write") == writer.failures
        assert value(metrics, "ivr_journal_queue_depth") == 3  # kept, not lost
        database.down = False
        await eventually(lambda: len(database.saved) == 3)
        assert value(metrics, "ivr_journal_queue_depth") == 0
        assert errors(metrics, "journal_dropped") == 0
    finally:
        await writer.close(timeout=1.0)


async def test_records_beyond_the_buffer_are_counted_as_dropped() -> None:
    metrics = EngineMetrics()
    database = Database()
    database.held.clear()
    writer = JournalWriter(database, max_buffer=2, metrics=metrics)
    writer.start()
    try:
        accepted = [writer.submit(record(n)) for n in range(5)]
        assert accepted == [True, True, False, False, False]
        assert errors(metrics, "journal_dropped") == 3
        assert errors(metrics, "journal_write") == 0
    finally:
        database.held.set()
        await writer.close(timeout=1.0)
