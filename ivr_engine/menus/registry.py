"""The menu version in force, and hot reload.

A call takes the version in force when it starts and keeps it to the end. A reload (file
change, ``ivr-engine reload``, SIGHUP) loads and checks the files; a valid new version
goes live for new calls, an invalid one is refused with its problems and the running
version stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.menus.checker import PromptIds
from ivr_engine.menus.loader import MenuError, MenuSet, load_menus
from ivr_engine.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    version: str
    problems: tuple[str, ...] = ()


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


class MenuRegistry:
    def __init__(
        self, paths: Sequence[Path], prompt_ids: Callable[[], PromptIds] | None = None
    ) -> None:
        self.paths = list(paths)
        self._prompt_ids = prompt_ids
        self._current: MenuSet | None = None
        self._seen: tuple[tuple[str, float, int], ...] = ()
        self.last_problems: tuple[str, ...] = ()
        self._watcher: asyncio.Task[None] | None = None
        self._reloading = asyncio.Lock()

    @property
    def current(self) -> MenuSet:
        if self._current is None:
            raise RuntimeError("no menus loaded")
        return self._current

    def load(self) -> ReloadResult:
        """Load the files; the first load must succeed, later ones may be refused."""
        seen = _fingerprint(self.paths)
        ids = self._prompt_ids() if self._prompt_ids else None
        try:
            menus = load_menus(self.paths, ids)
        except MenuError as exc:
            self._seen = seen
            self.last_problems = tuple(str(p) for p in exc.problems)
            if self._current is None:
                raise
            log.error("menu reload refused; version %s stays:\n%s", self._current.version, exc)
            return ReloadResult(False, self._current.version, self.last_problems)
        self._seen = seen
        self.last_problems = ()
        old = self._current
        if old is not None and old.version == menus.version:
            return ReloadResult(False, old.version)
        self._current = menus
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
