"""Manifest and journal formats: uploads write format 3 (each chunk's digest the sha256 of
the file up to its end, the last one the file's sha256), and what formats 2 (BLAKE3 per
chunk) and 1 (sha256 per chunk) stored still downloads and resumes."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from blake3 import blake3

from integrations.errors import FileProblem, IntegrityError, StorageError
from integrations.storage.chunked import download_file, read_manifest, upload_file
from integrations.storage.faults import FaultPlan, FaultyBlobStore
from integrations.storage.journal import journal_path, read_journal
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


def _own_digest(algorithm: str, piece: bytes) -> str:
    return blake3(piece).hexdigest() if algorithm == "blake3" else hashlib.sha256(piece).hexdigest()


def _prefixes(data: bytes) -> list[str]:
    """What format 3 names each chunk by: the sha256 of the file up to the chunk's end."""
    return [hashlib.sha256(data[: i + CHUNK]).hexdigest() for i in range(0, len(data), CHUNK)]


async def _store_old(store: LocalBlobStore, name: str, data: bytes, fmt: int = 1) -> str:
    """Store ``data`` as a format 1 (sha256 per chunk) or 2 (BLAKE3 per chunk) upload wrote
    it; the manifest's id."""
    algorithm = "sha256" if fmt == 1 else "blake3"
    chunks = []
    for index, piece in enumerate(_pieces(data)):
        stored = await store.put_blob(piece)
        chunks.append(
            {
                "index": index,
                "offset": index * CHUNK,
                "size": len(piece),
                algorithm: _own_digest(algorithm, piece),
                "blob_id": stored.blob_id,
            }
        )
    manifest = {
        "format": f"satya-manifest/{fmt}",
        "file_name": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "chunk_size": CHUNK,
        "chunks": chunks,
    }
    return (await store.put_blob(json.dumps(manifest).encode())).blob_id


async def test_an_upload_writes_format_3_with_prefix_digests_and_the_files_sha256(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 4 * CHUNK + 99)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    raw = json.loads(await store.get_blob(result.manifest_blob_id))
    assert raw["format"] == "satya-manifest/3"
    assert raw["sha256"] == hashlib.sha256(data).hexdigest()
    assert [c["prefix_sha256"] for c in raw["chunks"]] == _prefixes(data)
    assert raw["chunks"][-1]["prefix_sha256"] == raw["sha256"]
    assert all("sha256" not in c and "blake3" not in c for c in raw["chunks"])
    journal, _ = read_journal(journal_path(tmp_path / "j", "s"))
    assert journal.format == "satya-upload-journal/4"
    assert [journal.chunks[i].prefix_sha256 for i in range(5)] == _prefixes(data)

    await download_file(store, result.manifest_blob_id, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data


@pytest.mark.parametrize(("fmt", "algorithm"), [(1, "sha256"), (2, "blake3")])
async def test_older_manifests_still_download_verified_by_their_own_chunk_digests(
    tmp_path: Path, store: LocalBlobStore, fmt: int, algorithm: str
) -> None:
    data = hashlib.shake_256(b"old").digest(3 * CHUNK + 5)
    manifest_id = await _store_old(store, "old.safetensors", data, fmt)
    manifest = await read_manifest(store, manifest_id)
    assert manifest.format == f"satya-manifest/{fmt}"
    assert manifest.chunk_algorithm == algorithm
    result = await download_file(store, manifest_id, tmp_path / "old.safetensors")
    assert (tmp_path / "old.safetensors").read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()

    # A damaged chunk of an older upload is caught by its own digest.
    faulty = FaultyBlobStore(store, FaultPlan(corrupt_chunk=1))
    with pytest.raises(IntegrityError, match=f"Chunk 1 of 4 .*expected {algorithm} "):
        await download_file(faulty, manifest_id, tmp_path / "again.bin")
    assert not (tmp_path / "again.bin").exists()


async def test_a_damaged_chunk_under_format_3_is_named_and_nothing_is_written(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 6 * CHUNK)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    dest = tmp_path / "copy.bin"
    dest.write_bytes(b"previous")
    expected = _prefixes(data)[4]
    faulty = FaultyBlobStore(store, FaultPlan(corrupt_chunk=4))
    with pytest.raises(
        IntegrityError,
        match=f"Chunk 4 of 6 .*expected prefix_sha256 {expected[:12]}… \\(65536 bytes\\)",
    ):
        await download_file(faulty, result.manifest_blob_id, dest, concurrency=3)
    assert dest.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


async def test_a_format_3_manifest_whose_chunk_digest_is_wrong_fails_that_chunk(
    tmp_path: Path, store: LocalBlobStore
) -> None:
    """Each chunk's prefix digest is checked, not only the file's sha256 at the end."""
    src = tmp_path / "model.bin"
    _make_file(src, 3 * CHUNK)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    raw = json.loads(await store.get_blob(result.manifest_blob_id))
    raw["chunks"][1]["prefix_sha256"] = hashlib.sha256(b"something else").hexdigest()
    forged = await store.put_blob(json.dumps(raw).encode())
    with pytest.raises(IntegrityError, match=r"Chunk 1 of 3 .*expected prefix_sha256"):
        await download_file(store, forged.blob_id, tmp_path / "copy.bin")
    assert not (tmp_path / "copy.bin").exists()


def test_a_manifest_mixing_the_formats_digests_is_refused() -> None:
    chunk = {"index": 0, "offset": 0, "size": 3, "blob_id": "x"}
    whole = hashlib.sha256(b"abc").hexdigest()
    base = {"file_name": "f", "size": 3, "sha256": whole, "chunk_size": 4}
    v2_with_sha256 = {**base, "format": "satya-manifest/2", "chunks": [{**chunk, "sha256": whole}]}
    with pytest.raises(IntegrityError, match="satya-manifest/2 chunks carry blake3"):
        parse_manifest(json.dumps(v2_with_sha256).encode(), "m")
    v3_with_blake3 = {**chunk, "blake3": blake3(b"abc").hexdigest()}
    with pytest.raises(IntegrityError, match="satya-manifest/3 chunks carry prefix_sha256"):
        parse_manifest(json.dumps({**base, "chunks": [v3_with_blake3]}).encode(), "m")
    both = {**chunk, "prefix_sha256": whole, "blake3": blake3(b"abc").hexdigest()}
    with pytest.raises(IntegrityError, match="exactly one digest"):
        parse_manifest(json.dumps({**base, "chunks": [both]}).encode(), "m")
    # In format 3 the last chunk's prefix is the whole file: anything else is refused.
    other = hashlib.sha256(b"abd").hexdigest()
    with pytest.raises(IntegrityError, match="not the file's sha256"):
        parse_manifest(
            json.dumps({**base, "chunks": [{**chunk, "prefix_sha256": other}]}).encode(), "m"
        )
    assert parse_manifest(
        json.dumps({**base, "chunks": [{**chunk, "prefix_sha256": whole}]}).encode(), "m"
    )


async def _journal_old(
    store: LocalBlobStore, journal_dir: Path, src: Path, data: bytes, done: int, fmt: int = 1
) -> None:
    """The journal (one JSON document) a format 1 (sha256 per chunk), 2 (BLAKE3) or 3
    (prefix sha256) upload of ``src`` left after storing its first ``done`` chunks."""
    algorithm = {1: "sha256", 2: "blake3", 3: "prefix_sha256"}[fmt]
    chunks = {}
    for index, piece in enumerate(_pieces(data)[:done]):
        stored = await store.put_blob(piece, upload="s")
        digest = _prefixes(data)[index] if fmt == 3 else _own_digest(algorithm, piece)
        chunks[str(index)] = {
            "index": index,
            "offset": index * CHUNK,
            "size": len(piece),
            algorithm: digest,
            "blob_id": stored.blob_id,
            "cost_frost": None,
        }
    st = src.stat()
    state = {
        "format": f"satya-upload-journal/{fmt}",
        "session_key": "s",
        "file_name": src.name,
        "file_size": st.st_size,
        "file_mtime_ns": st.st_mtime_ns,
        "chunk_size": CHUNK,
        "chunks": chunks,
        "manifest_blob_id": None,
    }
    path = journal_path(journal_dir, "s", legacy=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))


