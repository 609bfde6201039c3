"""The FastAGI wire format: the header block, command replies and argument quoting.

Replies are parsed here rather than with ``panoramisk.utils.parse_agi_result``: its regex
needs a non-empty value, so ``200 result= (timeout)`` (GET DATA timing out with no digit)
loses both the empty result and the ``timeout`` marker, and its greedy ``(data)`` group
swallows the ``endpos=`` that follows.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from ivr_engine.agi.errors import AgiProtocolError, AgiTimeout, CallerHangup

HANGUP_LINE = "HANGUP"
MAX_USAGE_LINES = 200

_HEADER_LINE = re.compile(r"(agi_[A-Za-z0-9_]+): ?(.*)")
_HEADER_BLOCK = re.compile(r"(?:agi_[A-Za-z0-9_]+:[^\n]*\n)+")
_HEADER_PAIR = re.compile(r"(agi_[A-Za-z0-9_]+): ?([^\n]*?)\r?\n")
_REPLY_LINE = re.compile(r"(\d{3})(?:[ -](.*))?")
_RESULT = re.compile(r"result=(\S*)(?: \((.*)\))?((?: [A-Za-z0-9_]+=\S*)*)")
_RESULT_PREFIX = re.compile(r"result=(\S*) ?(.*)")
_OK_REPLY = re.compile(r"200 result=(\S*)(?: \((.*)\))?((?: [A-Za-z0-9_]+=\S*)*)")


@dataclass(frozen=True)
class AgiReply:
    """One parsed reply: ``200 result=1 (data) key=value``."""

    code: int
    result: str
    data: str
    extras: dict[str, str]
    raw: str


async def read_raw(reader: asyncio.StreamReader) -> bytes:
    """One line with its ending; EOF propagates as IncompleteReadError."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        raise AgiProtocolError("oversized", "line longer than the stream limit") from exc


def decode_line(raw: bytes) -> str:
    try:
        return raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgiProtocolError("garbage", "line is not UTF-8") from exc


async def _read_line(reader: asyncio.StreamReader) -> str:
    return decode_line(await read_raw(reader))


def header_line(line: str) -> tuple[str, str]:
    """One ``agi_x: value`` line of the header block (its line ending removed)."""
    match = _HEADER_LINE.fullmatch(line)
    if match is None:
        raise AgiProtocolError("garbage", f"not an AGI header: {line[:60]!r}")
    return match[1], match[2]


