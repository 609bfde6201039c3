"""The menu version in force, hot reload, and the versions loaded in this run.

A call takes the version in force when it starts and keeps it to the end. A reload (file
change, ``ivr-engine reload``, SIGHUP, ``POST /api/v1/menus/reload``) loads and checks the
files; a valid new version goes live for new calls, an invalid one is refused with its
problems and the running version stays.

The registry remembers the last ``MAX_VERSIONS`` versions that went live in this run
(their files' contents included), so that operations staff can check a set of files
without touching anything (:meth:`MenuRegistry.validate`), put a set or a remembered
version live (:meth:`MenuRegistry.activate`) and go back (:meth:`MenuRegistry.rollback`).
Activation writes the files into the menu directory and reloads, so that the files on
disk and the version in force always agree, and other engines watching the same
directory pick the change up.

Writing a set into the directory:

* every file is first written beside its target under a hidden temporary name (not a
  menu file name, so no loader ever reads it half-written), flushed to disk, then renamed
  over the target (a rename is atomic: readers see the old file or the new one);
* a menu file of the directory that is not in the new set is taken out only when its
  content is exactly what the live version holds for it, so nothing the registry has not
  seen live is ever lost; it is renamed ``NAME.removed`` (no longer a menu file, still
  there to recover). Any other menu file refuses the activation, and nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ground.files import stage, sync_directory
from ground.tasks import cancel_and_wait
from ground.yaml_source import YamlSourceError, read_limited
from ivr_engine.menus.checker import MenuProblem, PromptIds
from ivr_engine.menus.loader import SUFFIXES, MenuError, MenuSet, load_menus

log = logging.getLogger(__name__)

MAX_VERSIONS = 20
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.ya?ml$")
REMOVED_SUFFIX = ".removed"


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    version: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuVersion:
    """One version that went live in this run: what was in its files and what it offers."""

    version: str
    loaded_at: datetime
    sources: Mapping[str, bytes]  # file name -> content
    nodes: int
    entries: Mapping[str, str]  # dialled number -> entry node

    def texts(self) -> dict[str, str]:
        return {name: content.decode("utf-8") for name, content in self.sources.items()}


@dataclass(frozen=True)
class Activation:
    changed: bool  # a new version went live
    version: str  # the version in force now
    previous: str  # the version in force before
    written: tuple[str, ...] = ()  # files replaced or added in the directory
    removed: tuple[str, ...] = ()  # files taken out (renamed NAME.removed)


class MenusRefused(Exception):
    """A set of files that would not load; ``problems`` name each file by its name."""

    def __init__(self, problems: Sequence[MenuProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ActivationRefused(Exception):
    """An activation that cannot be done now (nothing was changed), with the reason."""

    def __init__(self, reason: str, problems: Sequence[MenuProblem] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = tuple(problems)


class UnknownVersion(KeyError):
    """No version of that name went live in this run (or it is no longer remembered)."""


def _fingerprint(paths: Sequence[Path]) -> tuple[tuple[str, float, int], ...]:
    found: list[tuple[str, float, int]] = []
    for path in paths:
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            try:
                stat = file.stat()
            except OSError:
                continue
            found.append((str(file), stat.st_mtime, stat.st_size))
    return tuple(found)


def named(problems: Sequence[MenuProblem], directories: Sequence[Path]) -> list[MenuProblem]:
    """The problems with the files named as in their directory (``10086.yaml``), reasons too."""
    prefixes = [f"{directory}{os.sep}" for directory in directories]

    def short(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text

    return [MenuProblem(short(p.file), p.line, short(p.reason)) for p in problems]


class MenuRegistry:
    def __init__(
        self, paths: Sequence[Path], prompt_ids: Callable[[], PromptIds] | None = None
    ) -> None:
        self.paths = list(paths)
        self._prompt_ids = prompt_ids
        self._current: MenuSet | None = None
        self._seen: tuple[tuple[str, float, int], ...] = ()
        self.last_problems: tuple[str, ...] = ()
        self.last_refused: tuple[MenuProblem, ...] = ()  # the same problems, as records
        self._watcher: asyncio.Task[None] | None = None
        self._reloading = asyncio.Lock()
        # Loads run in worker threads while the API reads the history on the event loop.
        self._history_lock = threading.Lock()
        self._known: OrderedDict[str, MenuVersion] = OrderedDict()  # oldest first
        self._trail: list[str] = []  # versions in the order they went live; last: in force

    @property
    def current(self) -> MenuSet:
        if self._current is None:
            raise RuntimeError("no menus loaded")
        return self._current

    # -- History ------------------------------------------------------------------------

    @property
    def versions(self) -> list[MenuVersion]:
        """The versions that went live in this run, newest first (at most MAX_VERSIONS)."""
        with self._history_lock:
            return list(reversed(self._known.values()))

    def known(self, version: str) -> MenuVersion | None:
        with self._history_lock:
            return self._known.get(version)

    @property
    def previous(self) -> str | None:
        """The version that was in force before the current one (what a rollback puts back)."""
        with self._history_lock:
            return self._trail[-2] if len(self._trail) >= 2 else None

    def _went_live(self, menus: MenuSet, rollback: bool) -> None:
        entry = MenuVersion(
            menus.version,
            menus.loaded_at,
            menus.sources,
            len(menus.nodes),
            dict(menus.entries),
        )
        with self._history_lock:
            if menus.version not in self._known:
                self._known[menus.version] = entry
            trail = self._trail
            if rollback and len(trail) >= 2 and trail[-2] == menus.version:
                trail.pop()  # back one step: the version rolled back from leaves the trail
            elif not trail or trail[-1] != menus.version:
                trail.append(menus.version)
            while len(self._known) > MAX_VERSIONS:
                oldest = next(v for v in self._known if v != menus.version)
                del self._known[oldest]
                self._trail = trail = [v for v in trail if v != oldest]
            # Forgetting a version may leave the same one twice in a row: once is enough.
            self._trail = [v for i, v in enumerate(trail) if i == 0 or trail[i - 1] != v]

    # -- Loading from disk --------------------------------------------------------------

    def load(self) -> ReloadResult:
        """Load the files; the first load must succeed, later ones may be refused."""
        return self._load(rollback=False)

    def _load(self, *, rollback: bool) -> ReloadResult:
        seen = _fingerprint(self.paths)
        ids = self._prompt_ids() if self._prompt_ids else None
        try:
            menus = load_menus(self.paths, ids)
        except MenuError as exc:
            self._seen = seen
            self.last_refused = tuple(exc.problems)
            self.last_problems = tuple(str(p) for p in exc.problems)
            if self._current is None:
                raise
            log.error("menu reload refused; version %s stays:\n%s", self._current.version, exc)
            return ReloadResult(False, self._current.version, self.last_problems)
        self._seen = seen
        self.last_problems = ()
        self.last_refused = ()
        old = self._current
        if old is not None and old.version == menus.version:
            return ReloadResult(False, old.version)
        self._current = menus
        self._went_live(menus, rollback)
        log.info(
            "menus version %s live (%d nodes, entries %s)",
            menus.version,
            len(menus.nodes),
            ", ".join(sorted(menus.entries)),
        )
        return ReloadResult(True, menus.version)

    async def reload(self) -> ReloadResult:
        """Load again off the event loop; one reload at a time."""
        async with self._reloading:
            return await asyncio.to_thread(self.load)

    def changed_on_disk(self) -> bool:
        return _fingerprint(self.paths) != self._seen

    def start_watching(self, interval: float) -> None:
        if interval > 0 and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(interval), name="menu-watcher")

    async def stop_watching(self) -> None:
        task, self._watcher = self._watcher, None
        await cancel_and_wait(task)

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self.changed_on_disk():
                await self.reload()

    # -- Checking and activating a set of files -----------------------------------------

    def check(self, files: Mapping[str, bytes]) -> MenuSet:
        """Load ``files`` (name -> content) exactly as a reload would, in a temporary
        directory: same loader, same checks, same prompt ids. Nothing in force or on disk
        changes. Raises MenusRefused with the problems."""
        bad = [name for name in files if not FILE_NAME.match(name)]
        if bad:
            reason = "not a menu file name (letters, digits, . _ -, ending .yaml or .yml)"
            raise MenusRefused([MenuProblem(name, 0, reason) for name in sorted(bad)])
        with tempfile.TemporaryDirectory(prefix="ivr-menus-") as tmp:
            base = Path(tmp)
            for name, content in files.items():
                (base / name).write_bytes(content)
            ids = self._prompt_ids() if self._prompt_ids else None
            try:
                menus = load_menus([base], ids)
            except MenuError as exc:
                problems = [
                    replace(p, file="(the set)") if p.file == str(base) else p for p in exc.problems
                ]
                raise MenusRefused(named(problems, [base])) from exc
        return menus

    async def validate(self, files: Mapping[str, bytes]) -> MenuSet:
        """:meth:`check` off the event loop."""
        return await asyncio.to_thread(self.check, dict(files))

    async def activate(
        self, files: Mapping[str, bytes] | None = None, *, version: str | None = None
    ) -> Activation:
        """Put a set of files (or a version remembered in this run) in force: checked first,
        then written into the menu directory and loaded. A refused set changes nothing.

        Raises MenusRefused (the files have problems), UnknownVersion, or ActivationRefused
        (the menus are not one directory, or a file there would be lost)."""
        async with self._reloading:
            return await asyncio.to_thread(self._activate, files, version, False)

    async def rollback(self) -> Activation:
        """Put back the version that was in force before the current one (ActivationRefused
        if there is none); rolling back again goes one more version back."""
        async with self._reloading:
            return await asyncio.to_thread(self._activate, None, None, True)

    def _activate(
        self, files: Mapping[str, bytes] | None, version: str | None, rollback: bool
    ) -> Activation:
        if rollback:
            version = self.previous
            if version is None:
                raise ActivationRefused("no other version was in force before this one")
        if version is not None:
            known = self.known(version)
            if known is None:
                raise UnknownVersion(version)
            files = known.sources
        if files is None:
            raise ValueError("activate needs files or a version")
        directory = self._directory()
        menus = self.check(files)
        previous = self.current.version
        leftovers = self._leftovers(directory, files)
        removed: list[str] = []
        try:
            written = _write_files(directory, files)
            for name in leftovers:
                os.replace(directory / name, directory / (name + REMOVED_SUFFIX))
                removed.append(name)
        except OSError:
            self._load(rollback=False)  # whatever made it to disk: in force only if valid
            raise
        sync_directory(directory)
        result = self._load(rollback=rollback)
        if result.problems or result.version != menus.version:
            problems = named(self.last_refused, [directory])
            raise ActivationRefused(
                f"the menu files changed on disk while the set was written; version"
                f" {result.version} is in force",
                problems,
            )
        log.info(
            "menus version %s activated (was %s): written %s, removed %s",
            result.version,
            previous,
            ", ".join(written) or "-",
            ", ".join(removed) or "-",
        )
        return Activation(result.changed, result.version, previous, tuple(written), tuple(removed))

    def _directory(self) -> Path:
        if len(self.paths) != 1 or not self.paths[0].is_dir():
            raise ActivationRefused(
                "the menus are not one directory (hotline.menus names files): a set can"
                " only be written into a menu directory"
            )
        return self.paths[0]

    def _leftovers(self, directory: Path, files: Mapping[str, bytes]) -> list[str]:
        """The menu files of the directory the set leaves out; each must be exactly as the
        live version holds it, or nothing is done."""
        live = self.current.sources
        others = sorted(
            p.name
            for p in directory.iterdir()
            if p.suffix in SUFFIXES and p.is_file() and p.name not in files
        )
        unsafe: list[MenuProblem] = []
        for name in others:
            try:
                content: bytes | None = read_limited(directory / name)
            except YamlSourceError:
                content = None
            if content is None or live.get(name) != content:
                unsafe.append(
                    MenuProblem(
                        name,
                        0,
                        "this file is not in the set and is not as the version in force has"
                        " it: put it in the set, or move it out of the directory yourself",
                    )
                )
        if unsafe:
            raise ActivationRefused(
                "the directory holds menu files the set leaves out that are not live", unsafe
            )
        return others


def _same(path: Path, content: bytes) -> bool:
    try:
        return path.is_file() and path.read_bytes() == content
    except OSError:
        return False


def _write_files(directory: Path, files: Mapping[str, bytes]) -> list[str]:
    """Stage every changed file beside its target, then rename them over their targets."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, content in sorted(files.items()):
            target = directory / name
            if _same(target, content):
                continue
            staged.append((stage(target, content), target))
    except BaseException:
        for tmp, _target in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return [target.name for _tmp, target in staged]
