"""Compressed pickles as joblib writes them (``joblib.dump(..., compress=...)``): zlib,
gzip, bz2, xz or raw LZMA around the pickle stream. Decompressed as it is read, never
whole: memory stays bounded, and a stream that inflates past ``MAX_EXPANSION`` times its
file's size (a decompression bomb) is refused.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from pathlib import Path
from typing import IO, Protocol

MAX_EXPANSION = 1000
MIN_ALLOWANCE = 64 * 1024 * 1024
_CHUNK = 1 << 16


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def compression_of(head: bytes) -> str | None:
    """The compressor joblib used, from the first bytes; None for none of them."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:3] == b"\x5d\x00\x00":
        return "lzma"
    return None


def _decompressor(kind: str) -> _Decompressor:
    if kind in ("zlib", "gzip"):
        return zlib.decompressobj(47)  # zlib or gzip header, detected
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor(lzma.FORMAT_AUTO)


class _Inflating(io.RawIOBase):
    """A compressed file read as its decompressed bytes; seeks forward only."""

    def __init__(self, source: IO[bytes], kind: str, allowance: int) -> None:
        self.source = source
        self.engine = _decompressor(kind)
        self.allowance = allowance
        self.pos = 0
        self.pending = b""
        self.ended = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.source.close()
        super().close()

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self.pending and not self.ended:
            compressed = self.source.read(_CHUNK)
            if not compressed:
                self.ended = True
                break
            try:
                self.pending = self.engine.decompress(compressed)
            except (zlib.error, OSError, lzma.LZMAError, EOFError) as exc:
                raise ValueError(f"the compressed stream is damaged ({exc})") from None
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        self.pos += n
        if self.pos > self.allowance:
            raise ValueError(
                f"it decompresses to more than {MAX_EXPANSION} times its size (a bomb?)"
            )
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self.pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self.pos:
            raise ValueError("a compressed pickle can only be read forward")
        scratch = bytearray(_CHUNK)
        while self.pos < target:
            got = self.readinto(memoryview(scratch)[: min(_CHUNK, target - self.pos)])
            if got == 0:
                raise ValueError("the compressed pickle ends inside an array")
        return self.pos


def open_pickle(path: Path) -> IO[bytes]:
    """``path`` as pickle bytes: decompressed as read when joblib compressed it."""
    handle = path.open("rb")
    kind = compression_of(handle.read(8))
    handle.seek(0)
    if kind is None:
        return handle
    allowance = max(MIN_ALLOWANCE, MAX_EXPANSION * path.stat().st_size)
    return io.BufferedReader(_Inflating(handle, kind, allowance), buffer_size=_CHUNK)


def starts_a_pickle(path: Path, head: bytes) -> bool:
    """True when ``head`` starts a compressed stream whose content starts a pickle."""
    kind = compression_of(head)
    if kind is None:
        return False
    try:
        with open_pickle(path) as stream:
            first = stream.read(2)
    except (ValueError, OSError):
        return False
    return len(first) == 2 and first[0] == 0x80 and 1 <= first[1] <= 5
