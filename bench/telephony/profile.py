"""Where the running engine spends its CPU: py-spy samples its stacks from outside (no
change to the engine, ``--nonblocking``: the engine is never paused), counting only the
samples in which a thread holds the GIL, i.e. runs Python code.

Each sample is put in the group of its innermost engine frame (the journal, the
subscriber data, the menu walk, ...); SQLAlchemy's work in its greenlets shows without
the caller above it and gets a group of its own. ``top`` gives the functions that were
running in the most samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# The engine's own parts: a sample belongs to its innermost frame in one of them.
ENGINE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("journal (call records written to the database)", ("ivr_engine/journal/",)),
    ("subscriber data, nuisance screening", ("ivr_engine/data/",)),
    ("ACD", ("acd/",)),
    ("AMI link", ("ivr_engine/ami/",)),
    ("metrics", ("ivr_engine/metrics/",)),
    (
        "FastAGI and the menu walk",
        ("ivr_engine/agi/", "ivr_engine/calls/", "ivr_engine/interpreter/", "ivr_engine/nodes/"),
    ),
)
# Libraries seen without an engine frame above them (greenlets, threads, callbacks).
LIBRARY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SQLAlchemy and aiosqlite in their greenlets and threads", ("sqlalchemy/", "aiosqlite/")),
    ("AMI link", ("panoramisk/",)),
    ("metrics", ("prometheus_client/",)),
    ("asyncio (event loop, sockets)", ("asyncio/", "selectors.py")),
)
OTHER = "other"


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else None


def group_of(frames: list[str]) -> str:
    """The group of a stack (outermost frame first): its innermost engine frame decides;
    without one, its innermost library frame."""
    for groups in (ENGINE_GROUPS, LIBRARY_GROUPS):
        for frame in reversed(frames):
            for name, patterns in groups:
                if any(p in frame for p in patterns):
                    return name
    return OTHER


@dataclass(frozen=True)
class Profile:
    samples: int
    groups: list[tuple[str, float]]  # group, share of the samples
    top: list[tuple[str, float]]  # function (file:line), share of the samples
    folded: str = ""  # the stacks as py-spy wrote them, for a closer look

    def summary(self, groups: int = 5, top: int = 5) -> str:
        shown = ", ".join(f"{name} {share:.0%}" for name, share in self.groups[:groups])
        functions = "; ".join(f"{name} {share:.0%}" for name, share in self.top[:top])
        return f"{self.samples} samples: {shown}. Busiest functions: {functions}."


def parse_folded(text: str) -> Profile:
    """A profile from py-spy's ``--format raw`` output (folded stacks and counts)."""
    groups: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith("thread (")]
        if not frames:
            continue
        total += n
        groups[group_of(frames)] += n
        leaves[frames[-1]] += n
    share = max(total, 1)
    return Profile(
        total,
        [(name, n / share) for name, n in groups.most_common()],
        [(name, n / share) for name, n in leaves.most_common(10)],
        text,
    )


async def sample(pid: int, seconds: float, rate: int = 100) -> Profile | str:
    """Sample ``pid`` for ``seconds``; a Profile, or why there is none."""
    binary = py_spy()
    if binary is None:
        return "py-spy is not installed (pip install -e '.[dev]')"
    with tempfile.TemporaryDirectory(prefix="ivr-bench-profile-") as where:
        out = Path(where) / "stacks.txt"
        proc = await asyncio.create_subprocess_exec(
            binary, "record", "--pid", str(pid), "--output", str(out), "--format", "raw",
            "--rate", str(rate), "--duration", str(max(1, round(seconds))),
            "--gil", "--nonblocking",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            _, err = await asyncio.wait_for(proc.communicate(), seconds + 30)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0 or not out.exists():
            return f"py-spy failed ({proc.returncode}): {err.decode(errors='replace')[-300:]}"
        return parse_folded(await asyncio.to_thread(out.read_text))
