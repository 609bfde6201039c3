"""A caller of our own: SIP over UDP and RTP on one socket pair, so that the time a key
leaves the caller and the time each prompt's audio arrives are taken in one process, on one
clock (``time.monotonic()``), right at the sockets.

It does what a phone does and no more: INVITE with PCMU and RFC 4733 telephone-event (no
authentication: the test bed takes callers from the loopback by address), ACK the answer,
send 20 ms of PCMU silence every 20 ms from the answer on, key presses as RFC 4733 events
in those slots (marker bit on the first packet, the duration growing, three end packets),
record every RTP packet it receives, answer a BYE from the far end, or hang up itself.
Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from testbed.telephony.hearing import RtpIn

PCMU = 0
TELEPHONE_EVENT = 101
SILENCE = b"\xff" * 160
SLOT = 0.02  # seconds per RTP packet
EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
T1 = 0.5  # SIP retransmission timer (RFC 3261)
MEDIA_PORTS = (40000, 59998)  # outside Asterisk's RTP range and SIPp's harness range


class CallFailed(Exception):
    """The call could not be placed or ended as SIP requires."""


@dataclass(frozen=True)
class Press:
    """A key to press ``at`` seconds after the answer, held for ``duration`` seconds."""

    key: str
    at: float
    duration: float = 0.1


@dataclass(frozen=True)
class SentKey:
    """When a key left the caller: its first event packet (``down``) and its first end
    packet (``up``: the key is complete, Asterisk acts on it)."""

    key: str
    down: float
    up: float


@dataclass
class CallResult:
    answered_at: float | None = None
    final_status: int | None = None
    far_hangup: bool = False
    ended_at: float | None = None
    keys: list[SentKey] = field(default_factory=list)
    packets: list[RtpIn] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.answered_at is not None


@dataclass(frozen=True)
class SipMessage:
    first_line: str
    headers: dict[str, str]  # lower-case name -> value (the first occurrence)
    body: str

    @property
    def status(self) -> int | None:
        parts = self.first_line.split(" ", 2)
        if parts[0] == "SIP/2.0" and len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
        return None

    @property
    def method(self) -> str | None:
        return None if self.status is not None else self.first_line.split(" ", 1)[0]

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


_COMPACT = {  # compact header names (RFC 3261 7.3.3)
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
}


def parse_sip(data: bytes) -> SipMessage:
    text = data.decode("utf-8", errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        headers.setdefault(key, value.strip())
    return SipMessage(lines[0], headers, body)


def parse_sdp_media(body: str) -> tuple[str, int]:
    """The audio address of an SDP answer: (connection address, media port)."""
    address, port = "", 0
    for line in body.splitlines():
        if line.startswith("c=IN IP4 "):
            address = line.split()[2]
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    if not address or not port:
        raise CallFailed(f"no audio address in the SDP answer: {body!r}")
    return address, port


def rtp_packet(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq, ts, ssrc) + payload


def parse_rtp(at: float, data: bytes) -> RtpIn | None:
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    count, extension, padding = data[0] & 0x0F, data[0] & 0x10, data[0] & 0x20
    offset = 12 + 4 * count
    if extension:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack("!H", data[offset + 2 : offset + 4])[0]
    end = len(data) - (data[-1] if padding else 0)
    seq, ts = struct.unpack("!HI", data[2:8])
    return RtpIn(at, seq, ts, data[1] & 0x7F, data[offset:end])


class _Sip(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[SipMessage] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        if data.strip():  # keep-alive CRLFs carry nothing
            self.inbox.put_nowait(parse_sip(data))


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self, packets: list[RtpIn]) -> None:
        self.packets = packets

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        packet = parse_rtp(time.monotonic(), data)
        if packet is not None:
            self.packets.append(packet)


class _Discard(asyncio.DatagramProtocol):
    pass


def _media_sockets(host: str) -> tuple[socket.socket, socket.socket]:
    """An even RTP port and the RTCP port after it, both bound."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(MEDIA_PORTS[0], MEDIA_PORTS[1]) & ~1
        rtp, rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), None
        try:
            rtp.bind((host, port))
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtcp.bind((host, port + 1))
        except OSError:
            rtp.close()
            if rtcp is not None:
                rtcp.close()
            continue
        rtp.setblocking(False)
        rtcp.setblocking(False)
        return rtp, rtcp
    raise CallFailed("no free RTP port pair")


