"""panoramisk's AMI protocol with the decoding defect fixed.

panoramisk decodes every TCP chunk on its own with ``errors='ignore'``: a multibyte UTF-8
character split across two packets (a caller name in Chinese, say) is silently dropped.
This protocol keeps one incremental decoder per connection, so split characters survive.
Everything else (message framing, action/response matching) is panoramisk's own.
"""

from __future__ import annotations

import codecs
from typing import Any

from panoramisk.ami_protocol import AMIProtocol


class _DecodedChunk(bytes):
    """Bytes that decode to a text prepared in advance by the incremental decoder."""

    text: str

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self.text


class IncrementalAmiProtocol(AMIProtocol):  # type: ignore[misc]
    """AMIProtocol whose input decoding keeps state across TCP chunks."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def data_received(self, data: bytes) -> None:
        chunk = _DecodedChunk(data)
        chunk.text = self._decoder.decode(data)
        super().data_received(chunk)
