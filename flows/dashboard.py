"""Dashboard, market analysis and browsing: read-only views of the marketplace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from langgraph.runtime import Runtime

from flows.events import say
from flows.market.advice import recommendations
from flows.market.analysis import market_analysis
from flows.purchase import check_enclave_signature, listing_summary
from flows.services import Services
from flows.state import JourneyState
from integrations.chain.port import (
    PLATFORM_FEE_BPS,
    STATUS_VERIFIED,
    STATUS_WITHDRAWN,
    ChainObject,
    Ledger,
)
from integrations.errors import SatyaError


async def _timed(name: str, fetch: Callable[[], Awaitable[object]]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        value = await fetch()
        return {
            "source": name,
            "ok": True,
            "value": value,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
    except SatyaError as error:
        return {
            "source": name,
            "ok": False,
            "error": error.message,
            "hint": error.hint,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }


_STATE = {0: "pending", 1: "verifying", 2: "verified", STATUS_WITHDRAWN: "withdrawn"}


async def advice_for(
    services: Services, address: str, listings: list[ChainObject] | None = None
) -> list[dict[str, object]]:
    """Recommendations for the owner of ``address`` from the listings on the ledger (read
    now unless given) and their verified models not listed yet, as plain dicts."""
    ledger: Ledger = services.ledger
    if listings is None:
        listings = await ledger.listings()
    listed = {o.fields.get("pending_model_id") for o in listings}
    unlisted = [
        o
        for o in await ledger.owned_objects(address, "PendingModel")
        if o.fields.get("status") == STATUS_VERIFIED and o.object_id not in listed
    ]
    found = recommendations(
        listings,
        owner=address,
        now_ms=int(time.time() * 1000),
        unsold_days=services.config.unsold_days,
        gap_percent=services.config.price_gap_percent,
        unlisted=unlisted,
    )
    return [
        {
            "kind": a.kind,
            "text": a.text,
            "category": a.category,
            "listing_id": a.listing_id,
            "figures": dict(a.figures),
        }
        for a in found
    ]


async def _pending_models(ledger: Ledger, owner: str) -> list[dict[str, object]]:
    """``owner``'s models not listed yet: id, title, status and its state in words (a
    withdrawn one with the reason, kept in its description)."""
    objs = await ledger.owned_objects(owner, "PendingModel")
    verified_word = "verified"
    if any(o.fields.get("status") == STATUS_VERIFIED for o in objs):
        # Listing hands the PendingModel back to its creator (as the contract does):
        # a verified one that is already listed is not pending any more.
        try:
            listed = {o.fields.get("pending_model_id") for o in await ledger.listings()}
            objs = [o for o in objs if o.object_id not in listed]
        except SatyaError:  # a full node without an indexer cannot list listings
            verified_word = "verified (maybe listed: listings cannot be read here)"

    def state_of(o: ChainObject) -> str:
        status = int(str(o.fields.get("status", 0)))
        return verified_word if status == STATUS_VERIFIED else _STATE.get(status, "unknown")

    return [
        {
            "id": o.object_id,
            "title": o.fields.get("title"),
            "status": o.fields.get("status"),
            "state": state_of(o),
            **(
                {"description": o.fields.get("description")}
                if o.fields.get("status") == STATUS_WITHDRAWN
                else {}
            ),
        }
        for o in objs
    ]


async def dashboard(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Fetch pending models, marketplace, user stats and platform metrics concurrently."""
    services = runtime.context
    ledger = services.ledger
    wallet = await services.wallet_for(state["user_id"])

    async def pending() -> object:
        return await _pending_models(ledger, wallet.address)

    async def marketplace() -> object:
        objs = await ledger.listings()
        return {
            "listed": len(objs),
            "mine": sum(1 for o in objs if o.fields.get("creator") == wallet.address),
        }

    async def user_stats() -> object:
        objs = await ledger.listings()
        mine = [o for o in objs if o.fields.get("creator") == wallet.address]
        return {
            "balance_mist": await ledger.balance(wallet.address),
            "earnings_mist": sum(int(str(o.fields.get("total_earnings", 0))) for o in mine),
            "downloads": sum(int(str(o.fields.get("current_downloads", 0))) for o in mine),
        }

    async def platform() -> object:
        events = await ledger.events(limit=1000)
        return {
            "events": len(events),
            "purchases": sum(1 for e in events if e.type.endswith("ModelPurchased")),
        }

    async def advice() -> object:
        return await advice_for(services, wallet.address)

    sources = {
        "pending_models": pending,
        "marketplace": marketplace,
        "user_stats": user_stats,
        "platform_metrics": platform,
    }
    started = time.perf_counter()
    *results, advised = await asyncio.gather(
        *(_timed(name, fn) for name, fn in sources.items()), _timed("advice", advice)
    )
    total_ms = round((time.perf_counter() - started) * 1000, 1)
    say(
        runtime,
        "dashboard",
        sources=list(results),
        total_ms=total_ms,
        advice=advised.get("value") if advised["ok"] else None,
        advice_error=None if advised["ok"] else advised.get("error"),
        expertise=state.get("expertise"),
    )
    return {}