def _schedule(presses: Sequence[Press]) -> dict[int, tuple[str, int, int]]:
    """slot -> (key, packet number in the event, packets in the event); end packets are
    numbered from the event's length on."""
    slots: dict[int, tuple[str, int, int]] = {}
    for press in presses:
        if press.key not in EVENTS:
            raise ValueError(f"unknown key {press.key!r}")
        start, length = round(press.at / SLOT), max(2, round(press.duration / SLOT))
        for k in range(length + 3):
            if start + k in slots:
                raise ValueError(f"key {press.key!r} at {press.at} s overlaps another key")
            slots[start + k] = (press.key, k, length)
    return slots


class SipCaller:
    """One call. ``await SipCaller(caller, dialled).run(presses, hang_up_after)``."""

    def __init__(
        self,
        caller: str,
        dialled: str,
        *,
        target: tuple[str, int] = ("127.0.0.1", 5060),
        host: str = "127.0.0.1",
        answer_timeout: float = 15.0,
    ) -> None:
        self.caller, self.dialled, self.target, self.host = caller, dialled, target, host
        self.answer_timeout = answer_timeout
        self.call_id = f"{uuid.uuid4().hex}@{host}"
        self.tag = uuid.uuid4().hex[:12]
        self.result = CallResult()
        self._to = f"<sip:{dialled}@{target[0]}:{target[1]}>"
        self._remote_uri = f"sip:{dialled}@{target[0]}:{target[1]}"
        self._cseq = 1

    # --- SIP -------------------------------------------------------------------------------

    def _request(self, method: str, cseq: int, branch: str, body: str = "") -> bytes:
        lines = [
            f"{method} {self._remote_uri if method != 'INVITE' else self._invite_uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self._sip_port};branch={branch};rport",
            f"From: <sip:{self.caller}@{self.host}:{self._sip_port}>;tag={self.tag}",
            f"To: {self._to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method if method != 'ACK' else 'ACK'}",
            f"Contact: <sip:{self.caller}@{self.host}:{self._sip_port}>",
            "Max-Forwards: 70",
            "User-Agent: ivr-bench-caller",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def _reply(self, request: SipMessage, status: str) -> bytes:
        lines = [f"SIP/2.0 {status}"]
        for name in ("Via", "From", "To", "Call-ID", "CSeq"):
            lines.append(f"{name}: {request.header(name)}")
        lines.append("Content-Length: 0")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _sdp(self) -> str:
        session = random.getrandbits(31)
        return (
            "v=0\r\n"
            f"o=- {session} 1 IN IP4 {self.host}\r\n"
            "s=ivr-bench\r\n"
            f"c=IN IP4 {self.host}\r\n"
            "t=0 0\r\n"
            f"m=audio {self._media_port} RTP/AVP {PCMU} {TELEPHONE_EVENT}\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            f"a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000\r\n"
            f"a=fmtp:{TELEPHONE_EVENT} 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n"
        )

    def _send(self, data: bytes) -> None:
        self._sip.sendto(data, self.target)

    async def _next(self, deadline: float) -> SipMessage | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self._inbox.get(), remaining)
        except TimeoutError:
            return None

    async def _invite(self) -> SipMessage:
        branch = f"z9hG4bK{uuid.uuid4().hex[:16]}"
        invite = self._request("INVITE", 1, branch, self._sdp())
        self._send(invite)
        deadline = time.monotonic() + self.answer_timeout
        interval, provisional = T1, False
        resend = time.monotonic() + interval
        while True:
            message = await self._next(min(deadline, resend) if not provisional else deadline)
            now = time.monotonic()
            if message is None:
                if now >= deadline:
                    raise CallFailed(f"no answer to the INVITE within {self.answer_timeout} s")
                self._send(invite)
                interval = min(interval * 2, 4.0)
                resend = now + interval
                continue
            status = message.status
            if status is None or "INVITE" not in message.header("CSeq"):
                continue
            if status < 200:
                provisional = True
                continue
            self.result.final_status = status
            if status >= 300:
                self._send(self._ack(message, branch))
                raise CallFailed(f"the INVITE was refused: {message.first_line}")
            return message

    def _ack(self, response: SipMessage, branch: str | None = None) -> bytes:
        self._to = response.header("To") or self._to
        ack_branch = branch if branch is not None else f"z9hG4bK{uuid.uuid4().hex[:16]}"
        return self._request("ACK", 1, ack_branch)

    async def _bye(self) -> None:
        self._cseq += 1
        bye = self._request("BYE", self._cseq, f"z9hG4bK{uuid.uuid4().hex[:16]}")
        self._send(bye)
        deadline = time.monotonic() + 8 * T1
        resend = time.monotonic() + T1
        while True:
            message = await self._next(min(deadline, resend))
            if message is None:
                if time.monotonic() >= deadline:
                    raise CallFailed("no answer to our BYE")
                self._send(bye)
                resend = time.monotonic() + T1
                continue
            if message.method == "BYE":  # the far end hung up at the same moment
                self._send(self._reply(message, "200 OK"))
                self.result.far_hangup = True
                return
            if message.status is not None and "BYE" in message.header("CSeq"):
                return

    # --- RTP -------------------------------------------------------------------------------

    async def _send_media(self, presses: Sequence[Press], until: float, start: float) -> None:
        schedule = _schedule(presses)
        ssrc = random.getrandbits(32)
        seq, ts0 = random.randrange(0, 30000), random.getrandbits(31)
        event_ts = 0
        slot = 0
        while True:
            when = start + slot * SLOT
            if when >= until:
                return
            delay = when - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            ts = (ts0 + slot * 160) & 0xFFFFFFFF
            event = schedule.get(slot)
            if event is None:
                data = rtp_packet(PCMU, seq & 0xFFFF, ts, ssrc, SILENCE, False)
            else:
                key, k, length = event
                if k == 0:
                    event_ts = ts
                end = k >= length
                duration = (min(k, length - 1) + 1) * 160
                payload = struct.pack(
                    "!BBH", EVENTS[key], (0x80 if end else 0) | 10, duration & 0xFFFF
                )
                data = rtp_packet(TELEPHONE_EVENT, seq & 0xFFFF, event_ts, ssrc, payload, k == 0)
            self._rtp.sendto(data, self._remote_media)
            sent = time.monotonic()
            if event is not None:
                key, k, length = event
                if k == 0:
                    self._down[key, slot] = sent
                elif k == length:
                    down = self._down.pop((key, slot - length))
                    self.result.keys.append(SentKey(key, down, sent))
            seq += 1
            slot += 1

    # --- The call --------------------------------------------------------------------------

    async def run(self, presses: Sequence[Press], hang_up_after: float) -> CallResult:
        """Place the call, press the keys (seconds after the answer), hang up after
        ``hang_up_after`` seconds unless the far end hangs up first. Never raises for the
        call's own failures: they are in ``result.error``."""
        loop = asyncio.get_running_loop()
        self._down: dict[tuple[str, int], float] = {}
        rtp_sock, rtcp_sock = _media_sockets(self.host)
        self._media_port = rtp_sock.getsockname()[1]
        sip_transport, sip = await loop.create_datagram_endpoint(_Sip, local_addr=(self.host, 0))
        self._sip = sip_transport
        self._inbox = sip.inbox
        self._sip_port = sip_transport.get_extra_info("sockname")[1]
        self._invite_uri = self._remote_uri
        rtp_transport, _ = await loop.create_datagram_endpoint(
            lambda: _Rtp(self.result.packets), sock=rtp_sock
        )
        self._rtp = rtp_transport
        rtcp_transport, _ = await loop.create_datagram_endpoint(_Discard, sock=rtcp_sock)
        try:
            await self._call(presses, hang_up_after)
        except CallFailed as exc:
            self.result.error = str(exc)
        finally:
            self.result.ended_at = time.monotonic()
            for transport in (sip_transport, rtp_transport, rtcp_transport):
                transport.close()
        return self.result

    async def _call(self, presses: Sequence[Press], hang_up_after: float) -> None:
        answer = await self._invite()
        contact = answer.header("Contact")
        if "<" in contact:
            self._remote_uri = contact.split("<", 1)[1].split(">", 1)[0]
        self._send(self._ack(answer))
        self._remote_media = parse_sdp_media(answer.body)
        start = time.monotonic()
        self.result.answered_at = start
        until = start + hang_up_after
        media = asyncio.create_task(self._send_media(presses, until, start))
        try:
            while True:
                message = await self._next(until)
                if message is None:
                    break
                if message.method == "BYE":
                    self._send(self._reply(message, "200 OK"))
                    self.result.far_hangup = True
                    return
                if message.method is not None and message.method != "ACK":
                    self._send(self._reply(message, "200 OK"))  # OPTIONS, INFO, ...
                elif message.status is not None and message.status < 300:
                    self._send(self._ack(answer))  # a retransmitted 200 OK: ACK it again
        finally:
            media.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await media
        await self._bye()
