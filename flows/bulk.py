"""Bulk upload: several models, one plan, one confirmation, parallel pipelines.

``upload ./models/*.onnx`` or ``bulk upload a.safetensors b.gguf c.onnx``
becomes one plan (per file: size, format, cost, upload and verification time
estimates; and the total), one gate (in auto mode the spending cap applies to
the total), then a queue that starts the largest files first and runs
``bulk_concurrency`` files at a time. Each file goes through its own pipeline
(chunked upload -> PendingModel on chain -> enclave verification) and its own
outcome; one file failing never stops the others. Every external write is keyed
by the workflow id and the file, so re-running the node after a crash resumes
uploads from their journals and repeats no chain transaction.

After the run the summary says how to go on. ``retry`` runs the failed files
again (uploads resume from their journals; a file whose verification failed on
its content is reported again, not re-uploaded: the same bytes get the same
verdict). ``list them`` lists the verified models (``flows.bulk_listing``).
Where the ledger fixes listing terms at upload, registration registers drafted
terms.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import math
import os
import time
import uuid
from pathlib import Path
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.assessment import check_model_file
from flows.bulk_listing import as_context, listable_indexes
from flows.events import report_progress, say
from flows.gates import ask, auto_storage_approved, decide
from flows.listing import draft_upload_terms
from flows.services import Services
from flows.state import (
    END,
    BulkFile,
    JourneyState,
    ModelContext,
    Phase,
    Step,
    WorkflowStatus,
    complete,
)
from flows.upload import chunks_text
from integrations.chain.market import infer_category
from integrations.chain.port import ModelDraft, Signer
from integrations.errors import SatyaError, VerificationFailed
from integrations.storage.chunked import upload_file
from integrations.storage.cost import estimate_storage_cost
from integrations.storage.progress import TransferProgress
from integrations.tee.attestation import verify_result
from integrations.tee.port import VerificationRequest
from integrations.tee.quality import PASS_SCORE

_GLOB_CHARS = frozenset("*?[")
_PLAN_STEPS = [
    Step.VALIDATE_FILE,
    Step.ESTIMATE_COSTS,
    Step.CONFIRM_UPLOAD,
    Step.CHUNKED_UPLOAD,
    Step.REGISTER_ON_CHAIN,
    Step.SUBMIT_VERIFICATION,
    Step.MONITOR_VERIFICATION,
    Step.REPORT_QUALITY,
]
# Failures a new attempt cannot change: the enclave judged the file's own bytes.
_FINAL_CODES = frozenset({"verification_failed"})
_ERROR_FIELDS = ("stage", "error_code", "error_message", "error_hint", "error_retryable")


def is_glob(raw: str) -> bool:
    """True if ``raw`` is a pattern (``*``, ``?``, ``[``) rather than one path."""
    return any(c in _GLOB_CHARS for c in raw)


def expand_paths(raws: list[str]) -> tuple[list[str], list[str]]:
    """Patterns and paths -> (distinct paths in the order given, patterns that matched nothing)."""
    seen: set[str] = set()
    out: list[str] = []
    empty: list[str] = []
    for raw in raws:
        if is_glob(raw):
            matches = sorted(m for m in glob.glob(os.path.expanduser(raw)) if not os.path.isdir(m))
            if not matches:
                empty.append(raw)
        else:
            matches = [raw]
        for m in matches:
            key = os.path.realpath(os.path.expanduser(m))
            if key not in seen:
                seen.add(key)
                out.append(m)
    return out, empty


def file_key(workflow_id: str, path: str) -> str:
    """The idempotency-key prefix of one file in one bulk workflow."""
    return f"{workflow_id}:file:{hashlib.sha256(path.encode()).hexdigest()[:16]}"


async def _plan_one(raw: str, workflow_id: str, services: Services, epochs: int) -> BulkFile:
    cfg = services.config
    try:
        path, size, model_format = await check_model_file(raw)
        fmt = str(model_format)
    except SatyaError as error:
        return BulkFile(
            path=raw,
            file_name=Path(raw).name,
            status="skipped",
            stage="plan",
            error_code=error.code,
            error_message=error.message,
            error_hint=error.hint,
        )
    estimate = estimate_storage_cost(
        size,
        chunk_size=cfg.chunk_size,
        epochs=epochs,
        price_frost_per_mib_epoch=cfg.price_frost_per_mib_epoch,
    )
    return BulkFile(
        path=str(path),
        file_name=path.name,
        key=file_key(workflow_id, str(path)),
        status="planned",
        size_bytes=size,
        format=fmt,
        category=infer_category(path.name, {}, fmt),
        chunk_count=max(1, math.ceil(size / cfg.chunk_size)),
        cost_frost=estimate.cost_frost,
        upload_eta_s=round(size / cfg.assumed_upload_bytes_per_s, 1),
        verify_eta_s=round(size / cfg.assumed_verify_bytes_per_s, 1),
    )


def _totals(files: list[BulkFile], concurrency: int) -> dict[str, object]:
    planned = [f for f in files if f.get("status") == "planned"]
    size = sum(f.get("size_bytes", 0) for f in planned)
    upload = sum(f.get("upload_eta_s", 0.0) for f in planned)
    verify = sum(f.get("verify_eta_s", 0.0) for f in planned)
    return {
        "count": len(planned),
        "skipped": len(files) - len(planned),
        "total_size_bytes": size,
        "total_cost_frost": sum(f.get("cost_frost", 0) for f in planned),
        # The link is shared, so parallel uploads do not shorten the upload time;
        # verifications do run side by side.
        "total_upload_eta_s": round(upload, 1),
        "total_verify_eta_s": round(verify / max(1, min(concurrency, len(planned) or 1)), 1),
        "concurrency": concurrency,
    }


async def bulk_plan(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_gate", "__end__"]]:
    """Check every file, estimate each and the total, order the queue largest first."""
    services = runtime.context
    cfg = services.config
    intent = state["intent"]
    raws = intent.get("paths") or []
    if not raws:
        say(runtime, "bulk_need_paths", expertise=state["expertise"])
        return Command(goto=END)
    if state["expertise"] == "beginner":
        say(runtime, "bulk_beginner_note")
    paths, empty = expand_paths(raws)
    workflow_id = f"wf-{uuid.uuid4().hex[:16]}"
    epochs = intent.get("epochs", cfg.epochs)
    planned = await asyncio.gather(*(_plan_one(p, workflow_id, services, epochs) for p in paths))
    files = sorted(
        (f for f in planned if f["status"] == "planned"),
        key=lambda f: f.get("size_bytes", 0),
        reverse=True,
    )
    files += [f for f in planned if f["status"] != "planned"]
    files += [
        BulkFile(
            path=pattern,
            file_name=pattern,
            status="skipped",
            stage="plan",
            error_code="file_problem",
            error_message=f"No file matches {pattern}.",
            error_hint="Check the directory and the pattern, e.g. './models/*.onnx'.",
        )
        for pattern in empty
    ]
    totals = _totals(files, cfg.bulk_concurrency)
    say(
        runtime,
        "bulk_plan",
        expertise=state["expertise"],
        plan_files=[dict(f) for f in files],
        epochs=epochs,
        **totals,
    )
    ctx: ModelContext = {"bulk": files}
    update: dict[str, object] = {
        "context": ctx,
        "workflow_id": workflow_id,
        "current_phase": Phase.PRE_UPLOAD_ASSESSMENT,
        "status": WorkflowStatus.ACTIVE,
        "error": None,
        **complete(
            {**state, "completed_steps": [], "pending_steps": list(_PLAN_STEPS)},
            Step.VALIDATE_FILE,
            Step.ESTIMATE_COSTS,
        ),
    }
    if not totals["count"]:
        say(runtime, "bulk_nothing_to_upload")
        return Command(goto=END, update={**update, "status": WorkflowStatus.FAILED})
    return Command(goto="bulk_gate", update=update)


async def bulk_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_upload", "bulk_gate", "__end__"]]:
    """One confirmation for the whole plan; auto mode checks the total against its cap."""
    cfg = runtime.context.config
    files = state["context"].get("bulk", [])
    totals = _totals(files, cfg.bulk_concurrency)
    if auto_storage_approved(state, runtime, int(str(totals["total_cost_frost"]))):
        return Command(goto="bulk_upload", update=complete(state, Step.CONFIRM_UPLOAD))
    answer = ask("upload", "bulk_gate", **totals)
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(
            goto="bulk_upload",
            update={**complete(state, Step.CONFIRM_UPLOAD), "status": WorkflowStatus.ACTIVE},
        )
    if decision == "decline":
        say(runtime, "bulk_declined", count=totals["count"])
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="bulk_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


class _Pipeline:
    """One file's way from disk to a verified PendingModel; shared by the bulk workers."""

    def __init__(self, state: JourneyState, runtime: Runtime[Services], wallet: Signer) -> None:
        self.state = state
        self.runtime = runtime
        self.services = runtime.context
        self.wallet = wallet
        # One signer, one gas coin: chain transactions go one at a time.
        self.chain_lock = asyncio.Lock()

    async def run(self, item: BulkFile) -> BulkFile:
        """Publish one file; its failure is recorded in the returned item, never raised."""
        out = BulkFile(**item)
        for key in _ERROR_FIELDS:  # a retry starts clean
            out.pop(key, None)  # type: ignore[misc]
        stage = "upload"
        try:
            await self._upload(out)
            stage = "register"
            await self._register(out)
            stage = "verification"
            await self._verify(out)
        except SatyaError as error:
            out |= BulkFile(
                status="failed",
                stage=stage,
                error_code=error.code,
                error_message=error.message,
                error_hint=error.hint,
                error_retryable=error.retryable,
            )
            say(self.runtime, "bulk_file_failed", **out)
            return out
        out["status"] = "done"
        say(self.runtime, "bulk_file_done", **out)
        return out

    async def _upload(self, item: BulkFile) -> None:
        cfg = self.services.config
        name = item.get("file_name", "")
        last = [0.0]

        def on_progress(p: TransferProgress) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or p.bytes_done >= p.bytes_total:
                last[0] = now
                report_progress(
                    self.runtime,
                    f"upload:{name}",
                    done=p.bytes_done,
                    total=p.bytes_total,
                    rate=p.bytes_per_s,
                    eta_s=p.eta_s,
                    message=chunks_text(p, cfg.upload_concurrency),
                )

        result = await upload_file(
            self.services.storage,
            Path(item.get("path", "")),
            journal_dir=cfg.journal_dir,
            session_key=item.get("key", ""),
            chunk_size=cfg.chunk_size,
            concurrency=cfg.upload_concurrency,
            epochs=cfg.epochs,
            retries=cfg.upload_retries,
            backoff_s=cfg.upload_backoff_s,
            on_progress=on_progress,
        )
        item |= BulkFile(
            manifest_blob_id=result.manifest_blob_id,
            sha256=result.sha256,
            bytes_sent=result.bytes_sent,
            bytes_skipped=result.bytes_skipped,
        )

    async def _register(self, item: BulkFile) -> None:
        ledger = self.services.ledger
        fmt = item.get("format", "")
        if ledger.listing_terms_fixed_at_upload and not item.get("title"):
            # The listing will show what is registered now: drafted terms, never a stub.
            terms = await draft_upload_terms(ledger, as_context(item))
            item |= BulkFile(
                title=terms.get("title", ""),
                description=terms.get("description", ""),
                tags=list(terms.get("tags", [])),
                price_mist=terms.get("price_mist", 0),
                price_low_mist=terms.get("price_low_mist", 0),
                price_high_mist=terms.get("price_high_mist", 0),
                price_explanation=terms.get("price_explanation", ""),
            )
        draft = ModelDraft(
            title=item.get("title") or Path(item.get("file_name", "model")).stem,
            description=item.get("description") or f"{fmt} model, verified in a TEE",
            category=item.get("category", "general"),
            tags=tuple(item.get("tags") or (fmt, item.get("category", "general"))),
            model_blob_id=item.get("manifest_blob_id", ""),
            model_digest=item.get("sha256", ""),
            size_bytes=item.get("size_bytes", 0),
            file_format=fmt,
            price_mist=item.get("price_mist", 0),
        )
        async with self.chain_lock:
            receipt = await self.services.ledger.upload_model(
                self.wallet, draft, request_id=f"{item.get('key')}:register"
            )
        item["model_id"] = receipt.created[0]

    async def _verify(self, item: BulkFile) -> None:
        services = self.services
        cfg = services.config
        key = item.get("key", "")
        async with self.chain_lock:
            await services.ledger.submit_for_verification(
                self.wallet, item.get("model_id", ""), request_id=f"{key}:submit"
            )
        job_id = await services.verifier.submit(
            VerificationRequest(
                model_blob_id=item.get("manifest_blob_id", ""), model_type_hint=item.get("format")
            ),
            idempotency_key=f"{key}:verify",
        )
        item["job_id"] = job_id
        while True:
            st = await services.verifier.status(job_id)
            if st.state == "failed":
                raise VerificationFailed(
                    "Verification failed: "
                    + ("; ".join(st.findings) or st.message or "no reason given")
                )
            if st.state == "succeeded":
                break
            await asyncio.sleep(cfg.verify_poll_s)
        signed = await services.verifier.result(job_id)
        verified = verify_result(
            signed,
            trusted=services.trusted_enclaves,
            expected_model_digest=item.get("sha256", ""),
            expected_blob_id=item.get("manifest_blob_id", ""),
            max_age_s=cfg.result_max_age_s,
            now_ms=int(time.time() * 1000),
        )
        if verified.quality_score < PASS_SCORE:
            raise VerificationFailed(
                f"The model scored {verified.quality_score}/100, below the pass mark of {PASS_SCORE}."
            )
        async with self.chain_lock:
            receipt = await services.ledger.complete_verification(
                self.wallet, item.get("model_id", ""), signed, request_id=f"{key}:complete"
            )
        item |= BulkFile(verification_id=receipt.created[0], quality_score=verified.quality_score)


async def bulk_upload(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Run the queue, largest file first, ``bulk_concurrency`` at a time; then the summary."""
    services = runtime.context
    cfg = services.config
    files = list(state["context"].get("bulk", []))
    todo = [i for i, f in enumerate(files) if f.get("status") == "planned" or _rerunnable(f)]
    todo.sort(key=lambda i: files[i].get("size_bytes", 0), reverse=True)
    started = time.monotonic()
    say(
        runtime,
        "bulk_started",
        count=len(todo),
        concurrency=cfg.bulk_concurrency,
        order=[files[i].get("file_name", "") for i in todo],
    )
    try:
        wallet = await services.wallet_for(state["user_id"])
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return {"status": WorkflowStatus.FAILED}
    pipeline = _Pipeline(state, runtime, wallet)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in todo:
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            files[i] = await pipeline.run(files[i])

    await asyncio.gather(*(worker() for _ in range(max(1, min(cfg.bulk_concurrency, len(todo))))))
    done = [f for f in files if f.get("status") == "done"]
    failed = [f for f in files if f.get("status") in ("failed", "skipped")]
    say(
        runtime,
        "bulk_summary",
        expertise=state["expertise"],
        outcomes=[dict(f) for f in files],
        done=len(done),
        failed=len(failed),
        total=len(files),
        elapsed_s=round(time.monotonic() - started, 1),
        bytes_sent=sum(f.get("bytes_sent", 0) for f in done),
    )
    _say_next(runtime, files)
    steps = complete(
        state,
        Step.CHUNKED_UPLOAD,
        Step.REGISTER_ON_CHAIN,
        Step.SUBMIT_VERIFICATION,
        Step.MONITOR_VERIFICATION,
        Step.REPORT_QUALITY,
    )
    return {
        "context": {**state["context"], "bulk": files},
        "current_phase": Phase.COMPLETED if done else Phase.UPLOAD,
        "status": WorkflowStatus.COMPLETED if done else WorkflowStatus.FAILED,
        **(steps if done else {}),
    }


def _final(item: BulkFile) -> bool:
    """A failure that another attempt would repeat (the verdict on the file's content)."""
    return item.get("status") == "failed" and item.get("error_code") in _FINAL_CODES


def _rerunnable(item: BulkFile) -> bool:
    return item.get("status") == "failed" and not _final(item)


def _say_next(runtime: Runtime[Services], files: list[BulkFile]) -> None:
    """How to go on after a bulk run: list the verified models, retry the failed files."""
    listable = len(listable_indexes(files))
    retryable = sum(1 for f in files if _rerunnable(f))
    if listable and retryable:
        say(runtime, "bulk_next_list_retry", listable=listable, retryable=retryable)
    elif listable:
        say(runtime, "bulk_next_list", listable=listable)
    elif retryable:
        say(runtime, "bulk_next_retry", retryable=retryable)


async def bulk_retry(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_upload", "__end__"]]:
    """Run the failed files of the last bulk upload again; report those a retry cannot change."""
    files = state["context"].get("bulk", [])
    for f in files:
        if _final(f):
            say(runtime, "bulk_retry_final", **f)
        elif f.get("status") == "skipped":
            say(runtime, "bulk_retry_skipped", **f)
    again = sorted(
        (f for f in files if _rerunnable(f)), key=lambda f: f.get("size_bytes", 0), reverse=True
    )
    if not again:
        say(runtime, "bulk_nothing_to_retry", total=len(files))
        return Command(goto=END)
    say(runtime, "bulk_retry", count=len(again), order=[f.get("file_name", "") for f in again])
    return Command(
        goto="bulk_upload",
        update={"current_phase": Phase.UPLOAD, "status": WorkflowStatus.ACTIVE, "error": None},
    )