async def market(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Category prices, quality distribution and where the user's models sit."""
    wallet = await runtime.context.wallet_for(state["user_id"])
    try:
        listings = await runtime.context.ledger.listings()
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return {}
    analysis = market_analysis(listings, owner=wallet.address)
    try:
        advice: list[dict[str, object]] | None = await advice_for(
            runtime.context, wallet.address, listings
        )
    except SatyaError:  # the figures stand without the advice; the reply says it is missing
        advice = None
    say(
        runtime,
        "market_analysis",
        analysis=analysis,
        advice=advice,
        expertise=state.get("expertise"),
    )
    return {}


async def browse(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Search listings by text, category, price and quality; or show one listing in full."""
    intent = state["intent"]
    if intent.get("model_ref"):
        await show_listing(intent["model_ref"], runtime)
        return {}
    try:
        found = await runtime.context.ledger.listings(
            category=intent.get("category"),
            max_price_mist=intent.get("price_mist"),
            min_quality=intent.get("min_quality"),
            text=intent.get("query"),
        )
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return {}
    say(
        runtime,
        "listings",
        listings=[
            {
                "id": o.object_id,
                "title": o.fields.get("title"),
                "category": o.fields.get("category"),
                "price_mist": o.fields.get("price"),
                "quality_score": o.fields.get("quality_score"),
            }
            for o in found[:20]
        ],
        total=len(found),
    )
    return {}


def _utc(ms: object) -> str:
    if not isinstance(ms, int):
        return "unknown"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def show_listing(ref: str, runtime: Runtime[Services]) -> None:
    """One listing with its verification details; the enclave signature is checked, not assumed."""
    ledger = runtime.context.ledger
    try:
        found = (
            [await ledger.get_object(ref)]
            if ref.startswith("0x")
            else await ledger.listings(text=ref)
        )
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return
    found = [o for o in found if o.type.endswith("::MarketplaceModel")]
    if len(found) != 1:
        say(
            runtime,
            "listing_choice" if found else "listing_not_found",
            listings=[listing_summary(o) for o in found[:10]],
            query=ref,
        )
        return
    listing = found[0]
    f = listing.fields
    verification = f.get("verification")
    signed = verification if isinstance(verification, dict) else {}
    try:
        await check_enclave_signature(
            runtime.context,
            listing,
            str(f.get("model_digest", "")),
            str(f.get("model_blob_id", "")),
        )
        signature = "valid (checked now against the registered enclave key and the model digest)"
    except SatyaError as error:
        signature = f"NOT VALID: {error.message}"
    say(
        runtime,
        "listing_detail",
        id=listing.object_id,
        title=f.get("title"),
        description=f.get("description"),
        category=f.get("category"),
        tags=list(f.get("tags") or []),  # type: ignore[call-overload]
        price_mist=f.get("price"),
        fee_mist=int(str(f.get("price", 0))) * PLATFORM_FEE_BPS // 10_000,
        quality_score=f.get("quality_score"),
        security=f.get("security_assessment"),
        size_bytes=f.get("size_bytes"),
        file_format=f.get("file_format"),
        model_digest=f.get("model_digest"),
        enclave_id=f.get("enclave_id"),
        signed_at=_utc(signed.get("timestamp_ms")),
        signature=signature,
        downloads=f.get("current_downloads"),
        creator=f.get("creator"),
    )
