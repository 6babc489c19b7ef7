"""The one publication pipeline: store -> register -> verify -> record.

The single-file journey (``flows.upload``, ``flows.verification``) and bulk
publication (``flows.bulk``) both call these functions, so one file goes the
same way whichever door it came through: the same idempotency keys, the same
reading of an enclave job's end, the same checks on its signed result.

Every external write is keyed by ``prefix`` (the workflow id for one file, the
workflow id plus the file for bulk) and the step, and an enclave job also by its
attempt number, so a re-run after a crash repeats no write and a retry after
the enclave died gets a fresh job::

    {prefix}:register   {prefix}:submit   {prefix}:verify:{attempt}   {prefix}:complete

Example::

    result = await store_file(services, path, prefix=wf, on_progress=print)
    receipt = await register_model(services, wallet, model_draft(fields), prefix=wf)
    job_id = await start_verification(services, wallet, receipt.created[0],
                                      blob_id=result.manifest_blob_id, file_format="onnx",
                                      prefix=wf, attempt=0)
    while not job_finished(await services.verifier.status(job_id)):
        await asyncio.sleep(0.1)
    recorded = await record_verification(services, wallet, job_id, model_id=..., ...)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from langgraph.runtime import Runtime

from flows.deadlines import step_deadline_s, tx_estimates, within
from flows.events import ProgressTask, report_progress, say
from flows.services import Services
from flows.state import JourneyState
from integrations.chain.port import ModelDraft, Signer, TxReceipt
from integrations.errors import (
    ChainSlow,
    ChainUnavailable,
    EnclaveUnavailable,
    VerificationFailed,
)
from integrations.storage.chunked import UploadResult, upload_file
from integrations.storage.progress import TransferProgress
from integrations.storage.retry import RetryNotice
from integrations.tee.attestation import verify_result
from integrations.tee.port import JobStatus, VerificationRequest
from integrations.tee.quality import PASS_SCORE
from integrations.tee.schemas import (
    NOT_MEASURED,
    ZERO_IN_SATYA,
    security_assessment,
    shown_figures,
)

T = TypeVar("T")

# The steps of publishing one file, in their order: the single-file journey's nodes, and
# the steps of each bulk file's sub-journey (``flows.file_journeys``).
PublicationStep = Literal["upload", "register", "verify_submit", "verify_monitor"]
# The stage a failed step is reported at (bulk outcomes, the final failure message).
STEP_STAGE: dict[PublicationStep, str] = {
    "upload": "upload",
    "register": "register",
    "verify_submit": "verification",
    "verify_monitor": "verification",
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """A verification result that checked out and is recorded on chain."""

    verification_id: str
    quality_score: int
    security_assessment: str
    enclave_key: str
    data: dict[str, object]
    figures: str = ""  # the signed figures in words, "not measured" where none was signed
    findings: tuple[str, ...] = ()  # what cost points, in the enclave's words (unsigned)


def chunks_text(p: TransferProgress, concurrency: int) -> str:
    """'chunk 12/40, 4 in parallel': how the chunked upload is going, for progress rows."""
    in_flight = min(concurrency, p.chunks_total - p.chunks_done)
    text = f"chunk {p.chunks_done}/{p.chunks_total}"
    return f"{text}, {in_flight} in parallel" if in_flight > 1 else text


class UploadProgress:
    """Reports an upload as ``task`` at most ten times a second; remembers how far it got;
    says once when it runs past the deadline its estimate gives (``flows.deadlines``)."""

    def __init__(
        self,
        runtime: Runtime[Services],
        task: ProgressTask,
        *,
        file_name: str = "",
        estimate_s: float | None = None,
    ) -> None:
        self.runtime = runtime
        self.task = task
        self.file_name = file_name
        self.estimate_s = estimate_s
        self.concurrency = runtime.context.config.upload_concurrency
        self.last: TransferProgress | None = None
        self._reported = 0.0
        self._started = time.monotonic()
        self._deadline = self._started + step_deadline_s(estimate_s, runtime.context.config)

    def __call__(self, p: TransferProgress) -> None:
        self.last = p
        now = time.monotonic()
        if now >= self._deadline:
            self._deadline = float("inf")  # said once
            say(
                self.runtime,
                "upload_overdue",
                file_name=self.file_name,
                eta_s=self.estimate_s,
                elapsed_s=round(now - self._started),
                percent=int(100 * p.bytes_done / p.bytes_total) if p.bytes_total else 0,
            )
        if now - self._reported >= 0.1 or p.bytes_done >= p.bytes_total:
            self._reported = now
            report_progress(
                self.runtime,
                self.task,
                done=p.bytes_done,
                total=p.bytes_total,
                rate=p.bytes_per_s,
                eta_s=p.eta_s,
                message=chunks_text(p, self.concurrency),
            )

    def reached(self) -> dict[str, int]:
        """How far it got: ``stopped_percent`` and ``stopped_bytes``; empty before any progress."""
        p = self.last
        if p is None or not p.bytes_total:
            return {}
        return {
            "stopped_percent": int(100 * p.bytes_done / p.bytes_total),
            "stopped_bytes": p.bytes_done,
        }


def request_id(prefix: str, step: str, attempt: int | None = None) -> str:
    """The idempotency key of one external write (see the module docstring)."""
    return f"{prefix}:{step}" if attempt is None else f"{prefix}:{step}:{attempt}"


async def store_file(
    services: Services,
    path: Path,
    *,
    prefix: str,
    chunk_size: int | None = None,
    on_progress: Callable[[TransferProgress], None] | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> UploadResult:
    """Upload ``path`` in chunks; a second call with the same ``prefix`` resumes it."""
    cfg = services.config
    return await upload_file(
        services.storage,
        path,
        journal_dir=cfg.journal_dir,
        session_key=prefix,
        chunk_size=chunk_size or cfg.chunk_size,
        concurrency=cfg.upload_concurrency,
        epochs=cfg.epochs,
        retries=cfg.upload_retries,
        backoff_s=cfg.upload_backoff_s,
        on_progress=on_progress,
        on_retry=on_retry,
    )


def announce_retries(runtime: Runtime[Services], file_name: str) -> Callable[[RetryNotice], None]:
    """A callback that tells the user of every retried chunk: what, why, when, which attempt."""

    def on_retry(n: RetryNotice) -> None:
        say(
            runtime,
            "chunk_retry",
            file_name=file_name,
            label=n.label,
            code=n.code,
            message=n.message,
            attempt=n.attempt,
            of=n.of,
            delay_s=n.delay_s,
        )

    return on_retry


def model_draft(fields: Mapping[str, object]) -> ModelDraft:
    """The PendingModel to register from a file's context (its terms, or plain defaults)."""
    fmt = str(fields.get("format") or "")
    category = str(fields.get("category") or "general")
    tags = fields.get("tags")
    return ModelDraft(
        title=str(fields.get("title") or Path(str(fields.get("file_name") or "model")).stem),
        description=str(fields.get("description") or f"{fmt} model, verified in a TEE"),
        category=category,
        tags=tuple(str(t) for t in tags)
        if isinstance(tags, Sequence) and tags
        else (fmt, category),
        model_blob_id=str(fields["manifest_blob_id"]),
        model_digest=str(fields["sha256"]),
        size_bytes=int(str(fields.get("size_bytes") or 0)),
        file_format=fmt,
        price_mist=int(str(fields.get("price_mist") or 0)),
    )


