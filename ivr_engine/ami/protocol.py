"""panoramisk's AMI protocol with its input side made safe.

panoramisk decodes every TCP chunk on its own with ``errors='ignore'``: a multibyte UTF-8
character split across two packets (a caller name in Chinese, say) is silently dropped.
It also keeps everything after the last blank line in one string that each chunk is
appended to and searched again: a message that never ends (no blank line) grows without
bound and costs more on every chunk. And one odd message (an ``Event`` header given twice,
say) raises inside its parser, which kills the connection.

This protocol keeps one incremental decoder per connection, so split characters survive
(bytes that are not UTF-8 become U+FFFD). It frames messages itself, scanning only the new
text: a message longer than ``MAX_MESSAGE_CHARS`` is dropped, the rest of it skipped up to
its blank line, and counted; a message that panoramisk cannot handle is dropped and
counted too; the connection carries on. Action/response matching and event dispatch are
panoramisk's own (``handle_message``).
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable
from typing import Any

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

log = logging.getLogger(__name__)

SEPARATOR = "\r\n\r\n"
BANNER = "Asterisk Call Manager/"
MAX_MESSAGE_CHARS = 256 * 1024  # Asterisk's biggest real messages are a few KiB

# Told of each message dropped: ("oversized" | "unreadable", what was seen)
BadInput = Callable[[str, str], None]


class IncrementalAmiProtocol(AMIProtocol):  # type: ignore[misc]
    """AMIProtocol with stateful decoding, bounded framing and per-message isolation."""

    max_message_chars = MAX_MESSAGE_CHARS
    version: str | None  # set by panoramisk's connection_made, then from the banner

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""  # text after the last separator
        self._skipping = False  # inside a message that was too long, until its end

    def data_received(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if not text:
            return
        if self.version is None and len(self._buffer) < 80:  # the banner comes first
            head = self._buffer + text[:80]
            banner, found, _ = head.partition("\r\n")
            if found and banner.startswith(BANNER):
                self.version = banner[len(BANNER) :].strip()
                log.info("AMI protocol version: %r", self.version)
        start = max(0, len(self._buffer) - len(SEPARATOR) + 1)  # a separator split in two
        buffer = self._buffer + text
        begin = 0  # where the next message starts: messages are cut out, never the rest
        while (end := buffer.find(SEPARATOR, start)) >= 0:
            part = buffer[begin:end]
            begin = start = end + len(SEPARATOR)
            if self._skipping:
                self._skipping = False  # the end of the message that was too long
            elif len(part) > self.max_message_chars:
                self._drop("oversized", part)
            else:
                self._message(part)
        if begin:
            buffer = buffer[begin:]
        if len(buffer) > self.max_message_chars:
            if not self._skipping:
                self._drop("oversized", buffer)
            self._skipping = True
            buffer = buffer[-(len(SEPARATOR) - 1) :]  # a separator may start in it
        self._buffer = buffer

    def _message(self, part: str) -> None:
        text = part.strip()  # Asterisk sometimes sends a lone line break between messages
        if not text:
            return
        try:
            message = Message.from_line(text)
            if message is not None:
                self.handle_message(message)
        except Exception as exc:  # one odd message must not end the connection
            self._drop("unreadable", text, exc)

    def _drop(self, kind: str, text: str, exc: Exception | None = None) -> None:
        first = text.strip().partition("\r\n")[0][:80]
        reason = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        log.warning("AMI message dropped, %s: %d chars, %r...%s", kind, len(text), first, reason)
        report: BadInput | None = getattr(self.factory, "on_bad_input", None)
        if report is not None:
            report(kind, first)
