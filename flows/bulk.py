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

Over 500 lines: plan, gate, queue and per-file pipeline are the steps of one bulk
journey that share its journal keys and per-file records.
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
from flows.deadlines import step_deadline_s
from flows.events import say
from flows.failures import retries_automatically, retry_delay_s, retry_rule
from flows.gates import ask, auto_storage_approved, decide
from flows.listing import draft_upload_terms
from flows.market.analysis import infer_category
from flows.publication import (
    UploadProgress,
    announce_retries,
    job_finished,
    job_status,
    model_draft,
    record_verification,
    register_model,
    start_verification,
    store_file,
)
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
from flows.step_events import record_file
from integrations.chain.port import Signer
from integrations.errors import SatyaError
from integrations.storage.cost import estimate_storage_cost

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
    if intent.get("price_mist") is not None:  # "upload these and list them at 2 SUI"
        ctx["requested_price_mist"] = intent["price_mist"]
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
    """One file's way through ``flows.publication``, shared by the bulk workers.

    A failure goes by the one retry rule (``flows.failures.retry_rule``): an
    automatic retry with a notice for a retryable error, exactly as on the
    single-file path, else the file's outcome. The turn waits for verifications
    at most ``verify_foreground_s`` from the first one started; jobs still running
    then go on in the background monitor.
    """

    def __init__(self, state: JourneyState, runtime: Runtime[Services], wallet: Signer) -> None:
        self.state = state
        self.runtime = runtime
        self.services = runtime.context
        self.wallet = wallet
        # One signer, one gas coin: chain transactions go one at a time.
        self.chain_lock = asyncio.Lock()
        self.wait_until: float | None = None  # the foreground wait for verifications ends

    async def run(self, item: BulkFile) -> BulkFile:
        """Publish one file; its failure is recorded in the returned item, never raised."""
        out = BulkFile(**item)
        for key in _ERROR_FIELDS:  # a retry starts clean
            out.pop(key, None)  # type: ignore[misc]
        out["failures"] = 0
        while True:
            stage = "upload"
            name = out.get("file_name", "")
            progress = UploadProgress(
                self.runtime, f"upload:{name}", file_name=name, estimate_s=out.get("upload_eta_s")
            )
            try:
                if not out.get("manifest_blob_id"):
                    await self._upload(out, progress)
                stage = "register"
                if not out.get("model_id"):
                    await self._register(out)
                stage = "verification"
                if out.get("status") != "verifying":
                    await self._submit(out)
                await self._follow(out)  # a job still running is left to the background monitor
                return out
            except SatyaError as error:
                if stage == "upload":
                    out |= progress.reached()  # type: ignore[typeddict-item]
                if not await self.failed(out, stage, error):
                    return out

    async def failed(self, item: BulkFile, stage: str, error: SatyaError) -> bool:
        """Count a failure of ``item`` at ``stage``; True once it may be retried automatically
        (announced, after the backoff)."""
        cfg = self.services.config
        failures = item.get("failures", 0) + 1
        item["failures"] = failures
        if stage == "verification":  # the next attempt gets a fresh enclave job
            item["verify_attempt"] = item.get("verify_attempt", 0) + 1
            item["status"] = "failed"
        if retries_automatically(error.code, failures, cfg.max_auto_retries):
            delay = retry_delay_s(failures, cfg.retry_backoff_s)
            say(
                self.runtime,
                "bulk_auto_retry",
                file_name=item.get("file_name", ""),
                code=error.code,
                message=error.message,
                attempt=failures,
                of=cfg.max_auto_retries,
                node=stage,
                delay_s=delay,
            )
            await asyncio.sleep(delay)
            return True
        item |= BulkFile(
            status="failed",
            stage=stage,
            error_code=error.code,
            error_message=error.message,
            error_hint=error.hint,
            error_retryable=error.retryable,
        )
        say(self.runtime, "bulk_file_failed", **item)
        return False

    async def resume(self, item: BulkFile) -> BulkFile:
        """Look once more at a file whose verification went on in the background."""
        out = BulkFile(**item)
        while True:
            try:
                if out.get("status") != "verifying":  # the enclave died: a fresh job
                    await self._submit(out)
                await self._follow(out)
                return out
            except SatyaError as error:
                if not await self.failed(out, "verification", error):
                    return out

    async def _upload(self, item: BulkFile, progress: UploadProgress) -> None:
        result = await store_file(
            self.services,
            Path(item.get("path", "")),
            prefix=item.get("key", ""),
            on_progress=progress,
            on_retry=announce_retries(self.runtime, item.get("file_name", "")),
        )
        item |= BulkFile(
            manifest_blob_id=result.manifest_blob_id,
            sha256=result.sha256,
            bytes_sent=result.bytes_sent,
            bytes_skipped=result.bytes_skipped,
        )

    async def _register(self, item: BulkFile) -> None:
        ledger = self.services.ledger
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
        async with self.chain_lock:
            receipt = await register_model(
                self.services, self.wallet, model_draft(item), prefix=item.get("key", "")
            )
        item["model_id"] = receipt.created[0]

    async def _submit(self, item: BulkFile) -> None:
        async with self.chain_lock:
            item["job_id"] = await start_verification(
                self.services,
                self.wallet,
                item.get("model_id", ""),
                blob_id=item.get("manifest_blob_id", ""),
                file_format=item.get("format"),
                prefix=item.get("key", ""),
                attempt=item.get("verify_attempt", 0),
            )
        item["status"] = "verifying"
        started = time.time()
        item["verify_started_at"] = started
        item["verify_deadline_at"] = started + step_deadline_s(
            item.get("verify_eta_s"), self.services.config
        )
        if self.wait_until is None:
            self.wait_until = time.monotonic() + self.services.config.verify_foreground_s

    async def _follow(self, item: BulkFile) -> bool:
        """Wait for the file's job while the turn may; True once it ended and is recorded."""
        cfg = self.services.config
        while True:
            st = await job_status(self.services, item.get("job_id", ""))
            if job_finished(st):
                break
            if self.wait_until is not None and time.monotonic() >= self.wait_until:
                return False
            await asyncio.sleep(cfg.verify_poll_s)
        async with self.chain_lock:
            recorded = await record_verification(
                self.services,
                self.wallet,
                item.get("job_id", ""),
                model_id=item.get("model_id", ""),
                sha256=item.get("sha256", ""),
                blob_id=item.get("manifest_blob_id", ""),
                prefix=item.get("key", ""),
            )
        item |= BulkFile(
            status="done",
            verification_id=recorded.verification_id,
            quality_score=recorded.quality_score,
        )
        say(self.runtime, "bulk_file_done", **item)
        return True


