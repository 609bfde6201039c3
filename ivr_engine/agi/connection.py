"""One accepted FastAGI connection, until its session starts.

The header block is read straight from the socket's data, whole, under one deadline: a
connection that stalls, closes early, sends too much or sends garbage is refused without a
task ever being started for it. Once the block is in, the bytes that follow go to the
session's ``StreamReader`` and the session is handed to the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ivr_engine.agi.errors import AgiProtocolError
from ivr_engine.agi.protocol import header_block_end, parse_header_block

log = logging.getLogger("ivr_engine.agi.server")

# (headers, reader, writer) of a connection whose header block is in
SessionStart = Callable[[dict[str, str], asyncio.StreamReader, asyncio.StreamWriter], None]
# (kind, message) of a refused connection
Refusal = Callable[[str, str, Any], None]


class AgiConnection(asyncio.StreamReaderProtocol):
    """The protocol of one connection: reads the header block, then feeds the session."""

    def __init__(
        self,
        *,
        limit: int,
        header_timeout: float,
        max_header_bytes: int,
        on_session: SessionStart,
        on_refused: Refusal,
        on_settled: Callable[[AgiConnection], None],
    ) -> None:
        loop = asyncio.get_running_loop()
        self._agi_loop = loop
        self._agi_reader = asyncio.StreamReader(limit=limit, loop=loop)
        super().__init__(self._agi_reader, loop=loop)
        self._agi_head: bytearray | None = bytearray()  # None once the block is read
        self._agi_header_timeout = header_timeout
        self._agi_max = max_header_bytes
        self._agi_on_session = on_session
        self._agi_on_refused = on_refused
        self._agi_on_settled = on_settled
        self._agi_transport: asyncio.Transport | None = None
        self._agi_timer: asyncio.TimerHandle | None = None

    @property
    def reading_headers(self) -> bool:
        return self._agi_head is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.Transport)
        self._agi_transport = transport
        self._agi_timer = self._agi_loop.call_later(self._agi_header_timeout, self._expired)

    def data_received(self, data: bytes) -> None:
        head = self._agi_head
        if head is None:
            self._agi_reader.feed_data(data)
            return
        head += data
        end = header_block_end(head)
        if end is None:
            if len(head) > self._agi_max:
                self._refuse("oversized", f"header block over {self._agi_max} bytes")
            return
        block_end, blank_end = end
        if blank_end > self._agi_max:
            self._refuse("oversized", f"header block over {self._agi_max} bytes")
            return
        try:
            headers = parse_header_block(bytes(head[:block_end]))
        except AgiProtocolError as exc:
            self._refuse(exc.kind, str(exc).partition(": ")[2])
            return
        rest = bytes(head[blank_end:])
        self._done_with_headers()
        transport = self._agi_transport
        assert transport is not None
        writer = asyncio.StreamWriter(transport, self, self._agi_reader, self._agi_loop)
        if rest:
            self._agi_reader.feed_data(rest)
        self._agi_on_session(headers, self._agi_reader, writer)

    def eof_received(self) -> bool:
        if self._agi_head is not None:
            self._refuse("truncated", "connection closed inside the header block")
            return False
        return bool(super().eof_received())

    def connection_lost(self, exc: Exception | None) -> None:
        if self._agi_head is not None:
            self._refuse("truncated", "connection closed inside the header block")
        super().connection_lost(exc)

    def close(self) -> None:
        """Close a connection still reading its header block, counting nothing."""
        if self._agi_head is not None:
            self._done_with_headers()
            if self._agi_transport is not None:
                self._agi_transport.close()

    def _expired(self) -> None:
        self._agi_timer = None
        if self._agi_head is not None:
            message = f"header block not complete within {self._agi_header_timeout:g} s"
            self._refuse("header_timeout", message)

    def _refuse(self, kind: str, message: str) -> None:
        if self._agi_head is None:
            return
        self._done_with_headers()
        transport = self._agi_transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        self._agi_on_refused(kind, message, peer)
        if transport is not None:
            transport.close()

    def _done_with_headers(self) -> None:
        self._agi_head = None
        if self._agi_timer is not None:
            self._agi_timer.cancel()
            self._agi_timer = None
        self._agi_on_settled(self)
