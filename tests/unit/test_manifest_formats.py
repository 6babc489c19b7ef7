"""Manifest and journal formats: uploads write format 2 (BLAKE3 per chunk, sha256 of the
file), and what format 1 stored (sha256 per chunk) still downloads and resumes."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from blake3 import blake3

from integrations.errors import FileProblem, IntegrityError
from integrations.storage.chunked import download_file, read_manifest, upload_file
from integrations.storage.faults import FaultPlan, FaultyBlobStore
from integrations.storage.journal import journal_path
from integrations.storage.local import LocalBlobStore
from integrations.storage.manifest import parse_manifest

KIB = 1024
CHUNK = 64 * KIB


def _make_file(path: Path, size: int, seed: int = 11) -> bytes:
    data = hashlib.shake_256(seed.to_bytes(4, "little")).digest(size)
    path.write_bytes(data)
    return data


def _pieces(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", max_blob_size=256 * KIB)


async def _store_v1(store: LocalBlobStore, name: str, data: bytes) -> str:
    """Store ``data`` as a format 1 upload wrote it (sha256 per chunk); the manifest's id."""
    chunks = []
    for index, piece in enumerate(_pieces(data)):
        stored = await store.put_blob(piece)
        chunks.append(
            {
                "index": index,
                "offset": index * CHUNK,
                "size": len(piece),
                "sha256": hashlib.sha256(piece).hexdigest(),
                "blob_id": stored.blob_id,
            }
        )
    manifest = {
        "format": "satya-manifest/1",
        "file_name": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "chunk_size": CHUNK,
        "chunks": chunks,
    }
    return (await store.put_blob(json.dumps(manifest).encode())).blob_id


