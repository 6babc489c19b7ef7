"""Chunked uploads to the local Walrus server over loopback: limits, balance, and kill -9."""

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.errors import BlobTooLarge, FileProblem, InsufficientStorage, IntegrityError
from integrations.storage.chunked import download_file, upload_file
from integrations.storage.cost import blob_storage_cost_frost
from integrations.storage.ids import decode_blob_id, encode_blob_id
from integrations.storage.journal import read_journal
from integrations.storage.port import FilePart, StoredBlob
from integrations.storage.retry import RetryNotice
from integrations.storage.server import ServerFaults, create_app
from integrations.storage.serving import BackgroundServer
from integrations.storage.walrus import WalrusBlobStore

MIB = 1024 * 1024
KIB = 1024


def _make_file(path: Path, size: int) -> bytes:
    data = hashlib.shake_256(path.name.encode()).digest(size)
    path.write_bytes(data)
    return data


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BackgroundServer]:
    app = create_app(data_dir=tmp_path / "srv", max_body_size=64 * KIB)
    with BackgroundServer(app) as running:
        yield running


@pytest.fixture
async def walrus(server: BackgroundServer) -> AsyncIterator[WalrusBlobStore]:
    store = WalrusBlobStore(server.url, server.url, max_blob_size=MIB)
    yield store
    await store.aclose()


async def test_round_trip_and_cost_over_http(tmp_path: Path, walrus: WalrusBlobStore) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 5 * 32 * KIB + 7)
    result = await upload_file(
        walrus, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=32 * KIB
    )
    chunk_costs = sum(blob_storage_cost_frost(c.size, epochs=1) for c in result.chunks)
    assert result.cost_frost is not None
    assert result.cost_frost > chunk_costs  # plus the manifest
    await download_file(walrus, result.manifest_blob_id, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data


async def test_413_from_a_small_server_limit_is_blob_too_large(
    tmp_path: Path, walrus: WalrusBlobStore
) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 256 * KIB)
    with pytest.raises(BlobTooLarge, match="413"):
        await upload_file(
            walrus,
            src,
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=128 * KIB,
            retries=3,
            backoff_s=0.001,
        )


async def test_insufficient_wal_balance_is_insufficient_storage(tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 4 * 32 * KIB)
    app = create_app(data_dir=tmp_path / "srv", max_body_size=MIB, wal_balance_frost=300_000)
    with BackgroundServer(app) as srv:
        store = WalrusBlobStore(srv.url, srv.url, max_blob_size=MIB)
        with pytest.raises(InsufficientStorage):
            await upload_file(
                store,
                src,
                journal_dir=tmp_path / "j",
                session_key="s",
                chunk_size=32 * KIB,
                concurrency=1,
            )
        await store.aclose()


CHILD = """
import asyncio, json, sys
from pathlib import Path
from integrations.storage.chunked import upload_file
from integrations.storage.walrus import WalrusBlobStore

async def main(url, path, journal_dir):
    store = WalrusBlobStore(url, url, max_blob_size=2 * 2**20)
    def report(p):
        print(json.dumps({"bytes_done": p.bytes_done}), flush=True)
    await upload_file(store, Path(path), journal_dir=Path(journal_dir), session_key="kill",
                      chunk_size=2**20, concurrency=4, on_progress=report)
    print(json.dumps({"done": True}), flush=True)

asyncio.run(main(*sys.argv[1:4]))
"""


def _stored_blob_ids(data_dir: Path) -> set[str]:
    return {
        encode_blob_id(bytes.fromhex(p.name))
        for p in (data_dir / "blobs").rglob("*")
        if p.is_file() and p.suffix == "" and len(p.name) == 64
    }


@pytest.mark.slow
async def test_sigkill_mid_upload_then_resume_resends_at_most_the_in_flight_chunks(
    tmp_path: Path,
) -> None:
    concurrency, chunk = 4, MIB
    src = tmp_path / "big.bin"
    data = _make_file(src, 64 * MIB)
    data_dir = tmp_path / "srv"
    app = create_app(
        data_dir=data_dir, max_body_size=2 * MIB, faults=ServerFaults(response_delay_s=0.05)
    )
    with BackgroundServer(app) as srv:
        repo_root = Path(__file__).resolve().parents[2]
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, srv.url, str(src), str(tmp_path / "j")],
            stdout=subprocess.PIPE,
            cwd=repo_root,
            env={**os.environ, "PYTHONPATH": str(repo_root)},
            text=True,
        )
        assert child.stdout is not None
        killed_at = 0
        for line in child.stdout:
            progress = json.loads(line)
            assert "done" not in progress, "the upload finished before it could be killed"
            if progress["bytes_done"] >= len(data) // 3:
                killed_at = progress["bytes_done"]
                child.send_signal(signal.SIGKILL)
                break
        child.wait(timeout=30)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        assert killed_at > 0

        before = _stored_blob_ids(data_dir)
        store = WalrusBlobStore(srv.url, srv.url, max_blob_size=2 * MIB)
        result = await upload_file(
            store,
            src,
            journal_dir=tmp_path / "j",
            session_key="kill",
            chunk_size=chunk,
            concurrency=concurrency,
        )
        new_bytes = sum(c.size for c in result.chunks if c.blob_id not in before)
        resent = result.bytes_sent - new_bytes
        assert result.bytes_skipped >= killed_at - concurrency * chunk
        assert 0 <= resent <= concurrency * chunk
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        await download_file(store, result.manifest_blob_id, tmp_path / "copy.bin")
        assert (tmp_path / "copy.bin").read_bytes() == data
        await store.aclose()


