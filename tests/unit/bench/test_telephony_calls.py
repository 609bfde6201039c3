"""The pure parts of the telephony benchmarks: SIP and RTP parsing and the key schedule
of our caller, SIPp's statistics, the rate ladder of benchmark 1 and the latencies of
benchmark 3."""

from __future__ import annotations

import math

import pytest

from bench.ivr_throughput import DIALPLAN, ENGINE, Step, _Ladder
from bench.key_latency import latencies
from bench.latency import Spread
from bench.telephony.profile import parse_folded
from testbed.telephony.g711 import encode
from testbed.telephony.hearing import PromptIndex, RtpIn
from testbed.telephony.sip_caller import (
    CallResult,
    Press,
    SentKey,
    _schedule,
    parse_rtp,
    parse_sdp_media,
    parse_sip,
    rtp_packet,
)
from testbed.telephony.sipp_load import LoadOutcome, LoadStep, refusals, summarise


def test_an_infinite_sample_counts_in_the_upper_percentiles() -> None:
    summary = Spread.of([1.0] * 94 + [math.inf] * 6)
    assert summary.p50 == 1.0
    assert summary.p95 == math.inf  # 6 % of the keys were never answered
    assert summary.count == 100


def test_sip_responses_are_parsed_with_compact_headers() -> None:
    message = parse_sip(
        b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
        b"t: <sip:10086@127.0.0.1>;tag=abc\r\nCSeq: 1 INVITE\r\n"
        b"Contact: <sip:127.0.0.1:5060>\r\nl: 5\r\n\r\nhello"
    )
    assert message.status == 200 and message.method is None
    assert message.header("to") == "<sip:10086@127.0.0.1>;tag=abc"
    assert message.header("Via").startswith("SIP/2.0/UDP")
    assert message.body == "hello"
    request = parse_sip(b"BYE sip:13900139000@127.0.0.1:5062 SIP/2.0\r\nCSeq: 2 BYE\r\n\r\n")
    assert request.method == "BYE" and request.status is None


def test_the_audio_address_comes_from_the_sdp_answer() -> None:
    sdp = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 10042 RTP/AVP 0 101\r\n"
    assert parse_sdp_media(sdp) == ("127.0.0.1", 10042)


def test_rtp_packets_round_trip() -> None:
    data = rtp_packet(0, 65535, 4000, 0x1234, b"\xff" * 160, marker=True)
    packet = parse_rtp(1.5, data)
    assert packet is not None
    assert (packet.seq, packet.timestamp, packet.payload_type) == (65535, 4000, 0)
    assert packet.payload == b"\xff" * 160
    assert parse_rtp(0.0, b"\x00" * 4) is None


def test_a_key_is_its_event_packets_then_three_end_packets() -> None:
    slots = _schedule([Press("5", 1.0, 0.1), Press("#", 2.0, 0.04)])
    five = sorted(k for k, v in slots.items() if v[0] == "5")
    assert five == list(range(50, 58))  # 5 event packets, 3 end packets
    assert [slots[s][1] for s in five] == list(range(8))
    assert sorted(k for k, v in slots.items() if v[0] == "#") == list(range(100, 105))
    with pytest.raises(ValueError, match="overlaps"):
        _schedule([Press("1", 1.0, 0.1), Press("2", 1.1, 0.1)])


