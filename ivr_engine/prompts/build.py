"""Render the catalogue into Asterisk's sound layout with espeak-ng and sox.

Each prompt becomes ``prompts/sounds/<lang>/<id>.wav``: 8 kHz, mono, 16-bit, the format
Asterisk plays without transcoding surprises. A recording at ``prompts/recorded/<lang>/<id>.wav``
is converted instead of the synthetic voice. The pieces that are strung together to say
numbers and amounts (ids under ``num/``, ``money/``, ``unit/`` and ``key/``) have their
leading and trailing silence trimmed, recorded or synthetic, so they flow one after another.

A prompt is rebuilt only when what it is built from changed: a ``.src`` file beside the
sound holds a fingerprint of the text, the recording and the whole recipe (voice, speed,
format, effects), so changing any of them rebuilds.

Mandarin uses espeak-ng's ``cmn-latn-pinyin`` voice: with espeak-ng 1.51 (Debian 12) the
``cmn`` voice reads many characters as pinyin with English tone numbers (一 → "yi one");
``cmn-latn-pinyin`` reads the same characters as Mandarin. Its one difference is that
Latin letters in a zh text are read as pinyin, not English.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.prompts.catalogue import PROMPTS_DIR, Prompt

SOUNDS_DIR = PROMPTS_DIR / "sounds"
RECORDED_DIR = PROMPTS_DIR / "recorded"
VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us"}
SPEED = "150"
PIECE_PREFIXES = ("num/", "money/", "unit/", "key/")
FORMAT = ("-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer")
NORMALISE = ("gain", "-n", "-3")
TRIM = ("silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse")


class BuildError(Exception):
    """A prompt could not be rendered."""


@dataclass(frozen=True)
class Built:
    prompt: Prompt
    path: Path
    source: str  # "synthetic", "recorded" or "unchanged"


def missing_tools() -> list[str]:
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def is_piece(prompt_id: str) -> bool:
    """A piece of a spoken number or amount, trimmed of silence."""
    return prompt_id.startswith(PIECE_PREFIXES)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise BuildError(f"{args[0]} failed: {done.stderr.strip() or done.returncode}")


@dataclass(frozen=True)
class Recipe:
    """Everything but file names that decides a prompt's sound."""

    speak: tuple[str, ...]  # the espeak-ng command, empty for a recording
    effects: tuple[str, ...]  # sox effects after the conversion to FORMAT

    def parts(self) -> list[str]:
        return [*self.speak, "|", *FORMAT, "|", *self.effects]


def recipe_for(prompt: Prompt, recorded: bool) -> Recipe:
    speak = () if recorded else ("espeak-ng", "-v", VOICES[prompt.language], "-s", SPEED)
    effects: tuple[str, ...] = () if recorded else NORMALISE
    if is_piece(prompt.prompt_id):
        effects += TRIM
    return Recipe(speak, effects)


def _fingerprint(prompt: Prompt, recorded: Path, recipe: Recipe) -> str:
    digest = hashlib.sha256("\0".join([prompt.language, prompt.text, *recipe.parts()]).encode())
    if recorded.exists():
        digest.update(recorded.read_bytes())
    return digest.hexdigest()


def _frames(path: Path) -> int:
    try:
        with wave.open(str(path)) as sound:
            frames: int = sound.getnframes()
            return frames
    except (OSError, wave.Error, EOFError) as exc:
        raise BuildError(f"{path}: not a readable wav: {exc}") from exc


def build_one(
    prompt: Prompt, sounds: Path = SOUNDS_DIR, recorded_dir: Path = RECORDED_DIR
) -> Built:
    target = sounds / prompt.language / f"{prompt.prompt_id}.wav"
    recorded = recorded_dir / prompt.language / f"{prompt.prompt_id}.wav"
    stamp = target.with_suffix(".src")
    recipe = recipe_for(prompt, recorded.exists())
    fingerprint = _fingerprint(prompt, recorded, recipe)
    if target.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return Built(prompt, target, "unchanged")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not recipe.speak:
        _run(["sox", str(recorded), *FORMAT, str(target), *recipe.effects])
        source = "recorded"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "speech.wav"
            _run([*recipe.speak, "-w", str(raw), prompt.text])
            _run(["sox", str(raw), *FORMAT, str(target), *recipe.effects])
        source = "synthetic"
    if _frames(target) == 0:
        raise BuildError(f"{target}: no sound left (a silent {source} prompt?)")
    stamp.write_text(fingerprint)
    return Built(prompt, target, source)


def build_all(prompts: list[Prompt], sounds: Path = SOUNDS_DIR) -> Iterator[Built]:
    tools = missing_tools()
    if tools:
        raise BuildError(f"missing tools: {', '.join(tools)} (apt-get install espeak-ng sox)")
    for prompt in prompts:
        yield build_one(prompt, sounds)
