"""Which prompts a caller heard, and when each began to arrive, from the RTP it received.

Asterisk plays a prompt as 20 ms mu-law frames that are exactly the prompt file encoded
by :mod:`testbed.telephony.g711`. :class:`PromptIndex` encodes the prompts a call may hear
and looks every received payload up by its bytes. Near-silent frames (and frames two
prompts share) say nothing about which prompt plays, so they are left out of the index;
the start of a prompt whose first frames are silence is found by walking back from its
first recognised frame through the packets just before it (by RTP sequence number), as
long as their payloads are the prompt's earlier frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ground.paths import PROJECT_ROOT
from testbed.telephony.g711 import DECODE, encode_frames, read_wav_samples

SOUNDS = PROJECT_ROOT / "prompts" / "sounds"
QUIET = 300  # a frame whose loudest sample is below this is silence for recognition
PACKET_SECONDS = 0.02


@dataclass(frozen=True)
class RtpIn:
    """One RTP packet as the caller received it (``at``: time.monotonic() on arrival)."""

    at: float
    seq: int
    timestamp: int
    payload_type: int
    payload: bytes


@dataclass(frozen=True)
class Heard:
    """One stretch of a prompt on the wire: ``start`` is the arrival time of its first
    frame, ``first_index`` the index (in ``packets``) of that packet, ``frames`` how many
    of its frames were recognised in this stretch (silence is not counted)."""

    prompt: str
    start: float
    first_index: int
    frames: int


def prompt_path(prompt: str, language: str, sounds: Path = SOUNDS) -> Path:
    return sounds / language / f"{prompt}.wav"


def _loud(frame: bytes) -> bool:
    return max((abs(DECODE[b]) for b in frame), default=0) >= QUIET


class PromptIndex:
    """The prompts a call may hear, indexed by the bytes of their distinctive frames."""

    def __init__(self, frames: dict[str, list[bytes]]) -> None:
        self.frames = frames
        seen: dict[bytes, tuple[str, int] | None] = {}
        for prompt, payloads in frames.items():
            for number, payload in enumerate(payloads):
                if not _loud(payload):
                    continue
                # A payload two prompts (or two places of one prompt) share is ambiguous.
                seen[payload] = None if payload in seen else (prompt, number)
        self._index = {payload: where for payload, where in seen.items() if where is not None}

    @classmethod
    def load(cls, prompts: Iterable[str], language: str = "zh") -> PromptIndex:
        """Encode the built prompt files (``prompts/sounds/<language>/<id>.wav``)."""
        return cls(
            {p: encode_frames(read_wav_samples(prompt_path(p, language))) for p in set(prompts)}
        )

    def identify(self, payload: bytes) -> tuple[str, int] | None:
        """(prompt, frame number) of a received payload, or None if it is not recognised."""
        return self._index.get(payload)

    def heard(self, packets: Sequence[RtpIn]) -> list[Heard]:
        """The prompts in the order they arrived. A new stretch begins when another prompt
        is recognised, or the same prompt starts again from an earlier frame."""
        stretches: list[Heard] = []
        current: str | None = None
        last_frame = -1
        for index, packet in enumerate(packets):
            found = self.identify(packet.payload)
            if found is None:
                continue
            prompt, frame = found
            if prompt == current and frame > last_frame:
                last = stretches[-1]
                stretches[-1] = Heard(last.prompt, last.start, last.first_index, last.frames + 1)
            else:
                first = self._walk_back(packets, index, prompt, frame)
                stretches.append(Heard(prompt, packets[first].at, first, 1))
                current = prompt
            last_frame = frame
        return stretches

    def _walk_back(self, packets: Sequence[RtpIn], index: int, prompt: str, frame: int) -> int:
        """The index of the packet that carried frame 0 of this stretch (or the earliest
        contiguous packet that still carries the prompt's frames)."""
        frames = self.frames[prompt]
        first = index
        want_seq = packets[index].seq
        for earlier in range(frame - 1, -1, -1):
            want_seq = (want_seq - 1) & 0xFFFF
            candidate = first - 1
            if candidate < 0:
                break
            packet = packets[candidate]
            if packet.seq != want_seq or packet.payload != frames[earlier]:
                break
            first = candidate
        return first

    def names(self, packets: Sequence[RtpIn]) -> list[str]:
        """Just the prompts heard, in order."""
        return [h.prompt for h in self.heard(packets)]


def first_after(stretches: Sequence[Heard], prompt: str, after: float) -> Heard | None:
    """The first stretch of ``prompt`` that began arriving after ``after``."""
    for stretch in stretches:
        if stretch.prompt == prompt and stretch.start > after:
            return stretch
    return None
