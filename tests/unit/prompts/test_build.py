"""build_one: 8 kHz mono output, incremental rebuilds, recordings, trimmed pieces.

These run the real espeak-ng and sox, which the project's setup installs.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr_engine.prompts import build
from ivr_engine.prompts.build import BuildError, build_all, build_one, is_piece, missing_tools
from ivr_engine.prompts.catalogue import Prompt


@pytest.fixture(autouse=True)
def _tools() -> None:
    if missing_tools():
        pytest.fail(f"missing {', '.join(missing_tools())}: run the project's setup")


@dataclass
class Dirs:
    sounds: Path
    recorded: Path

    def build(self, prompt: Prompt) -> build.Built:
        return build_one(prompt, self.sounds, self.recorded)

    def record(self, prompt: Prompt, *sox_effects: str) -> Path:
        """A 16 kHz stereo "recording": a tone shaped by sox's synth."""
        path = self.recorded / prompt.language / f"{prompt.prompt_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        args = ["sox", "-n", "-r", "16000", "-c", "2", "-b", "16", str(path), *sox_effects]
        subprocess.run(args, check=True, capture_output=True)
        return path


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[Dirs]:
    yield Dirs(tmp_path / "sounds", tmp_path / "recorded")


@dataclass(frozen=True)
class Sound:
    rate: int
    channels: int
    width: int
    seconds: float


def sound(path: Path) -> Sound:
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        return Sound(rate, wav.getnchannels(), wav.getsampwidth(), wav.getnframes() / rate)


WELCOME = Prompt("welcome", "en", "Welcome to the hotline.")
FIVE = Prompt("num/5", "zh", "五")


def test_synthetic_prompt(dirs: Dirs) -> None:
    built = dirs.build(WELCOME)
    assert built.source == "synthetic"
    assert built.path == dirs.sounds / "en" / "welcome.wav"
    got = sound(built.path)
    assert (got.rate, got.channels, got.width) == (8000, 1, 2)
    assert 0.5 < got.seconds < 5
    assert built.path.with_suffix(".src").exists()


def test_piece_in_a_subdirectory(dirs: Dirs) -> None:
    built = dirs.build(FIVE)
    assert built.path == dirs.sounds / "zh" / "num" / "5.wav"
    got = sound(built.path)
    assert (got.rate, got.channels, got.width) == (8000, 1, 2)
    assert 0.05 < got.seconds < 1


def test_unchanged_is_skipped(dirs: Dirs) -> None:
    first = dirs.build(WELCOME)
    written = first.path.stat().st_mtime_ns
    again = dirs.build(WELCOME)
    assert again.source == "unchanged"
    assert again.path.stat().st_mtime_ns == written


def test_changed_text_rebuilds(dirs: Dirs) -> None:
    dirs.build(WELCOME)
    assert dirs.build(Prompt("welcome", "en", "Welcome back.")).source == "synthetic"


def test_missing_sound_rebuilds(dirs: Dirs) -> None:
    built = dirs.build(WELCOME)
    built.path.unlink()
    assert dirs.build(WELCOME).source == "synthetic"
    assert built.path.exists()


def test_changed_recipe_rebuilds(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    dirs.build(FIVE)
    dirs.build(WELCOME)
    monkeypatch.setattr(build, "TRIM", ("silence", "1", "0.05", "2%"))
    assert dirs.build(FIVE).source == "synthetic"
    assert dirs.build(WELCOME).source == "unchanged"  # not a piece: no trim in its recipe
    monkeypatch.setattr(build, "VOICES", {"zh": "cmn", "en": "en-gb"})
    assert dirs.build(FIVE).source == "synthetic"
    assert dirs.build(WELCOME).source == "synthetic"


def test_pieces_are_trimmed_full_prompts_are_not(dirs: Dirs) -> None:
    piece = sound(dirs.build(Prompt("num/5", "en", "five")).path)
    full = sound(dirs.build(Prompt("five", "en", "five")).path)
    assert piece.seconds < full.seconds - 0.1  # espeak-ng leaves trailing silence
    assert piece.seconds < 1


def test_is_piece() -> None:
    for prompt_id in ("num/5", "num/liang", "money/yuan", "unit/mb", "key/star"):
        assert is_piece(prompt_id)
    for prompt_id in ("welcome", "numbers", "menu/num", "money"):
        assert not is_piece(prompt_id)


def test_recording_overrides_synthetic(dirs: Dirs) -> None:
    assert dirs.build(WELCOME).source == "synthetic"
    dirs.record(WELCOME, "synth", "1.5", "sine", "440")
    built = dirs.build(WELCOME)
    assert built.source == "recorded"
    got = sound(built.path)
    assert (got.rate, got.channels, got.width) == (8000, 1, 2)
    assert got.seconds == pytest.approx(1.5, abs=0.01)
    assert dirs.build(WELCOME).source == "unchanged"


def test_changed_recording_rebuilds(dirs: Dirs) -> None:
    dirs.record(WELCOME, "synth", "1.5", "sine", "440")
    dirs.build(WELCOME)
    dirs.record(WELCOME, "synth", "0.7", "sine", "330")
    built = dirs.build(WELCOME)
    assert built.source == "recorded"
    assert sound(built.path).seconds == pytest.approx(0.7, abs=0.01)


def test_removed_recording_goes_back_to_synthetic(dirs: Dirs) -> None:
    recording = dirs.record(WELCOME, "synth", "1.5", "sine", "440")
    dirs.build(WELCOME)
    recording.unlink()
    assert dirs.build(WELCOME).source == "synthetic"


def test_recorded_piece_is_trimmed(dirs: Dirs) -> None:
    dirs.record(FIVE, "synth", "0.3", "sine", "440", "pad", "0.4", "0.5")
    built = dirs.build(FIVE)
    assert built.source == "recorded"
    assert sound(built.path).seconds == pytest.approx(0.3, abs=0.03)


def test_recorded_full_prompt_keeps_its_silence(dirs: Dirs) -> None:
    dirs.record(WELCOME, "synth", "0.3", "sine", "440", "pad", "0.4", "0.5")
    assert sound(dirs.build(WELCOME).path).seconds == pytest.approx(1.2, abs=0.01)


def test_silent_piece_fails_and_is_retried(dirs: Dirs) -> None:
    dirs.record(FIVE, "trim", "0", "0.5")
    with pytest.raises(BuildError, match="no sound left"):
        dirs.build(FIVE)
    assert not (dirs.sounds / "zh" / "num" / "5.src").exists()
    dirs.record(FIVE, "synth", "0.3", "sine", "440")
    assert dirs.build(FIVE).source == "recorded"


def test_espeak_failure(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "VOICES", {"zh": "nosuchvoice", "en": "nosuchvoice"})
    with pytest.raises(BuildError, match="espeak-ng failed"):
        dirs.build(WELCOME)


def test_build_all_needs_the_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda tool: None)
    with pytest.raises(BuildError, match="missing tools: espeak-ng, sox"):
        list(build_all([WELCOME], tmp_path))
