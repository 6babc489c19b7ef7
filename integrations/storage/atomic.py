"""Crash-safe file writes: temp file in the same directory, fsync, ``os.replace``.

A full disk leaves nothing behind (the temp file is removed) and raises ``DiskFull``,
naming the disk and how much room the write needed."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from pathlib import Path

from integrations.errors import DiskFull

TEMP_PREFIX = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """A fresh temp name beside ``path`` (same filesystem, so ``os.replace`` is atomic)."""
    return path.with_name(f"{TEMP_PREFIX}{path.name}.{secrets.token_hex(6)}")


def fsync_dir(directory: Path) -> None:
    """Persist a rename on POSIX; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(
    path: Path, data: bytes | bytearray | memoryview, *, sync_dir: bool = True
) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, whole.

    ``sync_dir=False`` skips persisting the rename itself: after a power failure the
    old file may be back (whole), never a torn new one. For files rewritten very often
    where an older version is still correct (the upload journal).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in _FULL:
            raise disk_full(path.parent, len(data)) from None
        raise
    if sync_dir:
        fsync_dir(path.parent)


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says a disk (or the user's quota on it) is full."""
    return isinstance(exc, OSError) and exc.errno in _FULL


def disk_full(folder: Path, needed: int | None) -> DiskFull:
    """``DiskFull`` for a write of ``needed`` bytes (None: not known) into ``folder``,
    naming its disk and the space free there."""
    mount = folder.resolve()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        free = shutil.disk_usage(mount).free
    except OSError:
        free = 0
    if needed is None:
        return DiskFull(
            f"The disk at {mount} is full ({_size(free)} free): {folder} cannot be written. "
            "Nothing was kept of the failed write."
        )
    return DiskFull(
        f"The disk at {mount} is full: writing to {folder} needs {_size(needed)} and "
        f"{_size(free)} is free, so free at least {_size(max(needed - free, 1))} there. "
        "Nothing was kept of the failed write."
    )


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GiB"
