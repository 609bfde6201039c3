"""AMI metrics against an in-process AMI peer: the link's state, reconnects, and actions
that fail (link down, no answer in time)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from ivr_engine.ami import AmiLink, AmiUnavailable, LinkState
from ivr_engine.metrics.engine import EngineMetrics
from ivr_engine.settings import AmiSettings
from tests.unit.agi.peer import eventually
from tests.unit.ami.fake_ami import FakeAmi
from tests.unit.metrics.support import errors, value


def settings(port: int) -> AmiSettings:
    return AmiSettings(
        host="127.0.0.1",
        port=port,
        username="engine",
        secret=SecretStr("s3cret"),
        action_timeout=0.5,
        reconnect_min=0.05,
        reconnect_max=0.2,
    )


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    peer = FakeAmi()
    await peer.start()
    yield peer
    await peer.stop()


def states(metrics: EngineMetrics) -> dict[str, float | None]:
    return {str(s): value(metrics, "ivr_ami_link_state", state=str(s)) for s in LinkState}


async def test_link_state_and_reconnects(ami: FakeAmi) -> None:
    metrics = EngineMetrics()
    link = AmiLink(settings(ami.port), metrics=metrics)
    metrics.watch(ami=link)
    assert states(metrics) == {
        "stopped": 1,
        "connecting": 0,
        "connected": 0,
        "backing-off": 0,
    }
    link.start()
    try:
        assert await link.wait_connected(2.0)
        assert states(metrics)["connected"] == 1
        assert sum(v or 0 for v in states(metrics).values()) == 1
        assert value(metrics, "ivr_ami_reconnects_total") == 0
        ami.drop_all()
        await eventually(lambda: link.reconnects == 1 and link.state is LinkState.CONNECTED, 3.0)
        assert value(metrics, "ivr_ami_reconnects_total") == 1
        assert states(metrics)["connected"] == 1
    finally:
        await link.stop()
    assert errors(metrics, "ami_action") == 0


async def test_failed_actions_are_counted(ami: FakeAmi) -> None:
    metrics = EngineMetrics()
    down = AmiLink(settings(ami.port), metrics=metrics)  # never started
    with pytest.raises(AmiUnavailable):
        await down.action({"Action": "CoreShowChannels"})
    assert errors(metrics, "ami_action") == 1

    ami.answer_pings = False
    link = AmiLink(settings(ami.port), metrics=metrics)
    link.start()
    try:
        assert await link.wait_connected(2.0)
        with pytest.raises(AmiUnavailable, match="timed out"):
            await link.action({"Action": "Ping"}, timeout=0.1)
        assert errors(metrics, "ami_action") >= 2
    finally:
        await link.stop()
