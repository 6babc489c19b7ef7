"""The blob storage port.

A ``BlobStore`` stores and returns whole blobs of at most ``max_blob_size``
bytes (Walrus publishers accept 10 MiB per request). Models larger than that
are stored by ``integrations.storage.chunked`` as chunks plus a manifest blob,
on top of any ``BlobStore``.

Example::

    store = LocalBlobStore(home / "blobs")
    blob = await store.put_blob(b"hello", epochs=1)
    assert await store.get_blob(blob.blob_id) == b"hello"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

BlobData: TypeAlias = bytes | bytearray | memoryview
"""What ``put_blob`` takes. The caller may reuse a buffer once ``put_blob`` returns, so
a store must have sent or copied the bytes by then and keep no reference to them."""


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """What a store says about a blob it holds (the Walrus response, flattened)."""

    blob_id: str
    size: int
    newly_created: bool
    cost_frost: int | None = None
    end_epoch: int | None = None
    object_id: str | None = None


@runtime_checkable
class BlobStore(Protocol):
    """Put, get and check whole blobs. Errors are ``integrations.errors.StorageError``s."""

    @property
    def max_blob_size(self) -> int:
        """The largest blob one ``put_blob`` accepts, in bytes."""
        ...

    async def put_blob(self, data: BlobData, *, epochs: int = 1) -> StoredBlob:
        """Store ``data``; storing the same bytes twice returns the same ``blob_id``."""
        ...

    async def get_blob(self, blob_id: str) -> bytes:
        """Return the blob's bytes; raise ``BlobNotFound`` if unknown."""
        ...

    async def has_blob(self, blob_id: str) -> bool:
        """True if the blob is stored and readable."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


@dataclass(frozen=True, slots=True)
class BlobRelease:
    """What ``release_blobs`` did with each blob id it was given.

    ``deleted``: the bytes are gone (no other upload held them). ``shared``: kept,
    another upload stores the same bytes (ids are content addresses, so the same
    file or an identical chunk stored by another upload is the same blob).
    ``unrecorded``: kept, the blob was stored before the store recorded uploads,
    or by something that did not say, so whether another upload needs it is unknown.
    ``missing``: there was no such blob.
    """

    deleted: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    unrecorded: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@runtime_checkable
class DeletableBlobStore(BlobStore, Protocol):
    """A store that deletes blobs once no upload holds them any more (the embedded
    store; Walrus only for blobs stored as deletable and owned by the caller, which a
    publisher's are not, so the Walrus adapter does not delete).

    Blobs are content-addressed: several uploads may hold the same blob. An upload
    (named by its session key) that stores a blob says so with ``upload``; releasing
    its blobs deletes the bytes only when no other upload holds them. A blob stored
    without ``upload`` is held for good (nobody may say it is no longer needed).
    """

    async def put_blob(
        self, data: BlobData, *, epochs: int = 1, upload: str | None = None
    ) -> StoredBlob:
        """Store ``data`` as ``BlobStore.put_blob`` does, and record that ``upload`` holds it."""
        ...

    async def release_blobs(self, upload: str, blob_ids: Sequence[str]) -> BlobRelease:
        """Drop ``upload``'s hold on these blobs; delete those no other upload holds.
        Storage costs are not refunded."""
        ...


@dataclass(frozen=True, slots=True)
class FilePart:
    """``size`` bytes of the open file ``fd`` from ``offset``: a blob sent straight from
    the file. Reading it never moves the file's position."""

    fd: int
    offset: int
    size: int


@runtime_checkable
class PutsFromFile(Protocol):
    """A store that sends a blob straight from a file (``sendfile``: the bytes go from
    the page cache to the socket without passing through Python or a buffer of ours).

    Uploads use it when a store offers it, and ``put_blob`` from their own buffers
    otherwise. The bytes sent are the file's at the time of sending, so the caller
    checks that the file did not change between hashing and sending.
    """

    async def put_file_part(self, part: FilePart, *, epochs: int = 1) -> StoredBlob:
        """Store the part's bytes as ``put_blob`` stores ``data``."""
        ...


@runtime_checkable
class ReadsIntoBuffer(Protocol):
    """A store that can read a blob straight into the caller's buffer (no copy of its own).

    Downloads use it when a store offers it, and ``get_blob`` otherwise.
    """

    async def get_blob_into(self, blob_id: str, buffer: memoryview) -> int:
        """Fill ``buffer`` with the blob; return its length, which is more than
        ``len(buffer)`` if it did not fit (nothing past the buffer is read then)."""
        ...