async def test_an_upload_writes_format_2_with_blake3_chunks_and_the_files_sha256(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 4 * CHUNK + 99)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    raw = json.loads(await store.get_blob(result.manifest_blob_id))
    assert raw["format"] == "satya-manifest/2"
    assert raw["sha256"] == hashlib.sha256(data).hexdigest()
    assert [c["blake3"] for c in raw["chunks"]] == [blake3(p).hexdigest() for p in _pieces(data)]
    assert all("sha256" not in c for c in raw["chunks"])
    journal = json.loads(journal_path(tmp_path / "j", "s").read_text())
    assert journal["format"] == "satya-upload-journal/2"
    assert [journal["chunks"][str(i)]["blake3"] for i in range(5)] == [
        c["blake3"] for c in raw["chunks"]
    ]

    await download_file(store, result.manifest_blob_id, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data


async def test_a_format_1_manifest_still_downloads_verified(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    data = hashlib.shake_256(b"v1").digest(3 * CHUNK + 5)
    manifest_id = await _store_v1(store, "old.safetensors", data)
    manifest = await read_manifest(store, manifest_id)
    assert manifest.format == "satya-manifest/1"
    assert manifest.chunk_algorithm == "sha256"
    result = await download_file(store, manifest_id, tmp_path / "old.safetensors")
    assert (tmp_path / "old.safetensors").read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()

    # A damaged chunk of a format 1 upload is caught by its sha256.
    faulty = FaultyBlobStore(store, FaultPlan(corrupt_chunk=1))
    with pytest.raises(IntegrityError, match=r"Chunk 1 of 4 .*expected sha256"):
        await download_file(faulty, manifest_id, tmp_path / "again.bin")
    assert not (tmp_path / "again.bin").exists()


async def test_a_damaged_chunk_under_format_2_is_named_and_nothing_is_written(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 6 * CHUNK)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    dest = tmp_path / "copy.bin"
    dest.write_bytes(b"previous")
    expected = blake3(_pieces(data)[4]).hexdigest()
    faulty = FaultyBlobStore(store, FaultPlan(corrupt_chunk=4))
    with pytest.raises(
        IntegrityError, match=f"Chunk 4 of 6 .*expected blake3 {expected[:12]}… \\(65536 bytes\\)"
    ):
        await download_file(faulty, result.manifest_blob_id, dest, concurrency=3)
    assert dest.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


async def test_a_format_2_manifest_whose_chunk_digest_is_wrong_fails_that_chunk(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    """The chunk's BLAKE3 is what is checked: a manifest naming another digest fails."""
    src = tmp_path / "model.bin"
    _make_file(src, 3 * CHUNK)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    raw = json.loads(await store.get_blob(result.manifest_blob_id))
    raw["chunks"][2]["blake3"] = blake3(b"something else").hexdigest()
    forged = await store.put_blob(json.dumps(raw).encode())
    with pytest.raises(IntegrityError, match=r"Chunk 2 of 3 .*expected blake3"):
        await download_file(store, forged.blob_id, tmp_path / "copy.bin")
    assert not (tmp_path / "copy.bin").exists()


def test_a_manifest_mixing_the_formats_digests_is_refused() -> None:
    chunk = {"index": 0, "offset": 0, "size": 3, "blob_id": "x"}
    whole = hashlib.sha256(b"abc").hexdigest()
    base = {"file_name": "f", "size": 3, "sha256": whole, "chunk_size": 4}
    v2_with_sha256 = {**base, "format": "satya-manifest/2", "chunks": [{**chunk, "sha256": whole}]}
    with pytest.raises(IntegrityError, match="satya-manifest/2 chunks carry blake3"):
        parse_manifest(json.dumps(v2_with_sha256).encode(), "m")
    both = {**chunk, "sha256": whole, "blake3": blake3(b"abc").hexdigest()}
    with pytest.raises(IntegrityError, match="exactly one digest"):
        parse_manifest(json.dumps({**base, "chunks": [both]}).encode(), "m")


async def _journal_v1(
    store: LocalBlobStore, journal_dir: Path, src: Path, data: bytes, done: int
) -> None:
    """The journal a format 1 upload of ``src`` left after storing its first ``done`` chunks."""
    chunks = {}
    for index, piece in enumerate(_pieces(data)[:done]):
        stored = await store.put_blob(piece, upload="s")
        chunks[str(index)] = {
            "index": index,
            "offset": index * CHUNK,
            "size": len(piece),
            "sha256": hashlib.sha256(piece).hexdigest(),
            "blob_id": stored.blob_id,
            "cost_frost": None,
        }
    st = src.stat()
    state = {
        "format": "satya-upload-journal/1",
        "session_key": "s",
        "file_name": src.name,
        "file_size": st.st_size,
        "file_mtime_ns": st.st_mtime_ns,
        "chunk_size": CHUNK,
        "chunks": chunks,
        "manifest_blob_id": None,
    }
    path = journal_path(journal_dir, "s")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))


async def test_a_format_1_journal_resumes_and_the_upload_finishes_as_format_2(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 7 * CHUNK + 3)
    await _journal_v1(store, tmp_path / "j", src, data, done=3)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    assert result.bytes_skipped == 3 * CHUNK
    assert result.bytes_sent == len(data) - 3 * CHUNK
    manifest = await read_manifest(store, result.manifest_blob_id)
    assert manifest.format == "satya-manifest/2"
    assert [c.digest for c in manifest.chunks] == [blake3(p).hexdigest() for p in _pieces(data)]
    journal = json.loads(journal_path(tmp_path / "j", "s").read_text())
    assert journal["format"] == "satya-upload-journal/2"
    assert all("blake3" in c and c.get("sha256") is None for c in journal["chunks"].values())
    await download_file(store, result.manifest_blob_id, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data


async def test_a_format_1_journal_of_other_bytes_is_refused_by_its_sha256(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 4 * CHUNK)
    await _journal_v1(store, tmp_path / "j", src, data, done=2)
    st = src.stat()
    changed = bytearray(data)
    changed[CHUNK + 10] ^= 0x01  # chunk 1, same size and modification time
    src.write_bytes(bytes(changed))
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(FileProblem, match="chunk 1 differs"):
        await upload_file(store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK)
