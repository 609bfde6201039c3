"""A fake AMI peer and a connected AMI link to it, for the Asterisk-side tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from ivr_engine.ami import AmiLink
from ivr_engine.settings import AmiSettings
from tests.unit.ami.fake_ami import FakeAmi


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
