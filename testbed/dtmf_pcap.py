"""Write RFC 4733 (RFC 2833) key presses into a libpcap file that SIPp can play.

SIPp's ``<exec play_pcap_audio="FILE"/>`` reads a libpcap capture (link type Ethernet,
IPv4/UDP), keeps each packet's UDP payload and capture time, and sends the payloads from the
call's media port to the far end's media port with the captured spacing. The RTP headers are
sent exactly as written here, so this module writes a complete RTP stream:

* one SSRC, sequence numbers that increase by one per packet;
* PCMU silence (payload type 0, 160 bytes of 0xFF per 20 ms) in every 20 ms slot that does
  not carry an event, from the start of playback to shortly after the last press. Asterisk's
  strict RTP (on by default) learns a new stream from its first packets; with silence first,
  learning never swallows the start of a key press, and the stream looks like a real phone's;
* per key press, RFC 4733 ``telephone-event`` packets every 20 ms: a new RTP timestamp per
  event (the media clock at the press), marker bit on the event's first packet, the duration
  field growing by 160 per packet, then three end packets (E bit) with the final duration.

Replaying SIPp's stock ``dtmf_2833_N.pcap`` twice in one call repeats its sequence numbers and
Asterisk drops the repeat: generate ONE file per call holding all of that call's presses.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: RFC 4733 event codes of the keys a phone can send.
DTMF_EVENTS: dict[str, int] = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}

PCMU_PAYLOAD_TYPE = 0
SAMPLE_RATE = 8000
PACKET_INTERVAL = 0.02  # seconds of media per packet (ptime 20)
SAMPLES_PER_PACKET = int(SAMPLE_RATE * PACKET_INTERVAL)  # 160
END_PACKETS = 3  # RFC 4733 2.5.1.4: the final packet is sent three times
PCMU_SILENCE = b"\xff" * SAMPLES_PER_PACKET

_PCAP_MAGIC = 0xA1B2C3D4
_LINKTYPE_ETHERNET = 1
_PCAP_EPOCH = 1_700_000_000  # capture times start here; SIPp only uses their differences
_MEDIA_PORT = 6000  # UDP ports in the capture; SIPp replaces them with the call's ports
_LOOPBACK = bytes([127, 0, 0, 1])


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet of the stream and its send time (seconds from start of playback)."""

    time: float
    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes

    @property
    def is_event(self) -> bool:
        return self.payload_type != PCMU_PAYLOAD_TYPE

    @property
    def event(self) -> int:
        """The RFC 4733 event code (only for telephone-event packets)."""
        return self.payload[0]

    @property
    def end(self) -> bool:
        """The E bit of a telephone-event packet."""
        return bool(self.payload[1] & 0x80)

    @property
    def duration(self) -> int:
        """The duration field of a telephone-event packet, in timestamp units."""
        return int(struct.unpack("!H", self.payload[2:4])[0])

    def to_bytes(self) -> bytes:
        header = struct.pack(
            "!BBHII",
            0x80,  # version 2, no padding, no extension, no CSRC
            (0x80 if self.marker else 0) | self.payload_type,
            self.seq,
            self.timestamp,
            self.ssrc,
        )
        return header + self.payload

    @classmethod
    def from_bytes(cls, time: float, data: bytes) -> RtpPacket:
        if len(data) < 12 or data[0] >> 6 != 2:
            raise ValueError("not an RTP version 2 packet")
        _, second, seq, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
        return cls(
            time=time,
            payload_type=second & 0x7F,
            marker=bool(second & 0x80),
            seq=seq,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=data[12:],
        )


def _slot(seconds: float) -> int:
    return round(seconds / PACKET_INTERVAL)


def build_dtmf_stream(
    presses: Sequence[tuple[float, str]],
    *,
    payload_type: int = 101,
    event_duration: float = 0.2,
    volume: int = 10,
    silence: bool = True,
    tail: float = 0.2,
    ssrc: int | None = None,
    first_seq: int | None = None,
    first_timestamp: int | None = None,
) -> list[RtpPacket]:
    """The RTP packets for ``presses`` ((seconds from start of playback, key), ...).

    Each press occupies ``event_duration`` (rounded to 20 ms, at least 40 ms) plus its three
    end packets; presses must be in time order and must not overlap. With ``silence``, PCMU
    silence fills every other 20 ms slot from 0 s to ``tail`` seconds after the last press
    (or ``tail`` seconds in all when there are no presses).
    """
    if not 96 <= payload_type <= 127:
        raise ValueError(f"telephone-event payload type {payload_type} is not dynamic (96-127)")
    if not 0 <= volume <= 63:
        raise ValueError(f"volume {volume} out of 0-63")
    event_packets = max(2, _slot(event_duration))
    rng = random.Random()
    ssrc = rng.getrandbits(32) if ssrc is None else ssrc
    seq = rng.randrange(0, 30000) if first_seq is None else first_seq
    base_ts = rng.getrandbits(31) if first_timestamp is None else first_timestamp

    # slot -> (payload type, marker, timestamp, payload) for the event packets
    events: dict[int, tuple[bool, int, bytes]] = {}
    next_free = 0
    for when, key in presses:
        code = DTMF_EVENTS.get(key.upper()) if len(key) == 1 else None
        if code is None:
            raise ValueError(f"unknown key {key!r}: use one of {''.join(DTMF_EVENTS)}")
        if when < 0:
            raise ValueError(f"press of {key!r} at {when} s: times start at 0")
        start = _slot(when)
        if start < next_free:
            raise ValueError(
                f"press of {key!r} at {when} s overlaps the previous press "
                f"(each takes {(event_packets + END_PACKETS) * PACKET_INTERVAL:.2f} s)"
            )
        timestamp = (base_ts + start * SAMPLES_PER_PACKET) & 0xFFFFFFFF
        for k in range(event_packets):
            payload = struct.pack("!BBH", code, volume, (k + 1) * SAMPLES_PER_PACKET)
            events[start + k] = (k == 0, timestamp, payload)
        final = struct.pack("!BBH", code, 0x80 | volume, event_packets * SAMPLES_PER_PACKET)
        for k in range(END_PACKETS):
            events[start + event_packets + k] = (False, timestamp, final)
        next_free = start + event_packets + END_PACKETS

    last_slot = max(events) if events else -1
    if silence:
        last_slot += max(1, _slot(tail))

    packets: list[RtpPacket] = []
    for slot in range(last_slot + 1):
        if slot in events:
            marker, timestamp, payload = events[slot]
            pt = payload_type
        elif silence:
            marker, pt, payload = False, PCMU_PAYLOAD_TYPE, PCMU_SILENCE
            timestamp = (base_ts + slot * SAMPLES_PER_PACKET) & 0xFFFFFFFF
        else:
            continue
        packets.append(
            RtpPacket(
                time=round(slot * PACKET_INTERVAL, 6),
                payload_type=pt,
                marker=marker,
                seq=seq & 0xFFFF,
                timestamp=timestamp,
                ssrc=ssrc,
                payload=payload,
            )
        )
        seq += 1
    return packets


