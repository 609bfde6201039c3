"""Secrets never reach a log line, an HTTP answer or a command's output.

The real engine runs as a process (``ivr-engine run --log-level DEBUG``) on PostgreSQL
through a proxy that the test cuts, with distinctive secrets set through the environment:
the AMI secret (an AMI peer that refuses it: the login is refused and retried), the
database password, the journal's number key. The test drives traffic with failures: API
requests with the right token, wrong tokens and none, in the header and in the wallboard's
``?token=``; a FastAGI call that keys a top-up card PIN and the service password (one
wrong, then the right one); a database outage with requests during it. Then everything the
engine wrote (stdout and stderr), ``/health``, ``/metrics``, the OpenAPI document, the
audit log and the outputs of ``ivr-engine`` commands, against the reachable database and
against one that cannot be reached, are searched for every secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import make_url

from ground.database import make_engine
from ground.paths import PROJECT_ROOT
from ivr_engine.access.roles import Role
from ivr_engine.access.tokens import TokenStore
from ivr_engine.db_schema import upgrade
from testbed.postgres import PostgresUnavailable, scratch_database
from testbed.proxy import CuttableProxy
from tests.integration.hotline import unused_card
from tests.unit.agi.peer import HEADERS, fake_call
from tests.unit.ami.fake_ami import FakeAmi
from tests.unit.nodes.support import ScriptedCaller

pytestmark = pytest.mark.postgres

AMI_SECRET = "Ami-Secret-Engine-5309"
NUMBER_KEY = "Journal-Key-Secret-7781"
UNREACHABLE_PASSWORD = "Unreachable-Pw-9313"
CALLER = "13900139000"  # demo GoTone subscriber, service password 123456
PASSWORD = "123456"
WRONG_PASSWORD = "654321"
UNROUTED = "13700137000"
START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EngineRun:
    """One engine process and what it wrote."""

    env: dict[str, str]
    log_path: Path
    http: str
    agi_port: int
    proc: asyncio.subprocess.Process | None = None
    outputs: list[str] = field(default_factory=list)  # answers and command outputs seen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def get(self, session: aiohttp.ClientSession, path: str, **kwargs: Any) -> int:
        async with session.get(self.http + path, **kwargs) as response:
            self.outputs.append(await response.text())
            return response.status

    async def post(self, session: aiohttp.ClientSession, path: str, **kwargs: Any) -> int:
        async with session.post(self.http + path, **kwargs) as response:
            self.outputs.append(await response.text())
            return response.status


async def _cli(env: Mapping[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ivr_engine",
        *args,
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, output.decode(errors="replace")


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    try:
        with scratch_database("ivr_secrets") as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set, so the postgres tests must run)")
        pytest.skip(str(exc))


@contextlib.asynccontextmanager
async def _engine(tmp_path: Path, db_url: str, ami_port: int) -> AsyncIterator[EngineRun]:
    log_path = tmp_path / "engine.log"
    http_port, agi_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "IVR_ENGINE_DATABASE__URL": db_url,
        "IVR_ENGINE_AMI__PORT": str(ami_port),
        "IVR_ENGINE_AMI__SECRET": AMI_SECRET,
        "IVR_ENGINE_AMI__RECONNECT_MIN": "0.2",
        "IVR_ENGINE_AMI__RECONNECT_MAX": "0.5",
        "IVR_ENGINE_AGI__PORT": str(agi_port),
        "IVR_ENGINE_AGI__SHUTDOWN_GRACE": "2",
        "IVR_ENGINE_HTTP__PORT": str(http_port),
        "IVR_ENGINE_HOTLINE__RELOAD_INTERVAL": "0",
        "IVR_ENGINE_PRIVACY__JOURNAL_NUMBERS": "keyed",
        "IVR_ENGINE_PRIVACY__NUMBER_KEY": NUMBER_KEY,
    }
    run = EngineRun(env, log_path, f"http://127.0.0.1:{http_port}", agi_port)
    with log_path.open("ab") as out:
        run.proc = proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "ivr_engine", "run", "--log-level", "DEBUG"),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _until_serving(run)
        yield run
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await asyncio.wait_for(proc.wait(), 5)


async def _until_serving(run: EngineRun) -> None:
    assert run.proc is not None
    async with aiohttp.ClientSession() as session:
        for _ in range(int(START_TIMEOUT / 0.2)):
            if run.proc.returncode is not None:
                raise AssertionError(f"engine exited at start:\n{run.log()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(run.http + "/health") as response:
                    if response.status in (200, 503):
                        return
            await asyncio.sleep(0.2)
    raise AssertionError(f"engine not serving within {START_TIMEOUT}s:\n{run.log()[-3000:]}")


async def _eventually(predicate: Any, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("still not true")


class TopupCaller(ScriptedCaller):
    """Presses 1 (billing), 4 (top-up), the card PIN, a wrong password, the right one; hangs
    up when the new balance has been read out."""

    def __init__(self, pin: str) -> None:
        super().__init__(["1", "4", pin + "#", WRONG_PASSWORD, PASSWORD])

    def __call__(self, command: str) -> list[str]:
        billing_menu = command.startswith('STREAM FILE "hotline/cm-billing-menu"')
        if billing_menu and "cm-topup-done" in self.heard:
            return ["HANGUP", "511 Command Not Permitted on a dead channel"]
        return super().__call__(command)


def _secrets_of(db_url: str, tokens: dict[str, str], pin: str) -> dict[str, str]:
    found = {
        "AMI secret": AMI_SECRET,
        "journal number key": NUMBER_KEY,
        "card PIN": pin,
        "unreachable database password": UNREACHABLE_PASSWORD,
    }
    password = make_url(db_url).password or ""
    if len(password) >= 4:
        found["database password"] = password
    for name, token in tokens.items():
        found[f"{name} token secret"] = token.rpartition(".")[2]
    return found


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


async def test_no_secret_in_logs_answers_or_command_output(tmp_path: Path) -> None:
    card = unused_card("50")
    with _postgres() as db_url:
        await upgrade(db_url)
        direct_env = {**os.environ, "IVR_ENGINE_DATABASE__URL": db_url}
        status, output = await _cli(direct_env, "data", "load-demo")
        assert status == 0, output
        engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
        try:
            admin = (await TokenStore(engine).create("ops", Role.ADMIN))[1]
        finally:
            await engine.dispose()
        token_id = admin.partition(".")[0]
        tokens = {
            "admin": admin,
            "wrong secret": token_id + "." + "W" * 43,
            "malformed": "ivr_nonsense.Malformed-Token-Secret-0042",
            "oversized": "ivr_aaaaaaaaaaaa." + "O" * 300,
        }
        secrets = _secrets_of(db_url, tokens, card.pin)
        host = make_url(db_url)
        ami = FakeAmi(secret="not-the-engines-secret")
        await ami.start()
        proxy = CuttableProxy(host.host or "127.0.0.1", host.port or 5432)
        await proxy.start()
        proxied = str(host.set(port=proxy.port).render_as_string(hide_password=False))
        try:
            async with _engine(tmp_path, proxied, ami.port) as run:
                await _traffic(run, ami, proxy, tokens, card.pin)
            assert run.proc is not None and run.proc.returncode == 0, run.log()[-3000:]
        finally:
            await proxy.close()
            await ami.stop()

        log = run.log()
        assert "AMI connect" in log and "login refused" in log  # the failures did happen
        logins = [a for a in ami.actions if a.get("Action", "").lower() == "login"]
        assert len(logins) >= 2  # ... and the login was tried again, with the secret sent
        assert all(a.get("Secret") == AMI_SECRET for a in logins)
        assert _leaks(log, secrets) == [], log[-3000:]
        assert f"no flow for dialled number '{UNROUTED[:3]}****{UNROUTED[-4:]}'" in log
        assert CALLER not in log and UNROUTED not in log  # numbers masked in every line
        for output in run.outputs:
            assert _leaks(output, secrets) == [], output[:3000]

        # The journal: the call is there, its caller keyed, no PIN, no password.
        status, calls = await _cli(direct_env, "calls", "--json", "--limit", "5")
        assert status == 0, calls
        assert "139****9000#" in calls and CALLER not in calls
        assert _leaks(calls, secrets) == [] and PASSWORD not in calls
        assert WRONG_PASSWORD not in calls
        assert "ok=True reason=ok" in calls  # the top-up went through

        # Commands against the database, reachable or not, print no password.
        for args in (["db", "current"], ["token", "list"], ["acd", "agents"]):
            status, output = await _cli(direct_env, *args)
            assert status == 0, output
            assert _leaks(output, secrets) == [], output
        unreachable = (
            f"postgresql+asyncpg://ivr:{UNREACHABLE_PASSWORD}@127.0.0.1:{_free_port()}/nowhere"
        )
        away_env = {**direct_env, "IVR_ENGINE_DATABASE__URL": unreachable}
        for args in (["calls"], ["db", "current"], ["token", "list"], ["run"]):
            status, output = await _cli(away_env, *args)
            assert status != 0, output
            assert _leaks(output, secrets) == [], output


async def _traffic(
    run: EngineRun, ami: FakeAmi, proxy: CuttableProxy, tokens: dict[str, str], pin: str
) -> None:
    bearer = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    async with aiohttp.ClientSession() as http:
        assert await run.get(http, "/api/v1/agents", headers=bearer["admin"]) == 200
        for name in ("wrong secret", "malformed", "oversized"):
            assert await run.get(http, "/api/v1/agents", headers=bearer[name]) == 401
            body = {"number": "13400134999", "reason": "test"}
            assert await run.post(http, "/api/v1/blacklist", headers=bearer[name], json=body) == 401
            assert await run.get(http, "/api/v1/wallboard", params={"token": tokens[name]}) == 401
        assert await run.get(http, "/api/v1/agents") == 401

        # A call: the card PIN and a wrong then the right service password.
        caller = TopupCaller(pin)
        headers = {
            **HEADERS,
            "agi_network_script": "hotline",
            "agi_extension": "10086",
            "agi_callerid": CALLER,
            "agi_channel": "PJSIP/callers-00000001",
        }
        await asyncio.wait_for(fake_call(run.agi_port, caller, headers), 60)
        assert "cm-topup-done" in caller.heard, caller.heard
        # A call to a number no menu answers: the engine logs the number (masked).
        unrouted = {**headers, "agi_extension": UNROUTED, "agi_channel": "PJSIP/callers-00000002"}
        await asyncio.wait_for(fake_call(run.agi_port, ScriptedCaller([]), unrouted), 30)

        # The AMI peer refuses the engine's secret: it keeps trying.
        async def retried() -> bool:
            return sum(a.get("Action", "").lower() == "login" for a in ami.actions) >= 2

        await _eventually(retried)

        # The database away: requests fail cleanly, the engine logs its failures.
        proxy.cut()
        assert await run.get(http, "/api/v1/agents", headers=bearer["admin"]) == 503
        assert await run.get(http, "/api/v1/agents", headers=bearer["wrong secret"]) == 503
        await asyncio.sleep(2.0)  # the ACD's passes and the wallboard fail meanwhile
        proxy.restore()

        async def back() -> bool:
            return await run.get(http, "/api/v1/agents", headers=bearer["admin"]) == 200

        await _eventually(back)
        await run.get(http, "/health")
        await run.get(http, "/metrics")
        await run.get(http, "/api/v1/openapi.json")
        assert await run.get(http, "/api/v1/audit", headers=bearer["admin"]) == 200
        assert re.search(r'"status": ?401', run.outputs[-1])  # the refusals were audited
