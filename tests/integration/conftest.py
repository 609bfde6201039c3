"""Fixtures for tests against the real Asterisk test bed (asterisk/ctl.sh) with SIPp calls.

``asterisk`` (session): starts the test bed unless it is already running, and stops it at
the end of the session only if it started it. Skips when the test bed cannot run here (not
root, not provisioned: run ``asterisk/provision.sh`` / ``make setup``); fails instead when
the environment variable CI is set, so CI can never pass with them skipped.
``observer``: a fresh AMI observer (pyst2) per test, connected with the engine's settings.
``engine`` (session): the real engine as a subprocess, with its own SQLite database (the
demo subscribers loaded, counters clean) and its own copy of the menus.
``demo_data``: the session engine's demo subscribers reset (balances, line states, top-up
cards) before the test; counters are kept.
``acd``: an :class:`~testbed.acd.AcdProbe` of the session engine's ACD, reset first
(every agent logged out, no call waiting): tests log in the agents they need.
``other_engine``: run the calls of a block on a second engine with extra settings, e.g.
``with other_engine({"IVR_ENGINE_CALENDAR__FIXED_TIME": ...}) as engine:``; the FastAGI
port is fixed by the dialplan, so the session engine is stopped meanwhile and restarted after.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping

import pytest

from testbed.acd import AcdProbe
from testbed.asterisk import ensure_asterisk_running, stop_asterisk, unavailable_reason
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver

OtherEngine = Callable[[Mapping[str, str]], contextlib.AbstractContextManager[EngineProcess]]


@pytest.fixture(scope="session")
def asterisk() -> Iterator[None]:
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: the real-Asterisk tests must run, not skip)")
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


@pytest.fixture
def demo_data(engine: EngineProcess) -> EngineProcess:
    engine.load_demo_data()
    return engine


@pytest.fixture
def acd(engine: EngineProcess) -> AcdProbe:
    """The session engine's ACD, reset before the test: all agents logged out, no calls."""
    probe = AcdProbe(engine)
    probe.reset()
    return probe


@pytest.fixture
def other_engine(engine: EngineProcess, tmp_path_factory: pytest.TempPathFactory) -> OtherEngine:
    @contextlib.contextmanager
    def run(extra_env: Mapping[str, str]) -> Iterator[EngineProcess]:
        engine.stop()
        other = EngineProcess(tmp_path_factory.mktemp("other-engine"), extra_env)
        try:
            other.start()
            yield other
        finally:
            other.stop()
            engine.start()

    return run
