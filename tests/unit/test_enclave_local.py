"""LocalVerifier specifics: persistence across restarts, ETA, injected faults, HTTP errors."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from safetensors.numpy import save_file

from integrations.errors import EnclaveUnavailable
from integrations.tee.enclave import Enclave
from integrations.tee.local import LocalVerifier
from integrations.tee.port import JobStatus, VerificationRequest
from integrations.tee.server import create_app


def _enclave(tmp_path: Path) -> Enclave:
    model = tmp_path / "m.safetensors"
    save_file({"w": np.ones(1000, np.float32)}, str(model))

    async def fetch(_blob: str, dest: Path) -> None:
        shutil.copyfile(model, dest)

    return Enclave(fetch, workdir=tmp_path / "work")


async def _wait(v: LocalVerifier, job: str) -> JobStatus:
    for _ in range(500):
        status = await v.status(job)
        if status.state in ("succeeded", "failed"):
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("the job did not finish")


async def test_results_survive_a_restart_and_eta_is_measured(tmp_path: Path) -> None:
    first = LocalVerifier(_enclave(tmp_path), state_dir=tmp_path / "state")
    job = await first.submit(VerificationRequest("b"), idempotency_key="k")
    assert (await first.status(job)).eta_s is None  # nothing measured yet
    await _wait(first, job)
    signed = await first.result(job)
    await first.aclose()
    assert (tmp_path / "state" / "throughput.json").is_file()

    second = LocalVerifier(_enclave(tmp_path), state_dir=tmp_path / "state")
    assert await second.submit(VerificationRequest("b"), idempotency_key="k") == job
    assert await second.result(job) == signed
    assert second._store.bytes_per_s() is not None


async def test_enclave_down_is_one_shot(tmp_path: Path) -> None:
    v = LocalVerifier(_enclave(tmp_path), state_dir=tmp_path / "s", fault="enclave_down")
    with pytest.raises(EnclaveUnavailable):
        await v.submit(VerificationRequest("b"), idempotency_key="k")
    job = await v.submit(VerificationRequest("b"), idempotency_key="k")
    assert (await _wait(v, job)).state == "succeeded"


async def test_crash_fails_the_job_and_resubmit_is_idempotent(tmp_path: Path) -> None:
    v = LocalVerifier(_enclave(tmp_path), state_dir=tmp_path / "s")
    v.fail_next = "crash"
    job = await v.submit(VerificationRequest("b"), idempotency_key="k")
    status = await _wait(v, job)
    assert status.state == "failed" and status.failure_code == "enclave_unavailable"
    with pytest.raises(EnclaveUnavailable):
        await v.result(job)


async def test_server_rejects_bad_input(tmp_path: Path) -> None:
    app = create_app(_enclave(tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://enclave") as client:
        assert (await client.get("/")).text == "Pong!"
        health = (await client.get("/health_check")).json()
        assert len(health["pk"]) == 64
        bad = await client.post("/process_data", json={"payload": {"nope": 1}})
        assert bad.status_code == 400 and "error" in bad.json()
        ok = await client.post("/process_data", json={"payload": {"model_blob_id": "b"}})
        body = ok.json()
        assert set(body) == {"response", "signature"} and body["response"]["intent"] == 0
