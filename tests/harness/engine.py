"""Run the real engine as a subprocess (``python -m ivr_engine run``), as ``make run`` does.

The engine gets its own SQLite journal and HTTP port through the environment; the FastAGI
port stays the one in the settings, because Asterisk's dialplan points there.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ivr_engine.settings import PROJECT_ROOT, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EngineProcess:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.http_port = free_port()
        self.agi_port = load_settings().agi.port
        self.log_path = workdir / "engine.log"
        self.env = {
            **os.environ,
            "IVR_ENGINE_DATABASE__URL": f"sqlite+aiosqlite:///{workdir / 'journal.db'}",
            "IVR_ENGINE_HTTP__PORT": str(self.http_port),
            "IVR_ENGINE_AGI__SHUTDOWN_GRACE": "15",
        }
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        if self.running:
            return
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ivr_engine", "run", "--log-level", "DEBUG"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"engine exited at start:\n{self.log_tail()}")
            health = self.health()
            if health is not None and health["ami"]["state"] == "connected":
                return
            time.sleep(0.2)
        raise RuntimeError(f"engine not healthy within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 25.0) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            raise RuntimeError(f"engine ignored SIGTERM:\n{self.log_tail()}") from None

    def health(self) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.http_port}/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: dict[str, Any] = json.load(response)
                return body
        except urllib.error.HTTPError as exc:  # 503 still carries the report
            report: dict[str, Any] = json.load(exc)
            return report
        except OSError:
            return None

    def calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The journal as ``ivr-engine calls --json --limit N`` prints it."""
        done = subprocess.run(
            [sys.executable, "-m", "ivr_engine", "calls", "--json", "--limit", str(limit)],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            timeout=30,
            check=True,
        )
        records: list[dict[str, Any]] = json.loads(done.stdout)
        return records

    def call_from(self, caller: str, timeout: float = 10.0) -> dict[str, Any]:
        """The newest finished journal record of ``caller`` (waits for the writer)."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.calls():
                if record["caller"] == caller and record["ended_at"]:
                    return record
            if time.monotonic() > deadline:
                raise AssertionError(f"no finished call from {caller} in the journal")
            time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no engine log)"
