"""Marketplace listing: suggest a price and metadata, ask (with edits), list, set up monitoring.

At the listing gate the author sees the generated title, description and tags
with the suggested price and its range, and may edit any of them ("title: …",
"set description to …", "add tag …", "remove tag …", "tags: …", "price 2.5 SUI"); the gate
asks again with the edits until the author says yes or no. The listing carries
what was approved.

On a ledger whose ``listing_terms_fixed_at_upload`` is True (a live Sui
network: the deployed contract keeps the upload's price and text), the terms
are drafted before the upload (``draft_upload_terms``, shown and editable at
the upload gate) and registered with the model. The listing gate then shows
the terms read from the chain; an edit is answered with why it cannot be made
and how to get other terms (upload again), and yes lists them unchanged.
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.checkpoints import answered_category, with_answers
from flows.events import say
from flows.expertise import graduate, graduation
from flows.failures import failure_update
from flows.gates import ask, decide
from flows.intents import Intent
from flows.market.analysis import suggest_price
from flows.market.listing_text import MAX_TAGS, MAX_TITLE, draft_listing, normalize_tag
from flows.notices import current_thread, prices_changed, remember_author
from flows.onboarding import load_profile, save_profile
from flows.publication import chain_tx, step_tx_times
from flows.services import Services
from flows.state import END, JourneyState, ModelContext, Phase, Step, WorkflowStatus, complete
from integrations.chain.port import Ledger, ListingMetadata
from integrations.errors import SatyaError

_TERM_FIELDS = (
    ("title", "title"),
    ("description", "description"),
    ("tags", "tags"),
    ("add_tags", "tags"),
    ("remove_tags", "tags"),
    ("price_mist", "price"),
)


async def read_inspection(services: Services, ctx: ModelContext) -> dict[str, object]:
    """The enclave's signed inspection of the model, as recorded with its verification."""
    verification_id = ctx.get("verification_id")
    if not verification_id:
        return {}
    try:
        obj = await services.ledger.get_object(verification_id)
    except SatyaError:
        return {}  # the text then leaves out what only the inspection knows
    data = obj.fields.get("signed_data")
    return dict(data) if isinstance(data, dict) else {}


def _metadata(ctx: ModelContext, inspection: dict[str, object]) -> ListingMetadata:
    if ctx.get("title"):  # drafted (and maybe edited) before: keep the author's version
        return ListingMetadata(ctx["title"], ctx.get("description", ""), tuple(ctx.get("tags", [])))
    return draft_listing(
        file_name=ctx.get("file_name", "model"),
        file_format=ctx.get("format", ""),
        category=ctx.get("category", "general"),
        size_bytes=ctx.get("size_bytes", 0),
        quality_score=ctx.get("quality_score"),
        inspection=inspection,
    )


def apply_edits(ctx: ModelContext, edit: Intent) -> tuple[ModelContext, list[str], str | None]:
    """The context with the listing edits of ``edit``, what changed, and a problem if any."""
    out: ModelContext = {**ctx}
    changes: list[str] = []
    if "title" in edit:
        title = edit["title"].strip()
        if not title:
            return ctx, [], "A listing needs a title; say e.g. 'title: My Model'."
        if len(title) > MAX_TITLE:
            return ctx, [], f"A title is at most {MAX_TITLE} characters; this one has {len(title)}."
        out["title"] = title
        changes.append(f'title "{title}"')
    if "description" in edit:
        description = edit["description"].strip()
        if not description:
            return ctx, [], "The description is empty; say 'set description to …' with the text."
        out["description"] = description
        changes.append("description updated")
    tags = list(out.get("tags", []))
    if "tags" in edit:  # "tags: vision, small": these replace the tags
        tags = list(dict.fromkeys(t for t in map(normalize_tag, edit["tags"]) if t))
        if not tags:
            return ctx, [], "Say which tags, e.g. 'tags: vision, small'."
        if len(tags) > MAX_TAGS:
            return ctx, [], f"A listing has at most {MAX_TAGS} tags; this list has {len(tags)}."
        changes.append(f"tags set to {', '.join(tags)}")
    for raw in edit.get("add_tags", []):
        tag = normalize_tag(raw)
        if tag and tag not in tags:
            if len(tags) >= MAX_TAGS:
                return ctx, [], f"A listing has at most {MAX_TAGS} tags; remove one first."
            tags.append(tag)
            changes.append(f"tag {tag} added")
    for raw in edit.get("remove_tags", []):
        tag = normalize_tag(raw)
        if tag not in tags:
            return ctx, [], f"There is no tag '{tag}'; the tags are: {', '.join(tags) or 'none'}."
        tags.remove(tag)
        changes.append(f"tag {tag} removed")
    out["tags"] = tags
    if "price_mist" in edit:
        out["price_mist"] = edit["price_mist"]
        changes.append(f"price {edit['price_mist']} MIST")
    if not changes:
        return (
            ctx,
            [],
            (
                "Say what to change: 'title: …', 'set description to …', 'add tag …', "
                "'remove tag …', 'tags: …' or 'price 2.5 SUI'."
            ),
        )
    return out, changes, None


