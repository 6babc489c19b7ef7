"""``LocalVerifier``: the enclave in-process, jobs as asyncio tasks, records on disk."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from integrations.errors import (
    EnclaveUnavailable,
    SatyaError,
    VerificationError,
    VerificationFailed,
)
from integrations.tee.enclave import Enclave
from integrations.tee.failures import ModelRejected
from integrations.tee.jobstore import JobStore, job_id_for
from integrations.tee.port import EnclaveInfo, JobStatus, SignedResult, VerificationRequest
from integrations.tee.wire import RequestPayload, payload_of

Fault = Literal["enclave_down", "crash"]
_DONE = ("succeeded", "failed")


class LocalVerifier:
    """The ``Verifier`` port with the enclave running in this process.

    Job records live in ``state_dir/jobs`` so a restarted process still sees
    finished results; a job that was running when the process died reads as
    failed (``enclave_unavailable``) and the same idempotency key restarts it.
    ETAs come from bytes/s measured on past jobs (``state_dir/throughput.json``).

    ``fail_next`` (or ``fault=`` at construction) injects one failure into the
    next ``submit``: ``"enclave_down"`` makes it raise ``EnclaveUnavailable``;
    ``"crash"`` makes the job fail as if the enclave died.

    Example::

        verifier = LocalVerifier(enclave, state_dir=home / "verifier")
        job = await verifier.submit(VerificationRequest("blob-1"), idempotency_key="m1")
    """

    def __init__(self, enclave: Enclave, *, state_dir: Path, fault: Fault | None = None) -> None:
        self._enclave = enclave
        self._store = JobStore(state_dir)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._live: dict[str, dict[str, object]] = {}
        self.fail_next: Fault | None = fault

    async def info(self) -> EnclaveInfo:
        """The in-process enclave's key and debug attestation."""
        return self._enclave.info()

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        """Start (or find) the job for ``idempotency_key``."""
        job_id = job_id_for(idempotency_key)
        if job_id in self._tasks:
            return job_id
        stored = self._store.load(job_id)
        if stored is not None and stored.get("state") in _DONE and not stored.get("interrupted"):
            return job_id
        fault, self.fail_next = self.fail_next, None
        if fault == "enclave_down":
            raise EnclaveUnavailable("The local enclave is down (injected fault).")
        record: dict[str, object] = {
            "job_id": job_id,
            "idempotency_key": idempotency_key,
            "request": payload_of(request),
            "state": "queued",
            "fraction": 0.0,
            "message": "queued",
            "size": None,
            "inspect_started": None,
        }
        self._live[job_id] = record
        self._store.save(record)
        self._tasks[job_id] = asyncio.create_task(self._run(record, request, fault))
        return job_id

    async def _run(
        self, record: dict[str, object], request: VerificationRequest, fault: Fault | None
    ) -> None:
        """Run one job to its end and persist the outcome."""
        record["state"] = "running"

        def progress(fraction: float, message: str) -> None:
            record["fraction"], record["message"] = fraction, message

        def sized(nbytes: int) -> None:
            record["size"], record["inspect_started"] = nbytes, time.time()

        try:
            if fault == "crash":
                raise EnclaveUnavailable("The enclave crashed during verification (injected).")
            signed = await self._enclave.process(request, on_progress=progress, on_size=sized)
        except asyncio.CancelledError:
            # stopped mid-way (the process closing): interrupted, never "running" for ever;
            # the same idempotency key runs it again
            msg = "The verification was stopped before it ended; submit it again."
            self._fail(record, EnclaveUnavailable.code, msg, (msg,))
            record["interrupted"] = True
            self._store.save(record)
            raise
        except ModelRejected as exc:
            self._fail(record, exc.code, exc.message, exc.findings)
        except SatyaError as exc:
            self._fail(record, exc.code, exc.message, (exc.message,))
        except Exception as exc:  # an enclave bug must not leave the job running forever
            msg = f"The enclave failed unexpectedly ({type(exc).__name__})."
            self._fail(record, EnclaveUnavailable.code, msg, (msg,))
        else:
            record.update(state="succeeded", fraction=1.0, message="signed", result=asdict(signed))
            if self._enclave.last_throughput is not None:
                self._store.add_sample(*self._enclave.last_throughput)
        self._store.save(record)

    @staticmethod
    def _fail(
        record: dict[str, object], code: str, message: str, findings: tuple[str, ...]
    ) -> None:
        """Mark a record failed."""
        record.update(state="failed", failure_code=code, message=message, findings=list(findings))

    def _record(self, job_id: str) -> dict[str, object]:
        """The live record, else the stored one (orphans read as interrupted)."""
        if job_id in self._live:
            return self._live[job_id]
        stored = self._store.load(job_id)
        if stored is None:
            raise VerificationError(f"There is no verification job {job_id}.")
        if stored.get("state") not in _DONE:
            msg = "The verification was interrupted by a restart; submit it again."
            self._fail(stored, EnclaveUnavailable.code, msg, (msg,))
            stored["interrupted"] = True
        return stored

    async def status(self, job_id: str) -> JobStatus:
        """Progress of a job, with an ETA once its size and a throughput are known."""
        r = self._record(job_id)
        state = str(r["state"])
        fraction = float(r.get("fraction") or 0.0)  # type: ignore[arg-type]
        return JobStatus(
            job_id=job_id,
            state=state,  # type: ignore[arg-type]
            fraction=fraction,
            eta_s=self._eta(r)
            if state in ("queued", "running")
            else (0.0 if state == "succeeded" else None),
            message=str(r.get("message", "")),
            failure_code=r.get("failure_code") if state == "failed" else None,  # type: ignore[arg-type]
            findings=tuple(r.get("findings") or ()),  # type: ignore[arg-type]
        )

    def _eta(self, r: dict[str, object]) -> float | None:
        """Seconds left from the model size and the measured bytes/s; ``None`` if unknown."""
        rate = self._store.bytes_per_s()
        size, started = r.get("size"), r.get("inspect_started")
        if rate is None or not isinstance(size, int) or not isinstance(started, float):
            return None
        return max(0.0, size / rate - (time.time() - started))

    async def result(self, job_id: str) -> SignedResult:
        """The signed result; ``VerificationFailed`` (with ``findings``) for a failed job."""
        r = self._record(job_id)
        if r["state"] == "failed":
            findings = tuple(str(f) for f in r.get("findings") or ())  # type: ignore[attr-defined]
            if r.get("failure_code") == VerificationFailed.code:
                raise ModelRejected(findings)
            raise EnclaveUnavailable(str(r.get("message", "The verification failed.")))
        if r["state"] != "succeeded":
            raise VerificationError(f"Job {job_id} has not finished yet.")
        stored = r["result"]
        assert isinstance(stored, dict)
        findings = tuple(str(f) for f in stored.get("findings") or ())
        return SignedResult(**{**stored, "findings": findings})

    def request_of(self, job_id: str) -> VerificationRequest:
        """The request a job was submitted with."""
        return RequestPayload.model_validate(self._record(job_id)["request"]).to_request()

    async def aclose(self) -> None:
        """Cancel running jobs (their records stay, as interrupted)."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
