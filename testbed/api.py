"""The operations API of a running test engine, as a supervisor's or agent's tool calls it:
tokens made with ``ivr-engine token create`` and plain HTTP requests (synchronous; call
from asyncio through ``asyncio.to_thread``)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

from ground.paths import PROJECT_ROOT
from testbed.engine import EngineProcess


class ApiClient:
    def __init__(self, engine: EngineProcess) -> None:
        self.engine = engine
        self.tokens: dict[str, str] = {}

    def token(self, who: str, role: str, agent: str | None = None) -> str:
        """A token named ``who`` (made once per client and name)."""
        if who not in self.tokens:
            args = ["token", "create", who, "--role", role]
            if agent is not None:
                args += ["--agent", agent]
            done = subprocess.run(
                [sys.executable, "-m", "ivr_engine", *args],
                cwd=PROJECT_ROOT,
                env=self.engine.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            self.tokens[who] = done.stdout.strip()
        return self.tokens[who]

    def request(
        self, method: str, path: str, token: str | None, body: Any = None
    ) -> tuple[int, Any]:
        """(status, JSON body) of one request to /api/v1."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.engine.http_port}/api/v1{path}", data=data, method=method
        )
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)