async def draft_upload_terms(
    ledger: Ledger, ctx: ModelContext, *, price_mist: int | None = None
) -> ModelContext:
    """The listing terms to register with a model where they are fixed at upload.

    The text is drafted from what is known before verification (file name,
    format, category, size); the price is ``price_mist`` when the author gave
    one ("upload ./m.onnx at 2 SUI"), else a suggestion from comparable
    listings without a quality score. Returns the context keys to add.
    """
    category = ctx.get("category", "general")
    why: str | None = None
    try:
        listings = await ledger.listings(category=category)
    except SatyaError as error:  # e.g. a full node without an indexer
        listings = []
        why = f"The {ledger.network} listings could not be read ({error.message})"
    suggestion = suggest_price(
        listings,
        category=category,
        size_bytes=ctx.get("size_bytes", 0),
        quality_score=None,
        why_no_comparables=why,
    )
    meta = draft_listing(
        file_name=ctx.get("file_name", "model"),
        file_format=ctx.get("format", ""),
        category=category,
        size_bytes=ctx.get("size_bytes", 0),
        quality_score=None,
        inspection={},
    )
    return {
        "title": meta.title,
        "description": meta.description,
        "tags": list(meta.tags),
        "price_mist": suggestion.price_mist if price_mist is None else price_mist,
        "price_low_mist": suggestion.low_mist,
        "price_high_mist": suggestion.high_mist,
        "price_explanation": suggestion.explanation
        if price_mist is None
        else f"your price; suggested: {suggestion.explanation}",
    }


def fixed_term_fields(edit: Intent) -> list[str]:
    """The listing terms an edit asks to change: 'title', 'description', 'tags', 'price'."""
    out: list[str] = []
    for slot, name in _TERM_FIELDS:
        if slot in edit and name not in out:
            out.append(name)
    return out or ["listing terms"]


def say_terms_fixed(runtime: Runtime[Services], edit: Intent) -> None:
    fields = fixed_term_fields(edit)
    text = fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1]
    say(
        runtime,
        "listing_terms_fixed",
        fields=fields,
        fields_text=text,
        network=runtime.context.ledger.network,
    )


async def terms_on_chain(services: Services, ctx: ModelContext) -> ModelContext:
    """The price and text the pending model holds on chain (as registered if unreadable)."""
    registered: ModelContext = {
        "title": ctx.get("title", ""),
        "description": ctx.get("description", ""),
        "tags": list(ctx.get("tags", [])),
        "price_mist": ctx.get("price_mist", 0),
    }
    try:
        fields = (await services.ledger.get_object(ctx.get("model_id", ""))).fields
    except SatyaError:
        return registered  # what this journey's own register transaction wrote
    tags = fields.get("tags")
    return {
        "title": str(fields.get("title", registered["title"])),
        "description": str(fields.get("description", registered["description"])),
        "tags": [str(t) for t in tags] if isinstance(tags, list) else registered["tags"],
        "price_mist": int(str(fields.get("price", registered["price_mist"]))),
    }


def _to_listing_gate(
    state: JourneyState, new_ctx: ModelContext
) -> Command[Literal["listing_gate"]]:
    """On to the listing question with the prepared terms."""
    return Command(
        goto="listing_gate",
        update={
            "context": new_ctx,
            "current_phase": Phase.MARKETPLACE_LISTING,
            **complete(state, Step.SUGGEST_PRICE),
        },
    )