def _outcome(calls: int, created: int, ok: int, failed: int, at: float | None) -> LoadOutcome:
    step = LoadStep("10086", [str(13910000000 + i) for i in range(calls)], 10.0, calls, (), 7.0)
    outcome = LoadOutcome(step, 0 if failed == 0 else 1)
    rows = [
        {"ElapsedTime(C)": "00:00:05:000000", "TotalCallCreated": str(calls // 2)},
        {
            "ElapsedTime(C)": f"00:00:{int(at or 99):02}:000000",
            "TotalCallCreated": str(created),
            "SuccessfulCall(C)": str(ok),
            "FailedCall(C)": str(failed),
        },
    ]
    summarise(outcome, rows)
    return outcome


def test_sipp_statistics_say_whether_the_rate_was_kept_and_every_call_went_through() -> None:
    good = _outcome(100, 100, 100, 0, 10.0)
    assert good.all_successful and good.kept_rate and good.arrivals_seconds == 10.0
    slow = _outcome(100, 100, 100, 0, 15.0)
    assert slow.all_successful and not slow.kept_rate
    failed = _outcome(100, 100, 97, 3, 10.0)
    assert not failed.all_successful
    short = _outcome(100, 80, 80, 0, None)
    assert not short.all_successful and not short.kept_rate


def _step(target: str, rate: float, carried: bool) -> Step:
    load = _outcome(100, 100, 100, 0, 10.0)
    return Step(target, rate, 100, load, 100 if carried else 99, 1, 1, "", 1.0, 1.0, {})


class _Script:
    """A fake step runner: each side carries every rate up to its limit; ``flaky`` rates
    fail once and pass when tried again."""

    def __init__(self, limits: dict[str, float], flaky: set[tuple[str, float]]) -> None:
        self.limits, self.flaky = limits, flaky
        self.ran: list[tuple[str, float]] = []

    async def __call__(self, target: str, rate: float) -> Step:
        self.ran.append((target, rate))
        if (target, rate) in self.flaky:
            self.flaky.discard((target, rate))
            return _step(target, rate, False)
        return _step(target, rate, rate <= self.limits[target])


RATES = (10.0, 20.0, 40.0, 80.0)


async def test_each_side_climbs_until_its_first_failure_then_narrows() -> None:
    script = _Script({ENGINE: 30.0, DIALPLAN: 60.0}, set())
    ladder = _Ladder(script)
    await ladder.climb(RATES)
    assert ladder.best == {ENGINE: 20.0, DIALPLAN: 40.0}
    assert ladder.failed_at == {ENGINE: 40.0, DIALPLAN: 80.0}
    assert (ENGINE, 80.0) not in script.ran  # a side stops at its failure
    assert script.ran.count((ENGINE, 40.0)) == 2  # a failed step is tried again
    await ladder.narrow()
    assert ladder.best == {ENGINE: 30.0, DIALPLAN: 60.0}
    assert ladder.first_failure(ENGINE) is not None


async def test_a_step_that_fails_once_and_passes_again_is_carried() -> None:
    script = _Script({ENGINE: 100.0, DIALPLAN: 100.0}, {(ENGINE, 20.0)})
    ladder = _Ladder(script)
    await ladder.climb(RATES)
    assert ladder.best == {ENGINE: 80.0, DIALPLAN: 80.0}
    assert ladder.failed_at == {ENGINE: None, DIALPLAN: None}
    assert [s.retry for s in ladder.steps if s.target == ENGINE and s.rate == 20.0] == [
        False,
        True,
    ]


def _loud(level: int) -> bytes:
    return encode([level if i % 2 else -level for i in range(160)])


def test_latency_runs_from_the_key_going_up_to_the_next_prompt_arriving() -> None:
    index = PromptIndex(
        {
            "cm-welcome-gotone": [_loud(1000), _loud(1100)],
            "cm-billing-menu": [_loud(2000), _loud(2100)],
            "cm-your-balance": [_loud(3000), _loud(3100)],
        }
    )
    payloads = [_loud(1000), _loud(1100), _loud(2000), _loud(2100), _loud(3000), _loud(3100)]
    times = [0.0, 0.02, 1.105, 1.125, 2.640, 2.660]
    call = CallResult(
        answered_at=0.0,
        keys=[SentKey("1", 1.0, 1.1), SentKey("1", 2.5, 2.6)],
        packets=[
            RtpIn(t, i, i * 160, 0, p) for i, (t, p) in enumerate(zip(times, payloads, strict=True))
        ],
    )
    assert [round(v, 3) for v in latencies(index, call)] == [5.0, 40.0]
    call.packets = call.packets[:4]  # the balance never came
    assert latencies(index, call)[1] == math.inf
    call.keys = []
    assert latencies(index, call) == [math.inf, math.inf]


def test_a_profile_sample_belongs_to_its_innermost_engine_frame() -> None:
    folded = "\n".join(
        [
            "thread (1): MainThread;run (asyncio/runners.py:118);"
            "JournalWriter._write (ivr_engine/journal/writer.py:196);"
            "Connection.execute (sqlalchemy/engine/base.py:1494) 6",
            "thread (1): MainThread;walk (ivr_engine/interpreter/walker.py:40);"
            "run (ivr_engine/nodes/lookup.py:30);"
            "SqlBackend.profile (ivr_engine/data/sql.py:97) 3",
            "thread (1): MainThread;Session.get (sqlalchemy/orm/session.py:3934) 1",
            "garbage",
        ]
    )
    profile = parse_folded(folded)
    assert profile.samples == 10
    groups = dict(profile.groups)
    assert groups["journal (call records written to the database)"] == 0.6
    assert groups["subscriber data, nuisance screening"] == 0.3
    assert groups["SQLAlchemy and aiosqlite in their greenlets and threads"] == 0.1
    assert profile.top[0] == ("Connection.execute (sqlalchemy/engine/base.py:1494)", 0.6)
    assert "10 samples" in profile.summary()


def test_refused_invites_are_counted_by_status() -> None:
    log = (
        "2026-12-01\t23:50:01.1: Aborting call on unexpected message for Call-Id 'a': "
        "while expecting '200' response, received 'SIP/2.0 488 Not Acceptable Here\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060\n'\n"
        "... received 'SIP/2.0 488 Not Acceptable Here\n"
        "... received 'SIP/2.0 503 Service Unavailable\n"
        "... received 'SIP/2.0 200 OK\n"
    )
    assert refusals(log) == {488: 2, 503: 1}


async def test_the_common_rate_is_the_highest_both_sides_carried() -> None:
    ladder = _Ladder(_Script({ENGINE: 30.0, DIALPLAN: 60.0}, set()))
    await ladder.climb(RATES)
    assert ladder.common_rate() == 20.0
    assert ladder.ratio() == 0.5
