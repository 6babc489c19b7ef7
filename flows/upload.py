"""Upload: the approval gate, the chunked upload with progress, registration on chain.

Where the ledger fixes listing terms at upload (``listing_terms_fixed_at_upload``),
the upload gate also shows the drafted title, description, tags and price, takes
edits to them ("title: …", "price 2 SUI"), and ``register`` registers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.checkpoints import wants_questions
from flows.events import say
from flows.failures import failure_update
from flows.gates import ask, auto_storage_approved, decide
from flows.listing import apply_edits, draft_upload_terms
from flows.publication import (
    UploadProgress,
    announce_retries,
    chunks_text,
    model_draft,
    register_model,
    step_tx_times,
    store_file,
)
from flows.services import Services
from flows.state import END, JourneyState, ModelContext, Phase, Step, WorkflowStatus, complete
from integrations.errors import FileProblem, SatyaError

__all__ = ["chunks_text", "register", "upload", "upload_gate"]


async def upload_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["upload", "upload_gate", "checkpoint", "__end__"]]:
    """Ask before paying for storage (supervised), or check the cap (auto); a beginner is
    first asked about the model (``checkpoints``)."""
    if wants_questions(state, runtime):
        return Command(goto="checkpoint")
    ctx = state["context"]
    cfg = runtime.context.config
    if auto_storage_approved(state, runtime, ctx.get("cost_frost", 0)):
        return Command(
            goto="upload",
            update={**complete(state, Step.CONFIRM_UPLOAD), "current_phase": Phase.UPLOAD},
        )
    fixed = runtime.context.ledger.listing_terms_fixed_at_upload
    terms: dict[str, object] = (
        {
            "title": ctx.get("title", ""),
            "description": ctx.get("description", ""),
            "tags": list(ctx.get("tags", [])),
            "price_mist": ctx.get("price_mist", 0),
            "low_mist": ctx.get("price_low_mist", 0),
            "high_mist": ctx.get("price_high_mist", 0),
            "explanation": ctx.get("price_explanation", ""),
            "network": runtime.context.ledger.network,
            "terms_fixed": True,
        }
        if fixed
        else {}
    )
    answer = ask(
        "upload",
        "upload_gate_fixed_terms" if fixed else "upload_gate",
        file_name=ctx.get("file_name", ""),
        size_bytes=ctx.get("size_bytes", 0),
        cost_frost=ctx.get("cost_frost", 0),
        chunk_count=ctx.get("chunk_count", 0),
        epochs=cfg.epochs,
        upload_eta_s=ctx.get("upload_eta_s"),
        verify_eta_s=ctx.get("verify_eta_s"),
        optimise=bool(ctx.get("optimisation")),
        **terms,
    )
    if answer["kind"] == "optimise" and ctx.get("optimisation"):
        # "optimise first": the steps with their commands; nothing is paid; the optimised
        # file is compared with this one when the user uploads it
        say(runtime, "optimisation_steps", expertise=state["expertise"], **ctx["optimisation"])
        return Command(
            goto=END,
            update={"context": {**ctx, "optimising": True}, "status": WorkflowStatus.ACTIVE},
        )
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(
            goto="upload",
            update={
                **complete(state, Step.CONFIRM_UPLOAD),
                "status": WorkflowStatus.ACTIVE,
                "current_phase": Phase.UPLOAD,  # shown while the upload runs
            },
        )
    if decision == "edit" and fixed:  # the listing terms are decided here, before registering
        edited, changes, problem = apply_edits(ctx, answer)
        if problem is not None:
            say(runtime, "listing_edit_problem", problem=problem)
            return Command(goto="upload_gate")
        if answer["kind"] == "set_price":
            edited = {**edited, "price_explanation": "your price"}
            say(runtime, "price_changed", price_mist=edited["price_mist"])
        else:
            say(runtime, "listing_edited", changes=changes)
        return Command(goto="upload_gate", update={"context": edited})
    if decision == "decline":
        say(runtime, "upload_declined", file_name=ctx.get("file_name", ""))
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="upload_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


async def upload(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["register", "recovery"]]:
    """Stream the file to storage in parallel chunks; a re-run resumes from the journal."""
    services = runtime.context
    cfg = services.config
    ctx = state["context"]
    path = Path(ctx.get("file_path", ""))
    say(
        runtime,
        "upload_started",
        file_name=ctx.get("file_name", ""),
        size_bytes=ctx.get("size_bytes", 0),
        chunk_count=ctx.get("chunk_count", 0),
        concurrency=cfg.upload_concurrency,
    )
    progress = UploadProgress(
        runtime, "upload", file_name=ctx.get("file_name", ""), estimate_s=ctx.get("upload_eta_s")
    )
    try:
        if not path.is_file():
            raise FileProblem(f"{ctx.get('file_name', path)} is no longer at {path}.")
        result = await store_file(
            services,
            path,
            prefix=state["workflow_id"],
            chunk_size=ctx.get("chunk_size", cfg.chunk_size),
            on_progress=progress,
            on_retry=announce_retries(runtime, ctx.get("file_name", "")),
        )
    except SatyaError as error:
        reached: ModelContext = {**ctx}
        reached.pop("stopped_percent", None)  # an earlier attempt's figures are not this one's
        reached.pop("stopped_bytes", None)
        reached |= progress.reached()  # type: ignore[typeddict-item]
        return Command(
            goto="recovery",
            update=failure_update(
                state, "upload", error, current_phase=Phase.UPLOAD, context=reached
            ),
        )
    new_ctx = {
        **ctx,
        "manifest_blob_id": result.manifest_blob_id,
        "sha256": result.sha256,
        "upload_bytes_sent": result.bytes_sent,
        "upload_bytes_skipped": result.bytes_skipped,
    }
    say(
        runtime,
        "upload_done",
        file_name=ctx.get("file_name", ""),
        manifest_blob_id=result.manifest_blob_id,
        sha256=result.sha256,
        bytes_sent=result.bytes_sent,
        bytes_skipped=result.bytes_skipped,
    )
    return Command(
        goto="register",
        update={
            "context": new_ctx,
            "current_phase": Phase.UPLOAD,
            "status": WorkflowStatus.ACTIVE,
            "error": None,
            **complete(state, Step.CHUNKED_UPLOAD),
        },
    )


async def register(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["verify_submit", "recovery"]]:
    """Create the PendingModel on chain (idempotent: keyed by the workflow id)."""
    services = runtime.context
    ctx = state["context"]
    if services.ledger.listing_terms_fixed_at_upload and not ctx.get("title"):
        # The listing will show what is registered now: register drafted terms, never a stub.
        ctx = {**ctx, **await draft_upload_terms(services.ledger, ctx)}
    try:
        wallet = await services.wallet_for(state["user_id"])
        times = await step_tx_times(runtime, state, "upload_model")
        receipt = await register_model(
            services, wallet, model_draft(ctx), prefix=state["workflow_id"], times=times
        )
    except SatyaError as error:
        return Command(goto="recovery", update=failure_update(state, "register", error))
    model_id = receipt.created[0]
    say(runtime, "registered", model_id=model_id, digest=receipt.digest, replayed=receipt.replayed)
    return Command(
        goto="verify_submit",
        update={
            "context": {**ctx, "model_id": model_id, "register_digest": receipt.digest},
            **complete(state, Step.REGISTER_ON_CHAIN),
        },
    )
