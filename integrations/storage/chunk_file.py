"""A file written chunk by chunk at its offsets, without copying the bytes into the page cache.

A verified download writes every chunk once, into a temporary file that is
fsynced and renamed when all of it checks out. Through the page cache, each
write copies the chunk into freshly allocated cache pages (measured here: a
third of the download's CPU, more when memory is short) and the final fsync
then waits for all of it to reach the disk. ``ChunkFile`` writes the
block-aligned part of each chunk with ``O_DIRECT`` instead: the disk reads the
bytes straight from the caller's buffer (``aligned_buffer``: page-aligned), so
the kernel copies nothing, and the writes reach the disk while later chunks
are still arriving. What cannot go direct (a chunk at an unaligned offset, the
last few bytes of the file, a buffer that is not aligned, a filesystem without
``O_DIRECT``) is written through the page cache in 1 MiB pieces, and its
writeback is started at once (``posix_fadvise(DONTNEED)``) so that the final
fsync has little left to wait for.

Example::

    out = ChunkFile.create(tmp_path)
    buffer = aligned_buffer(8 * 2**20)
    ...  # fill memoryview(buffer)[:n]
    out.write_at(memoryview(buffer)[:n], offset, aligned=True)
    out.finish()      # fsync and close; or out.discard() to remove it
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
from pathlib import Path

__all__ = ["ALIGN", "ChunkFile", "aligned_buffer"]

ALIGN = 4096
"""Offsets, lengths and buffer addresses of direct writes are multiples of this."""

_PIECE = 1024 * 1024
"""Writes through the page cache go in pieces of this size: one 8 MiB ``pwrite`` into
fresh page cache measured several times the kernel CPU of eight 1 MiB ones."""


# Not on every platform (macOS has neither O_DIRECT nor posix_fadvise).
_FADVISE = getattr(os, "posix_fadvise", None)
_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 0)


def aligned_buffer(size: int) -> mmap.mmap:
    """``size`` bytes of page-aligned anonymous memory (what ``O_DIRECT`` writes need)."""
    return mmap.mmap(-1, max(size, 1))


class ChunkFile:
    """A new file written at offsets, direct where it can be; see the module docstring."""

    def __init__(self, path: Path, buffered: int, direct: int | None) -> None:
        self.path = path
        self._buffered = buffered
        self._direct = direct
        self._closed = False
        self.direct_bytes = 0
        """How many bytes went to the disk straight from the caller's buffers."""

    @classmethod
    def create(cls, path: Path) -> ChunkFile:
        """Create ``path`` (it must not exist) for writing."""
        buffered = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        direct: int | None = None
        flag = getattr(os, "O_DIRECT", 0)
        if flag:
            try:
                direct = os.open(path, os.O_WRONLY | os.O_CLOEXEC | flag)
            except OSError:
                direct = None  # the filesystem does not take direct writes
        return cls(path, buffered, direct)

    def write_at(self, data: memoryview, offset: int, *, aligned: bool) -> None:
        """Write all of ``data`` at ``offset``. ``aligned``: ``data`` starts at an
        ``ALIGN``-aligned address (a slice of ``aligned_buffer`` from a multiple of it)."""
        written = 0
        size = len(data)
        if aligned and self._direct is not None and offset % ALIGN == 0:
            whole = size - size % ALIGN
            try:
                while written < whole:
                    n = os.pwrite(self._direct, data[written:whole], offset + written)
                    if n <= 0 or n % ALIGN:
                        written += max(n, 0)
                        break  # a short direct write: the rest goes through the page cache
                    written += n
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                # Direct writes refused after all: this file goes through the page cache.
                os.close(self._direct)
                self._direct = None
            self.direct_bytes += written
        start = written
        while written < size:
            end = min(written + _PIECE, size)
            written += os.pwrite(self._buffered, data[written:end], offset + written)
        if written > start and _FADVISE is not None:
            with contextlib.suppress(OSError):  # only a hint: start the writeback now
                _FADVISE(self._buffered, offset + start, written - start, _DONTNEED)

    def finish(self) -> None:
        """Make all of it durable (fsync) and close the file."""
        try:
            os.fsync(self._buffered)
        finally:
            self._close()

    def discard(self) -> None:
        """Close the file and remove it."""
        self._close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _close(self) -> None:
        fds, self._closed = ([] if self._closed else [self._direct, self._buffered]), True
        self._direct = None
        for fd in fds:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
