"""One contract for every Verifier: in-process, and over real loopback HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from safetensors.numpy import save_file

from integrations.errors import VerificationError, VerificationFailed
from integrations.tee.attestation import TrustedEnclaves, verify_result
from integrations.tee.enclave import Enclave
from integrations.tee.local import LocalVerifier
from integrations.tee.nautilus import NautilusVerifier
from integrations.tee.port import JobStatus, VerificationRequest, Verifier
from integrations.tee.server import create_app


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo hi",))


@pytest.fixture
def blobs(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.safetensors"
    save_file({"w": np.linspace(-1, 1, 256, dtype=np.float32)}, str(good), {"format": "np"})
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"m": _Evil()}, protocol=4))  # never loaded
    return {"good": good, "evil": evil}


def _enclave(tmp_path: Path, blobs: dict[str, Path]) -> Enclave:
    async def fetch(blob_id: str, dest: Path) -> None:
        shutil.copyfile(blobs[blob_id], dest)

    return Enclave(fetch, workdir=tmp_path / "enclave")


@pytest.fixture
def server_url(tmp_path: Path, blobs: dict[str, Path]) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(_enclave(tmp_path, blobs))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(params=["local", "nautilus"])
async def verifier(
    request: pytest.FixtureRequest, tmp_path: Path, blobs: dict[str, Path]
) -> AsyncIterator[Verifier]:
    v: Verifier
    if request.param == "local":
        v = LocalVerifier(_enclave(tmp_path, blobs), state_dir=tmp_path / "state")
    else:
        v = NautilusVerifier(request.getfixturevalue("server_url"))
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


async def test_good_model_yields_a_trusted_result(
    verifier: Verifier, blobs: dict[str, Path]
) -> None:
    job = await verifier.submit(VerificationRequest("good"), idempotency_key="k1")
    status = await _wait(verifier, job)
    assert status.state == "succeeded" and status.fraction == 1.0
    signed = await verifier.result(job)
    info = await verifier.info()
    assert info.debug and signed.public_key == info.public_key
    digest = hashlib.sha256(blobs["good"].read_bytes()).hexdigest()
    verified = verify_result(
        signed,
        trusted=TrustedEnclaves.of(info),
        expected_model_digest=digest,
        expected_blob_id="good",
        max_age_s=60,
        now_ms=time.time_ns() // 1_000_000,
    )
    assert 0 <= verified.quality_score <= 100
    assert signed.data["model_type"] == "safetensors"


async def test_same_key_same_job(verifier: Verifier) -> None:
    a = await verifier.submit(VerificationRequest("good"), idempotency_key="same")
    b = await verifier.submit(VerificationRequest("good"), idempotency_key="same")
    c = await verifier.submit(VerificationRequest("good"), idempotency_key="other")
    assert a == b != c
    await _wait(verifier, a)
    await _wait(verifier, c)


async def test_dangerous_model_fails_with_findings(verifier: Verifier) -> None:
    job = await verifier.submit(VerificationRequest("evil"), idempotency_key="bad")
    status = await _wait(verifier, job)
    assert status.state == "failed" and status.failure_code == "verification_failed"
    assert any("posix.system" in f for f in status.findings)
    with pytest.raises(VerificationFailed) as caught:
        await verifier.result(job)
    assert "posix.system" in str(caught.value)


async def test_unknown_job(verifier: Verifier) -> None:
    with pytest.raises(VerificationError):
        await verifier.status("job-nope")
