"""Marketplace events for an author: a sale of their model, a verification that ended
while they were away, a listing whose price is now far from comparable listings.

A notice is kept in the store under ``("inbox", user)`` until it is delivered: at once to
a notification stream that listens for that user (the chat, the HTTP server), else on the
user's next turn. A listing remembers its author (``("listing_authors",)``: listing id ->
user and conversation) so that a purchase by anyone else reaches them.

Example::

    await remember_author(store, listing_id, user_id="ana", thread_id=tid, title="Tiny")
    await notify_sale(store, listing_id, buyer="ben", price_mist=2 * 10**9, fee_mist=5 * 10**7,
                      purchase_id=pid)
    notes = await take_inbox(store, "ana")      # [{"kind": "model_sold", …}]
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection
from typing import Any, TypedDict

from langgraph.config import get_config, get_stream_writer
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, GetOp, Item

from flows.market.advice import category_of, price_gap, typical_range
from flows.services import Services
from flows.users import user_label
from integrations.chain.port import ChainObject
from integrations.errors import SatyaError

AUTHORS_NAMESPACE = ("listing_authors",)
INBOX_NAMESPACE = ("inbox",)
PRICE_GAPS_NAMESPACE = ("price_gaps",)  # listing id -> the gap its author was told about


class Notice(TypedDict):
    """Something that happened to a user's model while they were not looking."""

    key: str
    kind: str  # model_sold, verification_ended_passed/failed, price_far
    user_id: str
    thread_id: str  # the conversation it concerns
    at: float
    data: dict[str, object]


def current_thread(default: str) -> str:
    """The thread this run belongs to (``default`` outside a run)."""
    try:
        return str(get_config()["configurable"]["thread_id"])
    except (RuntimeError, KeyError):
        return default


async def remember_author(
    store: BaseStore | None, listing_id: str, *, user_id: str, thread_id: str, title: str
) -> None:
    """Keep who listed ``listing_id`` and in which conversation."""
    if store is not None:
        await store.aput(
            AUTHORS_NAMESPACE,
            listing_id,
            {"user_id": user_id, "thread_id": thread_id, "title": title},
            index=False,
        )


async def post(
    store: BaseStore, *, kind: str, user_id: str, thread_id: str, data: dict[str, object]
) -> Notice:
    """Put a notice in the user's inbox and, inside a run, on the run's stream (as
    ``{"event": "notice", "notice": …}``) so that a listener gets it at once."""
    notice = Notice(
        key=f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}",
        kind=kind,
        user_id=user_id,
        thread_id=thread_id,
        at=round(time.time(), 3),
        data=data,
    )
    await store.aput((*INBOX_NAMESPACE, user_label(user_id)), notice["key"], dict(notice))
    try:
        writer = get_stream_writer()
    except RuntimeError:
        return notice
    writer({"event": "notice", "notice": notice})
    return notice


async def notify_sale(
    store: BaseStore | None,
    listing_id: str,
    *,
    buyer: str,
    price_mist: int,
    fee_mist: int,
    purchase_id: str,
) -> Notice | None:
    """Tell the author of ``listing_id`` that it sold (never the buyer about their own)."""
    if store is None:
        return None
    item = await store.aget(AUTHORS_NAMESPACE, listing_id)
    if item is None or item.value.get("user_id") in (None, buyer):
        return None
    author: dict[str, Any] = item.value
    return await post(
        store,
        kind="model_sold",
        user_id=str(author["user_id"]),
        thread_id=str(author.get("thread_id", "")),
        data={
            "title": str(author.get("title", "")),
            "listing_id": listing_id,
            "price_mist": price_mist,
            "earned_mist": price_mist - fee_mist,
            "purchase_id": purchase_id,
        },
    )


async def take_inbox(store: BaseStore, user_id: str, *, limit: int = 50) -> list[Notice]:
    """The user's undelivered notices, oldest first; they are delivered (removed) now."""
    namespace = (*INBOX_NAMESPACE, user_label(user_id))
    items = await store.asearch(namespace, limit=limit)
    notices: list[Notice] = sorted((i.value for i in items), key=lambda n: n["key"])  # type: ignore[misc]
    for notice in notices:
        await store.adelete(namespace, notice["key"])
    return notices


async def discard(store: BaseStore, notice: Notice) -> None:
    """A notice delivered some other way (to a listening stream) leaves the inbox."""
    await store.adelete((*INBOX_NAMESPACE, user_label(notice["user_id"])), notice["key"])


async def check_prices(
    store: BaseStore | None,
    listings: list[ChainObject],
    *,
    category: str,
    gap_percent: int,
    changed: Collection[str] = (),
) -> list[Notice]:
    """Tell authors in ``category`` whose listing's price is now ``gap_percent`` or more
    from what comparable listings suggest (``flows.market.advice.price_gap``).

    Called when the category's listings change (a listing, a new price, a delisting).
    An author is told once when their listing's price becomes far (or moves to the other
    side); back within the threshold, the next time it goes far tells them again.
    ``changed``: the listings whose own author just set their price: their state is kept,
    but the author is not told about the price they chose a moment ago.
    """
    if store is None:
        return []
    wanted = category.strip().lower()
    peers = [o for o in listings if category_of(o) == wanted]
    # only listings made here have an author to tell: one read for all of them
    ops = [GetOp(AUTHORS_NAMESPACE, o.object_id) for o in peers]
    ops += [GetOp(PRICE_GAPS_NAMESPACE, o.object_id) for o in peers]
    found = [r if isinstance(r, Item) else None for r in await store.abatch(ops)]
    told: list[Notice] = []
    for i, obj in enumerate(peers):
        author, before = found[i], found[len(peers) + i]
        if author is None or not author.value.get("user_id"):
            continue  # listed elsewhere: nobody here to tell
        gap = price_gap(obj, peers)
        if gap is None or abs(gap.percent) < gap_percent:
            if before is not None:
                await store.adelete(PRICE_GAPS_NAMESPACE, obj.object_id)
            continue
        if before is not None and before.value.get("direction") == gap.direction:
            continue
        await store.aput(
            PRICE_GAPS_NAMESPACE,
            obj.object_id,
            {"direction": gap.direction, "percent": gap.percent},
            index=False,
        )
        if obj.object_id in changed:
            continue
        told.append(
            await post(
                store,
                kind="price_far",
                user_id=str(author.value["user_id"]),
                thread_id=str(author.value.get("thread_id", "")),
                data={
                    "title": gap.title,
                    "listing_id": gap.listing_id,
                    "category": gap.category,
                    "price_mist": gap.price_mist,
                    "suggested_mist": gap.suggested_mist,
                    "low_mist": gap.low_mist,
                    "high_mist": gap.high_mist,
                    "typical": typical_range(gap),
                    "comparables": gap.comparables,
                    "percent": abs(gap.percent),
                    "direction": gap.direction,
                    "threshold_percent": gap_percent,
                },
            )
        )
    return told


async def prices_changed(
    runtime: Runtime[Services], categories: set[str], *, changed: Collection[str] = ()
) -> None:
    """After a listing, a new price or a delisting in ``categories``: the price notices.

    A ledger whose listings cannot be read (a full node without an indexer) tells nobody;
    the step that changed the listing has succeeded all the same."""
    services = runtime.context
    try:
        listings = await services.ledger.listings()
    except SatyaError:
        return
    for category in sorted(categories):
        await check_prices(
            runtime.store,
            listings,
            category=category,
            gap_percent=services.config.price_gap_percent,
            changed=changed,
        )