async def _prep_fixed_terms(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["listing_gate"]]:
    """Where the terms were fixed at upload: show those on chain, explain an edit asked for."""
    services = runtime.context
    ctx = state["context"]
    new_ctx: ModelContext = {**ctx, **await terms_on_chain(services, ctx)}
    if state["intent"]["kind"] in ("set_price", "edit_listing"):  # "list it at 2 SUI"
        say_terms_fixed(runtime, state["intent"])
    say(
        runtime,
        "listing_terms_on_chain",
        expertise=state["expertise"],
        network=services.ledger.network,
        model_id=ctx.get("model_id", ""),
        price_mist=new_ctx["price_mist"],
        title=new_ctx["title"],
        description=new_ctx["description"],
        tags=new_ctx["tags"],
    )
    return _to_listing_gate(state, new_ctx)


async def listing_prep(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["listing_gate"]]:
    """Suggest a price from comparable listings and generate the listing text (the answers
    to the checkpoint questions, where they were asked, shape both)."""
    services = runtime.context
    if services.ledger.listing_terms_fixed_at_upload:
        return await _prep_fixed_terms(state, runtime)
    ctx = state["context"]
    category = answered_category(ctx) or ctx.get("category", "general")
    ctx = {**ctx, "category": category}
    intent = state["intent"]
    unreadable: str | None = None
    try:
        listings = await services.ledger.listings(category=category)
    except SatyaError as error:  # e.g. a full node without an indexer: price without comparables
        listings = []
        unreadable = f"The {services.ledger.network} listings could not be read ({error.message})"
    suggestion = suggest_price(
        listings,
        category=category,
        size_bytes=ctx.get("size_bytes", 0),
        quality_score=ctx.get("quality_score", 0),
        why_no_comparables=unreadable,
    )
    meta = _metadata(ctx, await read_inspection(services, ctx))
    if not ctx.get("title"):  # a first draft: the author's answers shape it
        meta = with_answers(meta, ctx, category)
    new_ctx: ModelContext = {
        **ctx,
        "price_mist": suggestion.price_mist,
        "price_low_mist": suggestion.low_mist,
        "price_high_mist": suggestion.high_mist,
        "price_explanation": suggestion.explanation,
        "title": meta.title,
        "description": meta.description,
        "tags": list(meta.tags),
    }
    requested = ctx.get("requested_price_mist")
    if requested is not None:  # asked for with the upload: the draft says so, the gate still asks
        new_ctx = {**new_ctx, "price_mist": requested, "price_explanation": "your price"}
    if intent["kind"] in ("set_price", "edit_listing"):  # "list it at 2 SUI", "title: X"
        edited, _, _ = apply_edits(new_ctx, intent)
        new_ctx = edited
    say(
        runtime,
        "price_suggestion",
        expertise=state["expertise"],
        price_mist=new_ctx["price_mist"],
        low_mist=suggestion.low_mist,
        high_mist=suggestion.high_mist,
        comparables=suggestion.comparables,
        explanation=suggestion.explanation,
        title=new_ctx["title"],
        description=new_ctx["description"],
        tags=new_ctx["tags"],
    )
    return _to_listing_gate(state, new_ctx)


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
    if runtime.context.ledger.listing_terms_fixed_at_upload:
        return await _gate_fixed_terms(state, runtime)
    answer = ask(
        "listing",
        "listing_gate",
        title=ctx.get("title", ""),
        description=ctx.get("description", ""),
        tags=list(ctx.get("tags", [])),
        price_mist=ctx.get("price_mist", 0),
        low_mist=ctx.get("price_low_mist", 0),
        high_mist=ctx.get("price_high_mist", 0),
        explanation=ctx.get("price_explanation", ""),
        quality_score=ctx.get("quality_score"),
        category=ctx.get("category", ""),
    )
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(
            goto="list_model",
            update={**complete(state, Step.CONFIRM_LISTING), "status": WorkflowStatus.ACTIVE},
        )
    if decision == "edit":
        edited, changes, problem = apply_edits(ctx, answer)
        if problem is not None:
            say(runtime, "listing_edit_problem", problem=problem)
            return Command(goto="listing_gate")
        if answer["kind"] == "set_price":
            say(runtime, "price_changed", price_mist=edited["price_mist"])
        else:
            say(runtime, "listing_edited", changes=changes)
        return Command(goto="listing_gate", update={"context": edited})
    if decision == "decline":
        say(runtime, "listing_declined", model_id=ctx.get("model_id", ""))
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="listing_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


