"""Operations staff and the menus: the versions in force in this run, checking a set of
files without touching anything, putting a set or an earlier version in force, rolling
back, and reloading the files from disk. The handlers' tools is the engine's menu
registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Self

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ivr_engine.http.api.endpoint import ADMIN, ApiRequest, Endpoint
from ivr_engine.http.api.errors import ApiError
from ivr_engine.menus.checker import MenuProblem
from ivr_engine.menus.registry import (
    FILE_NAME,
    Activation,
    ActivationRefused,
    MenuRegistry,
    MenusRefused,
    MenuVersion,
    UnknownVersion,
    named,
)

VERSION = r"^[0-9a-f]{12}$"
MAX_FILES = 50
TAG = "operations"

FileName = Annotated[str, StringConstraints(pattern=FILE_NAME.pattern)]
Files = dict[FileName, str]
_FILES = "menu file name (10086.yaml) -> the file's YAML text"


class FilesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: Files = Field(min_length=1, max_length=MAX_FILES, description=_FILES)


class ActivateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(None, pattern=VERSION, description="a version of GET /menus")
    files: Files | None = Field(None, min_length=1, max_length=MAX_FILES, description=_FILES)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.version is None) == (self.files is None):
            raise ValueError("give either version or files")
        return self


class ProblemView(BaseModel):
    file: str
    line: int = Field(description="0: the file as a whole")
    reason: str


class MenuVersionView(BaseModel):
    version: str
    loaded_at: datetime
    live: bool = Field(description="the version new calls get")
    files: list[str]
    nodes: int
    entries: dict[str, str] = Field(description="dialled number -> first node")


class MenuList(BaseModel):
    live: str
    rollback_to: str | None = Field(description="the version a rollback puts back, if any")
    versions: list[MenuVersionView] = Field(description="newest first")
    refused_edit: list[ProblemView] = Field(
        description="why the last edit of the files on disk was refused (empty: none was)"
    )


class MenuFilesView(BaseModel):
    version: str
    live: bool
    files: dict[str, str]


class ValidationView(BaseModel):
    version: str = Field(description="the version these files would be")
    live: bool = Field(description="they are the version in force already")
    files: list[str]
    nodes: int
    entries: dict[str, str]


class ActivationView(BaseModel):
    changed: bool = Field(description="a new version went live")
    version: str = Field(description="the version in force now")
    previous: str = Field(description="the version in force before")
    written: list[str] = Field(description="files written into the menu directory")
    removed: list[str] = Field(description="files taken out (renamed NAME.removed)")


class ReloadView(BaseModel):
    changed: bool
    version: str
    problems: list[str]


def _problems(problems: Sequence[MenuProblem]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "reason": p.reason} for p in problems]


def _encoded(files: Files) -> dict[str, bytes]:
    encoded: dict[str, bytes] = {}
    for name, text in files.items():
        try:
            encoded[name] = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            problem = {"file": name, "line": 0, "reason": "the text is not valid Unicode"}
            raise ApiError(422, "the menus have problems", [problem]) from exc
    return encoded


def _activation(done: Activation) -> ActivationView:
    return ActivationView(
        changed=done.changed,
        version=done.version,
        previous=done.previous,
        written=list(done.written),
        removed=list(done.removed),
    )


async def list_menu_versions(registry: MenuRegistry, _call: ApiRequest) -> MenuList:
    return MenuList(
        live=registry.current.version,
        rollback_to=registry.previous,
        versions=[_version_view(registry, v) for v in registry.versions],
        refused_edit=[
            ProblemView(file=p.file, line=p.line, reason=p.reason)
            for p in named(registry.last_refused, registry.paths)
        ],
    )


async def get_menu_version(registry: MenuRegistry, call: ApiRequest) -> MenuFilesView:
    version = call.path("version")
    known = registry.known(version)
    if known is None:
        raise ApiError(404, f"no menu version {version} in this run")
    live = version == registry.current.version
    return MenuFilesView(version=version, live=live, files=known.texts())


async def validate_menus(registry: MenuRegistry, call: ApiRequest) -> ValidationView:
    files = _encoded(call.body_as(FilesBody).files)
    try:
        menus = await registry.validate(files)
    except MenusRefused as exc:
        raise ApiError(422, "the menus have problems", _problems(exc.problems)) from exc
    return ValidationView(
        version=menus.version,
        live=menus.version == registry.current.version,
        files=sorted(files),
        nodes=len(menus.nodes),
        entries=dict(menus.entries),
    )


async def activate_menus(registry: MenuRegistry, call: ApiRequest) -> ActivationView:
    body = call.body_as(ActivateBody)
    files = _encoded(body.files) if body.files is not None else None
    return await _activate(lambda: registry.activate(files, version=body.version))


async def roll_back_menus(registry: MenuRegistry, _call: ApiRequest) -> ActivationView:
    return await _activate(registry.rollback)


async def reload_menus(registry: MenuRegistry, _call: ApiRequest) -> ReloadView | web.Response:
    result = await registry.reload()
    view = ReloadView(
        changed=result.changed, version=result.version, problems=list(result.problems)
    )
    if result.problems:
        return web.json_response(view.model_dump(mode="json"), status=409)
    return view


def _version_view(registry: MenuRegistry, known: MenuVersion) -> MenuVersionView:
    return MenuVersionView(
        version=known.version,
        loaded_at=known.loaded_at,
        live=known.version == registry.current.version,
        files=sorted(known.sources),
        nodes=known.nodes,
        entries=dict(known.entries),
    )


async def _activate(work: Callable[[], Awaitable[Activation]]) -> ActivationView:
    try:
        return _activation(await work())
    except MenusRefused as exc:
        raise ApiError(
            422, "the menus have problems; nothing was changed", _problems(exc.problems)
        ) from exc
    except UnknownVersion as exc:
        raise ApiError(404, f"no menu version {exc.args[0]} in this run") from exc
    except ActivationRefused as exc:
        raise ApiError(409, exc.reason, _problems(exc.problems) or None) from exc


MENU_ENDPOINTS: tuple[Endpoint[MenuRegistry], ...] = (
    Endpoint(
        "GET",
        "/menus",
        list_menu_versions,
        "Menu versions of this run, the one in force, and a refused edit",
        TAG,
        ADMIN,
        response=MenuList,
    ),
    Endpoint(
        "GET",
        "/menus/versions/{version}",
        get_menu_version,
        "The files of a menu version",
        TAG,
        ADMIN,
        response=MenuFilesView,
        errors=(404,),
    ),
    Endpoint(
        "POST",
        "/menus/validate",
        validate_menus,
        "Check a set of menu files (nothing changes)",
        TAG,
        ADMIN,
        body=FilesBody,
        response=ValidationView,
        errors=(422,),
        description="The files are checked exactly as a reload would check them (prompt"
        " ids included), in a temporary directory: the menus in force and the files on"
        " disk stay as they are. 422 lists every problem with its file and line.",
    ),
    Endpoint(
        "POST",
        "/menus/activate",
        activate_menus,
        "Put a set of menu files, or an earlier version, in force",
        TAG,
        ADMIN,
        body=ActivateBody,
        response=ActivationView,
        errors=(404, 409, 422),
        description="The files are checked first; a refused set changes nothing (422)."
        " A valid set is written into the menu directory (each file replaced at once)"
        " and loaded, so the files on disk and the menus in force agree and other"
        " engines watching the directory follow. A menu file the set leaves out is"
        " renamed NAME.removed, but only if it is exactly as the version in force has"
        " it; otherwise nothing is done (409).",
    ),
    Endpoint(
        "POST",
        "/menus/rollback",
        roll_back_menus,
        "Put back the menu version in force before this one",
        TAG,
        ADMIN,
        response=ActivationView,
        errors=(409, 422),
        description="Rolling back again goes one more version back. 409 when no other"
        " version was in force in this run.",
    ),
    Endpoint(
        "POST",
        "/menus/reload",
        reload_menus,
        "Load the menu files from disk again",
        TAG,
        ADMIN,
        response=ReloadView,
        errors=(409,),
        description="A valid new version goes live for new calls. A refused edit answers"
        " 409 with this same body: the version that stays and the problems.",
    ),
)
