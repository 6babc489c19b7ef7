"""The Satya marketplace entry points as the local ledger executes them.

Each function is one Move entry point of ``satya::marketplace`` (plus
``enclave::register_enclave``) applied to a ``TxContext``; it raises a
``ChainError`` (or ``ResultRejected``) before writing anything it must not.
The surrounding SQLite transaction makes every call all-or-nothing.

Observable behaviour follows the deployed contract: the same events with the
same fields (``ModelUploaded`` at upload, none at submit,
``VerificationSubmitted`` at ``complete_verification``, ``ModelListed`` naming
the pending model with the listing as ``marketplace_id``, ``ModelPurchased``);
listing hands the ``PendingModel`` and ``VerificationResult`` back to the
creator; a purchase sends the whole payment less the fee to the creator and the
fee to the contract's ``@satya`` address, which is 0x0 in the published bytecode
(``PLATFORM_ADDRESS``: the fee is burned); a purchase record's ``access_key`` is
empty. ``PendingModel`` is an owned object, so only its owner can submit,
complete or list it.

The one rule beyond the contract: ``complete_verification`` needs a fresh
result signed by a registered enclave over the pending model's digest (the
contract accepts any bytes as ``verifier_signature``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from integrations.chain.local_db import TxContext, balance_of, credit, debit, load_object
from integrations.chain.port import (
    PLATFORM_FEE_BPS,
    STATUS_PENDING,
    STATUS_VERIFIED,
    STATUS_VERIFYING,
    ChainObject,
    ListingMetadata,
    ModelDraft,
)
from integrations.chain.result_check import attestation_hash, check_signed_result
from integrations.errors import (
    ChainError,
    InsufficientFunds,
    InvalidStatus,
    PermissionDenied,
    ResultRejected,
    UserInputError,
)
from integrations.tee.port import EnclaveInfo, SignedResult
from integrations.tee.schemas import schema_for, security_assessment

U64_MAX = (1 << 64) - 1
# ``@satya`` in the published bytecode: named addresses are not rewritten at publish.
PLATFORM_ADDRESS = "0x" + "00" * 32
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
BPS_DENOMINATOR = 10_000


def platform_fee(price_mist: int, fee_bps: int = PLATFORM_FEE_BPS) -> int:
    """The platform's share of a sale, rounded down: ``price * bps // 10000``."""
    return price_mist * fee_bps // BPS_DENOMINATOR


def create_registry(ctx: TxContext) -> str:
    """The shared ``MarketplaceRegistry``, as the package's ``init`` creates it."""
    return ctx.new_object(
        "marketplace",
        "MarketplaceRegistry",
        "shared",
        {
            "admin": ctx.sender,
            "platform_fee": PLATFORM_FEE_BPS,
            "pending_count": 0,
            "verified_count": 0,
            "listed_count": 0,
            "purchase_count": 0,
            "total_volume": 0,
            "fees_collected": 0,
        },
    )


def _bump(ctx: TxContext, registry_id: str, **deltas: int) -> ChainObject:
    registry = load_object(ctx.conn, registry_id, "MarketplaceRegistry")
    for key, delta in deltas.items():
        registry.fields[key] = int(str(registry.fields[key])) + delta
    ctx.save(registry)
    return registry


def _u64(name: str, value: int) -> None:
    if not 0 <= value <= U64_MAX:
        raise UserInputError(f"{name} must be between 0 and 2^64-1, got {value}.")


def _owned(ctx: TxContext, object_id: str, short_type: str) -> ChainObject:
    obj = load_object(ctx.conn, object_id, short_type)
    if obj.owner != ctx.sender:
        raise PermissionDenied(f"{short_type} {object_id} belongs to another address.")
    return obj


def _int(obj: ChainObject, key: str) -> int:
    return int(str(obj.fields[key]))


def upload_model(ctx: TxContext, registry_id: str, draft: ModelDraft) -> None:
    """``upload_model_entry``: a ``PendingModel`` owned by the sender, status 0."""
    if not draft.title.strip():
        raise UserInputError("A model needs a title.")
    if not _SHA256_HEX.match(draft.model_digest):
        raise UserInputError("model_digest must be the lowercase sha256 hex of the model file.")
    _u64("price", draft.price_mist)
    _u64("size_bytes", draft.size_bytes)
    if draft.max_downloads is not None:
        _u64("max_downloads", draft.max_downloads)
    contract_upload(
        ctx,
        registry_id,
        draft,
        extras={
            "model_digest": draft.model_digest,
            "size_bytes": draft.size_bytes,
            "file_format": draft.file_format,
        },
    )


