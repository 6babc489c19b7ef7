"""Chunked upload and download over a real store: round trip, resume, refusals, integrity."""

import hashlib
import os
from pathlib import Path

import pytest

from integrations.errors import (
    BlobTooLarge,
    FileProblem,
    InsufficientStorage,
    IntegrityError,
    NetworkTimeout,
)
from integrations.storage.chunked import download_file, read_manifest, upload_file
from integrations.storage.faults import FaultPlan, FaultyBlobStore
from integrations.storage.journal import journal_path, read_journal
from integrations.storage.local import LocalBlobStore
from integrations.storage.progress import TransferProgress

KIB = 1024
CHUNK = 64 * KIB


def _make_file(path: Path, size: int, seed: int = 7) -> bytes:
    data = hashlib.shake_256(seed.to_bytes(4, "little")).digest(size)
    path.write_bytes(data)
    return data


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", max_blob_size=256 * KIB)


async def test_round_trip_of_a_multi_chunk_file(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 10 * CHUNK + 123)
    events: list[TransferProgress] = []
    result = await upload_file(
        store,
        src,
        journal_dir=tmp_path / "j",
        session_key="s1",
        chunk_size=CHUNK,
        on_progress=events.append,
    )
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert len(result.chunks) == 11
    assert result.bytes_sent == len(data)
    assert result.bytes_skipped == 0
    assert events[-1].bytes_done == len(data)
    assert events[-1].chunks_done == events[-1].chunks_total == 11

    manifest = await read_manifest(store, result.manifest_blob_id)
    assert manifest.file_name == "model.bin"
    assert [c.blob_id for c in manifest.chunks] == [c.blob_id for c in result.chunks]

    dest = tmp_path / "out" / "copy.bin"
    downloaded = await download_file(store, result.manifest_blob_id, dest)
    assert dest.read_bytes() == data
    assert downloaded.sha256 == result.sha256
    assert [p.name for p in dest.parent.iterdir()] == ["copy.bin"]


async def test_empty_file_round_trips(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "empty.bin"
    src.write_bytes(b"")
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="e", chunk_size=CHUNK
    )
    await download_file(store, result.manifest_blob_id, tmp_path / "e2")
    assert (tmp_path / "e2").read_bytes() == b""


async def test_timeout_at_60_percent_then_resume_sends_only_the_rest(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 20 * CHUNK)
    threshold = int(len(data) * 0.6)
    faulty = FaultyBlobStore(store, FaultPlan(timeout_after_bytes=threshold, timeout_requests=1000))
    with pytest.raises(NetworkTimeout):
        await upload_file(
            faulty,
            src,
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=CHUNK,
            concurrency=4,
            retries=2,
            backoff_s=0.001,
        )
    assert faulty.bytes_accepted >= threshold
    assert faulty.puts_failed >= 3  # the failing chunk: first try and two retries

    journal, _ = read_journal(journal_path(tmp_path / "j", "s"))
    assert sum(c.size for c in journal.chunks.values()) == faulty.bytes_accepted

    events: list[TransferProgress] = []
    result = await upload_file(
        store,
        src,
        journal_dir=tmp_path / "j",
        session_key="s",
        chunk_size=CHUNK,
        concurrency=4,
        on_progress=events.append,
    )
    assert result.bytes_skipped == faulty.bytes_accepted
    assert result.bytes_sent == len(data) - faulty.bytes_accepted
    assert result.bytes_sent <= len(data) - threshold
    assert events[-1].resumed_bytes == faulty.bytes_accepted
    await download_file(store, result.manifest_blob_id, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data


async def test_short_outage_is_ridden_out_by_retries(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 8 * CHUNK)
    faulty = FaultyBlobStore(store, FaultPlan(timeout_after_bytes=2 * CHUNK, timeout_requests=2))
    result = await upload_file(
        faulty,
        src,
        journal_dir=tmp_path / "j",
        session_key="s",
        chunk_size=CHUNK,
        concurrency=1,
        retries=3,
        backoff_s=0.001,
    )
    assert faulty.puts_failed == 2
    assert result.bytes_sent == len(data)


async def test_permanent_errors_are_not_retried(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 4 * CHUNK)
    faulty = FaultyBlobStore(store, FaultPlan(insufficient_storage=True))
    with pytest.raises(InsufficientStorage):
        await upload_file(
            faulty,
            src,
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=CHUNK,
            concurrency=1,
            retries=5,
            backoff_s=0.001,
        )
    assert faulty.puts_failed == 1


async def test_changed_file_is_refused_on_resume(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 6 * CHUNK)
    faulty = FaultyBlobStore(store, FaultPlan(timeout_after_bytes=2 * CHUNK, timeout_requests=99))
    with pytest.raises(NetworkTimeout):
        await upload_file(
            faulty,
            src,
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=CHUNK,
            concurrency=1,
            retries=0,
        )
    _make_file(src, 6 * CHUNK, seed=8)
    with pytest.raises(FileProblem, match="changed"):
        await upload_file(store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK)


async def test_same_size_and_mtime_but_different_bytes_is_still_refused(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 6 * CHUNK)
    faulty = FaultyBlobStore(store, FaultPlan(timeout_after_bytes=2 * CHUNK, timeout_requests=99))
    with pytest.raises(NetworkTimeout):
        await upload_file(
            faulty,
            src,
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=CHUNK,
            concurrency=1,
            retries=0,
        )
    st = src.stat()
    _make_file(src, 6 * CHUNK, seed=9)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(FileProblem, match="chunk 0 differs"):
        await upload_file(store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK)


async def test_chunk_size_over_the_store_limit(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 10)
    with pytest.raises(BlobTooLarge):
        await upload_file(
            store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=512 * KIB
        )


async def test_missing_file(tmp_path: Path, store: LocalBlobStore) -> None:
    with pytest.raises(FileProblem, match="does not exist"):
        await upload_file(
            store,
            tmp_path / "nope",
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=CHUNK,
        )


async def test_corrupted_chunk_on_download_names_the_chunk(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 5 * CHUNK)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    dest = tmp_path / "copy.bin"
    dest.write_bytes(b"previous version")
    # get 0 is the manifest, get 3 is chunk 2
    faulty = FaultyBlobStore(store, FaultPlan(corrupt_get_index=3))
    with pytest.raises(IntegrityError, match="Chunk 2 "):
        await download_file(faulty, result.manifest_blob_id, dest, concurrency=2)
    assert dest.read_bytes() == b"previous version"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


async def test_a_chunk_is_not_a_manifest(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 2 * CHUNK)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    with pytest.raises(IntegrityError, match="is not a Satya manifest"):
        await read_manifest(store, result.chunks[0].blob_id)


async def test_rerun_after_success_sends_nothing(tmp_path: Path, store: LocalBlobStore) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 3 * CHUNK)
    first = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    again = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    assert again.manifest_blob_id == first.manifest_blob_id
    assert again.bytes_sent == 0
    assert again.bytes_skipped == len(data)
