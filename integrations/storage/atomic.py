"""Crash-safe file writes: temp file in the same directory, fsync, ``os.replace``."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

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


def write_atomic(path: Path, data: bytes | bytearray | memoryview) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