def contract_upload(
    ctx: TxContext, registry_id: str, draft: ModelDraft, *, extras: dict[str, object]
) -> str:
    """What ``upload_model_entry`` itself does: the contract's fields (plus ``extras``)."""
    model_id = ctx.new_object(
        "marketplace",
        "PendingModel",
        ctx.sender,
        {
            "creator": ctx.sender,
            "title": draft.title,
            "description": draft.description,
            "category": draft.category,
            "tags": list(draft.tags),
            "model_blob_id": draft.model_blob_id,
            "dataset_blob_id": draft.dataset_blob_id,
            "encryption_policy_id": draft.encryption_policy_id,
            "seal_metadata": list(draft.seal_metadata),
            "price": draft.price_mist,
            "max_downloads": draft.max_downloads,
            "status": STATUS_PENDING,
            "created_at": ctx.now_ms,
            "updated_at": ctx.now_ms,
            "verification_attempts": 0,
            **extras,
        },
    )
    _bump(ctx, registry_id, pending_count=1)
    ctx.emit(
        "ModelUploaded",
        {
            "model_id": model_id,
            "creator": ctx.sender,
            "title": draft.title,
            "blob_id": draft.model_blob_id,
            "status": STATUS_PENDING,
        },
    )
    return model_id


def submit_for_verification(ctx: TxContext, pending_id: str) -> None:
    """Status 0 -> 1; owner only; no event (as in the contract)."""
    model = _owned(ctx, pending_id, "PendingModel")
    if _int(model, "status") != STATUS_PENDING:
        raise InvalidStatus(f"Model {pending_id} is not pending (status {model.fields['status']}).")
    model.fields["status"] = STATUS_VERIFYING
    model.fields["verification_attempts"] = _int(model, "verification_attempts") + 1
    model.fields["updated_at"] = ctx.now_ms
    ctx.save(model)


def find_enclave(ctx: TxContext, public_key: str) -> ChainObject | None:
    """The registered ``Enclave`` object holding this public key, if any."""
    row = ctx.conn.execute(
        "SELECT id FROM objects WHERE short_type = 'Enclave' AND deleted_by IS NULL "
        "AND json_extract(fields, '$.pk') = ?",
        (public_key.lower(),),
    ).fetchone()
    return None if row is None else load_object(ctx.conn, str(row[0]), "Enclave")


def complete_verification(
    ctx: TxContext, registry_id: str, pending_id: str, result: SignedResult, *, max_age_ms: int
) -> None:
    """Status 1 -> 2 with a ``VerificationResult`` owned by the creator.

    Only the owner can pass the (owned) ``PendingModel``; the result must also
    carry a valid enclave signature, which the contract does not check.
    """
    model = _owned(ctx, pending_id, "PendingModel")
    if _int(model, "status") != STATUS_VERIFYING:
        raise InvalidStatus(
            f"Model {pending_id} is not awaiting verification (status {model.fields['status']})."
        )
    enclave = find_enclave(ctx, result.public_key)
    if enclave is None:
        raise ResultRejected("The result was signed by an enclave that is not registered.")
    if result.enclave_id and result.enclave_id.lower() != enclave.object_id:
        raise ResultRejected(f"The result names enclave {result.enclave_id}, not the signer's.")
    score = check_signed_result(
        result,
        enclave_key=str(enclave.fields["pk"]),
        model_digest=str(model.fields["model_digest"]),
        now_ms=ctx.now_ms,
        max_age_ms=max_age_ms,
    )
    contract_complete(
        ctx,
        registry_id,
        pending_id,
        enclave_id=enclave.object_id,
        quality_score=score,
        security=security_assessment(result),
        attestation_hash=str(enclave.fields["attestation_hash"]),
        verifier_signature=result.signature.lower(),
        extras={
            "signed_timestamp_ms": result.timestamp_ms,
            "signed_intent": result.intent,
            "signed_data": dict(result.data),
            "signed_schema": schema_for(result).id,
            "model_hash": model.fields["model_digest"],
        },
    )


