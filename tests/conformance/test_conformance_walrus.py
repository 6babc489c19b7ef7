"""``satya walrus serve --exact-blob-ids`` answers as the official Walrus encoder does.

The official encoder is ``@mysten/walrus-wasm`` (walrus-core built to WASM):
each blob is encoded by it, and its blob id and encoded length (measured
from the slivers and metadata it wrote) must equal what the product's server
reports in ``blobId``, ``encodedLength`` and ``storageSize``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance_tools import run_node

from integrations.storage.cost import encoded_length, symbol_size

MIB = 1024 * 1024
SIZES = [0, 1, 1024, 3 * MIB, 64 * MIB]


def _blob(size: int) -> bytes:
    """The bytes walrus_encode.mjs encodes for ``size``: (i * 31 + 7) mod 256."""
    pattern = bytes((i * 31 + 7) & 0xFF for i in range(256))
    return (pattern * (size // 256 + 1))[:size]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def walrus_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``satya walrus serve --exact-blob-ids`` as a real process on a free loopback port."""
    root = tmp_path_factory.mktemp("walrus-serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_", "SUI_"))}
    env["SATYA_HOME"] = str(root / "home")
    command = [sys.executable, "-m", "agent.cli", "walrus", "serve", "--exact-blob-ids"]
    command += ["--port", str(port), "--data", str(root / "data")]
    command += ["--max-body-size", str(65 * MIB)]
    log = root / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"satya walrus serve exited: {log.read_text()}")
            try:
                if httpx.get(url + "/v1/api", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("satya walrus serve did not answer /v1/api")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def official() -> dict[int, dict[str, Any]]:
    claims = [{"size": n, "symbol_size": symbol_size(n)} for n in SIZES]
    rows = run_node("walrus_encode.mjs", stdin=json.dumps(claims), timeout=600)
    return {int(row["size"]): row for row in rows}


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES, ids=["0B", "1B", "1KiB", "3MiB", "64MiB"])
def test_served_lengths_and_ids_equal_the_official_encoder(
    walrus_serve: str, official: dict[int, dict[str, Any]], size: int
) -> None:
    row = official[size]
    assert "error" not in row, f"the official encoder rejected the product's slivers: {row}"
    assert row["symbol_size"] == symbol_size(size)
    assert encoded_length(size) == row["encoded_length"]

    answer = httpx.put(f"{walrus_serve}/v1/blobs?epochs=1", content=_blob(size), timeout=300)
    assert answer.status_code == 200, answer.text
    created = answer.json()["newlyCreated"]
    assert created["blobObject"]["blobId"] == row["blob_id"]
    assert created["blobObject"]["storage"]["storageSize"] == row["encoded_length"]
    assert (
        created["resourceOperation"]["registerFromScratch"]["encodedLength"]
        == row["encoded_length"]
    )
