"""Write call records in the background so calls never wait on the database.

``submit()`` is synchronous: it queues a snapshot of the record and returns. One task owned
by the writer saves the snapshots in order. When the database fails, the snapshots stay
queued (bounded by ``max_buffer``; beyond that new ones are dropped and counted), the
outage is logged once, and the head record is retried with doubling back-off until it
goes through; then the rest follow in order.

A store that can save several records in one transaction (``save_many``, as
``JournalStore`` does) gets every snapshot waiting when the writer comes round, up to
``max_batch``, after letting ``batch_wait`` seconds pass for more to come: at a busy hour
the journal costs the database one transaction per batch instead of two per call. A
batch the database refuses as invalid is written again record by record, so that only the
bad record is skipped.

Must be used from the event loop's thread (``submit`` is not thread-safe).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from ivr_engine.journal.metrics import NO_METRICS, JournalMetrics
from ivr_engine.journal.record import CallRecord

log = logging.getLogger("ivr_engine.journal")

# Errors that say "this record can never be written" rather than "the database is away":
# retrying them would block every record behind them forever.
_REJECTIONS = (DataError, IntegrityError)


class RecordSink(Protocol):
    async def save(self, record: CallRecord) -> None: ...


@runtime_checkable
class BatchSink(Protocol):
    """A sink that also saves several records in one go, as ``save`` one after the other."""

    async def save(self, record: CallRecord) -> None: ...

    async def save_many(self, records: Sequence[CallRecord]) -> None: ...


def _describe(exc: BaseException) -> str:
    # The driver's error, not SQLAlchemy's rendering with the SQL statement.
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {cause}".strip()


class JournalWriter:
    def __init__(
        self,
        store: RecordSink,
        *,
        max_buffer: int = 100_000,
        max_batch: int = 200,
        batch_wait: float = 0.05,
        retry_min: float = 0.2,
        retry_max: float = 5.0,
        metrics: JournalMetrics = NO_METRICS,
    ) -> None:
        if max_buffer < 1:
            raise ValueError("max_buffer must be at least 1")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if not 0 < retry_min <= retry_max:
            raise ValueError("need 0 < retry_min <= retry_max")
        self._store = store
        self._metrics = metrics  # failed writes and dropped records
        self._max_buffer = max_buffer
        self._save_many = store.save_many if isinstance(store, BatchSink) else None
        self._max_batch = max_batch if self._save_many is not None else 1
        self._batch_wait = batch_wait
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._queue: asyncio.Queue[CallRecord | None] = asyncio.Queue()  # None: stop
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._stop_queued = False
        self._in_flight = 0
        self._written = 0
        self._failures = 0
        self._dropped = 0
        self._rejected = 0
        self._db_ok = True
        self._outage_started = 0.0
        self._overflow_logged = False

    # -- state for the health check -------------------------------------------------------

    @property
    def pending(self) -> int:
        """Records accepted but not yet written (queued plus the one being written)."""
        return self._queue.qsize() - int(self._stop_queued) + self._in_flight

    @property
    def written(self) -> int:
        return self._written

    @property
    def failures(self) -> int:
        """Failed save attempts (each retry counts)."""
        return self._failures

    @property
    def dropped(self) -> int:
        """Records refused because the buffer was full or the writer was closed."""
        return self._dropped

    @property
    def rejected(self) -> int:
        """Records the database refused as invalid (data/integrity errors); not retried."""
        return self._rejected

    @property
    def healthy(self) -> bool:
        """The last write went through and, once started, the writer task is alive."""
        task_alive = self._task is None or not self._task.done() or self._closing
        return self._db_ok and task_alive

    def stats(self) -> dict[str, int | bool]:
        return {
            "healthy": self.healthy,
            "pending": self.pending,
            "written": self.written,
            "failures": self.failures,
            "dropped": self.dropped,
            "rejected": self.rejected,
        }

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._closing:
            raise RuntimeError("journal writer is closed")
        if self._task is not None:
            raise RuntimeError("journal writer is already started")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="journal-writer")

    def submit(self, record: CallRecord) -> bool:
        """Queue a snapshot of ``record``; never blocks. False if it was dropped."""
        if self._closing:
            self._dropped += 1
            self._metrics.error("journal_dropped")
            log.warning("journal: writer closed, record of call %s dropped", record.call_id)
            return False
        if self.pending >= self._max_buffer:
            self._dropped += 1
            self._metrics.error("journal_dropped")
            if not self._overflow_logged:
                self._overflow_logged = True
                log.error(
                    "journal: %d records waiting for the database, dropping new ones",
                    self.pending,
                )
            return False
        self._queue.put_nowait(record.snapshot())
        return True

    async def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to ``timeout`` seconds), then stop the task.

        If the database stays away past the timeout, the task is cancelled and the records
        still pending are logged as lost. If close() itself is cancelled, the task is
        cancelled too and the cancellation propagates.
        """
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(None)
            self._stop_queued = True
        task = self._task
        if task is None:
            if self.pending:
                log.error("journal: writer never started, %d record(s) not written", self.pending)
            return
        try:
            await asyncio.wait({task}, timeout=timeout)
        finally:
            if not task.done():
                task.cancel()
            if lost := self.pending:
                log.error("journal: writer stopped with %d record(s) not written", lost)
            await self._reap(task)

    @staticmethod
    async def _reap(task: asyncio.Task[None]) -> None:
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # close() itself is being cancelled
        except Exception:
            log.exception("journal: writer task failed")

    # -- the task ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            record = await self._queue.get()
            if record is None:
                self._stop_queued = False
                return
            batch = [record]
            stop = False
            self._in_flight = 1
            try:
                if self._max_batch > 1 and self._batch_wait > 0 and self._queue.empty():
                    await asyncio.sleep(self._batch_wait)  # records of calls ending together
                while len(batch) < self._max_batch and not self._queue.empty():
                    more = self._queue.get_nowait()
                    if more is None:
                        self._stop_queued = False
                        stop = True
                        break
                    batch.append(more)
                self._in_flight = len(batch)
                if self._save_many is None:
                    await self._write(record)
                else:
                    await self._write_batch(batch)
            finally:
                self._in_flight = 0
            if stop:
                return

    async def _write_batch(self, batch: list[CallRecord]) -> None:
        save_many = self._save_many
        if save_many is None:
            raise RuntimeError("the journal store saves one record at a time")
        try:
            await self._save(lambda: save_many(batch), len(batch))
        except _REJECTIONS:
            # One of them is invalid: write them one by one, skipping only that one.
            for record in batch:
                await self._write(record)
                self._in_flight -= 1

    async def _write(self, record: CallRecord) -> None:
        try:
            await self._save(lambda: self._store.save(record), 1)
        except _REJECTIONS as exc:
            self._rejected += 1
            self._metrics.error("journal_write")
            log.error(
                "journal: database refused the record of call %s, skipping it: %s",
                record.call_id,
                _describe(exc),
            )

    async def _save(self, save: Callable[[], Awaitable[None]], count: int) -> None:
        """Run ``save`` until it goes through, retrying with back-off while the database
        is away; a rejection (invalid data) is raised to the caller."""
        delay = self._retry_min
        while True:
            try:
                await save()
            except _REJECTIONS:
                raise
            except Exception as exc:
                self._failures += 1
                self._metrics.error("journal_write")
                if self._db_ok:
                    self._db_ok = False
                    self._outage_started = asyncio.get_running_loop().time()
                    log.error(
                        "journal: database write failed, keeping records in memory and "
                        "retrying: %s",
                        _describe(exc),
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                continue
            self._written += count
            if not self._db_ok:
                self._db_ok = True
                log.warning(
                    "journal: database writes recovered after %.1f s, writing %d buffered "
                    "record(s); %d dropped so far",
                    asyncio.get_running_loop().time() - self._outage_started,
                    self.pending,
                    self._dropped,
                )
            if self._queue.empty():
                self._overflow_logged = False
            return
