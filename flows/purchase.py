"""The buyer's journey: find a listing, approve the price, pay, download and verify."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import report_progress, say
from flows.gates import ask, decide
from flows.notices import notify_sale
from flows.services import Services
from flows.state import END, JourneyState, Phase, WorkflowStatus
from integrations.chain.port import PLATFORM_FEE_BPS, ChainObject
from integrations.errors import IntegrityError, ResultRejected, SatyaError
from integrations.storage.chunked import download_file, read_manifest
from integrations.tee.attestation import TrustedEnclaves, VerifiedQuality, verify_result
from integrations.tee.port import EnclaveInfo, SignedResult


def _as_int(value: object) -> int:
    return int(value) if isinstance(value, int | str) else 0


async def _find_listing(state: JourneyState, runtime: Runtime[Services]) -> list[ChainObject]:
    ledger = runtime.context.ledger
    intent = state["intent"]
    ref = intent.get("model_ref")
    if ref and ref.startswith("0x"):
        return [await ledger.get_object(ref)]
    return await ledger.listings(text=ref or intent.get("query") or None)


async def purchase_prep(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["purchase_gate", "download_verify", "__end__"]]:
    """Resolve which listing the buyer means; skip paying if already bought."""
    try:
        found = await _find_listing(state, runtime)
        if len(found) != 1:
            say(
                runtime,
                "listing_choice" if found else "listing_not_found",
                listings=[listing_summary(o) for o in found[:10]],
                query=state["intent"].get("model_ref", ""),
            )
            return Command(goto=END)
        listing = found[0]
        buyer = await runtime.context.wallet_for(state["user_id"])
        owned = await runtime.context.ledger.owned_objects(buyer.address, "PurchaseRecord")
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return Command(goto=END)
    if listing.fields.get("creator") == buyer.address:  # the ledger would refuse it after the gate
        say(
            runtime, "own_listing", title=str(listing.fields.get("title", "")), id=listing.object_id
        )
        return Command(goto=END)
    price = _as_int(listing.fields.get("price"))
    ctx = {
        **state.get("context", {}),
        "purchase_listing_id": listing.object_id,
        "purchase_title": str(listing.fields.get("title", "")),
        "purchase_price_mist": price,
        "purchase_fee_mist": price * PLATFORM_FEE_BPS // 10_000,
    }
    update: dict[str, object] = {
        "context": ctx,
        "current_phase": Phase.PURCHASE,
        "workflow_id": f"buy-{uuid.uuid4().hex[:16]}",
    }
    for record in owned:
        if record.fields.get("model_id") == listing.object_id:
            ctx["purchase_id"] = record.object_id
            say(runtime, "already_purchased", title=str(listing.fields.get("title", "")))
            return Command(goto="download_verify", update=update)
    if state["intent"]["kind"] == "download":
        say(runtime, "not_purchased", title=str(listing.fields.get("title", "")), price_mist=price)
    return Command(goto="purchase_gate", update=update)


def listing_summary(obj: ChainObject) -> dict[str, object]:
    f = obj.fields
    return {
        "id": obj.object_id,
        "title": f.get("title"),
        "category": f.get("category"),
        "price_mist": f.get("price"),
        "quality_score": f.get("quality_score"),
    }


async def purchase_gate(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["purchase_execute", "purchase_gate", "__end__"]]:
    """Ask before paying: price and the platform fee."""
    ctx = state["context"]
    cfg = runtime.context.config
    price = ctx.get("purchase_price_mist", 0)
    if state["mode"] == "auto" and price <= cfg.auto_cap_mist:
        say(runtime, "auto_approved", gate="purchase", price_mist=price, cap_mist=cfg.auto_cap_mist)
        return Command(goto="purchase_execute")
    answer = ask(
        "purchase",
        "purchase_gate",
        listing_id=ctx.get("purchase_listing_id", ""),
        title=ctx.get("purchase_title") or ctx.get("purchase_listing_id", ""),
        price_mist=price,
        fee_mist=ctx.get("purchase_fee_mist", 0),
    )
    decision = await decide(answer, state, runtime)
    if decision == "approve":
        return Command(goto="purchase_execute", update={"status": WorkflowStatus.ACTIVE})
    if decision == "decline":
        say(runtime, "purchase_declined")
        return Command(goto=END, update={"status": WorkflowStatus.CANCELLED})
    return Command(goto="purchase_gate", update={"status": WorkflowStatus.WAITING_APPROVAL})


async def purchase_execute(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["download_verify", "__end__"]]:
    """Pay (idempotent per workflow) and receive the PurchaseRecord."""
    ctx = state["context"]
    try:
        buyer = await runtime.context.wallet_for(state["user_id"])
        receipt = await runtime.context.ledger.purchase(
            buyer,
            ctx["purchase_listing_id"],
            payment_mist=ctx.get("purchase_price_mist", 0),
            request_id=f"{state['workflow_id']}:purchase",
        )
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return Command(goto=END, update={"status": WorkflowStatus.FAILED})
    if not receipt.replayed:  # the author hears of a sale once
        await notify_sale(
            runtime.store,
            ctx["purchase_listing_id"],
            buyer=state["user_id"],
            price_mist=ctx.get("purchase_price_mist", 0),
            fee_mist=ctx.get("purchase_fee_mist", 0),
            purchase_id=receipt.created[0],
        )
    say(
        runtime,
        "purchased",
        purchase_id=receipt.created[0],
        price_mist=ctx.get("purchase_price_mist", 0),
        fee_mist=ctx.get("purchase_fee_mist", 0),
        digest=receipt.digest,
    )
    return Command(
        goto="download_verify", update={"context": {**ctx, "purchase_id": receipt.created[0]}}
    )


async def download_verify(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Download the model, then check it against the on-chain digest and the enclave's signature."""
    services = runtime.context
    ctx = state["context"]
    try:
        listing = await services.ledger.get_object(ctx["purchase_listing_id"])
        blob_id = str(listing.fields.get("model_blob_id", ""))
        digest = str(listing.fields.get("model_digest", ""))
        verified = await check_enclave_signature(services, listing, digest, blob_id)
        dest_dir = services.config.downloads_dir
        dest_dir.mkdir(parents=True, exist_ok=True)
        name = f"{listing.object_id[2:14]}-{Path(str(listing.fields.get('title', 'model'))).name}"
        manifest = await read_manifest(services.storage, blob_id)
        suffix = Path(manifest.file_name).suffix  # the file keeps its format's extension
        if re.fullmatch(r"\.[A-Za-z0-9]{1,12}", suffix) and not name.lower().endswith(
            suffix.lower()
        ):
            name += suffix
        dest = dest_dir / name

        def on_progress(done: int, total: int) -> None:
            report_progress(runtime, "download", done=done, total=total)

        result = await download_file(
            services.storage,
            blob_id,
            dest,
            on_progress=lambda p: on_progress(p.bytes_done, p.bytes_total),
        )
        if result.sha256 != digest:
            dest.unlink(missing_ok=True)
            raise IntegrityError(
                f"The downloaded file's sha256 {result.sha256[:16]}… does not match the on-chain "
                f"digest {digest[:16]}…; the file was deleted."
            )
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return {"status": WorkflowStatus.FAILED}
    say(
        runtime,
        "download_verified",
        path=str(dest),
        sha256=digest,
        quality_score=verified.quality_score,
        enclave=verified.public_key[:16],
        size_bytes=dest.stat().st_size,
    )
    return {"context": {**ctx, "download_path": str(dest)}, "status": WorkflowStatus.COMPLETED}


