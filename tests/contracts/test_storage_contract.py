"""One contract for every BlobStore: the local store and Walrus over real loopback HTTP.

The Walrus adapter runs against the server app in a thread and against
``satya walrus serve`` started as its own process, exactly as a user runs it.
"""

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from integrations.errors import BlobNotFound, BlobTooLarge
from integrations.storage.ids import decode_blob_id
from integrations.storage.local import LocalBlobStore
from integrations.storage.port import BlobStore
from integrations.storage.server import create_app
from integrations.storage.serving import BackgroundServer
from integrations.storage.walrus import WalrusBlobStore

LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def walrus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    app = create_app(data_dir=tmp_path_factory.mktemp("walrus"), max_body_size=LIMIT)
    with BackgroundServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def walrus_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``satya walrus serve`` as a process on a free loopback port; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("walrus-process")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from agent.cli import main; sys.exit(main())",
            "walrus",
            "serve",
            "--port",
            str(port),
            "--max-body-size",
            str(LIMIT),
            "--data",
            str(data),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v1/api", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "satya walrus serve exited"
            assert time.monotonic() < deadline, "satya walrus serve did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    # It says which blob ids it computes.
    assert "fast content-derived blob ids" in out


@pytest.fixture(params=["local", "walrus", "walrus_serve_process"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, walrus_server: BackgroundServer
) -> AsyncIterator[BlobStore]:
    made: BlobStore
    if request.param == "local":
        made = LocalBlobStore(tmp_path / "blobs", max_blob_size=LIMIT)
    elif request.param == "walrus":
        made = WalrusBlobStore(walrus_server.url, walrus_server.url, max_blob_size=LIMIT)
    else:
        url = request.getfixturevalue("walrus_process")
        made = WalrusBlobStore(url, url, max_blob_size=LIMIT)
    yield made
    await made.aclose()


def _unique(tag: str, size: int = 1000) -> bytes:
    # The module-scoped server outlives each test; tag data per test so repeats are real repeats.
    return (tag.encode() * (size // max(len(tag), 1) + 1))[:size]


async def test_is_a_blob_store(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)
    assert store.max_blob_size == LIMIT


async def test_put_then_get_round_trips(store: BlobStore) -> None:
    data = bytes(range(256)) * 7 + b"round-trip"
    blob = await store.put_blob(data, epochs=1)
    assert blob.size == len(data)
    assert decode_blob_id(blob.blob_id) is not None
    assert await store.get_blob(blob.blob_id) == data
    assert await store.has_blob(blob.blob_id)


async def test_same_bytes_same_id_and_not_newly_created(store: BlobStore) -> None:
    data = _unique("same-bytes")
    first = await store.put_blob(data)
    second = await store.put_blob(data)
    assert first.newly_created
    assert second.blob_id == first.blob_id
    assert not second.newly_created


async def test_different_bytes_different_ids(store: BlobStore) -> None:
    a = await store.put_blob(_unique("different-a"))
    b = await store.put_blob(_unique("different-b"))
    assert a.blob_id != b.blob_id


async def test_unknown_blob_is_not_found(store: BlobStore) -> None:
    unknown = "A" * 43
    with pytest.raises(BlobNotFound):
        await store.get_blob(unknown)
    assert not await store.has_blob(unknown)
    assert not await store.has_blob("not-a-blob-id")


async def test_blob_at_the_limit_fits_and_one_byte_more_does_not(store: BlobStore) -> None:
    at_limit = _unique("limit", LIMIT)
    assert (await store.put_blob(at_limit)).size == LIMIT
    with pytest.raises(BlobTooLarge):
        await store.put_blob(at_limit + b"!")


async def test_empty_blob(store: BlobStore) -> None:
    blob = await store.put_blob(b"")
    assert blob.size == 0
    assert await store.get_blob(blob.blob_id) == b""


async def test_concurrent_puts(store: BlobStore) -> None:
    datas = [_unique(f"concurrent-{i}", 20_000) for i in range(8)]
    blobs = await asyncio.gather(*(store.put_blob(d) for d in datas))
    assert len({b.blob_id for b in blobs}) == 8
    for blob, data in zip(blobs, datas, strict=True):
        assert await store.get_blob(blob.blob_id) == data
