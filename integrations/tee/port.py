"""The verification (TEE) port.

A ``Verifier`` takes a job (a model stored as a manifest blob), runs it inside
an enclave and returns a result signed the way Nautilus signs: Ed25519 over the
BCS bytes of ``IntentMessage{intent, timestamp_ms, data}``
(see ``integrations.tee.signing``). Callers must check a result with
``integrations.tee.attestation.verify_result`` before trusting it.

Example::

    job = await verifier.submit(VerificationRequest(model_blob_id=manifest_id))
    while (status := await verifier.status(job)).state in ("queued", "running"):
        await asyncio.sleep(0.2)
    signed = await verifier.result(job)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

AssessmentType = Literal[
    "BasicValidation", "QualityAnalysis", "ComprehensiveBenchmark", "BiasAudit"
]
JobState = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class VerificationRequest:
    """The model-marketplace request payload of the reference."""

    model_blob_id: str
    dataset_blob_id: str = ""
    assessment_type: AssessmentType = "QualityAnalysis"
    quality_metrics: tuple[str, ...] = ()
    model_type_hint: str | None = None
    dataset_format_hint: str | None = None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """Progress of one verification job."""

    job_id: str
    state: JobState
    fraction: float  # 0..1
    eta_s: float | None  # None while unknown
    message: str = ""
    failure_code: str | None = None  # set when state == "failed"
    findings: tuple[str, ...] = ()  # why it failed, one sentence each


@dataclass(frozen=True, slots=True)
class SignedResult:
    """A Nautilus ``ProcessedDataResponse``: the signed intent message and its signature.

    ``data`` is the ``MLQualityResponse`` as plain JSON values; ``public_key`` is
    the hex Ed25519 key of the enclave that signed it.
    """

    intent: int
    timestamp_ms: int
    data: dict[str, object]
    signature: str  # hex, 64 bytes
    public_key: str  # hex, 32 bytes
    enclave_id: str = ""
    # The declared schema of ``data`` (``integrations.tee.schemas``: ``name@version``);
    # empty when the response declared none, then it is recognised by its fields.
    schema: str = ""
    # What cost the model points, in words (not signed: it explains the signed score).
    findings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EnclaveInfo:
    """What an enclave says about itself (``/health_check`` and ``/get_attestation``)."""

    public_key: str  # hex
    pcrs: tuple[str, str, str]  # hex, 48 bytes each; all zero in debug mode
    debug: bool
    attestation: str = ""  # hex CBOR document, or a local debug document
    extra: dict[str, bool] = field(default_factory=dict)


@runtime_checkable
class Verifier(Protocol):
    """Submit, watch and collect verification jobs."""

    async def info(self) -> EnclaveInfo:
        """The enclave's key and attestation."""
        ...

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        """Start a job and return its id; the same key returns the same job."""
        ...

    async def status(self, job_id: str) -> JobStatus:
        """Progress of a job; raises ``VerificationError`` for an unknown id."""
        ...

    async def result(self, job_id: str) -> SignedResult:
        """The signed result of a succeeded job; ``VerificationFailed`` for a failed one."""
        ...

    async def aclose(self) -> None:
        """Release resources."""
        ...