# A ledger transaction in the user's words.
TX_WORDS = {
    "upload_model": "registration",
    "submit_for_verification": "verification request",
    "complete_verification": "verification record",
    "list_on_marketplace": "listing",
    "reprice": "price change",
    "delist": "delisting",
    "withdraw_model": "withdrawal",
}


@dataclass(frozen=True, slots=True)
class TxTimes:
    """How long each ledger transaction is expected to take (``flows.deadlines.tx_estimates``;
    a call with none gets ``tx_estimate_s``), and how many times the user said 'wait' for a
    late one (each gives it one more deadline)."""

    estimates: Mapping[str, float] = field(default_factory=dict)
    patience: int = 0


async def tx_times(
    runtime: Runtime[Services], user_id: str, calls: Sequence[str], *, patience: int = 0
) -> TxTimes:
    """The estimates of ``calls`` from the user's recorded durations (see ``TxTimes``)."""
    found = await tx_estimates(runtime.store, user_id, calls, runtime.context.config)
    return TxTimes(found, patience)


async def step_tx_times(runtime: Runtime[Services], state: JourneyState, *calls: str) -> TxTimes:
    """``tx_times`` for a journey step: the user's estimates, and the 'wait's said so far."""
    patience = state["context"].get("tx_patience", 0)
    return await tx_times(runtime, state["user_id"], calls, patience=patience)


async def chain_tx(
    services: Services,
    call: str,
    work: Awaitable[T],
    times: TxTimes | None = None,
    *,
    hint: str | None = None,
) -> T:
    """Ledger transaction ``call`` (``upload_model``, …), awaited until its deadline (from its
    estimate, ``flows.deadlines``); past it ``ChainSlow`` says so with the estimate (and
    ``hint``: what to say next, where it is not the journey's wait/retry/cancel). Every
    transaction is keyed, so waiting for it or sending it again executes it once."""
    cfg = services.config
    times = times or TxTimes()
    estimate = times.estimates.get(call, cfg.tx_estimate_s)
    seconds = step_deadline_s(estimate, cfg) * (1 + times.patience)
    return await within(
        work,
        seconds,
        lambda: ChainSlow(
            f"The {TX_WORDS.get(call, call)} transaction is taking longer than expected: "
            f"estimated {estimate:g} s, no confirmation after {seconds:g} s.",
            hint=hint,
        ),
    )


async def on_chain(services: Services, call: Awaitable[T]) -> T:
    """A ledger query or change, at most ``call_timeout_s`` (a node that does not answer is
    unavailable; every write is keyed, so the retry that follows executes nothing twice)."""
    seconds = services.config.call_timeout_s
    return await within(
        call,
        seconds,
        lambda: ChainUnavailable(
            f"The {services.ledger.network} ledger did not answer within {seconds:g} s."
        ),
    )


