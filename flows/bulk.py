"""Bulk upload: several models, one plan, one confirmation, parallel pipelines.

``upload ./models/*.onnx`` or ``bulk upload a.safetensors b.gguf c.onnx``
becomes one plan (per file: size, format, cost, upload and verification time
estimates; and the total), one gate (in auto mode the spending cap applies to
the total), then a queue that starts the largest files first and runs
``bulk_concurrency`` files at a time. Each file is a sub-journey of its own
(``flows.file_journeys``: one LangGraph ``Send`` per file, gathered by
``bulk_join``) through the same steps as a single upload (chunked upload ->
PendingModel on chain -> enclave verification -> recorded result), with its own
outcome; one file failing never stops the others. Every external write is keyed
by the workflow id and the file, so a sub-journey run again after a crash resumes
its upload from the journal and repeats no chain transaction.

After the run the summary says how to go on. ``retry`` runs the failed files
again (uploads resume from their journals; a file whose verification failed on
its content is reported again, not re-uploaded: the same bytes get the same
verdict). ``list them`` lists the verified models (``flows.bulk_listing``).
Where the ledger fixes listing terms at upload, registration registers drafted
terms.

Verification goes on in the background past ``verify_foreground_s``; the
monitor's completion event (``bulk_verify``) has each running file look once.
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
from flows.bulk_listing import listable_indexes
from flows.events import say
from flows.failures import retry_rule
from flows.file_journeys import gathered, send_files
from flows.gates import ask, auto_storage_approved, decide
from flows.market.analysis import infer_category
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


async def bulk_upload(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_file", "bulk_join", "__end__"]]:
    """Start the queue: every file to run goes to its own sub-journey
    (``flows.file_journeys``), largest first, ``bulk_concurrency`` at a time."""
    services = runtime.context
    cfg = services.config
    files = list(state["context"].get("bulk", []))
    todo = [f for f in files if f.get("status") == "planned" or _rerunnable(f)]
    todo.sort(key=lambda f: f.get("size_bytes", 0), reverse=True)
    say(
        runtime,
        "bulk_started",
        count=len(todo),
        concurrency=cfg.bulk_concurrency,
        order=[f.get("file_name", "") for f in todo],
    )
    try:
        await services.wallet_for(state["user_id"])
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return Command(goto=END, update={"status": WorkflowStatus.FAILED})
    ctx: ModelContext = {**state["context"], "bulk_started_at": time.time()}
    return _fan_out(state, todo, "bulk_upload", look_once=False, context=ctx)


def _fan_out(
    state: JourneyState,
    todo: list[BulkFile],
    node: str,
    *,
    look_once: bool,
    context: ModelContext | None = None,
) -> Command[Literal["bulk_file", "bulk_join", "__end__"]]:
    """Send each file of ``todo`` to its sub-journey; straight to the join when none is left."""
    update: dict[str, object] = {"bulk_outcomes": None}
    if context is not None:
        update["context"] = context
    if not todo:
        return Command(goto="bulk_join", update=update)
    sends = send_files(
        todo,
        user_id=state["user_id"],
        workflow_id=state["workflow_id"],
        look_once=look_once,
        node=node,
    )
    return Command(goto=sends, update=update)


async def bulk_verify(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_file", "bulk_join", "__end__"]]:
    """The completion event of a bulk upload's background verification: each running file's
    sub-journey looks once, records and announces a job that ended (an enclave that died
    gets a fresh job); the summary comes once none is left running."""
    files = state["context"].get("bulk", [])
    running = [f for f in files if f.get("status") == "verifying"]
    return _fan_out(state, running, "bulk_verify", look_once=True)


async def bulk_restart(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_file", "bulk_join", "__end__"]]:
    """'retry' while a bulk upload's verifications run: each file whose job is past its
    deadline gets a fresh enclave job (its next attempt number; the late job is left alone,
    nothing is paid twice), announced per file; jobs still within their time go on."""
    now = time.time()
    files = state["context"].get("bulk", [])
    running = [f for f in files if f.get("status") == "verifying"]
    late = [f for f in running if now >= f.get("verify_deadline_at", float("inf"))]
    if not late:
        say(runtime, "bulk_nothing_late", count=len(running))
        return Command(goto=END)
    again: list[BulkFile] = []
    for f in late:
        attempt = f.get("verify_attempt", 0) + 1
        say(
            runtime,
            "bulk_verification_restarted",
            file_name=f.get("file_name", ""),
            attempt=attempt,
        )
        fresh = BulkFile(**f)
        fresh["status"] = "restarting"  # the sub-journey sees no running job: a fresh one
        fresh["verify_attempt"] = attempt
        again.append(fresh)
    return _fan_out(state, again, "bulk_restart", look_once=False)


async def bulk_join(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_listing_prep", "__end__"]]:
    """Gather the files' sub-journeys: the summary once every file has its outcome, else the
    hand-over of the jobs still running to the background monitor."""
    ctx = state["context"]
    files = gathered(state["workflow_id"], list(ctx.get("bulk", [])), state.get("bulk_outcomes"))
    return _after_run(state, runtime, files, ctx.get("bulk_started_at", time.time()))


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
                "bulk_outcomes": None,
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
            "bulk_outcomes": None,
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
