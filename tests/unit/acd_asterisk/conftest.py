"""For the Asterisk-side tests: a fake AMI peer and a link to it; a real Acd on a temporary
SQLite database with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from acd.service.acd import Acd
from ivr_engine.ami import AmiLink
from ivr_engine.settings import AmiSettings
from tests.unit.acd_asterisk.scripted import FakeClock, make_config, running_acd
from tests.unit.ami.fake_ami import FakeAmi


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def acd(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Acd]:
    async with running_acd(tmp_path, make_config(), clock) as running:
        yield running


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    peer = FakeAmi()
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def link(ami: FakeAmi) -> AsyncIterator[AmiLink]:
    settings = AmiSettings(
        host="127.0.0.1",
        port=ami.port,
        username="engine",
        secret=SecretStr(ami.secret),
        action_timeout=0.5,
        reconnect_min=0.05,
        reconnect_max=0.2,
    )
    connected = AmiLink(settings)
    connected.start()
    assert await connected.wait_connected(2.0)
    yield connected
    await connected.stop()
