"""The machine a benchmark ran on, in a few lines for docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _asterisk() -> str:
    binary = ROOT / "asterisk" / "root" / "usr" / "sbin" / "asterisk"
    if not binary.exists():
        return "not installed"
    try:
        done = subprocess.run(
            ["chroot", str(ROOT / "asterisk" / "root"), "asterisk", "-V"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown version"
    return done.stdout.strip() or "unknown version"


def describe_machine() -> list[str]:
    release = platform.freedesktop_os_release().get("PRETTY_NAME", platform.platform())
    return [
        f"CPU: {_cpu()}, {os.cpu_count()} logical cores; memory {_memory_gib():.0f} GiB",
        f"OS: {release}, kernel {platform.release()}",
        f"Python {platform.python_version()}; {_asterisk()}",
    ]
