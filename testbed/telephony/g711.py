"""G.711 mu-law, exactly as Asterisk encodes the prompts it plays to a caller.

Asterisk reads a ``.wav`` prompt (8 kHz, 16-bit) in frames of 160 samples and translates
each frame to mu-law (main/ulaw.c, its G.711 "new algorithm"): the sample in sign and
magnitude, where a negative sample's magnitude is its one's complement (``~sample``), the
magnitude clipped and biased, then segment and mantissa. Encoding a prompt here the same
way gives the exact RTP payloads a caller receives, so a caller can tell which prompt it
hears from the bytes on the wire.
"""

from __future__ import annotations

import wave
from pathlib import Path

FRAME_SAMPLES = 160  # 20 ms at 8 kHz: one RTP packet
_BIAS = 0x84
_CLIP = 32635


def _linear2ulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = ~sample if sign else sample
    magnitude = min(magnitude, _CLIP) + _BIAS
    segment = max(0, (magnitude >> 7).bit_length() - 1)  # main/ulaw.c's exp_lut
    mantissa = (magnitude >> (segment + 3)) & 0x0F
    return ~(sign | (segment << 4) | mantissa) & 0xFF


def _ulaw2linear(code: int) -> int:
    byte = ~code & 0xFF
    segment, mantissa = (byte >> 4) & 0x07, byte & 0x0F
    value = (((mantissa << 3) + _BIAS) << segment) - _BIAS
    return -value if byte & 0x80 else value


# Indexed by the sample as an unsigned 16-bit value.
_ENCODE = bytes(_linear2ulaw(i - 0x10000 if i >= 0x8000 else i) for i in range(0x10000))
DECODE: tuple[int, ...] = tuple(_ulaw2linear(code) for code in range(256))


def encode_sample(sample: int) -> int:
    """The mu-law byte Asterisk sends for one signed 16-bit sample."""
    if not -0x8000 <= sample <= 0x7FFF:
        raise ValueError(f"sample {sample} is not a signed 16-bit value")
    return _ENCODE[sample & 0xFFFF]


def encode(samples: list[int]) -> bytes:
    return bytes(_ENCODE[s & 0xFFFF] for s in samples)


def read_wav_samples(path: Path) -> list[int]:
    """The samples of an 8 kHz, 16-bit mono wav file (what the prompt builder writes)."""
    with wave.open(str(path)) as sound:
        if (sound.getnchannels(), sound.getsampwidth(), sound.getframerate()) != (1, 2, 8000):
            raise ValueError(f"{path}: not 8 kHz 16-bit mono")
        raw = sound.readframes(sound.getnframes())
    return [int.from_bytes(raw[i : i + 2], "little", signed=True) for i in range(0, len(raw), 2)]


def encode_frames(samples: list[int]) -> list[bytes]:
    """The 20 ms mu-law payloads of a prompt, as Asterisk sends them (a short last frame
    is sent as it is)."""
    return [encode(samples[i : i + FRAME_SAMPLES]) for i in range(0, len(samples), FRAME_SAMPLES)]
