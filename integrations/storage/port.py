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


@runtime_checkable
class DeletableBlobStore(BlobStore, Protocol):
    """A store whose blobs their owner may delete (the embedded store; Walrus only for
    blobs stored as deletable and owned by the caller, which a publisher's are not)."""

    async def delete_blob(self, blob_id: str) -> bool:
        """Delete the blob; False if it was not there. Its storage cost is not refunded."""
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
