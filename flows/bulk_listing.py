"""Bulk listing: after a bulk upload, one plan and one gate list every verified model.

``list them`` makes one listing plan (per verified file: drafted title,
suggested price and range, quality score; the total), asks once (yes, no,
"make them all 2 SUI", "price tiny.onnx 3 SUI", or an edit of one model's text:
"title tiny.onnx: …", "set description of tiny.onnx to …", "add tag vision to
tiny.onnx", "tags tiny.onnx: a, b", "remove tag x from tiny.onnx", checked as at
the single listing gate), then lists each file with its own idempotency key; one
failure stops no other. Where the ledger fixes listing terms at upload, the gate
shows the terms read from the chain, with yes or no only.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.gates import ask, decide
from flows.intents import Intent
from flows.intents import intent as intent_of
from flows.listing import apply_edits, read_inspection, say_terms_fixed, terms_on_chain
from flows.market.analysis import suggest_price
from flows.market.listing_text import draft_listing
from flows.notices import current_thread, prices_changed, remember_author
from flows.onboarding import load_profile, save_profile
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
from integrations.chain.port import ChainObject, ListingMetadata
from integrations.errors import SatyaError

_LIST_ERROR_FIELDS = ("list_error_code", "list_error_message", "list_error_hint")


def as_context(item: BulkFile) -> ModelContext:
    """One bulk file as the single-model context the listing helpers read."""
    ctx: ModelContext = {
        "file_name": item.get("file_name", ""),
        "format": item.get("format", ""),
        "category": item.get("category", "general"),
        "size_bytes": item.get("size_bytes", 0),
        "title": item.get("title", ""),
        "description": item.get("description", ""),
        "tags": list(item.get("tags", [])),
        "price_mist": item.get("price_mist", 0),
    }
    for key in ("model_id", "verification_id", "quality_score"):
        if key in item:
            ctx[key] = item[key]
    return ctx


def listable_indexes(files: list[BulkFile]) -> list[int]:
    """Indexes of the verified files not listed yet."""
    return [
        i
        for i, f in enumerate(files)
        if f.get("status") == "done" and f.get("verification_id") and not f.get("listing_id")
    ]


async def _draft_terms(
    services: Services,
    item: BulkFile,
    listings: dict[str, list[ChainObject]],
    unreadable: dict[str, str],
) -> BulkFile:
    """A suggested price (comparables of the file's category) and drafted text for one file."""
    category = item.get("category", "general")
    if category not in listings and category not in unreadable:
        try:
            listings[category] = await services.ledger.listings(category=category)
        except SatyaError as error:  # e.g. a full node without an indexer
            unreadable[category] = (
                f"The {services.ledger.network} listings could not be read ({error.message})"
            )
    suggestion = suggest_price(
        listings.get(category, []),
        category=category,
        size_bytes=item.get("size_bytes", 0),
        quality_score=item.get("quality_score", 0),
        why_no_comparables=unreadable.get(category),
    )
    ctx = as_context(item)
    meta = draft_listing(
        file_name=item.get("file_name", "model"),
        file_format=item.get("format", ""),
        category=category,
        size_bytes=item.get("size_bytes", 0),
        quality_score=item.get("quality_score"),
        inspection=await read_inspection(services, ctx),
    )
    return item | BulkFile(
        title=meta.title,
        description=meta.description,
        tags=list(meta.tags),
        price_mist=suggestion.price_mist,
        price_low_mist=suggestion.low_mist,
        price_high_mist=suggestion.high_mist,
        price_explanation=suggestion.explanation,
    )


def find_listable(files: list[BulkFile], raw: str) -> tuple[int | None, str | None]:
    """The one model of the listing plan that ``raw`` names, or a problem naming them all.

    ``raw`` is a file name ("tiny.onnx", any case), its stem ("tiny") or a path
    ("models/a/tiny.onnx", which tells apart files of the same name).
    """
    listable = listable_indexes(files)
    names = ", ".join(files[i].get("file_name", "") for i in listable)
    want = raw.strip().strip("\"'").lower()
    base = PurePath(want).name

    def name_of(i: int) -> str:
        return files[i].get("file_name", "").lower()

    hits = [i for i in listable if name_of(i) == base]
    if not hits:
        hits = [i for i in listable if PurePath(name_of(i)).stem == base]
    if len(hits) > 1 and "/" in want:
        tail = want.removeprefix("./").lstrip("/")
        at = [files[i].get("path", "").lower() for i in hits]
        hits = [
            i for i, p in zip(hits, at, strict=True) if p == tail or p.endswith("/" + tail)
        ] or hits
    if not hits:
        return None, f"No model called {raw} in this listing; they are: {names}."
    if len(hits) > 1:
        same = len({name_of(i) for i in hits}) == 1
        which = ", ".join(
            files[i].get("path", "") if same else files[i].get("file_name", "") for i in hits
        )
        how = "its path" if same else "its full file name"
        return None, f"{raw} could be any of {which}; say which by {how}."
    return hits[0], None


def apply_bulk_prices(
    files: list[BulkFile], answer: Intent
) -> tuple[list[BulkFile], list[str], str | None]:
    """Prices of a bulk listing after "make them all 2 SUI" or "price tiny.onnx 3 SUI".

    Returns the files, what changed, and a problem (then nothing changed).
    """
    if "price_mist" not in answer:
        return files, [], "Say 'make them all 2 SUI', or 'price FILE 3 SUI' for one model."
    price = answer["price_mist"]
    listable = listable_indexes(files)
    targets: list[int] = []
    for raw in answer.get("paths") or []:
        hit, problem = find_listable(files, raw)
        if hit is None:
            return files, [], problem
        targets.append(hit)
    out = list(files)
    for i in targets or listable:
        out[i] = out[i] | BulkFile(price_mist=price, price_explanation="your price")
    changed = [files[i].get("file_name", "") for i in targets] if targets else ["all"]
    return out, changed, None


def apply_bulk_edit(
    files: list[BulkFile], answer: Intent
) -> tuple[list[BulkFile], str, list[str], str | None]:
    """One model's title, description or tags after "title tiny.onnx: …" and the like.

    The edit is checked as at the single listing gate (``flows.listing.apply_edits``).
    Returns the files, the file changed, what changed, and a problem (then nothing changed).
    """
    listable = listable_indexes(files)
    names = ", ".join(files[i].get("file_name", "") for i in listable)
    raws = answer.get("paths") or []
    if len(raws) > 1:
        return files, "", [], f"Change one model at a time; the models are: {names}."
    if raws:
        target, problem = find_listable(files, raws[0])
        if target is None:
            return files, "", [], problem
    elif len(listable) == 1:  # one model: no need to name it
        target = listable[0]
    else:
        return (
            files,
            "",
            [],
            (
                "Say which model to change, e.g. 'title FILE: …', 'set description of FILE "
                f"to …', 'add tag vision to FILE', 'remove tag x from FILE'. They are: {names}."
            ),
        )
    item = files[target]
    name = item.get("file_name", "")
    edited, changes, problem = apply_edits(as_context(item), answer)
    if problem is not None:
        return files, name, [], f"{name}: {problem}"
    out = list(files)
    out[target] = item | BulkFile(
        title=edited.get("title", ""),
        description=edited.get("description", ""),
        tags=list(edited.get("tags", [])),
    )
    if "price_mist" in answer:
        out[target] |= BulkFile(price_mist=answer["price_mist"], price_explanation="your price")
    return out, name, changes, None


def _plan_rows(files: list[BulkFile]) -> list[dict[str, object]]:
    return [dict(files[i]) for i in listable_indexes(files)]


async def bulk_listing_prep(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_listing_gate", "__end__"]]:
    """One listing plan for every verified file of the last bulk upload."""
    services = runtime.context
    ctx = state["context"]
    files = list(ctx.get("bulk", []))
    todo = listable_indexes(files)
    if not todo:
        say(
            runtime,
            "bulk_nothing_to_list",
            listed=sum(1 for f in files if f.get("listing_id")),
            total=len(files),
        )
        return Command(goto=END)
    fixed = services.ledger.listing_terms_fixed_at_upload
    listings: dict[str, list[ChainObject]] = {}
    unreadable: dict[str, str] = {}
    for i in todo:
        f = files[i]
        if fixed:  # what the chain holds is what will be listed
            terms = await terms_on_chain(services, as_context(f))
            files[i] = f | BulkFile(
                title=terms.get("title", ""),
                description=terms.get("description", ""),
                tags=list(terms.get("tags", [])),
                price_mist=terms.get("price_mist", 0),
            )
        else:
            files[i] = await _draft_terms(services, f, listings, unreadable)
    intent = state["intent"]
    requested = ctx.get("requested_price_mist")
    if requested is not None and not fixed and intent["kind"] not in ("set_price", "edit_listing"):
        files, _, _ = apply_bulk_prices(files, intent_of("set_price", "", price_mist=requested))
    if intent["kind"] in ("set_price", "edit_listing"):  # "list them at 2 SUI"
        if fixed:
            say_terms_fixed(runtime, intent)
        else:
            if intent["kind"] == "edit_listing":  # "title tiny.onnx: …" before 'list them'
                edited, _, _, problem = apply_bulk_edit(files, intent)
            else:
                edited, _, problem = apply_bulk_prices(files, intent)
            if problem is not None:
                say(runtime, "listing_edit_problem", problem=problem)
            files = edited
    rows = _plan_rows(files)
    say(
        runtime,
        "bulk_listing_plan_fixed_terms" if fixed else "bulk_listing_plan",
        expertise=state["expertise"],
        listing_files=rows,
        count=len(rows),
        total_price_mist=sum(int(str(r.get("price_mist", 0))) for r in rows),
        network=services.ledger.network,
    )
    return Command(
        goto="bulk_listing_gate",
        update={
            "context": {**ctx, "bulk": files},
            "current_phase": Phase.MARKETPLACE_LISTING,
            "status": WorkflowStatus.ACTIVE,
            **complete(state, Step.SUGGEST_PRICE),
        },
    )


async def bulk_listing_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["bulk_list", "bulk_listing_gate", "__end__"]]:
    """One confirmation for every listing; price and text changes ask again."""
    ledger = runtime.context.ledger
    files = list(state["context"].get("bulk", []))
    rows = _plan_rows(files)
    total = sum(int(str(r.get("price_mist", 0))) for r in rows)
    if state["mode"] == "auto":
        say(
            runtime,
            "auto_approved",
            gate="listing",
            price_mist=total,
            cap_mist=runtime.context.config.auto_cap_mist,
        )
        return Command(goto="bulk_list", update=complete(state, Step.CONFIRM_LISTING))
    fixed = ledger.listing_terms_fixed_at_upload
    answer = ask(
        "listing",
        "bulk_listing_gate_fixed_terms" if fixed else "bulk_listing_gate",
        count=len(rows),
        total_price_mist=total,
        listing_files=rows,
        network=ledger.network,
        terms_fixed=fixed,
    )
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(
            goto="bulk_list",
            update={**complete(state, Step.CONFIRM_LISTING), "status": WorkflowStatus.ACTIVE},
        )
    if decision == "edit":
        if fixed:
            say_terms_fixed(runtime, answer)
            return Command(goto="bulk_listing_gate")
        if answer["kind"] == "edit_listing":
            edited, name, changes, problem = apply_bulk_edit(files, answer)
        else:
            edited, changed, problem = apply_bulk_prices(files, answer)
        if problem is not None:
            say(runtime, "listing_edit_problem", problem=problem)
            return Command(goto="bulk_listing_gate")
        new_rows = _plan_rows(edited)
        total_after = sum(int(str(r.get("price_mist", 0))) for r in new_rows)
        if answer["kind"] == "edit_listing":
            say(
                runtime,
                "bulk_listing_edited",
                file_name=name,
                changes=changes,
                listing_files=new_rows,
                total_price_mist=total_after,
            )
        else:
            say(
                runtime,
                "bulk_prices_changed",
                price_mist=answer.get("price_mist", 0),
                changed=changed,
                listing_files=new_rows,
                total_price_mist=total_after,
            )
        return Command(
            goto="bulk_listing_gate",
            update={"context": {**state["context"], "bulk": edited}},
        )
    if decision == "decline":
        say(runtime, "bulk_listing_declined", count=len(rows))
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="bulk_listing_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


async def bulk_list(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """List every approved file, one transaction each, keyed per file; then the summary."""
    services = runtime.context
    files = list(state["context"].get("bulk", []))
    todo = listable_indexes(files)
    try:
        wallet = await services.wallet_for(state["user_id"])
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return {"status": WorkflowStatus.FAILED}
    new_ids: list[str] = []
    for i in todo:  # one signer, one gas coin: one transaction at a time
        f = BulkFile(**files[i])
        for key in _LIST_ERROR_FIELDS:
            f.pop(key, None)  # type: ignore[misc]
        try:
            receipt = await services.ledger.list_on_marketplace(
                wallet,
                f.get("model_id", ""),
                f.get("verification_id", ""),
                request_id=f"{f.get('key')}:list",
                price_mist=f.get("price_mist"),
                metadata=ListingMetadata(
                    f.get("title", ""), f.get("description", ""), tuple(f.get("tags", []))
                ),
            )
        except SatyaError as error:
            f |= BulkFile(
                list_error_code=error.code,
                list_error_message=error.message,
                list_error_hint=error.hint,
            )
            files[i] = f
            say(runtime, "bulk_file_list_failed", **f)
            continue
        f |= BulkFile(listing_id=receipt.created[0], listing_digest=receipt.digest)
        files[i] = f
        new_ids.append(receipt.created[0])
        await remember_author(
            runtime.store,
            receipt.created[0],
            user_id=state["user_id"],
            thread_id=current_thread(state["workflow_id"]),
            title=f.get("title", ""),
        )
        say(runtime, "bulk_file_listed", **f)
    if new_ids:
        # the author just chose these prices: others in their categories may now be far off
        categories = {f.get("category", "general") for f in files if f.get("listing_id") in new_ids}
        await prices_changed(runtime, categories, changed=set(new_ids))
        profile = await load_profile(runtime, state["user_id"]) or {}
        listed = list(profile.get("listings", []))
        listed += [i for i in new_ids if i not in listed]
        await save_profile(
            runtime, state["user_id"], {**profile, "listings": listed, "published": len(listed)}
        )
    failed = [files[i] for i in todo if files[i].get("list_error_code")]
    say(
        runtime,
        "bulk_list_summary",
        listed=len(new_ids),
        failed=len(failed),
        total=len(todo),
        total_price_mist=sum(
            f.get("price_mist", 0) for f in files if f.get("listing_id") in new_ids
        ),
    )
    if failed:
        say(runtime, "bulk_next_relist", failed=len(failed))
    steps = complete(state, Step.CREATE_LISTING, Step.SETUP_MONITORING)
    return {
        "context": {**state["context"], "bulk": files},
        "current_phase": Phase.COMPLETED if new_ids else Phase.MARKETPLACE_LISTING,
        "status": WorkflowStatus.COMPLETED if new_ids else WorkflowStatus.FAILED,
        **(steps if new_ids else {}),
    }