async def check_enclave_signature(
    services: Services, listing: ChainObject, digest: str, blob_id: str
) -> VerifiedQuality:
    """The listing's enclave-signed result must verify, for exactly this model, before download."""
    v = listing.fields.get("verification")
    if not isinstance(v, dict):
        raise ResultRejected("This listing carries no enclave-signed verification result.")
    enclave = await services.ledger.get_object(str(listing.fields.get("enclave_id", "")))
    raw_pcrs = enclave.fields.get("pcrs")
    pcrs = tuple(str(p) for p in raw_pcrs) if isinstance(raw_pcrs, list) else ()
    if len(pcrs) != 3:
        raise ResultRejected("The enclave that verified this model has no PCRs on record.")
    info = EnclaveInfo(
        public_key=str(enclave.fields.get("pk", "")),
        pcrs=(pcrs[0], pcrs[1], pcrs[2]),
        debug=bool(enclave.fields.get("debug", False)),
    )
    if info.pcrs not in services.trusted_enclaves.allowed_pcrs:
        raise ResultRejected("The enclave that verified this model runs code that is not allowed.")
    trusted = TrustedEnclaves(allowed_pcrs={info.pcrs})
    trusted.register(info)
    signed = SignedResult(
        intent=int(v.get("intent", 0)),
        timestamp_ms=int(v["timestamp_ms"]),
        data=dict(v.get("data") or {}),
        signature=str(v["signature"]),
        public_key=info.public_key,
        schema=str(v.get("schema", "")),
    )
    # Freshness was checked when the result was recorded; at download only authenticity matters.
    return verify_result(
        signed,
        trusted=trusted,
        expected_model_digest=digest,
        expected_blob_id=blob_id,
        max_age_s=1.0,
        now_ms=signed.timestamp_ms,
    )
