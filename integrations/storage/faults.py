"""A ``BlobStore`` wrapper that injects faults, for scripted journeys and tests.

It wraps a real store and makes it misbehave the way a network or a publisher
does: a timeout outage once some bytes went through ("network timeout at
60%"), an empty WAL balance, a corrupted read, slow calls.

Example::

    faulty = FaultyBlobStore(LocalBlobStore(root), FaultPlan(timeout_after_bytes=6 * 2**20))
    # puts succeed until 6 MiB are stored, then the next 10 raise NetworkTimeout
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from integrations.errors import BlobRejected, InsufficientStorage, IntegrityError, NetworkTimeout
from integrations.storage.manifest import parse_manifest
from integrations.storage.port import (
    BlobData,
    BlobRelease,
    BlobStore,
    DeletableBlobStore,
    StoredBlob,
)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults to inject.

    ``timeout_after_bytes``: once the wrapper has accepted that many bytes, the
    next ``timeout_requests`` puts raise ``NetworkTimeout``; then the outage ends.
    ``insufficient_storage``: every put raises ``InsufficientStorage``.
    ``corrupt_get_index``: the get call with that 0-based number (counted in the
    order calls start) returns the blob with one bit flipped.
    ``corrupt_chunk``: once a manifest has been read through the wrapper, the
    chunk with that 0-based index comes back with one bit flipped on every read
    (an aggregator serving damaged data).
    ``delay_s``: every put and get first waits that long.
    """

    timeout_after_bytes: int | None = None
    timeout_requests: int = 10
    insufficient_storage: bool = False
    corrupt_get_index: int | None = None
    corrupt_chunk: int | None = None
    delay_s: float = 0.0


class FaultyBlobStore:
    """``BlobStore`` that forwards to ``inner`` except where ``plan`` says to fail."""

    def __init__(self, inner: BlobStore, plan: FaultPlan) -> None:
        self.inner = inner
        self.plan = plan
        self.puts_ok = 0
        self.puts_failed = 0
        self.bytes_accepted = 0
        self.gets = 0
        self._timeouts_left = plan.timeout_requests
        self.corrupted: set[str] = set()  # blob ids served damaged (``corrupt_chunk``)

    @property
    def max_blob_size(self) -> int:
        """The inner store's limit."""
        return self.inner.max_blob_size

    async def put_blob(
        self, data: BlobData, *, epochs: int = 1, upload: str | None = None
    ) -> StoredBlob:
        """Forward the put (``upload`` too where the inner store records holds), unless
        the plan says it fails."""
        if self.plan.delay_s:
            await asyncio.sleep(self.plan.delay_s)
        if self.plan.insufficient_storage:
            self.puts_failed += 1
            raise InsufficientStorage(
                f"Not enough WAL to store {len(data)} bytes (injected fault)."
            )
        threshold = self.plan.timeout_after_bytes
        if threshold is not None and self.bytes_accepted >= threshold and self._timeouts_left > 0:
            self._timeouts_left -= 1
            self.puts_failed += 1
            raise NetworkTimeout("The storage request timed out (injected fault).")
        if upload is not None and isinstance(self.inner, DeletableBlobStore):
            stored = await self.inner.put_blob(data, epochs=epochs, upload=upload)
        else:
            stored = await self.inner.put_blob(data, epochs=epochs)
        self.puts_ok += 1
        self.bytes_accepted += len(data)
        return stored

    async def get_blob(self, blob_id: str) -> bytes:
        """Forward the get; the planned one comes back with a flipped bit."""
        number = self.gets
        self.gets += 1
        if self.plan.delay_s:
            await asyncio.sleep(self.plan.delay_s)
        data = await self.inner.get_blob(blob_id)
        if self.plan.corrupt_chunk is not None:
            self._note_manifest(data)
        if (number == self.plan.corrupt_get_index or blob_id in self.corrupted) and data:
            return bytes([data[0] ^ 0x01]) + data[1:]
        return data

    def _note_manifest(self, data: bytes) -> None:
        """If ``data`` is a manifest, mark its planned chunk as one to damage."""
        if not data.startswith(b"{") or len(data) > 4 * 2**20:
            return
        try:
            manifest = parse_manifest(data, "?")
        except IntegrityError:
            return
        for chunk in manifest.chunks:
            if chunk.index == self.plan.corrupt_chunk:
                self.corrupted.add(chunk.blob_id)

    async def has_blob(self, blob_id: str) -> bool:
        """Forwarded unchanged."""
        return await self.inner.has_blob(blob_id)

    async def release_blobs(self, upload: str, blob_ids: Sequence[str]) -> BlobRelease:
        """Forwarded when the inner store can delete; refused otherwise."""
        if not isinstance(self.inner, DeletableBlobStore):
            raise BlobRejected("This storage service does not delete blobs.")
        return await self.inner.release_blobs(upload, blob_ids)

    async def aclose(self) -> None:
        """Close the inner store."""
        await self.inner.aclose()