async def test_a_chunk_damaged_on_the_server_fails_the_download_and_leaves_dest_alone(
    tmp_path: Path, server: BackgroundServer, walrus: WalrusBlobStore
) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 4 * 32 * KIB + 5)
    result = await upload_file(
        walrus, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=32 * KIB
    )
    raw = decode_blob_id(result.chunks[2].blob_id)
    assert raw is not None
    name = raw.hex()
    stored = tmp_path / "srv" / "blobs" / name[:2] / name[2:4] / name
    damaged = bytearray(stored.read_bytes())
    damaged[100] ^= 0x01
    stored.write_bytes(bytes(damaged))
    dest = tmp_path / "copy.bin"
    dest.write_bytes(b"previous")
    with pytest.raises(IntegrityError, match="Chunk 2 of 5"):
        await download_file(walrus, result.manifest_blob_id, dest)
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.bin", "j", "model.bin", "srv"]

    stored.write_bytes(bytes(damaged) + b"longer")  # more bytes than the chunk holds
    with pytest.raises(IntegrityError, match=f"Chunk 2 of 5.*{32 * KIB + 6} bytes"):
        await download_file(walrus, result.manifest_blob_id, dest)
    assert dest.read_bytes() == b"previous"


class _RecordingWalrus(WalrusBlobStore):
    """The real store, noting the file parts it is handed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parts: list[FilePart] = []

    async def put_file_part(self, part: FilePart, *, epochs: int = 1) -> StoredBlob:
        self.parts.append(part)
        return await super().put_file_part(part, epochs=epochs)


@pytest.mark.parametrize("through", ["sendfile", "httpx's own transport"])
async def test_chunks_are_sent_straight_from_the_file(
    tmp_path: Path, server: BackgroundServer, through: str
) -> None:
    src = tmp_path / "model.bin"
    data = _make_file(src, 5 * 32 * KIB + 7)
    async with contextlib.AsyncExitStack() as stack:
        # A client of the caller's own goes through h11, which takes bytes: read in slices.
        client = (
            None if through == "sendfile" else await stack.enter_async_context(httpx.AsyncClient())
        )
        store = _RecordingWalrus(server.url, server.url, client=client, max_blob_size=MIB)
        stack.push_async_callback(store.aclose)
        result = await upload_file(
            store, src, journal_dir=tmp_path / "j", session_key="s", chunk_size=32 * KIB
        )
        offsets = sorted((p.offset, p.size) for p in store.parts)
        assert offsets == [(i * 32 * KIB, 32 * KIB) for i in range(5)] + [(5 * 32 * KIB, 7)]
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        await download_file(store, result.manifest_blob_id, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data


class _MeddledWalrus(WalrusBlobStore):
    """The real store; as the second part is about to be sent, its file is changed."""

    def __init__(self, url: str, change: str) -> None:
        super().__init__(url, url, max_blob_size=MIB)
        self.change = change
        self.calls = 0

    async def put_file_part(self, part: FilePart, *, epochs: int = 1) -> StoredBlob:
        self.calls += 1
        if self.calls == 2:
            with open(f"/proc/self/fd/{part.fd}", "r+b") as fh:
                if self.change == "truncated":  # sendfile runs out of file mid-part
                    fh.truncate(part.offset + 100)
                else:  # same size, other bytes than the ones hashed
                    fh.seek(part.offset)
                    fh.write(b"changed")
        return await super().put_file_part(part, epochs=epochs)


@pytest.mark.parametrize("change", ["written to", "truncated"])
async def test_a_file_changed_while_its_chunks_are_sent_is_refused(
    tmp_path: Path, server: BackgroundServer, change: str
) -> None:
    src = tmp_path / "model.bin"
    _make_file(src, 12 * 32 * KIB)
    old = time.time() - 3600  # so that a write in the upload's first clock tick shows
    os.utime(src, (old, old))
    store = _MeddledWalrus(server.url, change)
    retried: list[RetryNotice] = []
    started = time.monotonic()
    with pytest.raises(FileProblem, match="changed since this upload started"):
        await upload_file(
            store,
            src,
            journal_dir=tmp_path / "j",
            session_key="s",
            chunk_size=32 * KIB,
            concurrency=1,
            backoff_s=5,
            on_retry=retried.append,
        )
    await store.aclose()
    # refused at once, not retried as a network failure
    assert (retried, time.monotonic() - started < 2) == ([], True)
    journal, _ = read_journal(next((tmp_path / "j").iterdir()))
    assert sorted(journal.chunks) == [0]  # only the chunk sent before the change
    assert journal.manifest_blob_id is None
