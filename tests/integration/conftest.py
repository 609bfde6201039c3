"""Fixtures for tests against the real Asterisk test bed (asterisk/ctl.sh) with SIPp calls.

``asterisk`` (session): starts the test bed unless it is already running, and stops it at
the end of the session only if it started it. Skips when the test bed cannot run here (not
root, not provisioned: run ``asterisk/provision.sh`` / ``make setup``).
``observer``: a fresh AMI observer (pyst2) per test, connected with the engine's settings.
``engine`` (session): the real engine as a subprocess, with its own SQLite journal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.asterisk import ensure_asterisk_running, stop_asterisk, unavailable_reason
from tests.harness.engine import EngineProcess
from tests.harness.observer import AmiObserver


@pytest.fixture(scope="session")
def asterisk() -> Iterator[None]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    started = ensure_asterisk_running()
    try:
        yield
    finally:
        if started:
            stop_asterisk()


@pytest.fixture
def observer(asterisk: None) -> Iterator[AmiObserver]:
    with AmiObserver() as obs:
        yield obs


@pytest.fixture(scope="session")
def engine(asterisk: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """The real engine, started once for the session against the running test bed."""
    process = EngineProcess(tmp_path_factory.mktemp("engine"))
    process.start()
    try:
        yield process
    finally:
        process.stop()
