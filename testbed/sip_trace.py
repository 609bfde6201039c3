"""SIP messages read back from SIPp's message trace (``-trace_msg``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class SipMessage:
    """One SIP message from SIPp's -trace_msg log."""

    time: float  # Unix time
    direction: Literal["sent", "received"]
    first_line: str
    headers: dict[str, str]  # first occurrence of each header, lower-case names

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        """The request method, or the CSeq method of a response ("" without a CSeq)."""
        if self.is_request:
            return self.first_line.split(" ", 1)[0]
        cseq = self.headers.get("cseq", "").split()
        return cseq[-1] if cseq else ""

    @property
    def status(self) -> int | None:
        if self.is_request:
            return None
        return int(self.first_line.split()[1])

    def __str__(self) -> str:
        arrow = "->" if self.direction == "sent" else "<-"
        return f"{arrow} {self.first_line}"


_TRACE_SEPARATOR = re.compile(
    r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n"
    r"\S+ message (sent|received)[^\n]*\n\n",
    re.MULTILINE,
)


def parse_message_trace(text: str) -> list[SipMessage]:
    """Parse SIPp's -trace_msg log into messages, in order."""
    messages: list[SipMessage] = []
    matches = list(_TRACE_SEPARATOR.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].replace("\r\n", "\n").strip("\n")
        if not body:
            continue
        lines = body.split("\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line.strip():
                break
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), value.strip())
        direction: Literal["sent", "received"] = "sent" if match.group(2) == "sent" else "received"
        messages.append(
            SipMessage(
                time=datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(),
                direction=direction,
                first_line=lines[0].strip(),
                headers=headers,
            )
        )
    return messages