def parse_header_block(block: bytes) -> dict[str, str]:
    """The header block up to (not including) its blank line, already read whole."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgiProtocolError("garbage", "header block is not UTF-8") from exc
    if not text:
        raise AgiProtocolError("garbage", "empty header block")
    if not text.endswith("\n"):
        text += "\n"
    if _HEADER_BLOCK.fullmatch(text) is not None:  # every line well formed: take them all
        return dict(_HEADER_PAIR.findall(text))
    for line in text.split("\n"):  # find the line at fault
        header_line(line.removesuffix("\r"))
    raise AgiProtocolError("garbage", "header block is not AGI headers")  # pragma: no cover


def header_block_end(data: bytes | bytearray) -> tuple[int, int] | None:
    """Where the header block in ``data`` ends: (length of the block without its blank line,
    length with it), or None while the blank line has not come."""
    if data.startswith((b"\n", b"\r\n")):
        return 0, data.index(b"\n") + 1
    lf = data.find(b"\n\n")
    crlf = data.find(b"\n\r\n")
    if lf < 0 and crlf < 0:
        return None
    if crlf < 0 or 0 <= lf < crlf:
        return lf + 1, lf + 2
    return crlf + 1, crlf + 3


async def read_headers(
    reader: asyncio.StreamReader, timeout: float, max_bytes: int
) -> dict[str, str]:
    """Read the ``agi_x: value`` block up to the blank line, all within one deadline."""
    headers: dict[str, str] = {}
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                raw = await read_raw(reader)
                size += len(raw)
                if size > max_bytes:
                    raise AgiProtocolError("oversized", f"header block over {max_bytes} bytes")
                line = decode_line(raw)
                if not line:
                    if not headers:
                        raise AgiProtocolError("garbage", "empty header block")
                    return headers
                key, value = header_line(line)
                headers[key] = value
    except TimeoutError as exc:
        raise AgiTimeout(f"header block not complete within {timeout:g} s") from exc
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise AgiProtocolError("truncated", "connection closed inside the header block") from exc


def parse_reply(line: str) -> AgiReply:
    """Parse one single-line reply such as ``200 result=53 endpos=1234``."""
    ok = _OK_REPLY.fullmatch(line)
    if ok is not None:  # the usual ``200 result=...`` in one match
        tail = ok[3]
        extras = dict(item.split("=", 1) for item in tail.split()) if tail else {}
        return AgiReply(200, ok[1], ok[2] or "", extras, line)
    match = _REPLY_LINE.fullmatch(line)
    if match is None:
        raise AgiProtocolError("garbage", f"not an AGI reply: {line[:60]!r}")
    code, rest = int(match[1]), match[2] or ""
    if code != 200:
        return AgiReply(code=code, result="", data=rest, extras={}, raw=line)
    full = _RESULT.fullmatch(rest)
    if full is not None:
        extras = dict(item.split("=", 1) for item in full[3].split())
        return AgiReply(code, full[1], full[2] or "", extras, line)
    # Unusual layouts (e.g. SPEECH RECOGNIZE's quoted text): keep the tail as data.
    prefix = _RESULT_PREFIX.match(rest)
    if prefix is None:
        raise AgiProtocolError("garbage", f"200 reply without result: {line[:60]!r}")
    return AgiReply(code, prefix[1], prefix[2], {}, line)


async def _read_usage(reader: asyncio.StreamReader, first: str) -> AgiReply:
    """Consume a ``520-`` usage block through its ``520 End of proper usage.`` line."""
    lines = [first]
    while not lines[-1].startswith("520 "):
        if len(lines) > MAX_USAGE_LINES:
            raise AgiProtocolError("garbage", "520 usage block does not end")
        lines.append(await _read_line(reader))
    message = first[4:]
    usage = "\n".join(lines[1:-1])
    return AgiReply(520, "", f"{message}\n{usage}" if usage else message, {}, "\n".join(lines))


async def next_reply(reader: asyncio.StreamReader) -> tuple[AgiReply, bool]:
    """Read the reply to one command, with no deadline of its own (the caller keeps one);
    return it and whether a ``HANGUP`` line came first.

    ``100 Trying...`` lines are skipped, a ``520-`` usage block is consumed whole, and a bare
    ``HANGUP`` line is recorded and reading goes on, so replies never drift out of step.
    EOF raises CallerHangup: Asterisk closes the socket when the channel's AGI has ended,
    which after a hang-up is the normal way for a call to finish.
    """
    try:
        line = await _read_line(reader)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise CallerHangup("Asterisk closed the AGI connection") from exc
    return await finish_reply(reader, line)


async def finish_reply(reader: asyncio.StreamReader, line: str) -> tuple[AgiReply, bool]:
    """:func:`next_reply` once its first line is read."""
    hangup = False
    try:
        while True:
            if line == HANGUP_LINE:
                hangup = True
            elif line.startswith("520-"):
                return await _read_usage(reader, line), hangup
            else:
                reply = parse_reply(line)
                if reply.code != 100:
                    return reply, hangup
            line = await _read_line(reader)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise CallerHangup("Asterisk closed the AGI connection") from exc


async def read_reply(reader: asyncio.StreamReader, timeout: float) -> tuple[AgiReply, bool]:
    """:func:`next_reply` within ``timeout`` seconds (AgiTimeout after that)."""
    try:
        async with asyncio.timeout(timeout):
            return await next_reply(reader)
    except TimeoutError as exc:
        raise AgiTimeout(f"no reply within {timeout:g} s") from exc


def quote(value: str) -> str:
    """Quote one AGI argument the way res_agi's parse_args reads it back."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError("AGI arguments cannot contain line breaks or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


DTMF_DIGITS = "0123456789*#ABCD"


def result_int(reply: AgiReply) -> int:
    """The reply's result as an integer; a non-numeric result is a protocol error."""
    try:
        return int(reply.result)
    except ValueError:
        raise AgiProtocolError("garbage", f"non-numeric result: {reply.raw[:60]!r}") from None


def dtmf_from_result(reply: AgiReply) -> str | None:
    """Map a DTMF result (the digit's ASCII code, 0 for none) to the digit: 53 -> "5"."""
    code = result_int(reply)
    if code == 0:
        return None
    digit = chr(code) if 0 < code < 128 else ""
    if not digit or digit not in DTMF_DIGITS:
        raise AgiProtocolError("garbage", f"result {code} is not a DTMF digit")
    return digit