def contract_complete(
    ctx: TxContext,
    registry_id: str,
    pending_id: str,
    *,
    enclave_id: str,
    quality_score: int,
    security: str,
    attestation_hash: str,
    verifier_signature: str,
    extras: dict[str, object],
) -> str:
    """What ``complete_verification`` itself does (no check of score or signature).

    ``attestation_hash`` and ``verifier_signature`` are hex (``vector<u8>`` on chain).
    """
    model = _owned(ctx, pending_id, "PendingModel")
    if _int(model, "status") != STATUS_VERIFYING:
        raise InvalidStatus(
            f"Model {pending_id} is not awaiting verification (status {model.fields['status']})."
        )
    verification_id = ctx.new_object(
        "marketplace",
        "VerificationResult",
        model.owner,
        {
            "model_id": pending_id,
            "enclave_id": enclave_id,
            "quality_score": quality_score,
            "security_assessment": security,
            "attestation_hash": attestation_hash,
            "verified_at": ctx.now_ms,
            "verifier_signature": verifier_signature,
            **extras,
        },
    )
    model.fields["status"] = STATUS_VERIFIED
    model.fields["updated_at"] = ctx.now_ms
    ctx.save(model)
    _bump(ctx, registry_id, pending_count=-1, verified_count=1)
    ctx.emit(
        "VerificationSubmitted",
        {
            "model_id": pending_id,
            "verification_id": verification_id,
            "quality_score": quality_score,
            "verified": True,
        },
    )
    return verification_id


def list_on_marketplace(
    ctx: TxContext,
    registry_id: str,
    pending_id: str,
    verification_id: str,
    price_mist: int | None = None,
    metadata: ListingMetadata | None = None,
) -> None:
    """A shared listing; the ``PendingModel`` and ``VerificationResult`` go back to the creator.

    A pending model is listed once (the contract aborts on a second listing).
    ``price_mist`` and ``metadata``, when given, replace the price and text set at upload.
    """
    if price_mist is not None:
        _u64("price", price_mist)
    if metadata is not None and not metadata.title.strip():
        raise UserInputError("A listing needs a title.")
    model = _owned(ctx, pending_id, "PendingModel")
    if _int(model, "status") != STATUS_VERIFIED:
        raise InvalidStatus(
            f"Model {pending_id} is not verified (status {model.fields['status']})."
        )
    verification = _owned(ctx, verification_id, "VerificationResult")
    if verification.fields["model_id"] != pending_id:
        raise InvalidStatus(f"Verification {verification_id} belongs to another model.")
    listed = ctx.conn.execute(
        "SELECT id FROM objects WHERE short_type = 'MarketplaceModel' AND deleted_by IS NULL "
        "AND json_extract(fields, '$.pending_model_id') = ?",
        (pending_id,),
    ).fetchone()
    if listed is not None:
        raise InvalidStatus(f"Model {pending_id} is already listed as {listed[0]}.")
    f = model.fields
    listing_id = ctx.new_object(
        "marketplace",
        "MarketplaceModel",
        "shared",
        {
            "pending_model_id": pending_id,
            "verification_id": verification_id,
            "creator": f["creator"],
            "title": f["title"] if metadata is None else metadata.title,
            "description": f["description"] if metadata is None else metadata.description,
            "category": f["category"],
            "tags": f["tags"] if metadata is None else list(metadata.tags),
            "model_blob_id": f["model_blob_id"],
            "dataset_blob_id": f["dataset_blob_id"],
            "encryption_policy_id": f["encryption_policy_id"],
            "seal_metadata": f["seal_metadata"],
            "quality_score": verification.fields["quality_score"],
            **_listing_extras(f, verification.fields),
            "tee_verified": True,
            "price": f["price"] if price_mist is None else price_mist,
            "max_downloads": f["max_downloads"],
            "current_downloads": 0,
            "total_earnings": 0,
            "listed_at": ctx.now_ms,
            "last_purchased_at": None,
            "featured": False,
        },
    )
    # Transferred back to the creator (the same owner): they stay readable, with status 2.
    ctx.save(model)
    ctx.save(verification)
    _bump(ctx, registry_id, verified_count=-1, listed_count=1)
    ctx.emit(
        "ModelListed",
        {
            "model_id": pending_id,
            "marketplace_id": listing_id,
            "creator": f["creator"],
            "price": f["price"] if price_mist is None else price_mist,
            "verified": True,
        },
    )


def _listing_extras(
    pending: dict[str, object], verification: dict[str, object]
) -> dict[str, object]:
    """What the embedded ledger adds to a listing beyond the contract's fields, when it has it:
    the file's digest, size and format, and the enclave's signed result (a buyer checks it)."""
    extras: dict[str, object] = {}
    if "model_digest" in pending:
        extras |= {k: pending[k] for k in ("model_digest", "size_bytes", "file_format")}
    if "signed_timestamp_ms" in verification:
        extras |= {
            "security_assessment": verification["security_assessment"],
            "enclave_id": verification["enclave_id"],
            "verification": {
                "intent": verification.get("signed_intent", 0),
                "timestamp_ms": verification["signed_timestamp_ms"],
                "data": verification.get("signed_data", {}),
                "schema": verification.get("signed_schema", ""),
                "signature": verification["verifier_signature"],
            },
        }
    return extras


