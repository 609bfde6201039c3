"""GET /metrics of the real engine around a real SIPp call through Asterisk: the call is
counted while it runs, its AGI commands are timed, and the AMI link shows as connected."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from testbed.engine import EngineProcess
from testbed.sipp import place_call

pytestmark = pytest.mark.asterisk

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(engine: EngineProcess) -> tuple[str, Samples]:
    url = f"http://127.0.0.1:{engine.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return content_type, samples


async def scrape(engine: EngineProcess) -> Samples:
    return (await asyncio.to_thread(_scrape, engine))[1]


def get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def commands(samples: Samples) -> float:
    """AGI commands timed so far, all verbs."""
    return sum(v for (name, _), v in samples.items() if name == "ivr_agi_command_seconds_count")


async def test_a_real_call_shows_in_the_metrics(engine: EngineProcess) -> None:
    content_type, before = await asyncio.to_thread(_scrape, engine)
    assert content_type.startswith("text/plain"), content_type
    assert get(before, "ivr_ami_link_state", state="connected") == 1, engine.log_tail()
    assert get(before, "ivr_calls_active") == 0

    call = asyncio.create_task(place_call("13300133091", "10086", hangup_after=1.5))
    during: Samples = {}
    for _ in range(100):
        during = await scrape(engine)
        if get(during, "ivr_calls_active") >= 1 or call.done():
            break
        await asyncio.sleep(0.1)
    result = await call
    assert result.successful and result.we_hung_up, result.describe()
    assert get(during, "ivr_calls_active") == 1, engine.log_tail()

    after: Samples = {}
    for _ in range(50):  # the session ends a moment after the BYE
        after = await scrape(engine)
        if get(after, "ivr_calls_active") == 0:
            break
        await asyncio.sleep(0.1)
    assert get(after, "ivr_calls_active") == 0
    assert commands(after) > commands(before)
    for verb in ("answer", "stream_file"):
        count = get(after, "ivr_agi_command_seconds_count", verb=verb)
        assert count > get(before, "ivr_agi_command_seconds_count", verb=verb), verb
        assert get(after, "ivr_agi_command_seconds_sum", verb=verb) > 0, verb
    hangups = get(after, "ivr_agi_sessions_total", outcome="caller_hangup")
    assert hangups == get(before, "ivr_agi_sessions_total", outcome="caller_hangup") + 1
    assert get(after, "ivr_ami_link_state", state="connected") == 1
    assert get(after, "ivr_errors_total", kind="agi_timeout") == get(
        before, "ivr_errors_total", kind="agi_timeout"
    )


async def test_the_acd_figures_come_from_the_engine_database(engine: EngineProcess) -> None:
    samples: Samples = {}
    for _ in range(100):  # read every few seconds by the engine
        samples = await scrape(engine)
        if ("ivr_acd_snapshot_age_seconds", frozenset()) in samples:
            break
        await asyncio.sleep(0.1)
    agents = sum(v for (name, _), v in samples.items() if name == "ivr_acd_agents")
    assert agents > 0, engine.log_tail()  # every configured agent, in one state or another
    assert ("ivr_acd_calls_waiting", frozenset({("queue", "general")})) in samples
