"""Render the catalogue into Asterisk's sound layout with espeak-ng and sox.

Each prompt becomes ``prompts/sounds/<lang>/<id>.wav``: 8 kHz, mono, 16-bit, the format
Asterisk plays without transcoding surprises. A recording at ``prompts/recorded/<lang>/<id>.wav``
is converted instead of the synthetic voice. A prompt is rebuilt only when its text or
recording changed (a ``.src`` file beside the sound records what it was built from).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.prompts.catalogue import PROMPTS_DIR, Prompt

SOUNDS_DIR = PROMPTS_DIR / "sounds"
RECORDED_DIR = PROMPTS_DIR / "recorded"
VOICES = {"zh": "cmn", "en": "en-us"}


class BuildError(Exception):
    """A prompt could not be rendered."""


@dataclass(frozen=True)
class Built:
    prompt: Prompt
    path: Path
    source: str  # "synthetic", "recorded" or "unchanged"


def missing_tools() -> list[str]:
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise BuildError(f"{args[0]} failed: {done.stderr.strip() or done.returncode}")


def _fingerprint(prompt: Prompt, recorded: Path) -> str:
    digest = hashlib.sha256(f"{prompt.language}\0{prompt.text}".encode())
    if recorded.exists():
        digest.update(recorded.read_bytes())
    return digest.hexdigest()


def build_one(
    prompt: Prompt, sounds: Path = SOUNDS_DIR, recorded_dir: Path = RECORDED_DIR
) -> Built:
    target = sounds / prompt.language / f"{prompt.prompt_id}.wav"
    recorded = recorded_dir / prompt.language / f"{prompt.prompt_id}.wav"
    stamp = target.with_suffix(".src")
    fingerprint = _fingerprint(prompt, recorded)
    if target.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return Built(prompt, target, "unchanged")
    target.parent.mkdir(parents=True, exist_ok=True)
    convert = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    if recorded.exists():
        _run(["sox", str(recorded), *convert, str(target)])
        source = "recorded"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "speech.wav"
            _run(
                [
                    "espeak-ng",
                    "-v",
                    VOICES[prompt.language],
                    "-s",
                    "150",
                    "-w",
                    str(raw),
                    prompt.text,
                ]
            )
            _run(["sox", str(raw), *convert, str(target), "gain", "-n", "-3"])
        source = "synthetic"
    stamp.write_text(fingerprint)
    return Built(prompt, target, source)


def build_all(prompts: list[Prompt], sounds: Path = SOUNDS_DIR) -> Iterator[Built]:
    tools = missing_tools()
    if tools:
        raise BuildError(f"missing tools: {', '.join(tools)} (apt-get install espeak-ng sox)")
    for prompt in prompts:
        yield build_one(prompt, sounds)
