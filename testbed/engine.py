"""Run the real engine as a subprocess (``python -m ivr_engine run``), as ``make run`` does.

Each ``EngineProcess`` has a working directory of its own holding:

* ``journal.db``: the engine's SQLite database (journal, subscriber data, counters), loaded
  with the demo subscribers (``python -m ivr_engine data load-demo``) before the first start;
* ``menus/``: a copy of ``config/menus`` the engine runs on and watches for edits (checked
  every ``reload_interval`` seconds), so a test can edit menus without touching the project;
* ``engine.log``: everything the engine logged, at DEBUG.

Before the first start an admin token of the operations API is made in the engine's
database (``admin_token``), for the admin requests of the tests (``reload_menus``).

The HTTP port is picked free; the FastAGI port stays the one in the settings, because
Asterisk's dialplan points there: only one engine can take calls at a time (a second
instance can take the calls the dialplan sends to the global ``IVR_AGI_PORT_B``: give it
that ``agi_port``). Extra settings (``IVR_ENGINE_CALENDAR__FIXED_TIME``, ...) come in
``extra_env``; ``database_url`` replaces the SQLite file (PostgreSQL shared by instances).
Nuisance-caller protection is off (the tests call from a few numbers again and again):
``extra_env`` turns it on with ``IVR_ENGINE_NUISANCE__ENABLED=true``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ground.database import make_engine
from ground.paths import PROJECT_ROOT
from ivr_engine.access.roles import Role
from ivr_engine.access.tokens import TokenStore
from ivr_engine.journal.query import recent_calls
from ivr_engine.settings import load_settings

MENUS_SOURCE = PROJECT_ROOT / "config" / "menus"

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _make_admin_token(url: str) -> str:
    engine = make_engine(url, connect_timeout=5, command_timeout=10)
    try:
        return (await TokenStore(engine).create("test-harness", Role.ADMIN))[1]
    finally:
        await engine.dispose()


class EngineProcess:
    def __init__(
        self,
        workdir: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        reload_interval: float = 0.5,
        agi_port: int | None = None,
        database_url: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.http_port = free_port()
        self.log_path = workdir / "engine.log"
        self.database_path = workdir / "journal.db"
        self.menus_dir = workdir / "menus"
        own: dict[str, str] = {}
        if agi_port is not None:
            own["IVR_ENGINE_AGI__PORT"] = str(agi_port)
        if database_url is not None:
            own["IVR_ENGINE_DATABASE__URL"] = database_url
        self.env = {
            **os.environ,
            "IVR_ENGINE_DATABASE__URL": f"sqlite+aiosqlite:///{self.database_path}",
            "IVR_ENGINE_HTTP__PORT": str(self.http_port),
            "IVR_ENGINE_AGI__SHUTDOWN_GRACE": "15",
            "IVR_ENGINE_HOTLINE__MENUS": str(self.menus_dir),
            "IVR_ENGINE_HOTLINE__RELOAD_INTERVAL": str(reload_interval),
            # Tests and benchmarks call from the same few numbers all the time.
            "IVR_ENGINE_NUISANCE__ENABLED": "false",
            **(extra_env or {}),
            **own,
        }
        port = self.env.get("IVR_ENGINE_AGI__PORT")
        self.agi_port = int(port) if port else load_settings().agi.port
        self._proc: subprocess.Popen[bytes] | None = None
        self._data_loaded = False
        self.admin_token: str | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    # --- Data and menus ----------------------------------------------------------------------

    def _cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "ivr_engine", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"ivr-engine {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        return done

    def load_demo_data(self) -> None:
        """(Re)load the demo subscribers, blacklist and cards into this engine's database.

        Resets balances, line states and top-up cards to the demo file; the shared counters
        (password failures, caps) are left as they are.
        """
        self._cli("data", "load-demo")
        self._data_loaded = True

    def copy_menus(self) -> None:
        """Put a fresh copy of ``config/menus`` in the working directory."""
        if self.menus_dir.exists():
            shutil.rmtree(self.menus_dir)
        shutil.copytree(MENUS_SOURCE, self.menus_dir)

    # --- Process -----------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> None:
        if self.running:
            return
        if not self.menus_dir.exists():
            self.copy_menus()
        if not self._data_loaded:
            self.load_demo_data()
        if self.admin_token is None:
            self.admin_token = self._in_thread(
                _make_admin_token(self.env["IVR_ENGINE_DATABASE__URL"])
            )
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

    def kill(self, timeout: float = 10.0) -> int | None:
        """Kill the engine at once (SIGKILL, no shutdown: its calls and rows are left as
        they were); returns its exit status, None if it was not running."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait(timeout)

    # --- HTTP side ---------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self._url("/health"), timeout=2) as response:
                body: dict[str, Any] = json.load(response)
                return body
        except urllib.error.HTTPError as exc:  # 503 still carries the report
            report: dict[str, Any] = json.load(exc)
            return report
        except OSError:
            return None

    def menu_version(self) -> str:
        health = self.health()
        if health is None:
            raise AssertionError(f"engine not answering /health:\n{self.log_tail()}")
        return str(health["menus"]["version"])

    def reload_menus(self) -> tuple[int, dict[str, Any]]:
        """POST /api/v1/menus/reload as admin: (HTTP status, body {changed, version,
        problems})."""
        request = urllib.request.Request(
            self._url("/api/v1/menus/reload"),
            method="POST",
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body: dict[str, Any] = json.load(response)
                return response.status, body
        except urllib.error.HTTPError as exc:
            refused: dict[str, Any] = json.load(exc)
            return exc.code, refused

    # --- Journal -----------------------------------------------------------------------------

    def calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The journal as ``ivr-engine calls --json --limit N`` prints it (newest first)."""
        records: list[dict[str, Any]] = json.loads(
            self._cli("calls", "--json", "--limit", str(limit), timeout=30).stdout
        )
        return records

    def recent_calls(self, limit: int = 50) -> list[dict[str, Any]]:
        """The same records as :meth:`calls`, read in this process by the function the CLI
        uses (much faster than starting the CLI: for polling)."""
        records = self._in_thread(recent_calls(self.env["IVR_ENGINE_DATABASE__URL"], limit))
        # The CLI prints them as JSON: give them the same form.
        same: list[dict[str, Any]] = json.loads(json.dumps(records, ensure_ascii=False))
        return same

    def calls_from(
        self,
        caller: str,
        *,
        since: datetime | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """The finished journal records of ``caller`` (started at or after ``since``), oldest
        first; waits until there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                record
                for record in self.recent_calls()
                if record["caller"] == caller
                and record["ended_at"]
                and (since is None or datetime.fromisoformat(record["started_at"]) >= since)
            ]
            if len(found) >= count:
                return sorted(found, key=lambda r: str(r["started_at"]))
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(found)} finished call(s) from {caller} in the journal, "
                    f"expected {count}: {found}"
                )
            time.sleep(0.2)

    def call_from(
        self, caller: str, *, since: datetime | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The newest finished journal record of ``caller`` (waits for the writer);
        with ``since``, only a call started at or after that time counts."""
        return self.calls_from(caller, since=since, timeout=timeout)[-1]

    @staticmethod
    def _in_thread(work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on a loop of its own in a worker thread (callers may run a loop)."""
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, work).result(timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no engine log)"
