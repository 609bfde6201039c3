"""Live channels and the agents on them, from the CoreShowChannels action."""

from __future__ import annotations

import pytest

from ivr_engine.acd_asterisk.channels import (
    LiveChannels,
    channel_endpoint,
    digits_only,
    live_channels,
)
from ivr_engine.ami import AmiLink, AmiUnavailable
from tests.unit.ami.fake_ami import FakeAmi


def _channel(name: str, unique_id: str, state: str = "Up") -> dict[str, str]:
    return {
        "Channel": name,
        "Uniqueid": unique_id,
        "ChannelStateDesc": state,
        "Application": "Dial",
        "BridgeId": "",
    }


def test_channel_endpoint_is_between_the_technology_and_the_last_dash() -> None:
    assert channel_endpoint("PJSIP/8001-0000002a") == "8001"
    assert channel_endpoint("PJSIP/agent-7-0000002b") == "agent-7"
    for other in ["Local/8001@agents-00000001;1", "SIP/8001-00000001", "PJSIP/8001", "PJSIP/-1"]:
        assert channel_endpoint(other) is None


def test_digits_only() -> None:
    assert digits_only("8001")
    assert not digits_only("trunk")
    assert not digits_only("")
    assert not digits_only("80²1")


async def test_live_channels_lists_ids_names_and_agents(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list(
        "CoreShowChannels",
        "CoreShowChannel",
        [
            _channel("PJSIP/callers-00000001", "1700000000.1"),
            _channel("PJSIP/8001-0000002a", "1700000000.2", "Ringing"),
            _channel("Local/8002@agents-00000003;1", "1700000000.3"),
            _channel("PJSIP/8003-0000002c", "1700000000.4", "Down"),
        ],
    )
    live = await live_channels(link, timeout=1.0)
    assert live == LiveChannels(
        unique_ids=frozenset({"1700000000.1", "1700000000.2", "1700000000.3", "1700000000.4"}),
        channels=frozenset(
            {
                "PJSIP/callers-00000001",
                "PJSIP/8001-0000002a",
                "Local/8002@agents-00000003;1",
                "PJSIP/8003-0000002c",
            }
        ),
        agents=frozenset({"8001", "8003"}),
    )


async def test_the_agent_predicate_chooses_the_endpoints(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list(
        "CoreShowChannels",
        "CoreShowChannel",
        [
            _channel("PJSIP/agent-anna-00000001", "1.1"),
            _channel("PJSIP/8001-00000002", "1.2"),
            _channel("PJSIP/callers-00000003", "1.3"),
        ],
    )
    live = await live_channels(link, timeout=1.0, is_agent=lambda name: name.startswith("agent-"))
    assert live.agents == {"agent-anna"}


async def test_no_channels(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list("CoreShowChannels", "CoreShowChannel", [])
    assert await live_channels(link, timeout=1.0) == LiveChannels(
        frozenset(), frozenset(), frozenset()
    )


async def test_a_list_that_never_completes_raises(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list(
        "CoreShowChannels",
        "CoreShowChannel",
        [_channel("PJSIP/8001-0000002a", "1.1")],
        complete=False,
    )
    with pytest.raises(AmiUnavailable, match="timed out"):
        await live_channels(link, timeout=0.2)


async def test_live_channels_while_the_link_is_down_raises(link: AmiLink) -> None:
    await link.stop()
    with pytest.raises(AmiUnavailable):
        await live_channels(link)
