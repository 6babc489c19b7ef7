"""LocalLedger: status rules, fees to the MIST, enclave signatures, atomicity, idempotency."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from integrations.chain.keys import SuiKeypair
from integrations.chain.local import LocalLedger
from integrations.chain.local_rules import PLATFORM_ADDRESS, platform_fee
from integrations.chain.port import ChainObject, Ledger, ListingMetadata, ModelDraft
from integrations.chain.testing import (
    ManualClock,
    debug_enclave_info,
    signed_quality_result,
)
from integrations.errors import (
    ChainError,
    InsufficientFunds,
    InvalidStatus,
    ObjectNotFound,
    PermissionDenied,
    ResultRejected,
    SignatureRejected,
    UserInputError,
)
from integrations.tee.port import EnclaveInfo

T0 = 1_744_041_600_000
GAS = 1_000_000
FAUCET = 50_000_000_000
DIGEST = hashlib.sha256(b"model bytes").hexdigest()


def draft(price: int = 2_000_000_000, digest: str = DIGEST, **kw: object) -> ModelDraft:
    base = ModelDraft(
        title="Tiny BERT",
        description="a small encoder",
        category="nlp",
        tags=("bert", "encoder"),
        model_blob_id="manifest-blob",
        model_digest=digest,
        size_bytes=4096,
        file_format="safetensors",
        price_mist=price,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@dataclass
class World:
    ledger: LocalLedger
    clock: ManualClock
    alice: SuiKeypair
    bob: SuiKeypair
    enclave: Ed25519PrivateKey
    enclave_id: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = ManualClock(T0)
    ledger = LocalLedger(tmp_path / "ledger.sqlite3", clock_ms=clock, gas_mist=GAS)
    alice, bob = SuiKeypair.generate(), SuiKeypair.generate()
    operator = SuiKeypair.generate()
    enclave = Ed25519PrivateKey.generate()
    receipt = await ledger.register_enclave(
        operator, debug_enclave_info(enclave), request_id="boot"
    )
    yield World(ledger, clock, alice, bob, enclave, receipt.created[0])
    await ledger.aclose()


async def uploaded(w: World, **kw: object) -> str:
    receipt = await w.ledger.upload_model(w.alice, draft(**kw), request_id=f"up-{kw}")  # type: ignore[arg-type]
    return receipt.created[0]


async def verified(w: World, score: int = 87, **kw: object) -> tuple[str, str]:
    pid = await uploaded(w, **kw)
    await w.ledger.submit_for_verification(w.alice, pid, request_id=f"sub-{pid}")
    result = signed_quality_result(
        w.enclave, model_hash=DIGEST, quality_score=score, timestamp_ms=w.clock()
    )
    receipt = await w.ledger.complete_verification(w.alice, pid, result, request_id=f"cv-{pid}")
    return pid, receipt.created[0]


async def listed(w: World, score: int = 87, **kw: object) -> str:
    pid, vid = await verified(w, score, **kw)
    receipt = await w.ledger.list_on_marketplace(w.alice, pid, vid, request_id=f"list-{pid}")
    return receipt.created[0]


async def snapshot(ledger: LocalLedger, *addresses: str) -> tuple[object, ...]:
    balances = [await ledger.balance(a) for a in addresses]  # first: it may fund a new address
    stats = await ledger.platform_stats()
    objects = [
        [o.as_sui_json() for o in await ledger.owned_objects(a, t)]
        for a in addresses
        for t in ("PendingModel", "VerificationResult", "PurchaseRecord")
    ]
    return (stats, balances, objects, await ledger.events(), await ledger.listings())


# -- shape -------------------------------------------------------------------------------


async def test_it_is_a_ledger(world: World) -> None:
    assert isinstance(world.ledger, Ledger)
    assert world.ledger.network == "local"


async def test_registry_is_created_once_and_shared(tmp_path: Path) -> None:
    first = LocalLedger(tmp_path / "l.sqlite3")
    second = LocalLedger(tmp_path / "l.sqlite3")
    assert first.registry_id == second.registry_id
    registry = await first.registry()
    assert registry.owner == "shared"
    assert registry.fields["platform_fee"] == 250
    assert registry.type.endswith("::marketplace::MarketplaceRegistry")
    await first.aclose()
    await second.aclose()


async def test_upload_creates_a_pending_model_owned_by_the_creator(world: World) -> None:
    receipt = await world.ledger.upload_model(world.alice, draft(), request_id="u1")
    assert len(receipt.created) == 1 and receipt.gas_used_mist == GAS
    assert 43 <= len(receipt.digest) <= 44
    obj = await world.ledger.get_object(receipt.created[0])
    assert obj.owner == world.alice.address
    assert obj.type.endswith("::marketplace::PendingModel")
    f = obj.fields
    assert (f["status"], f["creator"], f["price"]) == (0, world.alice.address, 2_000_000_000)
    assert (f["model_digest"], f["size_bytes"], f["file_format"]) == (
        DIGEST,
        4096,
        "safetensors",
    )
    assert obj.object_id.startswith("0x") and len(obj.object_id) == 66
    raw = obj.as_sui_json()
    assert raw["objectId"] == obj.object_id
    assert [e.type.rsplit("::", 1)[1] for e in receipt.events] == ["ModelUploaded"]
    mine = await world.ledger.owned_objects(world.alice.address, "PendingModel")
    assert [o.object_id for o in mine] == [obj.object_id]
    assert await world.ledger.owned_objects(world.bob.address, "PendingModel") == []


async def test_bad_drafts_are_refused(world: World) -> None:
    with pytest.raises(UserInputError):
        await world.ledger.upload_model(world.alice, draft(digest="abc"), request_id="x1")
    with pytest.raises(UserInputError):
        await world.ledger.upload_model(world.alice, draft(price=-1), request_id="x2")
    with pytest.raises(UserInputError):
        await world.ledger.upload_model(world.alice, draft(title=" "), request_id="x3")


# -- status rules ------------------------------------------------------------------------


async def test_full_journey_walks_the_statuses_and_emits_events(world: World) -> None:
    pid = await uploaded(world)
    await world.ledger.submit_for_verification(world.alice, pid, request_id="s")
    assert (await world.ledger.get_object(pid)).fields["status"] == 1
    assert (await world.ledger.get_object(pid)).fields["verification_attempts"] == 1
    result = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=91, timestamp_ms=world.clock()
    )
    cv = await world.ledger.complete_verification(world.alice, pid, result, request_id="c")
    vid = cv.created[0]
    assert (await world.ledger.get_object(pid)).fields["status"] == 2
    vr = await world.ledger.get_object(vid)
    assert vr.fields["quality_score"] == 91 and vr.fields["enclave_id"] == world.enclave_id
    assert vr.owner == world.alice.address
    lr = await world.ledger.list_on_marketplace(world.alice, pid, vid, request_id="l")
    listing = await world.ledger.get_object(lr.created[0])
    assert listing.owner == "shared" and listing.fields["tee_verified"] is True
    assert listing.fields["quality_score"] == 91
    # As in the contract: both objects go back to the creator, and a second listing aborts.
    back = await world.ledger.get_object(pid)
    assert (back.owner, back.fields["status"]) == (world.alice.address, 2)
    assert (await world.ledger.get_object(vid)).owner == world.alice.address
    with pytest.raises(InvalidStatus, match="already listed"):
        await world.ledger.list_on_marketplace(world.alice, pid, vid, request_id="l2")
    events = await world.ledger.events()
    names = [e.type.rsplit("::", 1)[1] for e in events]
    assert names == ["EnclaveRegistered", "ModelUploaded", "VerificationSubmitted", "ModelListed"]
    assert events[2].fields == {
        "model_id": pid,
        "verification_id": vid,
        "quality_score": 91,
        "verified": True,
    }
    assert events[3].fields == {
        "model_id": pid,
        "marketplace_id": lr.created[0],
        "creator": world.alice.address,
        "price": listing.fields["price"],
        "verified": True,
    }
    seqs = [e.seq for e in await world.ledger.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [e.seq for e in await world.ledger.events(after_seq=seqs[2])] == seqs[3:]
    assert len(await world.ledger.events(limit=2)) == 2


async def test_submit_twice_is_an_invalid_status(world: World) -> None:
    pid = await uploaded(world)
    await world.ledger.submit_for_verification(world.alice, pid, request_id="s1")
    with pytest.raises(InvalidStatus):
        await world.ledger.submit_for_verification(world.alice, pid, request_id="s2")


async def test_complete_before_submit_is_an_invalid_status(world: World) -> None:
    pid = await uploaded(world)
    result = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    with pytest.raises(InvalidStatus):
        await world.ledger.complete_verification(world.alice, pid, result, request_id="c")


async def test_listing_an_unverified_model_is_an_invalid_status(world: World) -> None:
    pid = await uploaded(world)
    await world.ledger.submit_for_verification(world.alice, pid, request_id="s")
    with pytest.raises(InvalidStatus):
        await world.ledger.list_on_marketplace(world.alice, pid, pid, request_id="l")


async def test_listing_with_another_models_verification_is_refused(world: World) -> None:
    _, vid_a = await verified(world)
    pid_b, _ = await verified(world, title="Other")
    with pytest.raises(InvalidStatus, match="another model"):
        await world.ledger.list_on_marketplace(world.alice, pid_b, vid_a, request_id="l")


async def test_unknown_objects(world: World) -> None:
    with pytest.raises(ObjectNotFound):
        await world.ledger.get_object("0x" + "ab" * 32)
    with pytest.raises(ObjectNotFound):
        await world.ledger.submit_for_verification(world.alice, "0x" + "ab" * 32, request_id="s")
    with pytest.raises(ObjectNotFound):
        await world.ledger.purchase(world.bob, world.enclave_id, payment_mist=1, request_id="p")


# -- permissions -------------------------------------------------------------------------


async def test_only_the_owner_may_submit(world: World) -> None:
    pid = await uploaded(world)
    with pytest.raises(PermissionDenied):
        await world.ledger.submit_for_verification(world.bob, pid, request_id="s")


async def test_only_the_owner_may_list(world: World) -> None:
    pid, vid = await verified(world)
    with pytest.raises(PermissionDenied):
        await world.ledger.list_on_marketplace(world.bob, pid, vid, request_id="l")


async def test_a_creator_cannot_buy_their_own_model(world: World) -> None:
    lid = await listed(world)
    with pytest.raises(PermissionDenied):
        await world.ledger.purchase(world.alice, lid, payment_mist=10**10, request_id="p")


# -- enclave signatures ------------------------------------------------------------------


async def _submitted(world: World) -> str:
    pid = await uploaded(world)
    await world.ledger.submit_for_verification(world.alice, pid, request_id="s")
    return pid


async def test_forged_signature_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    good = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    forged = replace(good, data={**good.data, "quality_score": 99})
    with pytest.raises(SignatureRejected, match="does not verify"):
        await world.ledger.complete_verification(world.alice, pid, forged, request_id="c")
    assert (await world.ledger.get_object(pid)).fields["status"] == 1


async def test_foreign_enclave_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    stranger = Ed25519PrivateKey.generate()
    result = signed_quality_result(
        stranger, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    with pytest.raises(ResultRejected, match="not registered"):
        await world.ledger.complete_verification(world.alice, pid, result, request_id="c")


async def test_signature_by_one_enclave_claimed_for_another_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    stranger = Ed25519PrivateKey.generate()
    result = signed_quality_result(
        stranger, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    from integrations.tee.signing import public_key_hex

    claimed = replace(result, public_key=public_key_hex(world.enclave))
    with pytest.raises(SignatureRejected):
        await world.ledger.complete_verification(world.alice, pid, claimed, request_id="c")


async def test_stale_result_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    result = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    world.clock.advance(10 * 60 * 1000 + 1)
    with pytest.raises(ResultRejected, match="stale"):
        await world.ledger.complete_verification(world.alice, pid, result, request_id="c")


async def test_future_dated_result_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    result = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock() + 3_600_000
    )
    with pytest.raises(ResultRejected, match="future"):
        await world.ledger.complete_verification(world.alice, pid, result, request_id="c")


async def test_result_for_another_file_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    other = hashlib.sha256(b"another file").hexdigest()
    result = signed_quality_result(
        world.enclave, model_hash=other, quality_score=80, timestamp_ms=world.clock()
    )
    with pytest.raises(ResultRejected, match="different file"):
        await world.ledger.complete_verification(world.alice, pid, result, request_id="c")


async def test_malformed_signed_data_is_rejected(world: World) -> None:
    pid = await _submitted(world)
    good = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    broken = replace(good, data={"model_hash": DIGEST})
    with pytest.raises(ResultRejected, match="MLQualityResponse"):
        await world.ledger.complete_verification(world.alice, pid, broken, request_id="c")


async def test_enclave_pcrs_must_be_on_the_allow_list(tmp_path: Path) -> None:
    pcrs = ("11" * 48, "22" * 48, "33" * 48)
    ledger = LocalLedger(tmp_path / "l.sqlite3", allowed_pcrs=[pcrs])
    key = Ed25519PrivateKey.generate()
    op = SuiKeypair.generate()
    with pytest.raises(PermissionDenied, match="allow-list"):
        await ledger.register_enclave(op, debug_enclave_info(key), request_id="r1")
    info = EnclaveInfo(public_key=debug_enclave_info(key).public_key, pcrs=pcrs, debug=False)
    receipt = await ledger.register_enclave(op, info, request_id="r2")
    enclave = await ledger.enclave_for_key(info.public_key)
    assert enclave is not None and enclave.object_id == receipt.created[0]
    with pytest.raises(ChainError, match="already registered"):
        await ledger.register_enclave(op, info, request_id="r3")
    await ledger.aclose()


# -- money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "fee"),
    [(0, 0), (1, 0), (39, 0), (40, 1), (10_000, 250), (1_000_000_001, 25_000_000)],
)
def test_fee_rounds_down(price: int, fee: int) -> None:
    assert platform_fee(price) == fee


async def test_purchase_moves_money_to_the_mist(world: World) -> None:
    price = 1_234_567_891
    lid = await listed(world, price=price)
    alice_before = await world.ledger.balance(world.alice.address)
    bob_before = await world.ledger.balance(world.bob.address)
    assert bob_before == FAUCET
    receipt = await world.ledger.purchase(world.bob, lid, payment_mist=price, request_id="buy-1")
    fee = price * 250 // 10_000
    assert await world.ledger.balance(world.bob.address) == bob_before - price - GAS
    assert await world.ledger.balance(world.alice.address) == alice_before + price - fee
    record = await world.ledger.get_object(receipt.created[0])
    assert record.owner == world.bob.address
    assert (record.fields["amount_paid"], record.fields["platform_fee"]) == (price, fee)
    assert record.fields["seller"] == world.alice.address
    listing = await world.ledger.get_object(lid)
    assert listing.fields["current_downloads"] == 1
    assert listing.fields["total_earnings"] == price - fee
    stats = await world.ledger.platform_stats()
    assert (stats.total_volume_mist, stats.platform_fees_mist, stats.purchases) == (
        price,
        fee,
        1,
    )
    event = receipt.events[-1]
    assert event.type.endswith("::ModelPurchased")
    assert event.fields == {
        "purchase_id": receipt.created[0],
        "buyer": world.bob.address,
        "model_id": lid,
        "amount": price,
        "access_granted": True,
    }
    assert record.fields["access_key"] == []  # empty on chain
    # The fee goes to the contract's @satya, 0x0 as published: burned.
    assert await world.ledger.balance(PLATFORM_ADDRESS) == fee


async def test_overpayment_goes_wholly_to_the_creator(world: World) -> None:
    price = 2_000_000_000
    lid = await listed(world, price=price)
    alice_before = await world.ledger.balance(world.alice.address)
    bob_before = await world.ledger.balance(world.bob.address)
    receipt = await world.ledger.purchase(
        world.bob, lid, payment_mist=price + 500, request_id="buy"
    )
    assert await world.ledger.balance(world.bob.address) == bob_before - price - 500 - GAS
    assert (
        await world.ledger.balance(world.alice.address) == alice_before + price + 500 - 50_000_000
    )
    record = await world.ledger.get_object(receipt.created[0])
    assert record.fields["amount_paid"] == price


async def test_only_the_owner_can_complete_a_verification(world: World) -> None:
    pid = await uploaded(world)
    await world.ledger.submit_for_verification(world.alice, pid, request_id="s")
    result = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=91, timestamp_ms=world.clock()
    )
    with pytest.raises(PermissionDenied):
        await world.ledger.complete_verification(world.bob, pid, result, request_id="c")
    assert (await world.ledger.get_object(pid)).fields["status"] == 1


async def test_gas_is_charged_on_every_transaction(world: World) -> None:
    start = await world.ledger.balance(world.alice.address)
    await uploaded(world)
    assert await world.ledger.balance(world.alice.address) == start - GAS


async def test_insufficient_funds_to_buy(world: World) -> None:
    lid = await listed(world, price=FAUCET)
    before = await snapshot(world.ledger, world.alice.address, world.bob.address)
    with pytest.raises(InsufficientFunds):
        await world.ledger.purchase(world.bob, lid, payment_mist=FAUCET, request_id="p")
    assert await snapshot(world.ledger, world.alice.address, world.bob.address) == before
    await world.ledger.fund(world.bob.address, GAS)
    await world.ledger.purchase(world.bob, lid, payment_mist=FAUCET, request_id="p")
    assert await world.ledger.balance(world.bob.address) == 0


async def test_payment_below_price_is_refused(world: World) -> None:
    lid = await listed(world, price=1000)
    with pytest.raises(InsufficientFunds, match="below the price"):
        await world.ledger.purchase(world.bob, lid, payment_mist=999, request_id="p")


async def test_sold_out_listing(world: World) -> None:
    lid = await listed(world, price=10, max_downloads=1)
    await world.ledger.purchase(world.bob, lid, payment_mist=10, request_id="p1")
    carol = SuiKeypair.generate()
    with pytest.raises(InvalidStatus, match="sold out"):
        await world.ledger.purchase(carol, lid, payment_mist=10, request_id="p2")


async def test_no_gas_no_transaction(tmp_path: Path) -> None:
    ledger = LocalLedger(tmp_path / "l.sqlite3", faucet_mist=0)
    kp = SuiKeypair.generate()
    assert await ledger.balance(kp.address) == 0
    with pytest.raises(InsufficientFunds, match="gas"):
        await ledger.upload_model(kp, draft(), request_id="u")
    assert await ledger.owned_objects(kp.address, "PendingModel") == []
    assert await ledger.fund(kp.address, 5_000_000) == 5_000_000
    await ledger.upload_model(kp, draft(), request_id="u")
    await ledger.aclose()


# -- idempotency and atomicity -----------------------------------------------------------


async def test_repeated_request_id_replays_without_charging(world: World) -> None:
    lid = await listed(world, price=500)
    first = await world.ledger.purchase(world.bob, lid, payment_mist=500, request_id="buy")
    after_first = await snapshot(world.ledger, world.alice.address, world.bob.address)
    again = await world.ledger.purchase(world.bob, lid, payment_mist=500, request_id="buy")
    assert again.replayed and not first.replayed
    assert (again.digest, again.created, again.events) == (
        first.digest,
        first.created,
        first.events,
    )
    assert await snapshot(world.ledger, world.alice.address, world.bob.address) == after_first


async def test_reusing_a_request_id_for_something_else_is_refused(world: World) -> None:
    await world.ledger.upload_model(world.alice, draft(), request_id="same")
    with pytest.raises(ChainError, match="already used"):
        await world.ledger.upload_model(world.alice, draft(price=1), request_id="same")


async def test_request_ids_are_per_sender(world: World) -> None:
    a = await world.ledger.upload_model(world.alice, draft(), request_id="wf-1")
    b = await world.ledger.upload_model(world.bob, draft(), request_id="wf-1")
    assert not b.replayed and a.created != b.created


async def test_a_failed_transaction_changes_nothing(world: World) -> None:
    pid = await _submitted(world)
    before = await snapshot(world.ledger, world.alice.address, world.bob.address)
    result = signed_quality_result(
        world.enclave,
        model_hash=hashlib.sha256(b"x").hexdigest(),
        quality_score=80,
        timestamp_ms=world.clock(),
    )
    with pytest.raises(ResultRejected):
        await world.ledger.complete_verification(world.alice, pid, result, request_id="c")
    assert await snapshot(world.ledger, world.alice.address, world.bob.address) == before
    # the failed request id is free to use once the cause is fixed
    good = signed_quality_result(
        world.enclave, model_hash=DIGEST, quality_score=80, timestamp_ms=world.clock()
    )
    assert (await world.ledger.submit_for_verification(world.alice, pid, request_id="s")).replayed
    assert not (
        await world.ledger.complete_verification(world.alice, pid, good, request_id="c")
    ).replayed


# -- signatures on transactions ----------------------------------------------------------


class _WrongKeySigner:
    """Claims one address, signs with another key."""

    def __init__(self) -> None:
        self._claimed = SuiKeypair.generate()
        self._actual = SuiKeypair.generate()

    @property
    def address(self) -> str:
        return self._claimed.address

    @property
    def public_key(self) -> bytes:
        return self._claimed.public_key

    def sign_transaction(self, tx_bytes: bytes) -> bytes:
        return self._actual.sign_transaction(tx_bytes)


class _GarbageSigner(_WrongKeySigner):
    def sign_transaction(self, tx_bytes: bytes) -> bytes:
        sig = self._claimed.sign_transaction(tx_bytes + b"!")
        return sig


async def test_a_signature_from_another_key_is_rejected(world: World) -> None:
    with pytest.raises(SignatureRejected, match="other than the sender"):
        await world.ledger.upload_model(_WrongKeySigner(), draft(), request_id="u")


async def test_a_signature_over_other_bytes_is_rejected(world: World) -> None:
    with pytest.raises(SignatureRejected, match="does not verify"):
        await world.ledger.upload_model(_GarbageSigner(), draft(), request_id="u")


# -- reads and several processes ---------------------------------------------------------


async def test_listing_filters(world: World) -> None:
    cheap = await listed(world, price=100, score=60, title="Cheap ResNet", category="cv")
    dear = await listed(world, price=10_000, score=95, tags=("llama",))

    def ids(objs: list[ChainObject]) -> list[str]:
        return [o.object_id for o in objs]

    assert ids(await world.ledger.listings()) == [cheap, dear]
    assert ids(await world.ledger.listings(category="CV")) == [cheap]
    assert ids(await world.ledger.listings(max_price_mist=5000)) == [cheap]
    assert ids(await world.ledger.listings(min_quality=90)) == [dear]
    assert ids(await world.ledger.listings(text="resnet")) == [cheap]
    assert ids(await world.ledger.listings(text="LLAMA")) == [dear]
    assert await world.ledger.listings(text="resnet", min_quality=90) == []
    assert ids(await world.ledger.listings(text="cheap-resnet")) == [cheap]  # a file's name
    assert ids(await world.ledger.listings(text="cheap_ResNet")) == [cheap]
    # every telling word, in any order; words naming a task ("analysis") are not required
    assert ids(await world.ledger.listings(text="resnet cheap")) == [cheap]
    assert ids(await world.ledger.listings(text="resnet image classification")) == []
    assert ids(await world.ledger.listings(text="resnet classification")) == [cheap]
    assert await world.ledger.listings(text="resnet llama") == []


async def test_listings_found_by_short_forms(world: World) -> None:
    kws = await listed(world, title="Keyword Spotting Tiny")
    sst = await listed(world, title="SST2 DistilBERT", tags=("nlp",))
    asr = await listed(world, title="ASR Conformer Small")

    def ids(objs: list[ChainObject]) -> list[str]:
        return [o.object_id for o in objs]

    assert ids(await world.ledger.listings(text="kws")) == [kws]
    assert ids(await world.ledger.listings(text="KWS tiny")) == [kws]
    assert ids(await world.ledger.listings(text="sst-2")) == [sst]
    assert ids(await world.ledger.listings(text="sst 2 distilbert")) == [sst]
    assert ids(await world.ledger.listings(text="speech recognition")) == [asr]
    assert await world.ledger.listings(text="ocr") == []  # only names that are there


async def test_two_ledgers_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    one, two = LocalLedger(path), LocalLedger(path)
    kp = SuiKeypair.generate()
    receipt = await one.upload_model(kp, draft(), request_id="u")
    seen: ChainObject = await two.get_object(receipt.created[0])
    assert seen.owner == kp.address
    assert (await two.upload_model(kp, draft(), request_id="u")).replayed
    await two.submit_for_verification(kp, receipt.created[0], request_id="s")
    assert (await one.get_object(receipt.created[0])).fields["status"] == 1
    assert await one.balance(kp.address) == await two.balance(kp.address)
    assert [e.seq for e in await one.events()] == [e.seq for e in await two.events()]
    await one.aclose()
    await two.aclose()


async def test_platform_stats_counts(world: World) -> None:
    await uploaded(world)
    await verified(world, title="v")
    lid = await listed(world, title="l", price=1000)
    await world.ledger.purchase(world.bob, lid, payment_mist=1000, request_id="b")
    stats = (await world.ledger.platform_stats()).as_dict()
    assert stats["pending_models"] == 1
    assert stats["verified_models"] == 1
    assert stats["listed_models"] == 1
    assert stats["purchases"] == 1
    assert stats["platform_fees_mist"] == 25
    assert (
        stats["minted_mist"]
        == stats["circulating_mist"] + stats["platform_fees_mist"] + stats["gas_burnt_mist"]
    )


async def test_listing_price_can_be_set_at_listing(world: World) -> None:
    pid, vid = await verified(world, price=1_000)
    receipt = await world.ledger.list_on_marketplace(
        world.alice, pid, vid, request_id="l", price_mist=2_500
    )
    listing = await world.ledger.get_object(receipt.created[0])
    assert listing.fields["price"] == 2_500
    assert receipt.events[-1].fields["price"] == 2_500
    with pytest.raises(ChainError, match="already used"):
        await world.ledger.list_on_marketplace(
            world.alice, pid, vid, request_id="l", price_mist=3_000
        )


async def test_listing_text_can_be_set_at_listing(world: World) -> None:
    pid, vid = await verified(world)
    meta = ListingMetadata("Vision Pro", "Classifies photos.", ("vision", "resnet"))
    receipt = await world.ledger.list_on_marketplace(
        world.alice, pid, vid, request_id="l", metadata=meta
    )
    fields = (await world.ledger.get_object(receipt.created[0])).fields
    assert (fields["title"], fields["description"], fields["tags"]) == (
        "Vision Pro",
        "Classifies photos.",
        ["vision", "resnet"],
    )
    assert fields["category"] == "nlp"  # the category stays what was registered
    pid2, vid2 = await verified(world, title="Another")
    with pytest.raises(UserInputError, match="title"):
        await world.ledger.list_on_marketplace(
            world.alice, pid2, vid2, request_id="l2", metadata=ListingMetadata(" ", "", ())
        )
    assert (await world.ledger.get_object(pid2)).fields["status"] == 2  # nothing changed
