"""The operations API fuzzed against its own OpenAPI document (schemathesis).

The whole API (agents, supervisors, menus, blacklist, holidays, reports, audit) runs on a
real SQLite database, a copy of the menus and of the holiday file, in its own thread and
event loop behind a real TCP port. Every documented operation gets generated requests,
valid ones and, for admins, invalid ones too, with each role's token in turn. Every
answer must be a documented status (never a 5xx), with the documented media type and a
body that matches the documented schema.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ground.paths import PROJECT_ROOT
from ivr_engine.db_schema import upgrade
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.menus.loader import prompt_ids_by_language
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.settings import DatabaseSettings, HotlineSettings, Settings
from tests.db.api_support import api_harness
from tests.db.conftest import sqlite_url

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Requests per operation and role: valid input for everyone, invalid input as admin (the
# only role whose requests get past the token guard to every operation's validation).
EXAMPLES = {("admin", GenerationMode.POSITIVE): 30, ("admin", GenerationMode.NEGATIVE): 20}
OTHER_ROLES = {"supervisor": 10, "8001": 10}
REQUEST_TIMEOUT = 20.0


@dataclass
class LiveApi:
    base_url: str
    tokens: dict[str, str]
    document: dict[str, Any]


def _serve(tmp_path: Path, ready: threading.Event, box: dict[str, Any]) -> None:
    """The API on its own loop until ``box['stop']`` is set (runs in a thread)."""

    async def main() -> None:
        db_url = sqlite_url(tmp_path / "var" / "api.db")
        await upgrade(db_url)
        menu_dir = tmp_path / "menus"
        shutil.copytree(PROJECT_ROOT / "config" / "menus", menu_dir)
        holidays = tmp_path / "holidays.yaml"
        shutil.copy(PROJECT_ROOT / "config" / "holidays.yaml", holidays)
        catalogue = prompt_ids_by_language(load_catalogue())
        registry = MenuRegistry([menu_dir], lambda: catalogue)
        registry.load()
        app_settings = Settings(
            database=DatabaseSettings(url=db_url),
            hotline=HotlineSettings(menus=str(menu_dir), holidays=str(holidays)),
        )
        calendar = Calendar.from_settings(app_settings.calendar, holidays)
        stop = asyncio.Event()
        box["stop"] = (asyncio.get_running_loop(), stop)
        async with api_harness(
            db_url, settings=app_settings, menus=registry, calendar=calendar
        ) as api:
            box["api"] = LiveApi(
                str(api.client.make_url("")).rstrip("/"),
                dict(api.tokens),
                api.server.document(),
            )
            ready.set()
            await stop.wait()

    try:
        asyncio.run(main())
    except BaseException as exc:
        box["error"] = exc
    finally:
        ready.set()


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[LiveApi]:
    ready = threading.Event()
    box: dict[str, Any] = {}
    thread = threading.Thread(target=_serve, args=(tmp_path, ready, box), daemon=True)
    thread.start()
    assert ready.wait(60), "the API did not start"
    if "error" in box:
        raise box["error"]
    try:
        yield box["api"]
    finally:
        loop, stop = box["stop"]
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        assert not thread.is_alive(), "the API did not stop"
    if "error" in box:
        raise box["error"]


def _operations(schema: BaseSchema) -> Iterator[APIOperation[Any, Any, Any, Any]]:
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken
        yield result.ok()


def _fuzz(
    api: LiveApi,
    session: requests.Session,
    who: str,
    mode: GenerationMode,
    examples: int,
    *,
    document: dict[str, Any] | None = None,
    only: str | None = None,
) -> list[str]:
    """Fuzz every operation (or the one labelled ``only``) as ``who``; the failures found."""
    schema = schemathesis.openapi.from_dict(document or api.document)
    headers = {"Authorization": f"Bearer {api.tokens[who]}"}
    failures: list[str] = []
    for operation in _operations(schema):
        if only is not None and operation.label != only:
            continue
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: Case[Any]) -> None:
            response = case.call(
                base_url=api.base_url, session=session, headers=headers, timeout=REQUEST_TIMEOUT
            )
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # one failure must not hide the rest
            first = str(exc).strip().splitlines()[:12]
            failures.append(f"{who} {mode.value} {operation.label}: " + "\n    ".join(first))
    return failures


def test_every_operation_answers_as_documented_for_every_role(live_api: LiveApi) -> None:
    failures: list[str] = []
    with requests.Session() as session:
        for (who, mode), examples in EXAMPLES.items():
            failures += _fuzz(live_api, session, who, mode, examples)
        for who, examples in OTHER_ROLES.items():
            failures += _fuzz(live_api, session, who, GenerationMode.POSITIVE, examples)
    assert not failures, "\n".join(failures)


def test_the_fuzzer_catches_an_answer_the_document_does_not_describe(live_api: LiveApi) -> None:
    """A guard for the test above: with a document that demands a field the API never sends
    in its errors, invalid requests are reported, so a real mismatch would be too."""
    document = copy.deepcopy(live_api.document)
    error_body = document["components"]["schemas"]["ErrorBody"]
    error_body["required"] = [*error_body.get("required", []), "never_sent"]
    with requests.Session() as session:
        failures = _fuzz(
            live_api,
            session,
            "admin",
            GenerationMode.NEGATIVE,
            10,
            document=document,
            only="POST /api/v1/blacklist",
        )
    assert len(failures) == 1 and "never_sent" in failures[0], failures


def test_the_document_lists_every_operation_the_fuzzer_reaches(live_api: LiveApi) -> None:
    """A guard for the test above: the fuzzer sees the whole route table, not a part."""
    schema = schemathesis.openapi.from_dict(live_api.document)
    labels = {operation.label for operation in _operations(schema)}
    paths = {path for path in live_api.document["paths"]}
    assert len(labels) >= 25
    assert any(label.startswith("POST /api/v1/menus/validate") for label in labels)
    assert any(label.startswith("GET /api/v1/reports/") for label in labels)
    assert "/api/v1/wallboard" not in paths
