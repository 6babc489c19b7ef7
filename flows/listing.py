"""Marketplace listing: suggest a price and metadata, ask, list, set up monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.failures import failure_update
from flows.gates import ask, decide
from flows.onboarding import load_profile, save_profile
from flows.services import Services
from flows.state import END, JourneyState, ModelContext, Phase, Step, WorkflowStatus, complete
from integrations.chain.market import suggest_price
from integrations.errors import SatyaError


def _metadata(ctx: ModelContext) -> tuple[str, str, list[str]]:
    stem = Path(ctx.get("file_name", "model")).stem
    title = ctx.get("title") or stem.replace("_", " ").replace("-", " ").strip().title()
    score = ctx.get("quality_score")
    description = ctx.get("description") or (
        f"{ctx.get('category', 'general')} model in {ctx.get('format', 'unknown')} format, "
        f"{ctx.get('size_bytes', 0):,} bytes; TEE-verified"
        + (f" with quality score {score}/100." if score is not None else ".")
    )
    tags = ctx.get("tags") or sorted(
        {ctx.get("category", "general"), ctx.get("format", ""), "tee-verified"}
    )
    return title, description, [t for t in tags if t]


async def listing_prep(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["listing_gate"]]:
    """Suggest a price from comparable listings and generate the listing text."""
    services = runtime.context
    ctx = state["context"]
    intent = state["intent"]
    listings = await services.ledger.listings(category=ctx.get("category"))
    suggestion = suggest_price(
        listings,
        category=ctx.get("category", "general"),
        size_bytes=ctx.get("size_bytes", 0),
        quality_score=ctx.get("quality_score", 0),
    )
    price = (
        intent["price_mist"]
        if intent["kind"] == "set_price" and "price_mist" in intent
        else suggestion.price_mist
    )
    title, description, tags = _metadata(ctx)
    new_ctx: ModelContext = {
        **ctx,
        "price_mist": price,
        "price_low_mist": suggestion.low_mist,
        "price_high_mist": suggestion.high_mist,
        "price_explanation": suggestion.explanation,
        "title": title,
        "description": description,
        "tags": tags,
    }
    say(
        runtime,
        "price_suggestion",
        expertise=state["expertise"],
        price_mist=price,
        low_mist=suggestion.low_mist,
        high_mist=suggestion.high_mist,
        comparables=suggestion.comparables,
        explanation=suggestion.explanation,
        title=title,
        description=description,
        tags=tags,
    )
    return Command(
        goto="listing_gate",
        update={
            "context": new_ctx,
            "current_phase": Phase.MARKETPLACE_LISTING,
            **complete(state, Step.SUGGEST_PRICE),
        },
    )


async def listing_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["list_model", "listing_gate", "__end__"]]:
    """Ask before listing (supervised); edits to the price ask again."""
    ctx = state["context"]
    cfg = runtime.context.config
    if state["mode"] == "auto":
        say(
            runtime,
            "auto_approved",
            gate="listing",
            price_mist=ctx.get("price_mist", 0),
            cap_mist=cfg.auto_cap_mist,
        )
        return Command(goto="list_model", update=complete(state, Step.CONFIRM_LISTING))
    answer = ask(
        "listing",
        "listing_gate",
        title=ctx.get("title", ""),
        price_mist=ctx.get("price_mist", 0),
        low_mist=ctx.get("price_low_mist", 0),
        high_mist=ctx.get("price_high_mist", 0),
        quality_score=ctx.get("quality_score"),
        category=ctx.get("category", ""),
    )
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(
            goto="list_model",
            update={**complete(state, Step.CONFIRM_LISTING), "status": WorkflowStatus.ACTIVE},
        )
    if decision == "edit" and "price_mist" in answer:
        say(runtime, "price_changed", price_mist=answer["price_mist"])
        return Command(
            goto="listing_gate", update={"context": {**ctx, "price_mist": answer["price_mist"]}}
        )
    if decision == "decline":
        say(runtime, "listing_declined", model_id=ctx.get("model_id", ""))
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="listing_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


async def list_model(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["__end__", "recovery"]]:
    """Create the listing (idempotent) and record it for monitoring."""
    services = runtime.context
    ctx = state["context"]
    try:
        wallet = await services.wallet_for(state["user_id"])
        receipt = await services.ledger.list_on_marketplace(
            wallet,
            ctx["model_id"],
            ctx["verification_id"],
            request_id=f"{state['workflow_id']}:list",
            price_mist=ctx.get("price_mist"),
        )
    except SatyaError as error:
        return Command(goto="recovery", update=failure_update(state, "list_model", error))
    listing_id = receipt.created[0]
    profile = await load_profile(runtime, state["user_id"]) or {}
    listed = list(profile.get("listings", []))
    if listing_id not in listed:
        listed.append(listing_id)
    await save_profile(
        runtime, state["user_id"], {**profile, "listings": listed, "published": len(listed)}
    )
    say(
        runtime,
        "listed",
        listing_id=listing_id,
        digest=receipt.digest,
        price_mist=ctx.get("price_mist", 0),
        title=ctx.get("title", ""),
        expertise=state["expertise"],
    )
    return Command(
        goto=END,
        update={
            "context": {**ctx, "listing_id": listing_id, "listing_digest": receipt.digest},
            "current_phase": Phase.COMPLETED,
            "status": WorkflowStatus.COMPLETED,
            "error": None,
            **complete(state, Step.CREATE_LISTING, Step.SETUP_MONITORING),
        },
    )
