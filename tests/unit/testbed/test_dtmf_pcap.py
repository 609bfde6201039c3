"""The RFC 4733 pcap writer: parse back what it wrote."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest

from testbed.dtmf_pcap import (
    DTMF_EVENTS,
    END_PACKETS,
    PCMU_PAYLOAD_TYPE,
    RtpPacket,
    read_rtp_pcap,
    write_dtmf_pcap,
)


def _events(packets: list[RtpPacket]) -> list[list[RtpPacket]]:
    """Group telephone-event packets by RTP timestamp (one group per key press)."""
    groups: dict[int, list[RtpPacket]] = {}
    for packet in packets:
        if packet.is_event:
            groups.setdefault(packet.timestamp, []).append(packet)
    return list(groups.values())


def test_two_presses_with_silence(tmp_path: Path) -> None:
    path = tmp_path / "call.pcap"
    duration = write_dtmf_pcap(
        path, [(1.0, "5"), (1.6, "7")], ssrc=0x1234, first_seq=100, first_timestamp=8000
    )
    packets = read_rtp_pcap(path)

    # 20 ms slots from 0 s to 0.2 s after the last end packet, one packet per slot
    assert duration == pytest.approx(2.06)
    assert len(packets) == round(duration / 0.02)
    assert [p.time for p in packets] == pytest.approx([i * 0.02 for i in range(len(packets))])
    assert [p.seq for p in packets] == list(range(100, 100 + len(packets)))
    assert {p.ssrc for p in packets} == {0x1234}

    silence = [p for p in packets if not p.is_event]
    assert silence[0].time == 0.0  # audio first: the stream is learnt before any press
    assert all(p.payload_type == PCMU_PAYLOAD_TYPE for p in silence)
    assert all(p.payload == b"\xff" * 160 and not p.marker for p in silence)
    assert all(p.timestamp == 8000 + round(p.time / 0.02) * 160 for p in silence)

    five, seven = _events(packets)
    for group, key, start in ((five, "5", 1.0), (seven, "7", 1.6)):
        assert {p.event for p in group} == {DTMF_EVENTS[key]}
        assert {p.payload_type for p in group} == {101}
        assert group[0].time == pytest.approx(start)
        assert group[0].timestamp == 8000 + round(start / 0.02) * 160  # a new timestamp
        assert [p.marker for p in group] == [True] + [False] * (len(group) - 1)
        body, ends = group[:-END_PACKETS], group[-END_PACKETS:]
        assert len(body) == 10  # 200 ms of event at 20 ms a packet
        assert not any(p.end for p in body)
        assert [p.duration for p in body] == [160 * (i + 1) for i in range(10)]
        assert all(p.end for p in ends)
        assert {p.duration for p in ends} == {1600}
        assert [p.time for p in group] == pytest.approx([start + 0.02 * i for i in range(13)])
        assert all(p.payload[1] & 0x3F == 10 for p in group)  # volume


def test_without_silence_only_events(tmp_path: Path) -> None:
    path = tmp_path / "call.pcap"
    duration = write_dtmf_pcap(path, [(0.0, "*"), (0.5, "#"), (1.0, "d")], silence=False)
    packets = read_rtp_pcap(path)

    assert len(packets) == 3 * 13
    assert all(p.is_event for p in packets)
    assert [p.event for p in packets[::13]] == [10, 11, 15]
    assert [p.marker for p in packets].count(True) == 3
    assert [p.end for p in packets].count(True) == 3 * END_PACKETS
    seqs = [p.seq for p in packets]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
    assert duration == pytest.approx(1.0 + 13 * 0.02)


def test_sequence_numbers_wrap(tmp_path: Path) -> None:
    path = tmp_path / "wrap.pcap"
    write_dtmf_pcap(path, [(0.1, "1")], first_seq=65530)
    seqs = [p.seq for p in read_rtp_pcap(path)]
    assert seqs[:8] == [65530, 65531, 65532, 65533, 65534, 65535, 0, 1]


def test_no_presses_is_a_short_silence(tmp_path: Path) -> None:
    path = tmp_path / "silence.pcap"
    assert write_dtmf_pcap(path, []) == pytest.approx(0.2)
    packets = read_rtp_pcap(path)
    assert len(packets) == 10 and not any(p.is_event for p in packets)


def test_all_keys_have_their_event_codes(tmp_path: Path) -> None:
    keys = "0123456789*#ABCD"
    path = tmp_path / "keys.pcap"
    write_dtmf_pcap(path, [(0.3 * i, key) for i, key in enumerate(keys)], silence=False)
    groups = _events(read_rtp_pcap(path))
    assert [g[0].event for g in groups] == list(range(16))


def test_pcap_framing_is_what_sipp_reads(tmp_path: Path) -> None:
    """libpcap 2.4, Ethernet, IPv4 (valid header checksum), UDP with its true length."""
    path = tmp_path / "frame.pcap"
    write_dtmf_pcap(path, [(0.0, "1")], silence=False)
    data = path.read_bytes()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, snaplen, linktype) == (0xA1B2C3D4, 2, 4, 65535, 1)
    _, _, incl, orig = struct.unpack("<IIII", data[24:40])
    frame = data[40 : 40 + incl]
    assert incl == orig == len(frame)
    assert frame[12:14] == b"\x08\x00"
    ip = frame[14:34]
    assert ip[0] == 0x45 and ip[9] == 17
    words = struct.unpack("!10H", ip)
    total = sum(words)
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF  # header checksum verifies
    assert struct.unpack("!H", ip[2:4])[0] == len(frame) - 14
    udp_len = struct.unpack("!H", frame[38:40])[0]
    assert udp_len == len(frame) - 34 == 8 + 12 + 4


@pytest.mark.parametrize(
    ("presses", "message"),
    [
        ([(0.0, "5"), (0.1, "6")], "overlaps"),
        ([(1.0, "5"), (0.5, "6")], "overlaps"),
        ([(0.0, "X")], "unknown key"),
        ([(0.0, "12")], "unknown key"),
        ([(-0.1, "1")], "start at 0"),
    ],
)
def test_bad_presses_are_refused(
    tmp_path: Path, presses: list[tuple[float, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_dtmf_pcap(tmp_path / "bad.pcap", presses)


def test_payload_type_must_be_dynamic(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dynamic"):
        write_dtmf_pcap(tmp_path / "bad.pcap", [(0.0, "1")], payload_type=8)
    path = tmp_path / "pt96.pcap"
    write_dtmf_pcap(path, [(0.0, "1")], payload_type=96, silence=False)
    assert {p.payload_type for p in read_rtp_pcap(path)} == {96}
