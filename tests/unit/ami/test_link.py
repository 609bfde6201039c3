"""The supervised AMI link against an in-process AMI peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from panoramisk.message import Message
from pydantic import SecretStr

from ivr_engine.ami import AmiLink, AmiUnavailable, LinkState
from ivr_engine.settings import AmiSettings
from tests.unit.ami.fake_ami import FakeAmi


def _settings(port: int, secret: str = "s3cret") -> AmiSettings:
    return AmiSettings(
        host="127.0.0.1",
        port=port,
        username="engine",
        secret=SecretStr(secret),
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


async def test_connects_logs_in_and_installs_the_event_filter(ami: FakeAmi) -> None:
    link = AmiLink(_settings(ami.port), events=("Hangup", "FullyBooted"))
    link.start()
    try:
        assert await link.wait_connected(2.0)
        assert link.state is LinkState.CONNECTED
        names = [a["Action"].lower() for a in ami.actions]
        assert names[:3] == ["login", "filter", "filter"]
        criteria = [a["MatchCriteria"] for a in ami.actions[1:3]]
        assert criteria == ["action(include),name(Hangup)", "action(include),name(FullyBooted)"]
        assert link.health()["state"] == "connected"
    finally:
        await link.stop()
    assert link.health()["state"] == "stopped"


async def test_reconnects_with_back_off_after_the_peer_drops(ami: FakeAmi) -> None:
    link = AmiLink(_settings(ami.port))
    link.start()
    try:
        assert await link.wait_connected(2.0)
        ami.drop_all()
        for _ in range(100):
            await asyncio.sleep(0.02)
            if link.reconnects == 1 and link.state is LinkState.CONNECTED:
                break
        assert link.reconnects == 1
        assert link.state is LinkState.CONNECTED
        assert ami.connections == 2
    finally:
        await link.stop()


async def test_keeps_retrying_while_asterisk_is_down_and_connects_when_it_comes() -> None:
    peer = FakeAmi()
    await peer.start()
    port = peer.port
    await peer.stop()  # nothing listens on the port now
    link = AmiLink(_settings(port))
    link.start()
    try:
        await asyncio.sleep(0.3)
        assert link.state in (LinkState.CONNECTING, LinkState.BACKING_OFF)
        assert link.health()["last_error"]
        await peer.start(port)
        assert await link.wait_connected(3.0)
    finally:
        await link.stop()
        await peer.stop()


async def test_refused_login_is_reported_not_connected(ami: FakeAmi) -> None:
    link = AmiLink(_settings(ami.port, secret="wrong"))
    link.start()
    try:
        assert not await link.wait_connected(0.5)
        assert "login refused" in (link.last_error or "")
        # The secret itself never appears in what the link reports.
        assert "wrong" not in str(link.health())
    finally:
        await link.stop()


async def test_actions_time_out_instead_of_hanging(ami: FakeAmi) -> None:
    ami.answer_pings = False
    link = AmiLink(_settings(ami.port))
    link.start()
    try:
        assert await link.wait_connected(2.0)
        with pytest.raises(AmiUnavailable, match="timed out"):
            await link.action({"Action": "Ping"}, timeout=0.2)
    finally:
        await link.stop()


async def test_actions_refused_while_down() -> None:
    link = AmiLink(_settings(1))
    with pytest.raises(AmiUnavailable):
        await link.action({"Action": "Ping"})


async def test_events_reach_handlers_and_a_failing_handler_is_contained(ami: FakeAmi) -> None:
    seen: list[Message] = []

    def broken(_event: Message) -> None:
        raise RuntimeError("handler bug")

    async def record(event: Message) -> None:
        seen.append(event)

    link = AmiLink(_settings(ami.port))
    link.on_event("Hangup", broken)
    link.on_event("Hangup", record)
    link.start()
    try:
        assert await link.wait_connected(2.0)
        ami.send_raw(b"Event: Hangup\r\nChannel: PJSIP/callers-00000001\r\nCause: 16\r\n\r\n")
        for _ in range(50):
            await asyncio.sleep(0.02)
            if seen:
                break
        assert [e["Channel"] for e in seen] == ["PJSIP/callers-00000001"]
        assert link.state is LinkState.CONNECTED
    finally:
        await link.stop()


async def test_while_the_port_refuses_the_link_keeps_asking_often_and_is_back_at_once() -> None:
    """Asterisk restarting: nothing listens for a while. Refused connects cost nothing, so
    the link does not back off from them; it is up as soon as Asterisk listens again (a
    doubling back-off up to reconnect_max would still be waiting seconds after that)."""
    peer = FakeAmi()
    await peer.start()
    port = peer.port
    await peer.stop()
    settings = _settings(port).model_copy(update={"reconnect_max": 30.0})
    link = AmiLink(settings)
    link.start()
    try:
        await asyncio.sleep(4.0)  # ~80 refused attempts at reconnect_min (0.05 s)
        assert "ConnectionRefusedError" in (link.last_error or "")
        await peer.start(port)
        # Doubling from 0.05 s, the attempts would be at 3.15 s, then 6.35 s.
        assert await link.wait_connected(1.5)
    finally:
        await link.stop()
        await peer.stop()


async def test_a_new_session_is_announced_to_whoever_waits_for_it(ami: FakeAmi) -> None:
    link = AmiLink(_settings(ami.port))
    link.start()
    try:
        assert await link.wait_connected(2.0)
        upcoming = link.next_session()
        assert not upcoming.is_set()
        ami.drop_all()
        await asyncio.wait_for(upcoming.wait(), 3.0)
        assert link.reconnects == 1
        assert link.next_session() is not upcoming  # the next one is still to come
    finally:
        await link.stop()
