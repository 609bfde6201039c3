"""How long the hotline's prompts play, read from the built sound files.

Keys are sent at fixed times after the answer. A key pressed while a prompt that does not
take keys plays (query read-outs, "wrong password", ...) is lost, so tests time their keys
from the real lengths of the prompts (``prompts/sounds/<lang>/<id>.wav``) plus a margin,
instead of guessing.
"""

from __future__ import annotations

import functools
import wave

from ground.paths import PROJECT_ROOT

SOUNDS = PROJECT_ROOT / "prompts" / "sounds"
MARGIN = 0.8  # seconds after a prompt ends before a key is surely heard by the next command


@functools.cache
def prompt_seconds(prompt_id: str, language: str = "zh") -> float:
    """The playing time of one built prompt, e.g. ``cm-main-menu`` or ``num/5``."""
    path = SOUNDS / language / f"{prompt_id}.wav"
    if not path.exists():
        raise FileNotFoundError(f"{path}: prompt not built (run `ivr-engine prompts build`)")
    with wave.open(str(path)) as sound:
        return float(sound.getnframes() / sound.getframerate())


def seconds_of(*prompt_ids: str, language: str = "zh") -> float:
    """The playing time of prompts played one after the other."""
    return sum(prompt_seconds(p, language) for p in prompt_ids)


def digit_keys(start: float, digits: str, spacing: float = 0.3) -> list[tuple[float, str]]:
    """Key presses for a digit string: the first at ``start``, then every ``spacing`` s."""
    return [(start + i * spacing, digit) for i, digit in enumerate(digits)]


def last_key_time(keys: list[tuple[float, str]]) -> float:
    return max(t for t, _ in keys)


__all__ = ["MARGIN", "SOUNDS", "digit_keys", "last_key_time", "prompt_seconds", "seconds_of"]
