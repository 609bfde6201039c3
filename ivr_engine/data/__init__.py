"""Subscriber data: who is calling, their account, and counters shared across calls."""

from ivr_engine.data.backend import (
    QUERY_KINDS,
    BackendError,
    Counters,
    Profile,
    SubscriberBackend,
    TopupResult,
    UnknownSubscriber,
)
from ivr_engine.data.breaker import CircuitBreaker
from ivr_engine.data.numbers import classify_number, normalise_number

__all__ = [
    "QUERY_KINDS",
    "BackendError",
    "CircuitBreaker",
    "Counters",
    "Profile",
    "SubscriberBackend",
    "TopupResult",
    "UnknownSubscriber",
    "classify_number",
    "normalise_number",
]
