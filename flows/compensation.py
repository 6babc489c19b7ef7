"""Compensation: after a journey failed for good or was abandoned, what exists and undoing it.

``what_exists`` says exactly what the journey left behind (the stored blobs,
the PendingModel and its status on the ledger, a listing) and what was paid
and cannot be refunded (storage, gas). Where something can be undone it asks
once (the ``cleanup`` gate): withdraw the PendingModel (its status and
description then say so on the ledger and in the dashboard) and delete the
stored blobs where the storage allows it. Blobs are content-addressed, so a
blob another upload also stores (the same file, an identical chunk) is kept,
and the reply says how many were kept and why. ``cleanup`` does it after the yes;
every action is keyed, so a re-run repeats nothing, and each outcome is said,
including what the network cannot do (the deployed contract has no withdraw).
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.gates import ask, decide
from flows.publication import chain_tx, on_chain, tx_times
from flows.services import Services
from flows.state import END, JourneyState, ModelContext, WorkflowStatus
from integrations.chain.port import STATUS_WITHDRAWN
from integrations.errors import SatyaError
from integrations.storage.chunked import read_manifest
from integrations.storage.port import DeletableBlobStore

_STATUS_WORDS = {0: "pending", 1: "verifying", 2: "verified", 3: "withdrawn"}


async def _facts(state: JourneyState, services: Services) -> dict[str, object]:
    """What exists now for this journey, read from the ledger and the store."""
    ctx = state["context"]
    done = set(state.get("completed_steps") or [])
    facts: dict[str, object] = {
        "file_name": ctx.get("file_name", ""),
        "cost_frost": ctx.get("cost_frost", 0) if "confirm_upload" in done else 0,
        "listing_id": ctx.get("listing_id"),
        "deletable": isinstance(services.storage, DeletableBlobStore),
    }
    manifest_id = ctx.get("manifest_blob_id")
    if manifest_id:
        blobs = [manifest_id]
        try:
            manifest = await read_manifest(services.storage, manifest_id)
            blobs += [c.blob_id for c in manifest.chunks]
        except SatyaError:
            pass  # the manifest is gone already: only its id is known
        facts |= {"manifest_blob_id": manifest_id, "blob_ids": blobs, "blobs": len(blobs)}
    elif ctx.get("upload_bytes_sent") is None and "confirm_upload" in done:
        facts["partial_upload"] = True  # chunks kept by the journal for a resume
    model_id = ctx.get("model_id")
    if model_id:
        facts["model_id"] = model_id
        try:
            obj = await on_chain(services, services.ledger.get_object(model_id))
            status = int(str(obj.fields.get("status", 0)))
            facts |= {"model_status": _STATUS_WORDS.get(status, str(status))}
            facts["withdrawable"] = status != STATUS_WITHDRAWN and not ctx.get("listing_id")
        except SatyaError as error:
            facts |= {"model_status": f"unknown ({error.message})", "withdrawable": False}
    return facts


async def what_exists(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["cleanup_gate", "__end__"]]:
    """Say what the journey left behind; ask to undo it where that is possible."""
    facts = await _facts(state, runtime.context)
    say(runtime, "what_exists", **facts)
    if facts.get("withdrawable") or (facts.get("blobs") and facts["deletable"]):
        return Command(goto="cleanup_gate")
    return Command(goto=END)


async def cleanup_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["cleanup", "cleanup_gate", "__end__"]]:
    """One question before anything is undone (deleting cannot be taken back)."""
    facts = await _facts(state, runtime.context)
    answer = ask("cleanup", "cleanup_gate", **facts)
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(goto="cleanup")
    if decision == "decline":
        say(runtime, "cleanup_declined", **facts)
        return Command(goto=END)
    return Command(goto="cleanup_gate")


async def cleanup(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Withdraw the PendingModel and delete the blobs; say each outcome and what is not refunded."""
    services = runtime.context
    ctx = state["context"]
    facts = await _facts(state, services)
    outcome: dict[str, object] = {**facts}
    new_ctx: ModelContext = {**ctx}
    if facts.get("withdrawable"):
        error = state.get("error")
        reason = f"it failed: {error['message']}" if error else "the journey was cancelled"
        try:
            wallet = await services.wallet_for(state["user_id"])
            await chain_tx(
                services,
                "withdraw_model",
                services.ledger.withdraw_model(
                    wallet,
                    str(facts["model_id"]),
                    reason=str(reason),
                    request_id=f"{state['workflow_id']}:withdraw",
                ),
                await tx_times(runtime, state["user_id"], ("withdraw_model",)),
                hint="It keeps its key, so it is never executed twice; the dashboard shows "
                "the model's status once it lands.",
            )
            outcome["withdrawn"] = True
            new_ctx["model_withdrawn"] = True
        except SatyaError as error:
            outcome |= {"withdraw_error": error.message, "withdraw_hint": error.hint}
    store = services.storage
    if facts.get("blobs"):
        if isinstance(store, DeletableBlobStore):
            ids = facts.get("blob_ids")
            try:
                # Held by this upload's session key (its workflow id): bytes another
                # upload stores too (same file, identical chunk) are kept.
                released = await store.release_blobs(
                    state["workflow_id"], [str(i) for i in ids] if isinstance(ids, list) else []
                )
                outcome |= {
                    "deleted": len(released.deleted),
                    "kept_shared": len(released.shared),
                    "kept_unrecorded": len(released.unrecorded),
                    "already_gone": len(released.missing),
                }
                new_ctx["blobs_deleted"] = len(released.deleted)
                new_ctx["blobs_kept"] = len(released.shared) + len(released.unrecorded)
            except SatyaError as error:
                outcome |= {"deleted": 0, "delete_error": error.message}
        else:
            outcome["delete_error"] = (
                "This storage service does not delete blobs; they expire after their epochs."
            )
    say(runtime, "cleaned_up", **outcome)
    return {"context": new_ctx, "status": WorkflowStatus.CANCELLED}