def _ipv4_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(rtp: bytes, ident: int) -> bytes:
    udp_len = 8 + len(rtp)
    udp = struct.pack("!HHHH", _MEDIA_PORT, _MEDIA_PORT, udp_len, 0) + rtp
    ip = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,  # IPv4, 20-byte header
            0,
            20 + udp_len,
            ident & 0xFFFF,
            0x4000,  # don't fragment
            64,
            17,  # UDP
            0,
            _LOOPBACK,
            _LOOPBACK,
        )
    )
    struct.pack_into("!H", ip, 10, _ipv4_checksum(bytes(ip)))
    ethernet = b"\x00" * 6 + b"\x00" * 6 + b"\x08\x00"
    return ethernet + bytes(ip) + udp


def write_rtp_pcap(path: str | Path, packets: Sequence[RtpPacket]) -> None:
    """Write RTP packets as a libpcap capture (Ethernet/IPv4/UDP, microsecond times)."""
    out = bytearray(struct.pack("<IHHiIII", _PCAP_MAGIC, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET))
    for index, packet in enumerate(packets):
        frame = _frame(packet.to_bytes(), index)
        micros = round(packet.time * 1_000_000)
        seconds, micros = divmod(micros, 1_000_000)
        out += struct.pack("<IIII", _PCAP_EPOCH + seconds, micros, len(frame), len(frame))
        out += frame
    Path(path).write_bytes(bytes(out))


def write_dtmf_pcap(
    path: str | Path,
    presses: Sequence[tuple[float, str]],
    *,
    payload_type: int = 101,
    event_duration: float = 0.2,
    volume: int = 10,
    silence: bool = True,
    tail: float = 0.2,
    ssrc: int | None = None,
    first_seq: int | None = None,
    first_timestamp: int | None = None,
) -> float:
    """Write ONE pcap holding every press of a call; return its playing time in seconds.

    ``presses`` are (seconds from start of playback, key) with keys 0-9 * # A-D, in time
    order. See :func:`build_dtmf_stream` for the other arguments.
    """
    packets = build_dtmf_stream(
        presses,
        payload_type=payload_type,
        event_duration=event_duration,
        volume=volume,
        silence=silence,
        tail=tail,
        ssrc=ssrc,
        first_seq=first_seq,
        first_timestamp=first_timestamp,
    )
    write_rtp_pcap(path, packets)
    return round(packets[-1].time + PACKET_INTERVAL, 6) if packets else 0.0


def read_rtp_pcap(path: str | Path) -> list[RtpPacket]:
    """Read back the RTP packets of a capture written by :func:`write_rtp_pcap`.

    Times are relative to the first packet. Understands little- and big-endian microsecond
    libpcap files with Ethernet framing and IPv4/UDP, which is what SIPp plays.
    """
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: too short for a pcap file")
    magic = struct.unpack("<I", data[:4])[0]
    if magic == _PCAP_MAGIC:
        endian = "<"
    elif magic == 0xD4C3B2A1:
        endian = ">"
    else:
        raise ValueError(f"{path}: not a microsecond libpcap file (magic {magic:#x})")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != _LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet (1)")
    packets: list[RtpPacket] = []
    offset = 24
    start: float | None = None
    while offset + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack(endian + "IIII", data[offset : offset + 16])
        offset += 16
        frame = data[offset : offset + incl]
        offset += incl
        if incl != orig or len(frame) != incl:
            raise ValueError(f"{path}: truncated packet at byte {offset}")
        if frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4 or frame[23] != 17:
            raise ValueError(f"{path}: a packet is not IPv4/UDP over Ethernet")
        ihl = (frame[14] & 0x0F) * 4
        udp = frame[14 + ihl :]
        udp_len = struct.unpack("!H", udp[4:6])[0]
        if udp_len != len(udp):
            raise ValueError(f"{path}: UDP length {udp_len} != {len(udp)}")
        when = sec + usec / 1_000_000
        start = when if start is None else start
        packets.append(RtpPacket.from_bytes(round(when - start, 6), udp[8:]))
    return packets
