"""Start and stop the Asterisk test bed from tests (through asterisk/ctl.sh).

The test bed must have been provisioned (``asterisk/provision.sh``, ``make setup``); these
helpers never provision. They run ``ctl.sh`` synchronously: they are meant for session
fixtures, outside any event loop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ground.paths import PROJECT_ROOT

CTL = PROJECT_ROOT / "asterisk" / "ctl.sh"
PROVISION = PROJECT_ROOT / "asterisk" / "provision.sh"
ASTERISK_ROOT = Path(os.environ.get("ASTERISK_ROOT", PROJECT_ROOT / "asterisk" / "root"))

STATUS_RUNNING = 0
STATUS_STOPPED = 3


class TestbedError(Exception):
    """asterisk/ctl.sh failed; the message carries its output."""

    __test__ = False  # not a pytest test class


def _ctl(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CTL), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def unavailable_reason() -> str | None:
    """Why the test bed cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the Asterisk test bed needs root (chroot, mount)"
    if not (ASTERISK_ROOT / ".provisioned").exists():
        return f"no Asterisk root at {ASTERISK_ROOT}: run asterisk/provision.sh (make setup)"
    if shutil.which("sipp") is None:
        return "sipp is not installed: run asterisk/provision.sh (make setup)"
    return None


def asterisk_status() -> int:
    """ctl.sh status's exit code: 0 running, 3 stopped, 1 not answering."""
    return _ctl("status", timeout=30).returncode


def is_running() -> bool:
    return asterisk_status() == STATUS_RUNNING


def ensure_asterisk_running() -> bool:
    """Start the test bed unless it is running; return whether this call started it."""
    if is_running():
        return False
    done = _ctl("start")
    if done.returncode != 0:
        raise TestbedError(f"asterisk/ctl.sh start failed:\n{done.stdout}{done.stderr}")
    return True


def stop_asterisk() -> None:
    done = _ctl("stop")
    if done.returncode != 0:
        raise TestbedError(f"asterisk/ctl.sh stop failed:\n{done.stdout}{done.stderr}")


def asterisk_cli(command: str) -> str:
    """Run a CLI command on the running test bed (ctl.sh cli)."""
    done = _ctl("cli", command, timeout=30)
    if done.returncode != 0:
        raise TestbedError(f"asterisk/ctl.sh cli {command!r}:\n{done.stdout}{done.stderr}")
    return done.stdout


def mounts_under_root() -> list[str]:
    """Mount points under the Asterisk root (empty when the test bed is stopped)."""
    root = str(ASTERISK_ROOT.resolve()) + "/"
    found: list[str] = []
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            target = line.split()[1].replace("\\040", " ")
            if (target + "/").startswith(root):
                found.append(target)
    return found
