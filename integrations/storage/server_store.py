"""Blobs, blob objects and the WAL balance of the local Walrus-compatible server.

Incoming bodies are streamed to a temp file while the fast id is hashed; the
finished file is renamed into ``blobs/ab/cd/<hex id>`` beside a JSON record of
its blob object. With ``exact_blob_ids`` the id is the real RS2 id instead
(computed from the whole body once it has arrived; slow, see ``ids``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel

from integrations.storage.atomic import fsync_dir, write_atomic
from integrations.storage.cost import blob_storage_cost_frost, encoded_length
from integrations.storage.ids import (
    BLOB_ID_BYTES,
    LOCAL_ID_DOMAIN,
    decode_blob_id,
    encode_blob_id,
    exact_blob_id,
)
from integrations.storage.walrus_wire import (
    AlreadyCertified,
    BlobObject,
    BlobStoreResponse,
    EventId,
    NewlyCreated,
    RegisterFromScratch,
    ResourceOperation,
    ReuseAndExtend,
    StorageResource,
)

CURRENT_EPOCH = 1
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class InsufficientBalance(Exception):
    """The server's WAL balance cannot pay for a store."""

    def __init__(self, cost: int, balance: int) -> None:
        super().__init__(
            f"could not find WAL coins with sufficient balance: storing costs {cost} FROST, "
            f"the wallet holds {balance} FROST"
        )


class BlobRecord(BaseModel):
    """What the server knows about a stored blob (its blob object, flattened)."""

    blob_id: str
    object_id: str
    size: int
    registered_epoch: int
    end_epoch: int
    storage_id: str
    deletable: bool


@dataclass(frozen=True, slots=True)
class StoreRequest:
    """The store options of one ``PUT /v1/blobs``."""

    epochs: int
    deletable: bool
    force: bool
    share: bool


class Incoming:
    """A body being received: temp file plus running fast-id hash."""

    def __init__(self, fh: BinaryIO, path: Path) -> None:
        self.fh = fh
        self.path = path
        self.size = 0
        self._hash = hashlib.blake2b(LOCAL_ID_DOMAIN, digest_size=BLOB_ID_BYTES)

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self._hash.update(data)
        self.size += len(data)

    def write_all(self, pieces: list[bytes]) -> None:
        for data in pieces:
            self.write(data)

    def fast_id(self) -> str:
        return encode_blob_id(self._hash.digest())

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.fh.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


