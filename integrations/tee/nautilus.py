"""``NautilusVerifier``: the ``Verifier`` port against a server speaking the Nautilus endpoints.

Jobs are background tasks around one ``POST /process_data`` each. The enclave's
key comes from ``/health_check`` just before the request; the result is only
trusted after ``attestation.verify_result``. The endpoint reports no progress,
so a running job's ``fraction`` and ``eta_s`` are estimated from the measured
durations of past jobs (kept in ``state_dir`` when one is given).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from integrations.errors import (
    EnclaveUnavailable,
    SatyaError,
    VerificationError,
    VerificationFailed,
)
from integrations.tee.enclave import ATTESTATION_KIND
from integrations.tee.failures import ModelRejected
from integrations.tee.jobstore import JobStore, job_id_for
from integrations.tee.port import EnclaveInfo, JobStatus, SignedResult, VerificationRequest
from integrations.tee.wire import payload_of, result_of


@dataclass
class _Job:
    """One in-flight or finished request."""

    task: asyncio.Task[SignedResult]
    started: float


class NautilusVerifier:
    """Talks to ``base_url`` (``/health_check``, ``/get_attestation``, ``/process_data``).

    Pass an ``httpx.AsyncClient`` to control transport and timeouts; otherwise
    one is created with ``timeout_s`` and closed by ``aclose``.

    Example::

        verifier = NautilusVerifier("http://127.0.0.1:3000")
        job = await verifier.submit(VerificationRequest("blob-1"), idempotency_key="m1")
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 600.0,
        state_dir: Path | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._own = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout_s)
        self._jobs: dict[str, _Job] = {}
        self._store = JobStore(state_dir) if state_dir is not None else None
        self._durations: list[float] = []  # this process's measured jobs, without a store

    async def _get(self, path: str) -> dict[str, object]:
        """GET a JSON object, translating transport errors."""
        try:
            response = await self._client.get(self._base + path)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            msg = f"The enclave at {self._base} did not answer {path} ({type(exc).__name__})."
            raise EnclaveUnavailable(msg) from exc
        if not isinstance(body, dict):
            raise EnclaveUnavailable(f"The enclave's {path} answer is not a JSON object.")
        return body

    async def info(self) -> EnclaveInfo:
        """Key and attestation; PCRs are read from a local debug document only.

        A real Nitro document (CBOR, signed by AWS) is returned as-is with empty
        PCRs: it must be checked where the enclave is registered (on chain).
        """
        health = await self._get("/health_check")
        attestation = str((await self._get("/get_attestation")).get("attestation", ""))
        status = health.get("endpoints_status")
        extra = {str(k): bool(v) for k, v in status.items()} if isinstance(status, dict) else {}
        pcrs, debug = ("", "", ""), False
        try:
            doc = json.loads(bytes.fromhex(attestation))
            if isinstance(doc, dict) and doc.get("kind") == ATTESTATION_KIND:
                p = doc["pcrs"]
                pcrs, debug = (str(p["pcr0"]), str(p["pcr1"]), str(p["pcr2"])), True
        except (ValueError, KeyError, TypeError):
            pass
        return EnclaveInfo(str(health.get("pk", "")), pcrs, debug, attestation, extra)

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        """Start the request in the background; the same key returns the same job."""
        job_id = job_id_for(idempotency_key)
        if job_id not in self._jobs:
            task = asyncio.create_task(self._process(request))
            job = _Job(task, time.monotonic())
            self._jobs[job_id] = job
            task.add_done_callback(lambda t: self._measured(t, job.started))
        return job_id

    def _measured(self, task: asyncio.Task[SignedResult], started: float) -> None:
        """Keep a succeeded job's duration (and model size) for later estimates."""
        if task.cancelled() or task.exception() is not None:
            return
        seconds = time.monotonic() - started
        metrics = task.result().data.get("performance_metrics")
        size = metrics.get("file_size_bytes") if isinstance(metrics, dict) else None
        if self._store is not None:
            self._store.add_sample(size if isinstance(size, int) else 0, seconds)
        self._durations.append(seconds)

    def _expected_s(self) -> float | None:
        """Mean duration of past jobs, from the store when there is one."""
        if self._store is not None and (mean := self._store.mean_seconds()) is not None:
            return mean
        return sum(self._durations) / len(self._durations) if self._durations else None

    async def _process(self, request: VerificationRequest) -> SignedResult:
        """One ``POST /process_data``, its errors mapped onto the error hierarchy."""
        public_key = str((await self._get("/health_check")).get("pk", ""))
        try:
            response = await self._client.post(
                self._base + "/process_data", json={"payload": payload_of(request)}
            )
        except httpx.HTTPError as exc:
            msg = f"The enclave is unreachable ({type(exc).__name__})."
            raise EnclaveUnavailable(msg) from exc
        try:
            body = response.json()
        except json.JSONDecodeError:
            body = {}
        if response.status_code == 400 and isinstance(body, dict):
            findings = body.get("findings")
            if isinstance(findings, list) and findings:
                raise ModelRejected(tuple(str(f) for f in findings))
            raise VerificationFailed(str(body.get("error", "The enclave refused the model.")))
        if response.status_code != 200:
            raise EnclaveUnavailable(f"The enclave answered HTTP {response.status_code}.")
        try:
            return result_of(body, public_key)
        except ValueError as exc:
            raise EnclaveUnavailable(f"The enclave's answer is malformed: {exc}.") from exc

    def _job(self, job_id: str) -> _Job:
        """The job, or ``VerificationError`` for an unknown id."""
        job = self._jobs.get(job_id)
        if job is None:
            raise VerificationError(f"There is no verification job {job_id}.")
        return job

    async def status(self, job_id: str) -> JobStatus:
        """Running until the response arrives; fraction and ETA from past jobs' durations
        (``eta_s`` is ``None`` until one job was measured)."""
        job = self._job(job_id)
        if not job.task.done():
            expected = self._expected_s()
            if expected is None:
                return JobStatus(job_id, "running", 0.0, None, "waiting for the enclave")
            elapsed = time.monotonic() - job.started
            fraction = min(0.95, elapsed / expected) if expected > 0 else 0.0
            eta = max(0.0, expected - elapsed)
            return JobStatus(job_id, "running", fraction, eta, "waiting for the enclave")
        exc = job.task.exception()
        if exc is None:
            return JobStatus(job_id, "succeeded", 1.0, 0.0, "signed")
        code = exc.code if isinstance(exc, SatyaError) else EnclaveUnavailable.code
        findings = exc.findings if isinstance(exc, ModelRejected) else (str(exc),)
        return JobStatus(job_id, "failed", 1.0, None, str(exc), code, findings)

    async def result(self, job_id: str) -> SignedResult:
        """The signed result; re-raises the job's ``VerificationError``."""
        job = self._job(job_id)
        if not job.task.done():
            raise VerificationError(f"Job {job_id} has not finished yet.")
        exc = job.task.exception()
        if exc is not None:
            if isinstance(exc, SatyaError):
                raise exc
            raise EnclaveUnavailable(f"The verification failed ({type(exc).__name__}).")
        return job.task.result()

    async def aclose(self) -> None:
        """Cancel pending jobs and close the client if this verifier made it."""
        for job in self._jobs.values():
            job.task.cancel()
        await asyncio.gather(*(j.task for j in self._jobs.values()), return_exceptions=True)
        if self._own:
            await self._client.aclose()
