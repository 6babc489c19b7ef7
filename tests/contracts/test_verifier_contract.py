"""One contract for every Verifier: the enclave in-process, and ``NautilusVerifier``
talking over loopback HTTP to ``satya enclave serve`` running as its own process.
Both fetch the models from the same local blob store."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from safetensors.numpy import save_file

from integrations.errors import VerificationError, VerificationFailed
from integrations.storage.chunked import download_file, upload_file
from integrations.storage.local import LocalBlobStore
from integrations.tee.attestation import TrustedEnclaves, verify_result
from integrations.tee.enclave import Enclave
from integrations.tee.local import LocalVerifier
from integrations.tee.nautilus import NautilusVerifier
from integrations.tee.port import JobStatus, VerificationRequest, Verifier


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo hi",))


@dataclass(frozen=True)
class _Blobs:
    """Models uploaded to a local blob store: ``ids[name]`` is the manifest blob id."""

    home: Path
    ids: dict[str, str]
    files: dict[str, Path]

    @property
    def store(self) -> LocalBlobStore:
        return LocalBlobStore(self.home / "blobs")


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> _Blobs:
    root = tmp_path_factory.mktemp("verifier-contract")
    good = root / "good.safetensors"
    save_file({"w": np.linspace(-1, 1, 256, dtype=np.float32)}, str(good), {"format": "np"})
    evil = root / "evil.pkl"
    evil.write_bytes(pickle.dumps({"m": _Evil()}, protocol=4))  # never loaded
    home = root / "home"
    files = {"good": good, "evil": evil}

    async def upload(name: str) -> str:
        store = LocalBlobStore(home / "blobs")
        done = await upload_file(
            store, files[name], journal_dir=root / "journal", session_key=name, chunk_size=4096
        )
        return done.manifest_blob_id

    ids = {name: asyncio.run(upload(name)) for name in files}
    return _Blobs(home, ids, files)


@pytest.fixture(scope="module")
def served_url(blobs: _Blobs) -> Iterator[str]:
    """``satya enclave serve`` as its own process, on a free loopback port, over ``blobs``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_", "SUI_"))}
    log = blobs.home.parent / "serve.log"
    command = [sys.executable, "-m", "agent.cli", "--home", str(blobs.home), "enclave", "serve"]
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=blobs.home.parent,
            env=env,
            stdout=sink,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"satya enclave serve exited: {log.read_text()}"
            try:
                if httpx.get(url + "/health_check", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "satya enclave serve did not answer"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["local", "satya-enclave-serve"])
async def verifier(
    request: pytest.FixtureRequest, tmp_path: Path, blobs: _Blobs
) -> AsyncIterator[Verifier]:
    v: Verifier
    if request.param == "local":
        store = blobs.store

        async def fetch(blob_id: str, dest: Path) -> None:
            await download_file(store, blob_id, dest)

        enclave = Enclave(fetch, workdir=tmp_path / "enclave")
        v = LocalVerifier(enclave, state_dir=tmp_path / "state")
    else:
        v = NautilusVerifier(request.getfixturevalue("served_url"))
    yield v
    await v.aclose()


async def _wait(v: Verifier, job: str) -> JobStatus:
    for _ in range(500):
        status = await v.status(job)
        if status.state in ("succeeded", "failed"):
            return status
        await asyncio.sleep(0.02)
    raise AssertionError("the job did not finish")


async def test_is_a_verifier(verifier: Verifier) -> None:
    assert isinstance(verifier, Verifier)


async def test_good_model_yields_a_trusted_result(verifier: Verifier, blobs: _Blobs) -> None:
    job = await verifier.submit(VerificationRequest(blobs.ids["good"]), idempotency_key="k1")
    status = await _wait(verifier, job)
    assert status.state == "succeeded" and status.fraction == 1.0
    signed = await verifier.result(job)
    info = await verifier.info()
    assert info.debug and signed.public_key == info.public_key
    digest = hashlib.sha256(blobs.files["good"].read_bytes()).hexdigest()
    verified = verify_result(
        signed,
        trusted=TrustedEnclaves.of(info),
        expected_model_digest=digest,
        expected_blob_id=blobs.ids["good"],
        max_age_s=60,
        now_ms=time.time_ns() // 1_000_000,
    )
    assert 0 <= verified.quality_score <= 100
    assert signed.data["model_type"] == "safetensors"


async def test_same_key_same_job(verifier: Verifier, blobs: _Blobs) -> None:
    a = await verifier.submit(VerificationRequest(blobs.ids["good"]), idempotency_key="same")
    b = await verifier.submit(VerificationRequest(blobs.ids["good"]), idempotency_key="same")
    c = await verifier.submit(VerificationRequest(blobs.ids["good"]), idempotency_key="other")
    assert a == b != c
    await _wait(verifier, a)
    await _wait(verifier, c)


async def test_dangerous_model_fails_with_findings(verifier: Verifier, blobs: _Blobs) -> None:
    job = await verifier.submit(VerificationRequest(blobs.ids["evil"]), idempotency_key="bad")
    status = await _wait(verifier, job)
    assert status.state == "failed" and status.failure_code == "verification_failed"
    assert any("posix.system" in f for f in status.findings)
    with pytest.raises(VerificationFailed) as caught:
        await verifier.result(job)
    assert "posix.system" in str(caught.value)


async def test_unknown_job(verifier: Verifier) -> None:
    with pytest.raises(VerificationError):
        await verifier.status("job-nope")
