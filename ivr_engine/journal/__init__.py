"""The call journal: one record per call, written in the background through SQLAlchemy."""

from ivr_engine.journal.query import recent_calls
from ivr_engine.journal.record import HANGUP_SIDES, CallRecord, Step
from ivr_engine.journal.store import JournalStore
from ivr_engine.journal.writer import JournalWriter, RecordSink

__all__ = [
    "HANGUP_SIDES",
    "CallRecord",
    "JournalStore",
    "JournalWriter",
    "RecordSink",
    "Step",
    "recent_calls",
]