async def at_enclave(services: Services, call: Awaitable[T]) -> T:
    """A call to the enclave, at most ``call_timeout_s`` (a hung enclave is unavailable)."""
    seconds = services.config.call_timeout_s
    return await within(
        call,
        seconds,
        lambda: EnclaveUnavailable(f"The enclave did not answer within {seconds:g} s."),
    )


async def job_status(services: Services, job_id: str) -> JobStatus:
    """Where an enclave job stands (a hung enclave raises, it never hangs the caller)."""
    return await at_enclave(services, services.verifier.status(job_id))


async def register_model(
    services: Services,
    wallet: Signer,
    draft: ModelDraft,
    *,
    prefix: str,
    times: TxTimes | None = None,
) -> TxReceipt:
    """Create the PendingModel on chain (once per ``prefix``)."""
    return await chain_tx(
        services,
        "upload_model",
        services.ledger.upload_model(wallet, draft, request_id=request_id(prefix, "register")),
        times,
    )


async def start_verification(
    services: Services,
    wallet: Signer,
    model_id: str,
    *,
    blob_id: str,
    file_format: str | None,
    prefix: str,
    attempt: int,
    times: TxTimes | None = None,
) -> str:
    """Mark the model as verifying on chain and start enclave job number ``attempt``."""
    await chain_tx(
        services,
        "submit_for_verification",
        services.ledger.submit_for_verification(
            wallet, model_id, request_id=request_id(prefix, "submit")
        ),
        times,
    )
    return await at_enclave(
        services,
        services.verifier.submit(
            VerificationRequest(model_blob_id=blob_id, model_type_hint=file_format),
            idempotency_key=request_id(prefix, "verify", attempt),
        ),
    )


def job_finished(st: JobStatus) -> bool:
    """True once a job succeeded, False while it runs; a failed job raises.

    The one reading of a failed job: the enclave dying mid-job (a restart, a
    crash) is ``EnclaveUnavailable``, worth a fresh job; anything else is the
    enclave's verdict on the file, ``VerificationFailed``.
    """
    if st.state == "failed" and st.failure_code == EnclaveUnavailable.code:
        raise EnclaveUnavailable(st.message or "The enclave stopped during the job.")
    if st.state == "failed":
        raise VerificationFailed(
            "Verification failed: " + ("; ".join(st.findings) or st.message or "no reason given")
        )
    return st.state == "succeeded"


async def record_verification(
    services: Services,
    wallet: Signer,
    job_id: str,
    *,
    model_id: str,
    sha256: str,
    blob_id: str,
    prefix: str,
    times: TxTimes | None = None,
) -> Recorded:
    """Check the finished job's signed result against the file, then record it on chain."""
    cfg = services.config
    signed = await at_enclave(services, services.verifier.result(job_id))
    verified = verify_result(
        signed,
        trusted=services.trusted_enclaves,
        expected_model_digest=sha256,
        expected_blob_id=blob_id,
        max_age_s=cfg.result_max_age_s,
        now_ms=int(time.time() * 1000),
    )
    if verified.quality_score < PASS_SCORE:
        raise low_score(verified.quality_score, signed.findings)
    receipt = await chain_tx(
        services,
        "complete_verification",
        services.ledger.complete_verification(
            wallet, model_id, signed, request_id=request_id(prefix, "complete")
        ),
        times,
    )
    return Recorded(
        verification_id=receipt.created[0],
        quality_score=verified.quality_score,
        security_assessment=security_assessment(signed),
        enclave_key=signed.public_key[:16],
        data=dict(signed.data),
        figures=figures_text(shown_figures(signed)),
        findings=signed.findings,
    )


def low_score(score: int, findings: tuple[str, ...]) -> VerificationFailed:
    """The failure for a signed score under the pass mark, naming what cost the points."""
    said = f"The model scored {score}/100, below the pass mark of {PASS_SCORE}."
    if not findings:
        return VerificationFailed(said + " The enclave gave no reason beyond the score.")
    found = "\n".join(f"  • {f}" for f in findings)
    return VerificationFailed(
        f"{said} What the enclave found:\n{found}",
        hint="Fix what it found, check the new file with 'satya inspect FILE', then upload it.",
    )


def figures_text(shown: dict[str, str]) -> str:
    """'parameter count 506212, …; not measured: precision, recall': the signed figures as a
    user reads them (Satya's schema signs 0 for a figure it did not measure: said so)."""

    def word(name: str) -> str:
        return name.rsplit(".", 1)[-1].replace("_", " ")

    measured = [
        f"{word(n)} {v}" for n, v in shown.items() if v not in (NOT_MEASURED, ZERO_IN_SATYA)
    ]
    absent = [word(n) for n, v in shown.items() if v == NOT_MEASURED]
    zero = [word(n) for n, v in shown.items() if v == ZERO_IN_SATYA]
    parts = [", ".join(measured) or "none"]
    if absent:
        parts.append("not measured: " + ", ".join(absent))
    if zero:
        parts.append(
            "signed as 0 (Satya's schema cannot tell 0 from not measured): " + ", ".join(zero)
        )
    return "; ".join(parts)
