"""LocalBlobStore specifics beyond the contract: layout, quota, corruption, atomicity."""

from pathlib import Path

import pytest

from integrations.errors import BlobNotFound, BlobTooLarge, InsufficientStorage, IntegrityError
from integrations.storage.atomic import TEMP_PREFIX
from integrations.storage.ids import decode_blob_id, exact_blob_id, fast_blob_id
from integrations.storage.local import LocalBlobStore


def _only_blob_file(root: Path) -> Path:
    holds = root / "holds"  # which uploads hold each blob (empty files), not blob data
    files = [p for p in root.rglob("*") if p.is_file() and holds not in p.parents]
    assert len(files) == 1
    return files[0]


async def test_blob_id_is_the_documented_fast_hash(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    blob = await store.put_blob(b"hello")
    assert blob.blob_id == fast_blob_id(b"hello")
    assert len(blob.blob_id) == 43
    raw = decode_blob_id(blob.blob_id)
    assert raw is not None
    assert _only_blob_file(tmp_path) == tmp_path / raw.hex()[:2] / raw.hex()[2:4] / raw.hex()


def test_exact_blob_id_matches_the_walrus_vector() -> None:
    assert exact_blob_id(b"some other string") == "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"


async def test_no_temp_files_are_left_behind(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    for i in range(5):
        await store.put_blob(bytes([i]) * 100)
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TEMP_PREFIX)]


async def test_quota_message_gives_the_sizes(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, quota_bytes=3000)
    await store.put_blob(b"a" * 2048)
    with pytest.raises(InsufficientStorage) as info:
        await store.put_blob(b"b" * 2048)
    assert "2.0 KiB" in str(info.value)
    assert "quota" in str(info.value)
    # a duplicate costs nothing and so still fits
    assert not (await store.put_blob(b"a" * 2048)).newly_created


async def test_quota_counts_blobs_stored_by_an_earlier_instance(tmp_path: Path) -> None:
    await LocalBlobStore(tmp_path).put_blob(b"x" * 2000)
    store = LocalBlobStore(tmp_path, quota_bytes=3000)
    assert await store.used_bytes() == 2000
    with pytest.raises(InsufficientStorage):
        await store.put_blob(b"y" * 1500)


async def test_too_large(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, max_blob_size=10)
    with pytest.raises(BlobTooLarge):
        await store.put_blob(b"x" * 11)
    assert (await store.put_blob(b"x" * 10)).size == 10


async def test_corruption_is_detected_and_repaired_by_a_new_put(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    blob = await store.put_blob(b"precious weights")
    path = _only_blob_file(tmp_path)
    path.write_bytes(b"precious weighTs")
    with pytest.raises(IntegrityError):
        await store.get_blob(blob.blob_id)
    assert not await store.has_blob(blob.blob_id)
    again = await store.put_blob(b"precious weights")
    assert again.newly_created
    assert await store.get_blob(blob.blob_id) == b"precious weights"


async def test_malformed_id_is_not_found(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFound):
        await store.get_blob("../../etc/passwd")
    assert not await store.has_blob("short")
