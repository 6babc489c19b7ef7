"""Listing terms fixed at upload: the ledger capability, the shared refusal, the upload draft.

``FixedTermsLedger`` gives the embedded ledger the live network's rule (a
listing keeps the upload's price and text); ``SuiLedger`` refuses with the
same check before it builds or sends a transaction, shown here with a
read-only node that serves the pending model from a real local ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.understanding.rules import RuleInterpreter
from flows.listing import draft_upload_terms, fixed_term_fields
from flows.market.analysis import GIB, base_price_mist, suggest_price
from flows.state import ModelContext
from integrations.chain.faults import FaultyLedger
from integrations.chain.fixed_terms import FixedTermsLedger, changed_terms
from integrations.chain.keys import SuiKeypair
from integrations.chain.local import LocalLedger
from integrations.chain.port import (
    MIST_PER_SUI,
    ChainObject,
    Ledger,
    ListingMetadata,
    ModelDraft,
    TxReceipt,
)
from integrations.chain.sui import SuiLedger
from integrations.chain.testing import ManualClock, debug_enclave_info, signed_quality_result
from integrations.errors import ChainError

T0 = 1_744_041_600_000
DIGEST = hashlib.sha256(b"fixed terms model").hexdigest()
PKG = "0x" + "ab" * 32
REG = "0x" + "cd" * 32
UPLOADED = ListingMetadata("Vision Pro", "Classifies photos.", ("computer-vision", "onnx"))


def _draft(category: str = "computer-vision", price: int = 2 * MIST_PER_SUI) -> ModelDraft:
    return ModelDraft(
        title=UPLOADED.title,
        description=UPLOADED.description,
        category=category,
        tags=UPLOADED.tags,
        model_blob_id="blob",
        model_digest=DIGEST,
        size_bytes=1000,
        file_format="onnx",
        price_mist=price,
    )


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalLedger]:
    ledger = LocalLedger(tmp_path / "ledger.sqlite3", clock_ms=ManualClock(T0))
    yield ledger
    await ledger.aclose()


async def _verified(ledger: Ledger, author: SuiKeypair, tag: str = "") -> tuple[str, str]:
    """A pending model uploaded with ``_draft()`` and verified: (pending id, verification id)."""
    enclave = Ed25519PrivateKey.generate()
    operator = SuiKeypair.generate()
    reg = await ledger.register_enclave(operator, debug_enclave_info(enclave), request_id=f"e{tag}")
    pid = (await ledger.upload_model(author, _draft(), request_id=f"u{tag}")).created[0]
    await ledger.submit_for_verification(author, pid, request_id=f"s{tag}")
    result = signed_quality_result(
        enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=T0, enclave_id=reg.created[0]
    )
    vid = (await ledger.complete_verification(author, pid, result, request_id=f"c{tag}")).created[0]
    return pid, vid


async def test_the_capability_per_ledger(local: LocalLedger) -> None:
    assert local.listing_terms_fixed_at_upload is False
    fixed = FixedTermsLedger(local)
    assert fixed.listing_terms_fixed_at_upload is True and fixed.network == "local"
    assert isinstance(fixed, Ledger)
    assert FaultyLedger(fixed, unavailable=()).listing_terms_fixed_at_upload is True
    assert FaultyLedger(local, unavailable=()).listing_terms_fixed_at_upload is False
    live = SuiLedger(network="testnet", package_id=PKG, registry=REG)
    assert live.listing_terms_fixed_at_upload is True


def test_changed_terms_names_each_difference() -> None:
    fields: dict[str, object] = {
        "price": "2000000000",  # a full node may give u64 as text
        "title": UPLOADED.title,
        "description": UPLOADED.description,
        "tags": list(UPLOADED.tags),
    }
    assert changed_terms(fields, 2 * MIST_PER_SUI, UPLOADED) == []
    assert changed_terms(fields, None, None) == []
    assert changed_terms(fields, 3 * MIST_PER_SUI, None) == ["price"]
    other = ListingMetadata("Other", UPLOADED.description, ("computer-vision",))
    assert changed_terms(fields, None, other) == ["title", "tags"]


async def test_different_terms_are_refused_and_nothing_is_listed(local: LocalLedger) -> None:
    ledger = FixedTermsLedger(local)
    author = SuiKeypair.generate()
    pid, vid = await _verified(ledger, author)
    before = await local.balance(author.address)
    with pytest.raises(ChainError, match="cannot change a model's price at listing") as caught:
        await ledger.list_on_marketplace(
            author, pid, vid, request_id="l1", price_mist=3 * MIST_PER_SUI, metadata=UPLOADED
        )
    assert "Upload the model again" in caught.value.hint
    retitled = ListingMetadata("Vision Pro 2", "New text.", UPLOADED.tags)
    with pytest.raises(ChainError, match="title, description at listing"):
        await ledger.list_on_marketplace(author, pid, vid, request_id="l2", metadata=retitled)
    assert await ledger.listings() == []
    assert await local.balance(author.address) == before  # no transaction ran
    # The terms as uploaded are accepted, and the listing carries them.
    listed = await ledger.list_on_marketplace(
        author, pid, vid, request_id="l3", price_mist=2 * MIST_PER_SUI, metadata=UPLOADED
    )
    fields = (await ledger.get_object(listed.created[0])).fields
    assert (fields["title"], fields["description"], fields["tags"], fields["price"]) == (
        UPLOADED.title,
        UPLOADED.description,
        list(UPLOADED.tags),
        2 * MIST_PER_SUI,
    )


async def test_the_embedded_ledger_still_takes_terms_at_listing(local: LocalLedger) -> None:
    author = SuiKeypair.generate()
    pid, vid = await _verified(local, author)
    meta = ListingMetadata("Renamed", "Approved after verification.", ("vision",))
    listed = await local.list_on_marketplace(
        author, pid, vid, request_id="l", price_mist=MIST_PER_SUI, metadata=meta
    )
    fields = (await local.get_object(listed.created[0])).fields
    assert (fields["title"], fields["price"]) == ("Renamed", MIST_PER_SUI)


class _ReadOnlyNode:
    """Answers ``get_object`` from a local ledger; anything that would transact is an error."""

    def __init__(self, ledger: LocalLedger) -> None:
        self.ledger = ledger

    async def get_object(self, object_id: str) -> ChainObject:
        return await self.ledger.get_object(object_id)

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"SuiLedger asked the node for {name} after refusing the terms")

    async def execute(self, tx_bytes: bytes, signature: bytes) -> TxReceipt:
        raise AssertionError("a refused listing must not be sent")


async def test_the_live_adapter_refuses_with_the_same_check(local: LocalLedger) -> None:
    author = SuiKeypair.generate()
    pid, vid = await _verified(local, author)
    live = SuiLedger(network="testnet", package_id=PKG, registry=REG, node=_ReadOnlyNode(local))  # type: ignore[arg-type]
    with pytest.raises(ChainError, match="cannot change a model's price, tags at listing"):
        await live.list_on_marketplace(
            author,
            pid,
            vid,
            request_id="l",
            price_mist=1,
            metadata=ListingMetadata(UPLOADED.title, UPLOADED.description, ()),
        )


# -- what is drafted before the upload ------------------------------------------------------

CTX: ModelContext = {
    "file_name": "resnet50-imagenet.onnx",
    "format": "onnx",
    "category": "computer-vision",
    "size_bytes": 2 * GIB,
}


async def test_upload_terms_from_comparables_without_a_quality_score(local: LocalLedger) -> None:
    seller = SuiKeypair.generate()
    ledger = FixedTermsLedger(local)
    for n, price in enumerate((MIST_PER_SUI, 3 * MIST_PER_SUI)):
        enclave = Ed25519PrivateKey.generate()
        reg = await ledger.register_enclave(seller, debug_enclave_info(enclave), request_id=f"e{n}")
        up = await ledger.upload_model(seller, _draft(price=price), request_id=f"u{n}")
        await ledger.submit_for_verification(seller, up.created[0], request_id=f"s{n}")
        result = signed_quality_result(
            enclave, model_hash=DIGEST, quality_score=40 + 50 * n, timestamp_ms=T0,
            enclave_id=reg.created[0],
        )  # fmt: skip
        cv = await ledger.complete_verification(seller, up.created[0], result, request_id=f"c{n}")
        await ledger.list_on_marketplace(seller, up.created[0], cv.created[0], request_id=f"l{n}")
    terms = await draft_upload_terms(ledger, CTX)
    assert terms["price_mist"] == 2 * MIST_PER_SUI  # both weigh the same: no quality yet
    assert "2 comparable listings" in terms["price_explanation"]
    assert "no quality score before verification" in terms["price_explanation"]
    assert terms["title"] == "Resnet50 Imagenet"
    assert terms["tags"] == ["computer-vision", "onnx", "resnet", "tee-verified"]
    assert "quality score" not in terms["description"]
    given = await draft_upload_terms(ledger, CTX, price_mist=7 * MIST_PER_SUI)
    assert given["price_mist"] == 7 * MIST_PER_SUI
    assert given["price_explanation"].startswith("your price")


async def test_upload_terms_say_when_listings_cannot_be_read(local: LocalLedger) -> None:
    ledger = FaultyLedger(FixedTermsLedger(local), unavailable=["listings"])
    terms = await draft_upload_terms(ledger, CTX)
    assert terms["price_mist"] == base_price_mist(2 * GIB, None) == 900_000_000
    assert "listings could not be read" in terms["price_explanation"]
    assert "No comparable listings" not in terms["price_explanation"]


def test_base_formula_before_verification() -> None:
    s = suggest_price([], category="llm", size_bytes=GIB, quality_score=None)
    assert s.price_mist == 700_000_000  # (0.5 + 0.2) SUI × 1
    assert "× 1 (no quality score before verification)" in s.explanation


def test_edits_name_the_fixed_terms() -> None:
    r = RuleInterpreter()
    assert fixed_term_fields(r.interpret("price 3 SUI", at_gate=True)) == ["price"]
    assert fixed_term_fields(r.interpret("add tag vision", at_gate=True)) == ["tags"]
    assert fixed_term_fields(r.interpret("title: Other", at_gate=True)) == ["title"]


def test_a_price_given_with_the_upload() -> None:
    got = RuleInterpreter().interpret("upload ./m.onnx at 2 SUI")
    assert (got["kind"], got["paths"], got["price_mist"]) == ("upload", ["./m.onnx"], 2 * 10**9)
    assert "price_mist" not in RuleInterpreter().interpret("upload ./m.onnx")