async def _gate_fixed_terms(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["list_model", "listing_gate", "__end__"]]:
    """The listing gate where the terms were fixed at upload: yes, no, or why not."""
    ctx = state["context"]
    network = runtime.context.ledger.network
    answer = ask(
        "listing",
        "listing_gate_fixed_terms",
        title=ctx.get("title", ""),
        description=ctx.get("description", ""),
        tags=list(ctx.get("tags", [])),
        price_mist=ctx.get("price_mist", 0),
        quality_score=ctx.get("quality_score"),
        category=ctx.get("category", ""),
        network=network,
        terms_fixed=True,
    )
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(
            goto="list_model",
            update={**complete(state, Step.CONFIRM_LISTING), "status": WorkflowStatus.ACTIVE},
        )
    if decision == "edit":
        say_terms_fixed(runtime, answer)
        return Command(goto="listing_gate")
    if decision == "decline":
        say(runtime, "listing_declined", model_id=ctx.get("model_id", ""))
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="listing_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


def _list_request(state: JourneyState) -> str:
    """The listing's idempotency key; a model listed again after a delist gets a new one."""
    ctx = state["context"]
    if ctx.get("delisted_listing_id"):
        return f"{state['workflow_id']}:list:{len(ctx.get('listing_changes', []))}"
    return f"{state['workflow_id']}:list"


async def list_model(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["__end__", "recovery"]]:
    """Create the listing (idempotent) and record it for monitoring."""
    services = runtime.context
    ctx = state["context"]
    try:
        wallet = await services.wallet_for(state["user_id"])
        times = await step_tx_times(runtime, state, "list_on_marketplace")
        receipt = await chain_tx(
            services,
            "list_on_marketplace",
            services.ledger.list_on_marketplace(
                wallet,
                ctx["model_id"],
                ctx["verification_id"],
                request_id=_list_request(state),
                price_mist=ctx.get("price_mist"),
                metadata=ListingMetadata(
                    ctx.get("title", ""), ctx.get("description", ""), tuple(ctx.get("tags", []))
                ),
            ),
            times,
        )
    except SatyaError as error:
        return Command(goto="recovery", update=failure_update(state, "list_model", error))
    listing_id = receipt.created[0]
    await remember_author(
        runtime.store,
        listing_id,
        user_id=state["user_id"],
        thread_id=current_thread(state["workflow_id"]),
        title=ctx.get("title", ""),
    )
    await prices_changed(runtime, {ctx.get("category", "general")}, changed={listing_id})
    profile = await load_profile(runtime, state["user_id"]) or {}
    listed = list(profile.get("listings", []))
    if listing_id not in listed:
        listed.append(listing_id)
    # the last price: "the same price as last time" in a later conversation
    profile = {
        **profile,
        "listings": listed,
        "published": len(listed),
        "last_price_mist": ctx.get("price_mist"),
    }
    level = state["expertise"]
    graduated: str | None = None
    if graduation(profile, level) is not None:  # three publications: less hand-holding
        profile, level, graduated = graduate(profile, level)
    await save_profile(runtime, state["user_id"], profile)
    say(
        runtime,
        "listed",
        listing_id=listing_id,
        digest=receipt.digest,
        price_mist=ctx.get("price_mist", 0),
        title=ctx.get("title", ""),
        tags=list(ctx.get("tags", [])),
        expertise=state["expertise"],
    )
    if graduated is not None:
        say(runtime, "graduated", expertise=level, why=graduated, published=len(listed))
    return Command(
        goto=END,
        update={
            "expertise": level,
            "context": {**ctx, "listing_id": listing_id, "listing_digest": receipt.digest},
            "current_phase": Phase.COMPLETED,
            "status": WorkflowStatus.COMPLETED,
            "error": None,
            **complete(state, Step.CREATE_LISTING, Step.SETUP_MONITORING),
        },
    )
