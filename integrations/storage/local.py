"""The embedded blob store: content-addressed files on local disk.

A blob's id is ``fast_blob_id(data)`` — URL-safe base64 (43 characters, no
padding) of blake2b-256(``b"satya-local-blob/1"`` + data). It is derived from
the content alone, so storing the same bytes twice gives the same id (the
second time with ``newly_created=False``). It is fast, and deliberately not the
Walrus RS2 id, which costs seconds per blob (see ``integrations.storage.ids``).

Layout: ``root/ab/cd/abcd…`` where the file name is the id's 64 hex digits
(hex, not base64, so case-insensitive filesystems cannot merge two ids). Writes
go to a temp file, are fsynced and renamed into place, so a crash leaves either
no blob or the whole blob. Every read re-hashes the file and raises
``IntegrityError`` if it no longer matches its id.

Holds: the same bytes stored by two uploads are one blob, so deleting is by
hold, never by id alone. ``put_blob(data, upload=KEY)`` records that upload KEY
holds the blob as an empty file ``root/holds/ab/<hex id>/<sha256(KEY)[:32]>``;
a put without ``upload`` (and a blob found on disk with no holds, stored
before holds were recorded) records the hold ``unrecorded``, which nothing
releases. ``release_blobs(KEY, ids)`` drops KEY's holds and deletes a blob's
bytes only when no hold is left.

Example::

    store = LocalBlobStore(Path("~/.satya/blobs").expanduser(), quota_bytes=2**30)
    blob = await store.put_blob(b"weights", epochs=1)
    assert await store.get_blob(blob.blob_id) == b"weights"
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from integrations.errors import BlobNotFound, BlobTooLarge, InsufficientStorage, IntegrityError
from integrations.storage.atomic import TEMP_PREFIX, write_atomic
from integrations.storage.ids import decode_blob_id, fast_blob_id
from integrations.storage.port import BlobData, BlobRelease, StoredBlob
from integrations.storage.sizes import human_size

DEFAULT_MAX_BLOB_SIZE = 10 * 1024 * 1024
HOLDS_DIR = "holds"
UNRECORDED = "unrecorded"  # the hold of a blob stored without naming its upload


class LocalBlobStore:
    """``BlobStore`` on a local directory; see the module docstring for the format."""

    def __init__(
        self,
        root: Path,
        *,
        max_blob_size: int = DEFAULT_MAX_BLOB_SIZE,
        quota_bytes: int | None = None,
    ) -> None:
        if max_blob_size <= 0:
            raise ValueError("max_blob_size must be positive")
        self._root = Path(root)
        self._max_blob_size = max_blob_size
        self._quota_bytes = quota_bytes
        self._used_bytes: int | None = None  # scanned lazily, then kept up to date
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def root(self) -> Path:
        """The directory the blobs live in."""
        return self._root

    @property
    def max_blob_size(self) -> int:
        """The largest blob one ``put_blob`` accepts, in bytes."""
        return self._max_blob_size

    async def used_bytes(self) -> int:
        """Bytes of blob data stored under ``root`` (scanned once, then tracked)."""
        if self._used_bytes is None:
            self._used_bytes = await asyncio.to_thread(self._scan_used_bytes)
        return self._used_bytes

    async def put_blob(
        self, data: BlobData, *, epochs: int = 1, upload: str | None = None
    ) -> StoredBlob:
        """Store ``data`` and record that ``upload`` holds it (``UNRECORDED`` without one).
        ``epochs`` is accepted for the port and otherwise ignored."""
        self._check_open()
        size = len(data)
        if size > self._max_blob_size:
            raise BlobTooLarge(
                f"The blob is {human_size(size)}; this store takes at most "
                f"{human_size(self._max_blob_size)} per blob."
            )
        blob_id = await asyncio.to_thread(fast_blob_id, data)
        path = self._path_for(blob_id)
        async with self._lock:
            existing = await asyncio.to_thread(_file_size, path)
            if existing == size:
                await asyncio.to_thread(self._hold, blob_id, upload, existing=True)
                return StoredBlob(blob_id=blob_id, size=size, newly_created=False)
            used = await self.used_bytes()
            growth = size - (existing or 0)
            if self._quota_bytes is not None and used + growth > self._quota_bytes:
                raise InsufficientStorage(
                    f"Storing {human_size(size)} would exceed the local quota: "
                    f"{human_size(used)} of {human_size(self._quota_bytes)} used, "
                    f"{human_size(max(self._quota_bytes - used, 0))} free."
                )
            await asyncio.to_thread(self._hold, blob_id, upload, existing=False)
            try:
                await asyncio.to_thread(write_atomic, path, data)
            except BaseException:  # e.g. a full disk: the bytes never landed, nor may the hold
                await asyncio.to_thread(self._drop_hold, blob_id, upload)
                raise
            self._used_bytes = used + growth
        return StoredBlob(blob_id=blob_id, size=size, newly_created=True)

    async def get_blob(self, blob_id: str) -> bytes:
        """Return the blob's bytes, checked against its id."""
        self._check_open()
        if decode_blob_id(blob_id) is None:
            raise BlobNotFound(f"{blob_id!r} is not a blob id (43 URL-safe base64 characters).")
        path = self._path_for(blob_id)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(f"No blob {blob_id} in the local store.") from None
        if await asyncio.to_thread(fast_blob_id, data) != blob_id:
            await self._discard_corrupted(path, len(data))
            raise IntegrityError(
                f"The local copy of blob {blob_id} is corrupted (its content no longer "
                "matches its id).",
                hint="Upload the file again; the damaged copy is replaced.",
            )
        return data

    async def has_blob(self, blob_id: str) -> bool:
        """True if the blob is stored and reads back intact."""
        try:
            await self.get_blob(blob_id)
        except (BlobNotFound, IntegrityError):
            return False
        return True

    async def release_blobs(self, upload: str, blob_ids: Sequence[str]) -> BlobRelease:
        """Drop ``upload``'s holds on ``blob_ids``; delete the bytes of those no other
        upload holds. Say which were deleted, which kept (and why) and which missing."""
        self._check_open()
        for blob_id in blob_ids:
            if decode_blob_id(blob_id) is None:
                raise BlobNotFound(f"{blob_id!r} is not a blob id (43 URL-safe base64 characters).")
        found: dict[str, list[str]] = {"deleted": [], "shared": [], "unrecorded": [], "missing": []}
        async with self._lock:
            for blob_id in dict.fromkeys(blob_ids):  # once each, in order
                outcome, size = await asyncio.to_thread(self._release, upload, blob_id)
                found[outcome].append(blob_id)
                if outcome == "deleted" and self._used_bytes is not None:
                    self._used_bytes -= size
        return BlobRelease(**{k: tuple(v) for k, v in found.items()})

    def _holds_dir(self, blob_id: str) -> Path:
        name = self._path_for(blob_id).name
        return self._root / HOLDS_DIR / name[:2] / name

    def _hold(self, blob_id: str, upload: str | None, *, existing: bool) -> None:
        """Record ``upload``'s hold (under the lock); a blob already on disk with no
        holds was stored before holds were recorded, so it gets ``UNRECORDED`` too."""
        holds = self._holds_dir(blob_id)
        fresh = not holds.is_dir() or not any(holds.iterdir())
        holds.mkdir(parents=True, exist_ok=True)
        names = {_hold_name(upload)}
        if existing and fresh:
            names.add(UNRECORDED)
        for name in names:
            (holds / name).touch()

    def _drop_hold(self, blob_id: str, upload: str | None) -> None:
        """Take back the hold of a put whose write failed (under the lock), and its folder
        when no other hold is left in it."""
        holds = self._holds_dir(blob_id)
        (holds / _hold_name(upload)).unlink(missing_ok=True)
        for folder in (holds, holds.parent):
            with contextlib.suppress(OSError):  # not empty: other holds stay
                folder.rmdir()

    def _release(self, upload: str, blob_id: str) -> tuple[str, int]:
        """Drop one hold (under the lock); the outcome's name and the bytes freed."""
        path = self._path_for(blob_id)
        holds = self._holds_dir(blob_id)
        mine = holds / _hold_name(upload)
        held = mine.exists()
        others = [p.name for p in holds.iterdir() if p != mine] if holds.is_dir() else []
        size = _file_size(path)
        if size is None:
            mine.unlink(missing_ok=True)
            return "missing", 0
        if not held:
            return ("shared" if set(others) - {UNRECORDED} else "unrecorded"), 0
        if others:
            mine.unlink()
            return ("shared" if set(others) - {UNRECORDED} else "unrecorded"), 0
        path.unlink(missing_ok=True)  # bytes first: a crash here leaves a hold, never a loss
        mine.unlink()
        with contextlib.suppress(OSError):
            holds.rmdir()
        return "deleted", size

    async def aclose(self) -> None:
        """Mark the store closed (it holds no open files between calls)."""
        self._closed = True

    async def _discard_corrupted(self, path: Path, size: int) -> None:
        """Drop a damaged copy so that storing the same bytes again repairs it."""
        async with self._lock:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(path.unlink)
                if self._used_bytes is not None:
                    self._used_bytes -= size

    def _path_for(self, blob_id: str) -> Path:
        raw = decode_blob_id(blob_id)
        if raw is None:
            raise BlobNotFound(f"{blob_id!r} is not a blob id.")
        name = raw.hex()
        return self._root / name[:2] / name[2:4] / name

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this LocalBlobStore is closed")

    def _scan_used_bytes(self) -> int:
        total = 0
        if not self._root.exists():
            return 0
        for dirpath, dirs, files in os.walk(self._root):
            if dirpath == str(self._root) and HOLDS_DIR in dirs:
                dirs.remove(HOLDS_DIR)
            for name in files:
                if name.startswith(TEMP_PREFIX):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    total += os.stat(os.path.join(dirpath, name)).st_size
        return total


def _hold_name(upload: str | None) -> str:
    """The file name of ``upload``'s hold (a digest: any key is a safe name)."""
    if upload is None:
        return UNRECORDED
    return hashlib.sha256(upload.encode("utf-8")).hexdigest()[:32]


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None