@pytest.mark.parametrize("fmt", [1, 2, 3])
async def test_an_older_journal_resumes_and_the_upload_finishes_as_format_4(
    tmp_path: Path, store: LocalBlobStore, fmt: int
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 7 * CHUNK + 3)
    await _journal_old(store, tmp_path / "j", src, data, done=3, fmt=fmt)
    result = await upload_file(
        store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK
    )
    assert result.bytes_skipped == 3 * CHUNK
    assert result.bytes_sent == len(data) - 3 * CHUNK
    manifest = await read_manifest(store, result.manifest_blob_id)
    assert manifest.format == "satya-manifest/3"
    assert [c.digest for c in manifest.chunks] == _prefixes(data)
    journal, _ = read_journal(journal_path(tmp_path / "j", "s"))
    assert journal.format == "satya-upload-journal/4"
    assert all(
        c.prefix_sha256 is not None and c.sha256 is None and c.blake3 is None
        for c in journal.chunks.values()
    )
    assert not journal_path(tmp_path / "j", "s", legacy=True).exists()  # written anew
    await download_file(store, result.manifest_blob_id, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data


@pytest.mark.parametrize("fmt", [1, 2, 3])
async def test_a_journal_of_other_bytes_is_refused_by_its_digest(
    tmp_path: Path, store: LocalBlobStore, fmt: int
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 4 * CHUNK)
    if fmt < 3:
        await _journal_old(store, tmp_path / "j", src, data, done=2, fmt=fmt)
    else:  # an interrupted upload of today's format: the journal has chunks 0 and 1
        faulty = FaultyBlobStore(
            store, FaultPlan(timeout_after_bytes=2 * CHUNK, timeout_requests=99)
        )
        with pytest.raises(StorageError):
            await upload_file(
                faulty,
                src,
                journal_dir=tmp_path / "j",
                session_key="s",
                chunk_size=CHUNK,
                concurrency=1,
                retries=0,
            )
        recorded = read_journal(journal_path(tmp_path / "j", "s"))[0].chunks
        assert sorted(recorded) == [0, 1]
    st = src.stat()
    changed = bytearray(data)
    changed[CHUNK + 10] ^= 0x01  # chunk 1, same size and modification time
    src.write_bytes(bytes(changed))
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(FileProblem, match="chunk 1 differs"):
        await upload_file(store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=CHUNK)
