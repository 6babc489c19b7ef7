"""Entry points the embedded ledger adds to the Satya contract: undoing what an author did.

The deployed ``satya::marketplace`` module has no way to take back a pending
model or a listing; the embedded ledger offers three, with the ownership and
gas rules of listing (only the creator, gas paid by the sender, no platform fee):

- ``withdraw_model``: a ``PendingModel`` that failed (or will not finish)
  verification is marked withdrawn (``status`` 3) and its description says why,
  so the ledger, the dashboard and a buyer looking it up all see it; a model
  that is listed must be delisted first;
- ``delist``: the creator takes a ``MarketplaceModel`` off the market (it can no
  longer be bought; the pending model, still verified, may be listed again);
- ``reprice``: the creator changes a listing's price.

Each emits an event (``ModelWithdrawn``, ``ModelDelisted``, ``ModelRepriced``).
"""

from __future__ import annotations

from integrations.chain.local_db import TxContext, load_object
from integrations.chain.local_rules import U64_MAX
from integrations.chain.port import STATUS_VERIFIED, STATUS_WITHDRAWN, ChainObject
from integrations.errors import InvalidStatus, PermissionDenied, UserInputError


def _by_creator(ctx: TxContext, listing_id: str) -> ChainObject:
    listing = load_object(ctx.conn, listing_id, "MarketplaceModel")
    if listing.fields["creator"] != ctx.sender:
        raise PermissionDenied(
            f"Listing {listing_id} belongs to another creator.",
            hint="Only the creator of a listing can change or delist it.",
        )
    return listing


def _bump(ctx: TxContext, registry_id: str, **deltas: int) -> None:
    registry = load_object(ctx.conn, registry_id, "MarketplaceRegistry")
    for key, delta in deltas.items():
        if key in registry.fields:
            registry.fields[key] = int(str(registry.fields[key])) + delta
    ctx.save(registry)


def withdraw_model(ctx: TxContext, pending_id: str, reason: str) -> None:
    """Status -> 3 (withdrawn), description -> 'Withdrawn by its creator: <reason>'."""
    model = load_object(ctx.conn, pending_id, "PendingModel")
    if model.owner != ctx.sender:
        raise PermissionDenied(f"PendingModel {pending_id} belongs to another address.")
    status = int(str(model.fields["status"]))
    if status == STATUS_WITHDRAWN:
        raise InvalidStatus(f"Model {pending_id} is already withdrawn.")
    listed = ctx.conn.execute(
        "SELECT id FROM objects WHERE short_type = 'MarketplaceModel' AND deleted_by IS NULL "
        "AND json_extract(fields, '$.pending_model_id') = ?",
        (pending_id,),
    ).fetchone()
    if listed is not None:
        raise InvalidStatus(
            f"Model {pending_id} is listed as {listed[0]}.",
            hint="Delist it first ('delist my model'), then withdraw it.",
        )
    why = reason.strip() or "withdrawn by its creator"
    model.fields["status"] = STATUS_WITHDRAWN
    model.fields["description"] = f"Withdrawn by its creator: {why}"
    model.fields["updated_at"] = ctx.now_ms
    ctx.save(model)
    ctx.emit(
        "ModelWithdrawn",
        {"model_id": pending_id, "creator": ctx.sender, "reason": why, "was_status": status},
    )


def delist(ctx: TxContext, registry_id: str, listing_id: str) -> None:
    """The listing is taken off the market; its pending model stays verified."""
    listing = _by_creator(ctx, listing_id)
    ctx.consume(listing_id)
    pending_id = str(listing.fields["pending_model_id"])
    still_verified = ctx.conn.execute(
        "SELECT 1 FROM objects WHERE id = ? AND deleted_by IS NULL "
        "AND json_extract(fields, '$.status') = ?",
        (pending_id, STATUS_VERIFIED),
    ).fetchone()
    _bump(ctx, registry_id, listed_count=-1, verified_count=1 if still_verified else 0)
    ctx.emit(
        "ModelDelisted",
        {"model_id": pending_id, "marketplace_id": listing_id, "creator": ctx.sender},
    )


def reprice(ctx: TxContext, listing_id: str, price_mist: int) -> None:
    """A new price for the creator's listing (purchases from now on pay it)."""
    if not 0 <= price_mist <= U64_MAX:
        raise UserInputError(f"price must be between 0 and 2^64-1, got {price_mist}.")
    listing = _by_creator(ctx, listing_id)
    old = int(str(listing.fields["price"]))
    listing.fields["price"] = price_mist
    ctx.save(listing)
    ctx.emit(
        "ModelRepriced",
        {
            "marketplace_id": listing_id,
            "creator": ctx.sender,
            "old_price": old,
            "price": price_mist,
        },
    )
