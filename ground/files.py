"""Replacing files so that a reader, or a crash, never sees half of one.

A new content is written to a partial file beside its target, flushed to disk with the
target's mode, then renamed over the target: a rename within one directory is atomic, so
the target is either the old file or the new one, whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def stage(target: Path, content: bytes) -> Path:
    """Write ``content`` to a partial file beside ``target`` (flushed, the target's mode)
    and return it; the caller renames it over the target with :func:`os.replace`."""
    fd, partial = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(partial, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return Path(partial)


def replace_file(target: Path, content: bytes) -> None:
    """Replace ``target`` with ``content`` whole (created with its directory if missing)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = stage(target, content)
    try:
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    sync_directory(target.parent)


def sync_directory(directory: Path) -> None:
    """Make renames in ``directory`` durable (a crash right after cannot bring the old
    files back). Best effort: some file systems cannot sync a directory."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
