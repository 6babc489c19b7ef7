"""Streaming SHA-256 of a file or a directory tree, in bounded blocks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

BLOCK = 4 * 1024 * 1024


def sha256_file(path: Path, *, on_bytes: Callable[[int], None] | None = None) -> str:
    """Hex SHA-256 of a file read in 4 MiB blocks; ``on_bytes`` gets the running total."""
    h = hashlib.sha256()
    done = 0
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            done += n
            if on_bytes is not None:
                on_bytes(done)
    return h.hexdigest()


def sha256_tree(root: Path, *, on_bytes: Callable[[int], None] | None = None) -> str:
    """Hex SHA-256 of a directory: for each file in sorted relative-path order,
    the path (UTF-8), a NUL, its size as 8 bytes little-endian, then its bytes."""
    h = hashlib.sha256()
    done = 0
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    for file in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = file.relative_to(root).as_posix().encode("utf-8")
        h.update(rel + b"\0" + file.stat().st_size.to_bytes(8, "little"))
        with file.open("rb", buffering=0) as f:
            while n := f.readinto(buf):
                h.update(view[:n])
                done += n
                if on_bytes is not None:
                    on_bytes(done)
    return h.hexdigest()


def tree_size(root: Path) -> int:
    """Total bytes of the regular files under ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
