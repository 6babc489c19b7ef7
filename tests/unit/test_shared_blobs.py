"""Deleting one upload's blobs never removes bytes another upload stores too.

Blob ids are content addresses: the same file uploaded twice, or one chunk identical
between two files, is one blob. Releasing the failed upload's blobs must leave the
other upload downloadable with its sha256 verified.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from integrations.storage.chunked import UploadResult, download_file, read_manifest, upload_file
from integrations.storage.faults import FaultPlan, FaultyBlobStore
from integrations.storage.local import LocalBlobStore
from integrations.storage.port import BlobStore, DeletableBlobStore

KIB = 1024
CHUNK = 64 * KIB


def _bytes(size: int, seed: int) -> bytes:
    return hashlib.shake_256(seed.to_bytes(4, "little")).digest(size)


async def _upload(store: BlobStore, path: Path, tmp: Path, session: str) -> UploadResult:
    return await upload_file(
        store, path, journal_dir=tmp / "journals", session_key=session, chunk_size=CHUNK
    )


async def _all_ids(store: BlobStore, result: UploadResult) -> list[str]:
    manifest = await read_manifest(store, result.manifest_blob_id)
    return [result.manifest_blob_id, *(c.blob_id for c in manifest.chunks)]


async def _downloads_intact(store: BlobStore, result: UploadResult, dest: Path) -> None:
    got = await download_file(store, result.manifest_blob_id, dest)
    assert got.sha256 == result.sha256
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == result.sha256


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", max_blob_size=256 * KIB)


async def test_same_file_uploaded_twice_survives_the_second_uploads_cleanup(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(_bytes(3 * CHUNK + 99, seed=1))
    listed = await _upload(store, src, tmp_path, "wf-ann")
    failed = await _upload(store, src, tmp_path, "wf-bob")
    assert failed.manifest_blob_id == listed.manifest_blob_id  # one content, one blob id

    released = await store.release_blobs("wf-bob", await _all_ids(store, failed))

    assert released.deleted == ()
    assert len(released.shared) == 5  # the manifest and 4 chunks: ann's upload holds them
    await _downloads_intact(store, listed, tmp_path / "ann-copy.bin")
    # ann's own cleanup (once nothing else holds them) deletes the bytes for good
    last = await store.release_blobs("wf-ann", await _all_ids(store, listed))
    assert len(last.deleted) == 5 and not await store.has_blob(listed.manifest_blob_id)
    assert await store.used_bytes() == 0


async def test_a_chunk_shared_between_two_files_is_kept(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    common, own_a, own_b = _bytes(CHUNK, 2), _bytes(CHUNK, 3), _bytes(CHUNK // 2, 4)
    (tmp_path / "a.bin").write_bytes(common + own_a)
    (tmp_path / "b.bin").write_bytes(common + own_b)
    listed = await _upload(store, tmp_path / "a.bin", tmp_path, "wf-a")
    failed = await _upload(store, tmp_path / "b.bin", tmp_path, "wf-b")
    ids = await _all_ids(store, failed)
    shared_chunk = ids[1]
    assert shared_chunk in await _all_ids(store, listed)

    released = await store.release_blobs("wf-b", ids)

    assert released.shared == (shared_chunk,)
    assert set(released.deleted) == {failed.manifest_blob_id, ids[2]}
    assert not await store.has_blob(failed.manifest_blob_id)
    await _downloads_intact(store, listed, tmp_path / "a-copy.bin")


async def test_cleanup_through_the_fault_wrapper_keeps_shared_bytes(tmp_path: Path) -> None:
    inner = LocalBlobStore(tmp_path / "blobs", max_blob_size=256 * KIB)
    store = FaultyBlobStore(inner, FaultPlan())
    assert isinstance(store, DeletableBlobStore)
    src = tmp_path / "model.bin"
    src.write_bytes(_bytes(2 * CHUNK, seed=5))
    listed = await _upload(store, src, tmp_path, "wf-1")
    failed = await _upload(store, src, tmp_path, "wf-2")

    released = await store.release_blobs("wf-2", await _all_ids(store, failed))

    assert released.deleted == () and len(released.shared) == 3
    await _downloads_intact(store, listed, tmp_path / "copy.bin")


async def test_bytes_stored_without_naming_an_upload_are_never_deleted(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    data = _bytes(1000, seed=6)
    earlier = await store.put_blob(data)  # stored before holds were recorded, or by a bare put
    again = await store.put_blob(data, upload="wf-x")
    assert again.blob_id == earlier.blob_id and not again.newly_created

    released = await store.release_blobs("wf-x", [earlier.blob_id])

    assert released.unrecorded == (earlier.blob_id,) and released.deleted == ()
    assert await store.get_blob(earlier.blob_id) == data


async def test_a_blob_on_disk_from_before_holds_were_recorded_is_kept(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    data = _bytes(1000, seed=8)
    stored = await store.put_blob(data, upload="wf-old")
    # as an older version left it: the file, and no holds at all
    for hold in (store.root / "holds").rglob("*"):
        if hold.is_file():
            hold.unlink()
    await store.put_blob(data, upload="wf-new")

    released = await store.release_blobs("wf-new", [stored.blob_id])

    assert released.unrecorded == (stored.blob_id,)
    assert await store.get_blob(stored.blob_id) == data


async def test_release_says_what_was_missing_and_is_idempotent(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    stored = await store.put_blob(b"weights", upload="wf-1")
    first = await store.release_blobs("wf-1", [stored.blob_id, stored.blob_id])
    again = await store.release_blobs("wf-1", [stored.blob_id])
    assert first.deleted == (stored.blob_id,)
    assert again.missing == (stored.blob_id,) and again.deleted == ()
    assert not (store.root / "holds").exists() or not any(
        p.is_file() for p in (store.root / "holds").rglob("*")
    )