def purchase(ctx: TxContext, registry_id: str, listing_id: str, payment_mist: int) -> None:
    """Takes the whole payment: ``fee`` (on the price) to ``PLATFORM_ADDRESS``, the rest to the seller.

    As in the contract, paying more than the price gives the excess to the seller.
    """
    listing = load_object(ctx.conn, listing_id, "MarketplaceModel")
    price = _int(listing, "price")
    seller = str(listing.fields["creator"])
    if seller == ctx.sender:
        raise PermissionDenied(
            "A creator cannot buy their own model.", hint="Choose a listing by another creator."
        )
    max_downloads = listing.fields["max_downloads"]
    if max_downloads is not None and _int(listing, "current_downloads") >= int(str(max_downloads)):
        raise InvalidStatus(f"Listing {listing_id} is sold out ({max_downloads} copies).")
    if payment_mist < price:
        raise InsufficientFunds(f"The payment of {payment_mist} MIST is below the price {price}.")
    registry = load_object(ctx.conn, registry_id, "MarketplaceRegistry")
    fee = platform_fee(price, _int(registry, "platform_fee"))
    held = balance_of(ctx.conn, ctx.sender) or 0
    if held < payment_mist + ctx.gas_mist:
        raise InsufficientFunds(
            f"The wallet holds {held} MIST; paying {payment_mist} MIST plus "
            f"{ctx.gas_mist} MIST gas needs more."
        )
    debit(ctx.conn, ctx.sender, payment_mist, "the purchase")
    credit(ctx.conn, seller, payment_mist - fee)
    credit(ctx.conn, PLATFORM_ADDRESS, fee)
    listing.fields["current_downloads"] = _int(listing, "current_downloads") + 1
    listing.fields["total_earnings"] = _int(listing, "total_earnings") + price - fee
    listing.fields["last_purchased_at"] = ctx.now_ms
    ctx.save(listing)
    _bump(ctx, registry_id, purchase_count=1, total_volume=price, fees_collected=fee)
    record_id = ctx.new_object(
        "marketplace",
        "PurchaseRecord",
        ctx.sender,
        {
            "buyer": ctx.sender,
            "model_id": listing_id,
            "seller": seller,
            "amount_paid": price,
            "platform_fee": fee,
            "purchased_at": ctx.now_ms,
            "expires_at": None,
            "access_granted": True,
            "download_count": 0,
            "access_key": [],  # empty on chain: "set by the SEAL service"
        },
    )
    ctx.emit(
        "ModelPurchased",
        {
            "purchase_id": record_id,
            "buyer": ctx.sender,
            "model_id": listing_id,
            "amount": price,
            "access_granted": True,
        },
    )


def register_enclave(
    ctx: TxContext, info: EnclaveInfo, allowed_pcrs: Collection[tuple[str, str, str]]
) -> None:
    """A shared ``Enclave`` holding the key, if its PCRs are on the allow-list.

    The local ledger trusts the PCRs as given; the attestation document itself
    is checked on the verification side before registration.
    """
    pk = info.public_key.lower()
    try:
        if len(bytes.fromhex(pk)) != 32:
            raise ValueError
    except ValueError:
        raise UserInputError("An enclave public key is 32 bytes of hex.") from None
    pcrs = tuple(p.lower() for p in info.pcrs)
    if pcrs not in allowed_pcrs:
        raise PermissionDenied("The enclave's PCRs are not on the allow-list of this ledger.")
    existing = find_enclave(ctx, pk)
    if existing is not None:
        raise ChainError(f"This enclave key is already registered as {existing.object_id}.")
    attestation = attestation_hash(info.attestation).hex()
    enclave_id = ctx.new_object(
        "enclave",
        "Enclave",
        "shared",
        {
            "pk": pk,
            "pcrs": list(pcrs),
            "debug": info.debug,
            "config_version": 1,
            "owner": ctx.sender,
            "attestation_hash": attestation,
        },
    )
    ctx.emit(
        "EnclaveRegistered",
        {"enclave_id": enclave_id, "pk": pk, "pcrs": list(pcrs)},
        module="enclave",
    )
