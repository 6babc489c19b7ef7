"""LocalVerifier specifics: persistence across restarts, ETA, injected faults, HTTP errors."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from safetensors.numpy import save_file

from integrations.errors import EnclaveUnavailable
from integrations.tee.enclave import Enclave
from integrations.tee.local import LocalVerifier
from integrations.tee.nautilus import NautilusVerifier
from integrations.tee.port import JobStatus, VerificationRequest, Verifier
from integrations.tee.server import create_app


def _enclave(tmp_path: Path) -> Enclave:
    model = tmp_path / "m.safetensors"
    save_file({"w": np.ones(1000, np.float32)}, str(model))

    async def fetch(_blob: str, dest: Path) -> None:
        shutil.copyfile(model, dest)

    return Enclave(fetch, workdir=tmp_path / "work")


async def _wait(v: Verifier, job: str) -> JobStatus:
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
        # Nautilus's fields, plus the unsigned words on what cost points (identical weights)
        assert set(body) == {"response", "signature", "findings"}
        assert body["response"]["intent"] == 0


async def test_findings_travel_with_the_signed_result_over_http(tmp_path: Path) -> None:
    model = tmp_path / "nan.safetensors"
    save_file({"w": np.full(1000, np.nan, np.float32)}, str(model))

    async def fetch(_blob: str, dest: Path) -> None:
        shutil.copyfile(model, dest)

    enclave = Enclave(fetch, workdir=tmp_path / "work")
    app = create_app(enclave)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://enclave"
    ) as client:
        remote = NautilusVerifier("http://enclave", client=client)
        job = await remote.submit(VerificationRequest("m"), idempotency_key="nan")
        assert (await _wait(remote, job)).state == "succeeded"
        over_http = await remote.result(job)
        await remote.aclose()
    local = LocalVerifier(enclave, state_dir=tmp_path / "state")
    job = await local.submit(VerificationRequest("m"), idempotency_key="nan")
    await _wait(local, job)
    in_process = await local.result(job)
    await local.aclose()
    for signed in (over_http, in_process):
        assert signed.data["quality_score"] == 47  # 20 + 20 + 0 NaN health + 0 metadata of 85
        assert signed.findings[0].startswith("1,000 weights are NaN (not a number)")
        assert "missing (format)" in signed.findings[1]


def _gated_enclave(tmp_path: Path, gate: asyncio.Event) -> Enclave:
    """Fetches a real model; a dataset blob named ``gated`` waits for ``gate``."""
    model = tmp_path / "m.safetensors"
    save_file({"w": np.ones(1000, np.float32)}, str(model))

    async def fetch(blob_id: str, dest: Path) -> None:
        if blob_id == "gated":
            await gate.wait()
            with dest.open("wb") as f:  # a path without .npz would get one appended
                np.savez(f, x=np.zeros((1, 1), np.float32), y=np.zeros(1))
        else:
            shutil.copyfile(model, dest)

    return Enclave(fetch, workdir=tmp_path / "work")


async def _until_running_with_eta(status_of: Callable[[], Awaitable[JobStatus]]) -> JobStatus:
    for _ in range(500):
        status = await status_of()
        if status.eta_s is not None:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("no ETA was ever reported")


async def test_running_job_reports_fraction_and_an_eta_from_stored_throughput(
    tmp_path: Path,
) -> None:
    gate = asyncio.Event()
    v = LocalVerifier(_gated_enclave(tmp_path, gate), state_dir=tmp_path / "state")
    first = await v.submit(VerificationRequest("m"), idempotency_key="measured")
    await _wait(v, first)
    (nbytes, seconds), *_ = json.loads((tmp_path / "state" / "throughput.json").read_text())
    assert nbytes == (tmp_path / "m.safetensors").stat().st_size and seconds > 0

    job = await v.submit(VerificationRequest("m", dataset_blob_id="gated"), idempotency_key="j")
    running = await _until_running_with_eta(lambda: v.status(job))
    assert running.state == "running" and 0.0 <= running.fraction < 1.0
    assert running.eta_s is not None and running.eta_s >= 0.0
    gate.set()
    done = await _wait(v, job)
    assert (done.state, done.fraction, done.eta_s) == ("succeeded", 1.0, 0.0)
    await v.aclose()


async def test_http_adapter_estimates_from_past_jobs_and_keeps_them(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app = create_app(_gated_enclave(tmp_path, gate))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://enclave"
    ) as client:
        v = NautilusVerifier("http://enclave", client=client, state_dir=tmp_path / "state")
        unmeasured = await v.submit(
            VerificationRequest("m", dataset_blob_id="gated"), idempotency_key="a"
        )
        first = await v.status(unmeasured)
        assert (first.state, first.fraction, first.eta_s) == ("running", 0.0, None)
        gate.set()
        await _wait(v, unmeasured)
        gate.clear()

        again = NautilusVerifier("http://enclave", client=client, state_dir=tmp_path / "state")
        job = await again.submit(
            VerificationRequest("m", dataset_blob_id="gated"), idempotency_key="b"
        )
        running = await _until_running_with_eta(lambda: again.status(job))
        assert running.state == "running" and 0.0 <= running.fraction <= 0.95
        assert running.eta_s is not None and running.eta_s >= 0.0
        gate.set()
        assert (await _wait(again, job)).state == "succeeded"
        await v.aclose()
        await again.aclose()


async def test_a_job_whose_task_is_cancelled_reads_as_interrupted_not_running(
    tmp_path: Path,
) -> None:
    """A job stopped mid-way (its task cancelled: the process closing) is recorded as
    interrupted at once, so nobody follows it at 0% for ever; the same key runs it again."""
    gate = asyncio.Event()
    v = LocalVerifier(_gated_enclave(tmp_path, gate), state_dir=tmp_path / "state")
    job = await v.submit(VerificationRequest("m", dataset_blob_id="gated"), idempotency_key="k")
    for _ in range(500):
        if (await v.status(job)).state == "running":
            break
        await asyncio.sleep(0.01)
    await v.aclose()  # cancels the running job
    stopped = await v.status(job)
    assert stopped.state == "failed" and stopped.failure_code == EnclaveUnavailable.code
    assert "submit it again" in stopped.message
    stored = json.loads((tmp_path / "state" / "jobs" / f"{job}.json").read_text())
    assert stored["state"] == "failed" and stored["interrupted"] is True
    gate.set()
    again = await v.submit(VerificationRequest("m", dataset_blob_id="gated"), idempotency_key="k")
    assert again == job and (await _wait(v, again)).state == "succeeded"
    await v.aclose()