class ServerBlobStore:
    """The server's durable state; coroutines do their disk work in threads."""

    def __init__(self, data_dir: Path, *, exact_blob_ids: bool, wal_balance_frost: int | None):
        self.data_dir = Path(data_dir)
        self.exact_blob_ids = exact_blob_ids
        self.wal_balance_frost = wal_balance_frost
        self._blobs = self.data_dir / "blobs"
        self._incoming = self.data_dir / "incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._lock = asyncio.Lock()

    def begin(self) -> Incoming:
        """Open a temp file for a new body."""
        path = self._incoming / f"{secrets.token_hex(8)}.part"
        return Incoming(open(path, "wb"), path)

    def blob_path(self, blob_id: str) -> Path | None:
        """Where a blob's bytes live, or None for a malformed id."""
        raw = decode_blob_id(blob_id)
        if raw is None:
            return None
        name = raw.hex()
        return self._blobs / name[:2] / name[2:4] / name

    async def commit(self, incoming: Incoming, request: StoreRequest) -> BlobStoreResponse:
        """Finish a received body: certify it, extend it, or report it already certified."""
        await asyncio.to_thread(_close_synced, incoming.fh)
        blob_id = await asyncio.to_thread(self._blob_id_of, incoming)
        path = self.blob_path(blob_id)
        assert path is not None
        async with self._lock:
            record = await asyncio.to_thread(self._load, path)
            want_end = CURRENT_EPOCH + request.epochs
            if record is not None and not request.force:
                await asyncio.to_thread(incoming.discard)
                if record.end_epoch >= want_end:
                    return _already_certified(record)
                extension = want_end - record.end_epoch
                cost = self._charge(blob_storage_cost_frost(record.size, epochs=extension))
                record = record.model_copy(update={"end_epoch": want_end})
                await asyncio.to_thread(self._save, path, record)
                operation = ResourceOperation(
                    reuse_and_extend=ReuseAndExtend(
                        encoded_length=encoded_length(record.size), epochs_extended=extension
                    )
                )
                return _newly_created(record, operation, cost, request.share)
            cost = self._charge(blob_storage_cost_frost(incoming.size, epochs=request.epochs))
            record = BlobRecord(
                blob_id=blob_id,
                object_id=_object_id(),
                size=incoming.size,
                registered_epoch=CURRENT_EPOCH,
                end_epoch=want_end,
                storage_id=_object_id(),
                deletable=request.deletable,
            )
            await asyncio.to_thread(self._install, incoming, path, record)
        # Persisting the renames waits on the disk: outside the lock, so that the blobs of
        # a chunked upload stored at once share the wait. The answer still comes after it.
        await asyncio.to_thread(fsync_dir, path.parent)
        operation = ResourceOperation(
            register_from_scratch=RegisterFromScratch(
                encoded_length=encoded_length(incoming.size), epochs_ahead=request.epochs
            )
        )
        return _newly_created(record, operation, cost, request.share)

    def _charge(self, cost: int) -> int:
        if self.wal_balance_frost is not None:
            if cost > self.wal_balance_frost:
                raise InsufficientBalance(cost, self.wal_balance_frost)
            self.wal_balance_frost -= cost
        return cost

    def _blob_id_of(self, incoming: Incoming) -> str:
        if self.exact_blob_ids:
            return exact_blob_id(incoming.path.read_bytes())
        return incoming.fast_id()

    def _install(self, incoming: Incoming, path: Path, record: BlobRecord) -> None:
        """Move the blob into place and write its record; the caller fsyncs their folder
        (one fsync persists both renames)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(incoming.path, path)
        write_atomic(
            path.with_suffix(".json"), record.model_dump_json().encode("utf-8"), sync_dir=False
        )

    @staticmethod
    def _load(path: Path) -> BlobRecord | None:
        try:
            raw = path.with_suffix(".json").read_bytes()
        except FileNotFoundError:
            return None
        if not path.exists():
            return None
        return BlobRecord.model_validate_json(raw)

    @staticmethod
    def _save(path: Path, record: BlobRecord) -> None:
        write_atomic(path.with_suffix(".json"), record.model_dump_json().encode("utf-8"))


def _close_synced(fh: BinaryIO) -> None:
    fh.flush()
    os.fsync(fh.fileno())
    fh.close()


def _object_id() -> str:
    return "0x" + secrets.token_hex(32)


def _tx_digest() -> str:
    return "".join(secrets.choice(_B58) for _ in range(44))


def _already_certified(record: BlobRecord) -> BlobStoreResponse:
    # An owned deletable blob is reported by its object; a permanent one by its event.
    if record.deletable:
        answer = AlreadyCertified(
            blob_id=record.blob_id, object=record.object_id, end_epoch=record.end_epoch
        )
    else:
        answer = AlreadyCertified(
            blob_id=record.blob_id,
            event=EventId(tx_digest=_tx_digest(), event_seq="0"),
            end_epoch=record.end_epoch,
        )
    return BlobStoreResponse(already_certified=answer)


def _newly_created(
    record: BlobRecord, operation: ResourceOperation, cost: int, share: bool
) -> BlobStoreResponse:
    blob_object = BlobObject(
        id=record.object_id,
        registered_epoch=record.registered_epoch,
        blob_id=record.blob_id,
        size=record.size,
        encoding_type="RS2",
        certified_epoch=CURRENT_EPOCH,
        storage=StorageResource(
            id=record.storage_id,
            start_epoch=record.registered_epoch,
            end_epoch=record.end_epoch,
            storage_size=encoded_length(record.size),
        ),
        deletable=record.deletable,
    )
    return BlobStoreResponse(
        newly_created=NewlyCreated(
            blob_object=blob_object,
            resource_operation=operation,
            cost=cost,
            shared_blob_object=_object_id() if share else None,
        )
    )