async def bulk_upload(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_listing_prep", "__end__"]]:
    """Run the queue, largest file first, ``bulk_concurrency`` at a time; then the summary,
    or, while verifications still run, hand them to the background."""
    services = runtime.context
    cfg = services.config
    files = list(state["context"].get("bulk", []))
    todo = [i for i, f in enumerate(files) if f.get("status") == "planned" or _rerunnable(f)]
    todo.sort(key=lambda i: files[i].get("size_bytes", 0), reverse=True)
    started_at = time.time()
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
        return Command(goto=END, update={"status": WorkflowStatus.FAILED})
    pipeline = _Pipeline(state, runtime, wallet)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in todo:
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            files[i] = await record_file(
                runtime, pipeline.run(files[i]), files[i].get("file_name", "")
            )

    await asyncio.gather(*(worker() for _ in range(max(1, min(cfg.bulk_concurrency, len(todo))))))
    return _after_run(state, runtime, files, started_at)


async def bulk_verify(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_listing_prep", "__end__"]]:
    """The completion event of a bulk upload's background verification: record and announce
    every job that ended (an enclave that died gets a fresh job), then the summary once none
    is left running."""
    services = runtime.context
    files = list(state["context"].get("bulk", []))
    wallet = await services.wallet_for(state["user_id"])
    pipeline = _Pipeline(state, runtime, wallet)
    pipeline.wait_until = time.monotonic()  # look once; the monitor follows what still runs
    for i, f in enumerate(files):
        if f.get("status") == "verifying":
            files[i] = await record_file(runtime, pipeline.resume(f), f.get("file_name", ""))
    return _after_run(state, runtime, files, state["context"].get("bulk_started_at", time.time()))


def _after_run(
    state: JourneyState, runtime: Runtime[Services], files: list[BulkFile], started_at: float
) -> Command[Literal["bulk_listing_prep", "__end__"]]:
    """The summary once every file has its outcome; else the background hand-over."""
    running = [f.get("file_name", "") for f in files if f.get("status") == "verifying"]
    ctx: ModelContext = {**state["context"], "bulk": files, "bulk_started_at": started_at}
    if running:
        say(runtime, "bulk_verification_background", count=len(running), order=running)
        return Command(
            goto=END,
            update={
                "context": ctx,
                "current_phase": Phase.VERIFICATION_MONITORING,
                "status": WorkflowStatus.VERIFYING,
            },
        )
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
        elapsed_s=round(time.time() - started_at, 1),
        bytes_sent=sum(f.get("bytes_sent", 0) for f in done),
    )
    listing_asked = done and ctx.get("requested_price_mist") is not None
    if not listing_asked:  # else the listing the user asked for with the upload comes next
        _say_next(runtime, files)
    steps = complete(
        state,
        Step.CHUNKED_UPLOAD,
        Step.REGISTER_ON_CHAIN,
        Step.SUBMIT_VERIFICATION,
        Step.MONITOR_VERIFICATION,
        Step.REPORT_QUALITY,
    )
    return Command(
        goto="bulk_listing_prep" if listing_asked else END,
        update={
            "context": ctx,
            "current_phase": Phase.COMPLETED if done else Phase.UPLOAD,
            "status": WorkflowStatus.COMPLETED if done else WorkflowStatus.FAILED,
            **(steps if done else {}),
        },
    )


def _final(item: BulkFile) -> bool:
    """A failure that another attempt would repeat (the verdict on the file's content)."""
    return item.get("status") == "failed" and retry_rule(item.get("error_code", "")) == "final"


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
