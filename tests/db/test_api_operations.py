"""Operations staff through the API: menu versions (validate, activate, roll back, reload)
on a copy of config/menus, the blacklist in the database the screening reads, and the
holiday calendar file that the running calendar follows. Only admins may; every state
change is in the audit log, refused ones too."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from ground.database import make_engine
from ground.paths import PROJECT_ROOT
from ivr_engine.cli.main import main
from ivr_engine.data.sql import SqlBackend
from ivr_engine.data.tables import BlacklistRow
from ivr_engine.interpreter.calendar import Calendar, load_holidays
from ivr_engine.menus.loader import prompt_ids_by_language
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.settings import BackendSettings, DatabaseSettings, HotlineSettings, Settings
from tests.db.api_support import ApiHarness, api_harness

MENUS = PROJECT_ROOT / "config" / "menus"
HOLIDAYS = PROJECT_ROOT / "config" / "holidays.yaml"
GROUP_PROMPT = "prompts: [cm-connecting-group]"


def _prompt_ids() -> dict[str, frozenset[str]]:
    return prompt_ids_by_language(load_catalogue())


@dataclass
class Ops:
    api: ApiHarness
    menus: MenuRegistry
    menu_dir: Path
    calendar: Calendar
    holidays: Path

    def disk(self) -> dict[str, bytes]:
        """Every file of the menu directory (menu files or not) and its content."""
        return {p.name: p.read_bytes() for p in sorted(self.menu_dir.iterdir())}

    def texts(self) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(self.menu_dir.glob("*.yaml"))}

    async def audit(self, action: str) -> list[dict[str, Any]]:
        """The audit entries of ``action`` (e.g. "POST /api/v1/menus/activate"), oldest first."""
        status, body = await self.api.call("GET", "/audit", "admin", limit="1000")
        assert status == 200, body
        return [e for e in reversed(body["entries"]) if e["action"] == action]


@asynccontextmanager
async def operations(
    tmp_path: Path,
    db_url: str,
    data_url: str | None = None,
    backend: Literal["sql", "http"] = "sql",
) -> AsyncIterator[Ops]:
    menu_dir = tmp_path / "menus"
    shutil.copytree(MENUS, menu_dir)
    holidays = tmp_path / "holidays.yaml"
    shutil.copy(HOLIDAYS, holidays)
    registry = MenuRegistry([menu_dir], _prompt_ids)
    registry.load()
    settings = Settings(
        database=DatabaseSettings(url=db_url),
        hotline=HotlineSettings(menus=str(menu_dir), holidays=str(holidays)),
        backend=BackendSettings(kind=backend, url=data_url),
    )
    calendar = Calendar.from_settings(settings.calendar, holidays)
    async with api_harness(db_url, settings=settings, menus=registry, calendar=calendar) as api:
        yield Ops(api, registry, menu_dir, calendar, holidays)


@pytest.fixture
async def ops(tmp_path: Path, db_url: str) -> AsyncIterator[Ops]:
    async with operations(tmp_path, db_url) as harness:
        yield harness


def _edited(texts: dict[str, str], old: str = GROUP_PROMPT, new: str = "") -> dict[str, str]:
    new = new or "prompts: [cm-connecting-agent]"
    assert texts["10086.yaml"].count(old) == 1
    return {**texts, "10086.yaml": texts["10086.yaml"].replace(old, new)}


# -- Who may ------------------------------------------------------------------------------

OPERATIONS = [
    ("GET", "/menus", None),
    ("GET", "/menus/versions/0123456789ab", None),
    ("POST", "/menus/validate", {"files": {"a.yaml": "x: 1\n"}}),
    ("POST", "/menus/activate", {"version": "0123456789ab"}),
    ("POST", "/menus/rollback", None),
    ("POST", "/menus/reload", None),
    ("GET", "/blacklist", None),
    ("POST", "/blacklist", {"number": "13400134999", "reason": "nuisance"}),
    ("DELETE", "/blacklist/13400134999", {"reason": "by mistake"}),
    ("GET", "/holidays", None),
    ("POST", "/holidays", {"date": "2027-10-01", "name": "National Day"}),
    ("DELETE", "/holidays/2027-01-01", None),
]


async def test_only_admins_may_and_every_refusal_is_audited(ops: Ops) -> None:
    before = ops.disk(), ops.holidays.read_bytes(), ops.menus.current.version
    for method, path, body in OPERATIONS:
        status, answer = await ops.api.call(method, path, None, body)
        assert status == 401, (method, path, answer)
        for who in ("supervisor", "8001"):
            status, answer = await ops.api.call(method, path, who, body)
            assert status == 403, (method, path, who, answer)
            assert "admin" in answer["detail"]
    assert (ops.disk(), ops.holidays.read_bytes(), ops.menus.current.version) == before
    for method, path, _body in OPERATIONS:
        if method == "GET":
            continue
        action = f"{method} /api/v1{path.replace('13400134999', '{number}')}"
        action = action.replace("2027-01-01", "{date}")
        entries = await ops.audit(action)
        assert [(e["status"], e["actor"], e["role"]) for e in entries] == [
            (401, "-", None),
            (403, "wang", "supervisor"),
            (403, "li-na", "agent"),
        ], action


async def test_the_openapi_document_has_the_operations_endpoints(ops: Ops) -> None:
    from openapi_spec_validator import validate

    response = await ops.api.client.get("/api/v1/openapi.json")
    document = await response.json()
    validate(document)
    paths = document["paths"]
    for method, path, _body in OPERATIONS:
        path = path.replace("13400134999", "{number}").replace("2027-01-01", "{date}")
        path = path.replace("0123456789ab", "{version}")
        operation = paths["/api/v1" + path][method.lower()]
        assert "Roles: admin." in operation["description"], path
    removal = paths["/api/v1/blacklist/{number}"]["delete"]
    assert removal["requestBody"]["required"] is False  # the reason may come as ?reason=
    assert {p["name"] for p in removal["parameters"]} == {"number", "reason"}
    holiday = document["components"]["schemas"]["HolidayBody"]["properties"]
    assert {"date", "from", "to", "name"} <= set(holiday)


# -- Menus ----------------------------------------------------------------------------------


async def test_the_versions_of_this_run(ops: Ops) -> None:
    status, body = await ops.api.call("GET", "/menus", "admin")
    assert status == 200, body
    live = ops.menus.current.version
    assert (body["live"], body["rollback_to"], body["refused_edit"]) == (live, None, [])
    [version] = body["versions"]
    assert version["version"] == live and version["live"]
    assert version["files"] == ["10000.yaml", "10001.yaml", "10086.yaml"]
    assert version["entries"]["10086"] and version["nodes"] == len(ops.menus.current.nodes)
    status, body = await ops.api.call("GET", f"/menus/versions/{live}", "admin")
    assert (status, body["live"], body["files"]) == (200, True, ops.texts())
    status, body = await ops.api.call("GET", "/menus/versions/0123456789ab", "admin")
    assert status == 404, body


async def test_validate_checks_like_a_reload_and_changes_nothing(ops: Ops) -> None:
    before, live = ops.disk(), ops.menus.current.version
    texts = ops.texts()

    status, body = await ops.api.call("POST", "/menus/validate", "admin", {"files": texts})
    assert (status, body["version"], body["live"]) == (200, live, True), body

    status, body = await ops.api.call("POST", "/menus/validate", "admin", {"files": _edited(texts)})
    assert status == 200 and body["version"] != live and not body["live"], body
    assert body["files"] == sorted(texts) and body["entries"]["10000"]

    # A prompt id that is not in the catalogue: refused, as a reload refuses it.
    unknown = _edited(texts, new="prompts: [cm-connecting-nobody]")
    status, body = await ops.api.call("POST", "/menus/validate", "admin", {"files": unknown})
    assert status == 422, body
    [problem] = body["problems"]
    assert problem["file"] == "10086.yaml" and problem["line"] > 1
    assert "cm-connecting-nobody" in problem["reason"] and "catalogue" in problem["reason"]
    line = unknown["10086.yaml"].splitlines()[problem["line"] - 1]
    assert "cm-connecting-nobody" in line

    # Files that clash: a node defined twice, named by file and line, without temp paths.
    twice = {**texts, "copy.yaml": texts["10001.yaml"]}
    status, body = await ops.api.call("POST", "/menus/validate", "admin", {"files": twice})
    assert status == 422, body
    files = {p["file"] for p in body["problems"]}
    assert files <= {"10001.yaml", "copy.yaml"} and files, body
    assert all("/" not in p["reason"] for p in body["problems"]), body

    broken = {"10086.yaml": "entries: {10086: [\n"}
    status, body = await ops.api.call("POST", "/menus/validate", "admin", {"files": broken})
    assert status == 422 and body["problems"][0]["file"] == "10086.yaml", body

    assert ops.disk() == before
    assert ops.menus.current.version == live and len(ops.menus.versions) == 1
    entries = await ops.audit("POST /api/v1/menus/validate")
    assert [e["status"] for e in entries] == [200, 200, 422, 422, 422]
    assert entries[1]["detail"]["files"]["10086.yaml"] == _edited(texts)["10086.yaml"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"files": {}}, "files"),
        ({"files": {"../10086.yaml": "x"}}, "files"),
        ({"files": {".hidden.yaml": "x"}}, "files"),
        ({"files": {"10086.txt": "x"}}, "files"),
        ({"files": "10086.yaml"}, "files"),
        ({"file": {"10086.yaml": "x"}}, "file"),
    ],
)
async def test_validate_refuses_bad_input_by_field(
    ops: Ops, body: dict[str, Any], field: str
) -> None:
    status, answer = await ops.api.call("POST", "/menus/validate", "admin", body)
    assert status == 422, answer
    assert any(p["field"].split(".")[0] == field for p in answer["problems"]), answer


async def test_activate_a_set_roll_back_and_go_forward_again(ops: Ops) -> None:
    original, first = ops.texts(), ops.menus.current.version
    edited = _edited(original)

    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"files": edited})
    assert status == 200, body
    second = body["version"]
    assert body == {
        "changed": True,
        "version": second,
        "previous": first,
        "written": ["10086.yaml"],
        "removed": [],
    }
    assert ops.texts() == edited  # the disk and the version in force agree
    assert ops.menus.current.version == second
    assert ops.menus.current.nodes["cm-group"].prompts == ["cm-connecting-agent"]  # type: ignore[union-attr]
    assert not [p for p in ops.menu_dir.iterdir() if p.name.startswith(".")]  # no leftovers
    status, listing = await ops.api.call("GET", "/menus", "admin")
    assert [v["version"] for v in listing["versions"]] == [second, first]
    assert (listing["live"], listing["rollback_to"]) == (second, first)

    # The same set again: nothing to do.
    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"files": edited})
    assert (status, body["changed"], body["written"]) == (200, False, [])

    status, body = await ops.api.call("POST", "/menus/rollback", "admin")
    assert (status, body["changed"], body["version"], body["previous"]) == (
        200,
        True,
        first,
        second,
    ), body
    assert ops.texts() == original and ops.menus.current.version == first
    status, body = await ops.api.call("POST", "/menus/rollback", "admin")
    assert status == 409, body  # nothing was in force before the first version
    assert ops.menus.current.version == first

    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"version": second})
    assert (status, body["version"], body["written"]) == (200, second, ["10086.yaml"]), body
    assert ops.texts() == edited

    status, body = await ops.api.call(
        "POST", "/menus/activate", "admin", {"version": "0123456789ab"}
    )
    assert status == 404, body
    assert ops.menus.current.version == second
    statuses = [e["status"] for e in await ops.audit("POST /api/v1/menus/activate")]
    assert statuses == [200, 200, 200, 404]
    assert [e["status"] for e in await ops.audit("POST /api/v1/menus/rollback")] == [200, 409]


async def test_rolling_back_twice_goes_two_versions_back(ops: Ops) -> None:
    texts, first = ops.texts(), ops.menus.current.version
    second_set = _edited(texts)
    third_set = _edited(second_set, "queue: group-customers", "queue: vip")
    versions = [first]
    for files in (second_set, third_set):
        status, body = await ops.api.call("POST", "/menus/activate", "admin", {"files": files})
        assert status == 200, body
        versions.append(body["version"])
    for expected, files in ((versions[1], second_set), (versions[0], texts)):
        status, body = await ops.api.call("POST", "/menus/rollback", "admin")
        assert (status, body["version"]) == (200, expected), body
        assert ops.texts() == files
    assert (await ops.api.call("POST", "/menus/rollback", "admin"))[0] == 409


async def test_a_refused_set_leaves_files_and_menus_as_they_were(ops: Ops) -> None:
    before, live = ops.disk(), ops.menus.current.version
    bad = _edited(ops.texts(), new="prompts: [cm-connecting-nobody]")
    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"files": bad})
    assert status == 422, body
    assert body["problems"][0]["file"] == "10086.yaml"
    status, body = await ops.api.call(
        "POST", "/menus/activate", "admin", {"version": live, "files": bad}
    )
    assert status == 422 and body["problems"][0]["field"] == "(body)", body
    assert ops.disk() == before and ops.menus.current.version == live
    assert [e["status"] for e in await ops.audit("POST /api/v1/menus/activate")] == [422, 422]


async def test_a_file_left_out_is_set_aside_only_when_it_is_live(ops: Ops) -> None:
    texts, live = ops.texts(), ops.menus.current.version
    draft = ops.menu_dir / "draft.yaml.wip"
    draft.write_text("not a menu file: never touched\n")
    # Someone's new file in the directory, not in force: it must not be lost.
    stray = ops.menu_dir / "10010.yaml"
    stray.write_text(texts["10001.yaml"])
    before = ops.disk()
    without = {name: text for name, text in texts.items() if name != "10001.yaml"}
    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"files": without})
    assert status == 409, body
    assert {p["file"] for p in body["problems"]} == {"10010.yaml"}
    assert ops.disk() == before and ops.menus.current.version == live
    stray.unlink()

    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"files": without})
    assert status == 200, body
    assert (body["written"], body["removed"]) == ([], ["10001.yaml"])
    assert sorted(ops.texts()) == ["10000.yaml", "10086.yaml"]
    assert (ops.menu_dir / "10001.yaml.removed").read_text() == texts["10001.yaml"]
    assert draft.exists()
    assert "10001" not in ops.menus.current.entries
    # Rolling back brings the file back.
    status, body = await ops.api.call("POST", "/menus/rollback", "admin")
    assert (status, body["version"], body["written"]) == (200, live, ["10001.yaml"]), body
    assert ops.texts() == texts


async def test_reload_answers_as_before_with_an_admin_token(ops: Ops) -> None:
    live = ops.menus.current.version
    path = ops.menu_dir / "10086.yaml"
    good = path.read_text()
    status, body = await ops.api.call("POST", "/menus/reload", "admin")
    assert (status, body) == (200, {"changed": False, "version": live, "problems": []})

    path.write_text(good.replace('"8": cm-group', '"8": cm-grup'))
    status, body = await ops.api.call("POST", "/menus/reload", "admin")
    assert status == 409 and (body["changed"], body["version"]) == (False, live), body
    assert any("unknown node 'cm-grup'" in p for p in body["problems"]), body
    status, listing = await ops.api.call("GET", "/menus", "admin")
    [problem] = [p for p in listing["refused_edit"] if "cm-grup" in p["reason"]]
    assert problem["file"] == "10086.yaml"
    assert good.replace('"8": cm-group', '"8": cm-grup').splitlines()[problem["line"] - 1]

    # Activating the version in force puts its files back over the refused edit.
    status, body = await ops.api.call("POST", "/menus/activate", "admin", {"version": live})
    assert (status, body["changed"], body["written"]) == (200, False, ["10086.yaml"]), body
    assert path.read_text() == good
    status, listing = await ops.api.call("GET", "/menus", "admin")
    assert listing["refused_edit"] == []

    path.write_text(good.replace(GROUP_PROMPT, "prompts: [cm-connecting-agent]"))
    status, body = await ops.api.call("POST", "/menus/reload", "admin")
    assert status == 200 and body["changed"] and body["version"] != live, body
    assert [e["status"] for e in await ops.audit("POST /api/v1/menus/reload")] == [200, 409, 200]


async def test_ivr_engine_reload_takes_an_admin_token(ops: Ops) -> None:
    server = ops.api.client.server
    env = {
        "IVR_ENGINE_HTTP__HOST": "127.0.0.1",
        "IVR_ENGINE_HTTP__PORT": str(server.port),
        "IVR_ENGINE_TOKEN": None,
    }

    async def reload(*args: str, token: str | None = None) -> tuple[int, str]:
        chosen = {**env, "IVR_ENGINE_TOKEN": token} if token else env
        result = await asyncio.to_thread(
            CliRunner().invoke, main, ["reload", *args], env=chosen, catch_exceptions=False
        )
        return result.exit_code, result.output

    live = ops.menus.current.version
    code, output = await reload()
    assert code == 1 and "an admin token is needed" in output, output
    code, output = await reload("--token", ops.api.tokens["supervisor"])
    assert code == 1 and "answered 403" in output, output
    code, output = await reload(token=ops.api.tokens["admin"])
    assert (code, output) == (0, f"menus version {live} unchanged\n")
    path = ops.menu_dir / "10086.yaml"
    path.write_text(path.read_text().replace('"8": cm-group', '"8": cm-grup'))
    code, output = await reload("--token", ops.api.tokens["admin"])
    assert code == 1 and f"refused; version {live} stays" in output, output
    assert "10086.yaml" in output and "unknown node 'cm-grup'" in output


async def test_activation_needs_a_menu_directory(tmp_path: Path, db_url: str) -> None:
    async with operations(tmp_path, db_url) as ops:
        files = sorted(ops.menu_dir.glob("*.yaml"))
        ops.menus.paths = files  # the menus named file by file
        status, body = await ops.api.call(
            "POST", "/menus/activate", "admin", {"files": _edited(ops.texts())}
        )
        assert status == 409 and "directory" in body["detail"], body


# -- Blacklist ----------------------------------------------------------------------------


async def _screened(url: str, number: str) -> bool:
    backend = await SqlBackend.connect(url)
    try:
        return (await backend.profile(number)).blacklisted
    finally:
        await backend.close()


async def test_blacklist_what_is_written_is_what_the_screening_reads(
    tmp_path: Path, db_url: str, data_db_url: str
) -> None:
    number = "13400134999"
    async with operations(tmp_path, db_url, data_db_url) as ops:
        api = ops.api
        body = {"number": number, "reason": "nuisance calls"}
        status, entry = await api.call("POST", "/blacklist", "admin", body)
        assert status == 201, entry
        assert (entry["number"], entry["reason"], entry["expires_at"], entry["live"]) == (
            number,
            "nuisance calls",
            None,
            True,
        )
        assert await _screened(data_db_url, number)
        if data_db_url != db_url:  # the engine's own database is not where calls look
            assert not await _screened(db_url, number)
        status, listing = await api.call("GET", "/blacklist", "admin")
        assert [e["number"] for e in listing["entries"]] == [number]
        status, again = await api.call("POST", "/blacklist", "admin", body)
        assert status == 409 and "already" in again["detail"], again

        status, answer = await api.call("DELETE", f"/blacklist/{number}", "admin")
        assert status == 422 and answer["problems"][0]["field"] == "reason", answer
        assert await _screened(data_db_url, number)
        status, gone = await api.call(
            "DELETE", f"/blacklist/{number}", "admin", reason="cleared by the complaints desk"
        )
        assert (status, gone["number"]) == (200, number), gone
        assert not await _screened(data_db_url, number)
        status, answer = await api.call("DELETE", f"/blacklist/{number}", "admin", {"reason": "x"})
        assert status == 404, answer

        # +86 written out: stored as the screening looks it up.
        status, entry = await api.call(
            "POST", "/blacklist", "admin", {"number": "86" + number, "reason": "again", "days": 7}
        )
        assert (status, entry["number"]) == (201, number), entry
        expires = datetime.fromisoformat(entry["expires_at"])
        assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
        assert await _screened(data_db_url, "+86" + number)
        status, gone = await api.call(
            "DELETE", f"/blacklist/86{number}", "admin", {"reason": "paid the fine"}
        )
        assert status == 200, gone

        posts = await ops.audit("POST /api/v1/blacklist")
        assert [e["status"] for e in posts] == [201, 409, 201]
        deletes = await ops.audit("DELETE /api/v1/blacklist/{number}")
        assert [(e["status"], e["target"], (e["detail"] or {}).get("reason")) for e in deletes] == [
            (422, f"number={number}", None),
            (200, f"number={number}", "cleared by the complaints desk"),
            (404, f"number={number}", "x"),
            (200, f"number=86{number}", "paid the fine"),
        ]


async def test_blacklist_expired_entries(tmp_path: Path, db_url: str, data_db_url: str) -> None:
    async with operations(tmp_path, db_url, data_db_url) as ops:
        past = datetime.now(UTC) - timedelta(days=1)
        data = make_engine(data_db_url, connect_timeout=5, command_timeout=10)
        try:
            async with data.begin() as conn:
                await conn.execute(
                    insert(BlacklistRow).values(number="15200152999", reason="old", expires_at=past)
                )
        finally:
            await data.dispose()
        status, listing = await ops.api.call("GET", "/blacklist", "admin")
        assert (status, listing["entries"]) == (200, [])
        status, listing = await ops.api.call("GET", "/blacklist", "admin", all="true")
        [entry] = listing["entries"]
        assert (entry["number"], entry["live"]) == ("15200152999", False)
        future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        status, entry = await ops.api.call(
            "POST",
            "/blacklist",
            "admin",
            {"number": "15200152999", "reason": "back again", "expires_at": future},
        )
        assert (status, entry["reason"], entry["live"]) == (201, "back again", True), entry
        assert await _screened(data_db_url, "15200152999")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "1340013400a", "reason": "x"}, "number"),
        ({"number": "12", "reason": "x"}, "number"),
        ({"number": "+8613400134000", "reason": "x"}, "number"),
        ({"number": "1" * 21, "reason": "x"}, "number"),
        ({"number": "١٣٤٠٠١٣٤٠٠٠", "reason": "x"}, "number"),  # digits, but not 0-9
        ({"number": "13400134000"}, "reason"),
        ({"number": "13400134000", "reason": "   "}, "reason"),
        ({"number": "13400134000", "reason": "x", "days": 0}, "days"),
        ({"number": "13400134000", "reason": "x", "expires_at": "2030-01-01T00:00"}, "expires_at"),
        ({"number": "13400134000", "reason": "x", "expires_at": "2020-01-01T00:00Z"}, "expires_at"),
        (
            {"number": "13400134000", "reason": "x", "days": 1, "expires_at": "2099-01-01T00:00Z"},
            "",
        ),
    ],
)
async def test_blacklist_refuses_bad_input_by_field(
    tmp_path: Path, db_url: str, body: dict[str, Any], field: str
) -> None:
    async with operations(tmp_path, db_url) as ops:
        status, answer = await ops.api.call("POST", "/blacklist", "admin", body)
        assert status == 422, answer
        fields = [p["field"] for p in answer["problems"]]
        assert field in fields or (not field and fields == ["(body)"]), answer
        assert not await _screened(db_url, body["number"])
        status, answer = await ops.api.call("DELETE", "/blacklist/12a", "admin", {"reason": "x"})
        assert status == 422 and answer["problems"][0]["field"] == "number", answer


async def test_blacklist_in_the_crm_is_not_ours(tmp_path: Path, db_url: str) -> None:
    async with operations(tmp_path, db_url, "http://127.0.0.1:9/crm", backend="http") as ops:
        for method, path, body in (
            ("GET", "/blacklist", None),
            ("POST", "/blacklist", {"number": "13400134999", "reason": "nuisance"}),
            ("DELETE", "/blacklist/13400134999", {"reason": "x"}),
        ):
            status, answer = await ops.api.call(method, path, "admin", body)
            assert (status, answer["detail"]) == (409, "the blacklist is kept in the CRM")


# -- Holidays -----------------------------------------------------------------------------


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+08:00")


async def test_holidays_listed_with_their_names(ops: Ops) -> None:
    status, body = await ops.api.call("GET", "/holidays", "admin")
    assert status == 200 and body["in_force"], body
    first, spring = body["holidays"][:2]
    assert first == {"from": "2026-01-01", "to": "2026-01-01", "name": "New Year's Day", "days": 1}
    assert spring == {
        "from": "2026-02-15",
        "to": "2026-02-23",
        "name": "Spring Festival",
        "days": 9,
    }
    assert sum(h["days"] for h in body["holidays"]) == len(load_holidays(ops.holidays))


async def test_holidays_added_and_removed_reach_the_running_calendar(ops: Ops) -> None:
    calendar = ops.calendar
    assert not calendar.is_holiday(_at("2027-10-01"))
    status, body = await ops.api.call(
        "POST", "/holidays", "admin", {"date": "2027-05-01", "name": "Labour Day"}
    )
    assert (status, body) == (
        201,
        {"from": "2027-05-01", "to": "2027-05-01", "name": "Labour Day", "days": 1},
    )
    status, body = await ops.api.call(
        "POST",
        "/holidays",
        "admin",
        {"from": "2027-10-01", "to": "2027-10-07", "name": "National Day"},
    )
    assert (status, body["days"]) == (201, 7), body
    assert calendar.is_holiday(_at("2027-05-01")) and calendar.is_holiday(_at("2027-10-07"))
    assert date(2027, 10, 3) in load_holidays(ops.holidays)

    text = ops.holidays.read_text()
    assert text.startswith(HOLIDAYS.read_text().split("holidays:")[0].rstrip())  # the header
    # In the file's own style: one line an entry, its name as the comment, aligned.
    column = next(line for line in HOLIDAYS.read_text().splitlines() if "2026-01-01" in line)
    pad = column.index("#")
    assert f"{'  - 2027-05-01':<{pad}}# Labour Day\n" in text
    assert f"{'  - {from: 2027-10-01, to: 2027-10-07}':<{pad}}# National Day\n" in text
    days = [line.split()[1] for line in text.splitlines() if line.startswith("  - ")]
    assert days[-3:] == ["2027-01-01", "2027-05-01", "{from:"]  # in date order
    status, listing = await ops.api.call("GET", "/holidays", "admin")
    assert listing["in_force"]
    assert {"from": "2027-10-01", "to": "2027-10-07", "name": "National Day", "days": 7} in (
        listing["holidays"]
    )
    assert "Spring Festival" in [h["name"] for h in listing["holidays"]]  # names kept

    for body in (
        {"date": "2027-10-03", "name": "again"},
        {"from": "2027-04-28", "to": "2027-05-02", "name": "overlapping"},
    ):
        status, answer = await ops.api.call("POST", "/holidays", "admin", body)
        assert status == 409 and "already a holiday" in answer["detail"], answer

    status, answer = await ops.api.call("DELETE", "/holidays/2027-10-03", "admin")
    assert status == 409 and "2027-10-01" in answer["detail"], answer
    status, body = await ops.api.call("DELETE", "/holidays/2027-10-01", "admin")
    assert (status, body["name"], body["days"]) == (200, "National Day", 7), body
    assert not calendar.is_holiday(_at("2027-10-03"))
    assert date(2027, 10, 3) not in load_holidays(ops.holidays)
    status, answer = await ops.api.call("DELETE", "/holidays/2027-10-01", "admin")
    assert status == 404, answer
    status, answer = await ops.api.call("DELETE", "/holidays/2027-13-01", "admin")
    assert status == 422 and answer["problems"][0]["field"] == "date", answer

    posts = await ops.audit("POST /api/v1/holidays")
    assert [e["status"] for e in posts] == [201, 201, 409, 409]
    assert posts[1]["detail"]["from"] == "2027-10-01"
    deletes = await ops.audit("DELETE /api/v1/holidays/{date}")
    assert [(e["status"], e["target"]) for e in deletes] == [
        (409, "date=2027-10-03"),
        (200, "date=2027-10-01"),
        (404, "date=2027-10-01"),
        (422, "date=2027-13-01"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "no day"}, "(body)"),
        ({"date": "2027-10-01"}, "name"),
        ({"date": "2027-10-01", "name": ""}, "name"),
        ({"date": "2027-10-01", "name": "two\nlines"}, "name"),
        ({"date": "2027-02-30", "name": "x"}, "date"),
        ({"from": "2027-10-01", "name": "x"}, "(body)"),
        ({"date": "2027-10-01", "from": "2027-10-01", "to": "2027-10-02", "name": "x"}, "(body)"),
        ({"from": "2027-10-07", "to": "2027-10-01", "name": "x"}, "to"),
        ({"from": "2027-01-01", "to": "2027-03-01", "name": "x"}, "to"),
        ({"date": "1999-10-01", "name": "x"}, "date"),
        ({"date": "2027-10-01", "name": "x", "greeting": "y"}, "greeting"),
    ],
)
async def test_holidays_refuse_bad_input_by_field(
    ops: Ops, body: dict[str, Any], field: str
) -> None:
    before = ops.holidays.read_bytes()
    status, answer = await ops.api.call("POST", "/holidays", "admin", body)
    assert status == 422, answer
    assert field in [p["field"] for p in answer["problems"]], answer
    assert ops.holidays.read_bytes() == before


async def test_a_hand_edit_is_shown_until_the_calendar_follows(ops: Ops) -> None:
    text = ops.holidays.read_text()
    ops.holidays.write_text(text + "  - 2027-12-25                            # Christmas\n")
    status, body = await ops.api.call("GET", "/holidays", "admin")
    assert (status, body["in_force"]) == (200, False)
    assert body["holidays"][-1]["name"] == "Christmas"
    # The next change through the API reads the file as it is: the hand edit goes live too.
    status, _ = await ops.api.call(
        "POST", "/holidays", "admin", {"date": "2027-12-31", "name": "x"}
    )
    assert status == 201
    assert ops.calendar.is_holiday(_at("2027-12-25"))
    ops.holidays.write_text("holidays: [not a date]\n")
    status, body = await ops.api.call(
        "POST", "/holidays", "admin", {"date": "2027-12-30", "name": "x"}
    )
    assert status == 409 and "by hand" in body["detail"], body
    assert ops.holidays.read_text() == "holidays: [not a date]\n"
    assert ops.calendar.is_holiday(_at("2027-12-31"))  # the running calendar is untouched
