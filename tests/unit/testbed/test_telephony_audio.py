"""The caller's ear: mu-law as Asterisk encodes prompts, and telling prompts apart on the
wire (testbed/telephony/g711.py, testbed/telephony/hearing.py)."""

from __future__ import annotations

import pytest

from testbed.telephony.g711 import DECODE, encode, encode_frames, encode_sample
from testbed.telephony.hearing import Heard, PromptIndex, RtpIn, first_after


def test_silence_and_small_samples_encode_as_asterisk_sends_them() -> None:
    assert encode_sample(0) == 0xFF
    assert DECODE[0xFF] == 0
    # Negative samples take their one's complement as magnitude: values Asterisk 22 sent.
    assert DECODE[encode_sample(-4)] == 0
    assert DECODE[encode_sample(-12)] == -8
    assert DECODE[encode_sample(-20)] == -16
    assert DECODE[encode_sample(-3836)] == -3772
    assert DECODE[encode_sample(-3835)] == -3772


@pytest.mark.parametrize("sample", [-32768, -20000, -1000, -100, -1, 1, 100, 1000, 20000, 32767])
def test_decoding_an_encoded_sample_stays_within_its_quantisation_step(sample: int) -> None:
    decoded = DECODE[encode_sample(sample)]
    assert abs(decoded - sample) <= max(16, abs(sample) // 16)
    assert (decoded >= 0) == (sample >= 0) or abs(sample) < 8


def test_encoding_is_monotonic() -> None:
    values = [DECODE[encode_sample(s)] for s in range(-32768, 32768, 7)]
    assert values == sorted(values)


def test_out_of_range_samples_are_refused() -> None:
    with pytest.raises(ValueError):
        encode_sample(40000)


def test_frames_are_20_ms_with_a_short_last_frame() -> None:
    frames = encode_frames([0] * 400)
    assert [len(f) for f in frames] == [160, 160, 80]


def _loud(level: int) -> bytes:
    return encode([level if i % 2 else -level for i in range(160)])


SILENT = encode([0] * 160)


def _packets(payloads: list[bytes], start_seq: int = 65530) -> list[RtpIn]:
    return [
        RtpIn(at=i * 0.02, seq=(start_seq + i) & 0xFFFF, timestamp=i * 160, payload_type=0,
              payload=p)
        for i, p in enumerate(payloads)
    ]  # fmt: skip


def _index() -> PromptIndex:
    return PromptIndex(
        {
            "welcome": [_loud(1000), _loud(2000), _loud(3000)],
            "menu": [SILENT, SILENT, _loud(5000), _loud(6000), _loud(7000)],
            "shared": [_loud(9000), _loud(1000)],  # its second frame is also welcome's first
        }
    )


def test_prompts_are_heard_in_order_and_a_replay_is_a_new_stretch() -> None:
    index = _index()
    menu = index.frames["menu"]
    wire = [_loud(1000), SILENT, *menu, SILENT, *menu[:3]]
    assert index.names(_packets(wire)) == ["menu", "menu"]  # welcome's 1000 is ambiguous
    wire = [_loud(2000), _loud(3000), *menu, *menu[:3]]
    assert index.names(_packets(wire)) == ["welcome", "menu", "menu"]


def test_the_start_of_a_prompt_includes_its_leading_silence() -> None:
    index = _index()
    wire = [_loud(2000), SILENT, SILENT, SILENT, _loud(5000), _loud(6000)]
    heard = index.heard(_packets(wire))
    # Frames 0 and 1 of menu are silence: the stretch starts two packets before 5000, not
    # at the silence after the welcome before them; two of its frames were recognised.
    assert heard[1] == Heard("menu", start=2 * 0.02, first_index=2, frames=2)


def test_walking_back_stops_at_a_gap_in_sequence_numbers() -> None:
    index = _index()
    packets = _packets([_loud(2000), SILENT, SILENT, _loud(5000)])
    packets[2] = RtpIn(packets[2].at, (packets[2].seq + 5) & 0xFFFF, 0, 0, SILENT)
    heard = index.heard(packets)
    assert heard[-1].first_index == 3


def test_unknown_audio_is_not_a_prompt() -> None:
    index = _index()
    assert index.identify(_loud(12345)) is None
    assert index.identify(SILENT) is None
    assert index.names(_packets([_loud(12345), SILENT])) == []


def test_first_after_takes_the_first_stretch_that_began_after_the_time() -> None:
    stretches = [Heard("menu", 1.0, 0, 5), Heard("other", 2.0, 5, 5), Heard("menu", 3.0, 10, 5)]
    assert first_after(stretches, "menu", 0.5) == stretches[0]
    assert first_after(stretches, "menu", 1.0) == stretches[2]
    assert first_after(stretches, "menu", 3.5) is None
