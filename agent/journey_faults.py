"""Faults a scripted journey can inject, as wrappers around the real adapters."""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from flows.services import Services
from integrations.chain.faults import FaultyLedger
from integrations.chain.fixed_terms import FixedTermsLedger
from integrations.chain.port import Ledger
from integrations.errors import ConfigurationError, EnclaveUnavailable, VerificationFailed
from integrations.storage.faults import FaultPlan, FaultyBlobStore
from integrations.tee.local import LocalVerifier
from integrations.tee.port import (
    EnclaveInfo,
    JobStatus,
    SignedResult,
    VerificationRequest,
    Verifier,
)


class Strict(BaseModel):
    """A journey script's part: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class StorageFaults(Strict):
    timeout_at: float | None = Field(default=None, gt=0, lt=1)
    requests: int = 1
    insufficient_storage: bool = False
    delay_s: float = Field(default=0.0, ge=0, le=10)
    corrupt_chunk: int | None = Field(default=None, ge=0)  # served with a flipped bit on download


class VerifierFaults(Strict):
    tamper: bool = False
    # enclave_down: the first submission is refused; crash: the first job dies mid-way;
    # verdict: every job ends with the enclave rejecting the file (its verdict on the content)
    fail: Literal["enclave_down", "crash", "verdict"] | None = None
    slow_s: float = Field(default=0.0, ge=0, le=120)  # each job takes at least this long
    hang: bool = False  # every job stops progressing at 30% and never ends (a hung enclave)


class LedgerFaults(Strict):
    # queries that raise ChainUnavailable, e.g. [events]: the dashboard's platform metrics fail
    unavailable: list[Literal["balance", "get_object", "owned_objects", "listings", "events"]] = (
        Field(default_factory=list)
    )
    # writes whose first N calls find the node down (ChainUnavailable, nothing executed)
    writes_down: dict[Literal["upload_model", "list_on_marketplace", "reprice"], int] = Field(
        default_factory=dict
    )
    # writes whose first N calls execute and then never confirm (past their deadline: late)
    writes_late: dict[Literal["upload_model", "list_on_marketplace", "reprice"], int] = Field(
        default_factory=dict
    )
    # listings keep the upload's price and text, as on a live Sui network
    terms_fixed_at_upload: bool = False


class Faults(Strict):
    storage: StorageFaults | None = None
    verifier: VerifierFaults | None = None
    ledger: LedgerFaults | None = None


class VerifierWrapper:
    """Forwards the whole ``Verifier`` port to ``inner``; faults override one method."""

    def __init__(self, inner: Verifier) -> None:
        self.inner = inner

    async def info(self) -> EnclaveInfo:
        return await self.inner.info()

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        return await self.inner.submit(request, idempotency_key=idempotency_key)

    async def status(self, job_id: str) -> JobStatus:
        return await self.inner.status(job_id)

    async def result(self, job_id: str) -> SignedResult:
        return await self.inner.result(job_id)

    async def aclose(self) -> None:
        await self.inner.aclose()


class TamperingVerifier(VerifierWrapper):
    """Forwards to a real verifier, then alters the signed data (the signature no longer fits)."""

    async def result(self, job_id: str) -> SignedResult:
        real = await self.inner.result(job_id)
        score = int(str(real.data.get("quality_score", 0)))
        data = {**real.data, "quality_score": 100 if score != 100 else 99}
        return dataclasses.replace(real, data=data)


class DownVerifier(VerifierWrapper):
    """An enclave that cannot be reached for the first ``failures`` submissions."""

    def __init__(self, inner: Verifier, failures: int = 1) -> None:
        super().__init__(inner)
        self.failures = failures

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise EnclaveUnavailable("The enclave did not answer (connection refused).")
        return await self.inner.submit(request, idempotency_key=idempotency_key)


class SlowVerifier(VerifierWrapper):
    """A real verifier whose jobs take at least ``min_s`` seconds (a long verification)."""

    def __init__(self, inner: Verifier, min_s: float) -> None:
        super().__init__(inner)
        self.min_s = min_s
        self._started: dict[str, float] = {}

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        job_id = await self.inner.submit(request, idempotency_key=idempotency_key)
        self._started.setdefault(job_id, time.monotonic())
        return job_id

    async def status(self, job_id: str) -> JobStatus:
        real = await self.inner.status(job_id)
        elapsed = time.monotonic() - self._started.get(job_id, float("-inf"))
        if real.state not in ("succeeded", "failed") or elapsed >= self.min_s:
            return real
        return dataclasses.replace(
            real,
            state="running",
            fraction=min(real.fraction, elapsed / self.min_s),
            eta_s=self.min_s - elapsed,
        )


class RejectingVerifier(VerifierWrapper):
    """A real verifier whose finished jobs read as the enclave's rejection of the file."""

    async def status(self, job_id: str) -> JobStatus:
        real = await self.inner.status(job_id)
        if real.state != "succeeded":
            return real
        finding = "numeric health: 100% of the weights are NaN (injected verdict)"
        return dataclasses.replace(
            real,
            state="failed",
            failure_code=VerificationFailed.code,
            message=finding,
            findings=(finding,),
        )


class HungVerifier(VerifierWrapper):
    """A real verifier whose jobs are reported running at 30% forever (a hung enclave)."""

    async def status(self, job_id: str) -> JobStatus:
        real = await self.inner.status(job_id)
        return dataclasses.replace(
            real,
            state="running",
            fraction=min(real.fraction, 0.3),
            eta_s=None,
            message="inspecting",
            failure_code=None,
        )


def apply_faults(services: Services, faults: Faults, *, model_bytes: int) -> Services:
    """Wrap the adapters named by ``faults``; the rest stay as they are."""
    if faults.storage is not None:
        s = faults.storage
        plan = FaultPlan(
            timeout_after_bytes=int(model_bytes * s.timeout_at) if s.timeout_at else None,
            timeout_requests=s.requests,
            insufficient_storage=s.insufficient_storage,
            delay_s=s.delay_s,
            corrupt_chunk=s.corrupt_chunk,
        )
        services = dataclasses.replace(services, storage=FaultyBlobStore(services.storage, plan))
    if faults.verifier is not None:
        v = faults.verifier
        if v.tamper:
            services = dataclasses.replace(services, verifier=TamperingVerifier(services.verifier))
        elif v.fail == "enclave_down":
            services = dataclasses.replace(services, verifier=DownVerifier(services.verifier))
        elif v.fail == "verdict":
            services = dataclasses.replace(services, verifier=RejectingVerifier(services.verifier))
        elif v.fail == "crash":
            if not isinstance(services.verifier, LocalVerifier):
                raise ConfigurationError("The 'crash' fault needs the local verifier.")
            services.verifier.fail_next = "crash"  # the real enclave's own fault switch
        if v.hang:
            services = dataclasses.replace(services, verifier=HungVerifier(services.verifier))
        if v.slow_s:
            slow = SlowVerifier(services.verifier, v.slow_s)
            services = dataclasses.replace(services, verifier=slow)
    if faults.ledger is not None:
        ledger: Ledger = services.ledger
        if faults.ledger.terms_fixed_at_upload:
            ledger = FixedTermsLedger(ledger)
        if faults.ledger.unavailable or faults.ledger.writes_down or faults.ledger.writes_late:
            ledger = FaultyLedger(
                ledger,
                unavailable=faults.ledger.unavailable,
                writes_down=faults.ledger.writes_down,
                writes_late=faults.ledger.writes_late,
            )
        services = dataclasses.replace(services, ledger=ledger)
    return services
