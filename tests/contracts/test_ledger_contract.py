"""The chain-port contract: every Ledger adapter behaves the same way.

The full journey runs against each adapter: the LocalLedger, as it is and
wrapped so that listings keep the upload terms as on the live network, and the
live SuiLedger on ``ContractNode`` (a ``SuiNode`` double that executes its
pysui-built, signed transactions with the contract's rules). The contract's own
semantics (events, objects returned at listing, the fee at 0x0, an empty
access key) are asserted for all three. Offline, the live adapter also shows
typed errors with a hint when its node (pysui's gRPC client) cannot be reached.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from contract_node import ContractNode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pysui.sui.sui_grpc.pgrpc_clients import GrpcProtocolClient

from integrations.chain.fixed_terms import FixedTermsLedger
from integrations.chain.keys import SuiKeypair, verify_transaction_signature
from integrations.chain.local import LocalLedger
from integrations.chain.local_rules import PLATFORM_ADDRESS
from integrations.chain.local_tx import canonical_tx_bytes
from integrations.chain.port import (
    STATUS_PENDING,
    STATUS_VERIFIED,
    STATUS_VERIFYING,
    STATUS_WITHDRAWN,
    Ledger,
    ModelDraft,
    Signer,
    TxReceipt,
)
from integrations.chain.sui import SuiLedger
from integrations.chain.sui_node import PysuiNode, write_pysui_config
from integrations.chain.sui_tx import (
    GasConfig,
    MarketplaceTxBuilder,
    ObjectRef,
    SharedRef,
    serialize,
    transaction_data,
)
from integrations.chain.testing import ManualClock, debug_enclave_info, signed_quality_result
from integrations.errors import (
    ChainError,
    ChainUnavailable,
    InsufficientFunds,
    InvalidStatus,
    NotSupported,
    ObjectNotFound,
    PermissionDenied,
    ResultRejected,
)
from integrations.tee.port import EnclaveInfo

T0 = 1_744_041_600_000
ATTESTATION = b'{"kind": "test attestation document"}'.hex()
DIGEST = hashlib.sha256(b"contract model").hexdigest()
DRAFT = ModelDraft(
    title="Contract model",
    description="used by the contract suite",
    category="nlp",
    tags=("contract",),
    model_blob_id="blob",
    model_digest=DIGEST,
    size_bytes=100,
    file_format="onnx",
    price_mist=3_000_000,
)


def _local(tmp: Path, clock: ManualClock) -> LocalLedger:
    return LocalLedger(tmp / "ledger.sqlite3", clock_ms=clock)


class _LiveOnContractNode(SuiLedger):
    """The live adapter over ``ContractNode``: its pysui transactions built, signed and run.

    Enclaves register as through the Nautilus package (an ``Enclave`` object on the
    node's store); the adapter then trusts the key, as the wiring does on a live network.
    """

    def __init__(self, node: ContractNode, clock: ManualClock) -> None:
        super().__init__(
            network="testnet",
            package_id=node.package_id,
            registry=node.ledger.registry_id,
            node=node,
            clock_ms=clock,
        )
        self.contract_node = node

    async def register_enclave(
        self, signer: Signer, info: EnclaveInfo, *, request_id: str
    ) -> TxReceipt:
        receipt: TxReceipt = await self.contract_node.ledger.register_enclave(
            signer, info, request_id=request_id
        )
        self.trust_enclave_key(info.public_key, info.attestation)
        return receipt


def _live(tmp: Path, clock: ManualClock) -> Ledger:
    """The live SuiLedger, on a node double executing the contract rules."""
    return _LiveOnContractNode(ContractNode(_local(tmp, clock)), clock)


def _local_fixed_terms(tmp: Path, clock: ManualClock) -> Ledger:
    """The embedded ledger with the live network's rule: listings keep the upload terms."""
    return FixedTermsLedger(_local(tmp, clock))


ADAPTERS: dict[str, Callable[[Path, ManualClock], Ledger]] = {
    "local": _local,
    "local-fixed-terms": _local_fixed_terms,
    "live-sui-on-contract-node": _live,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=sorted(ADAPTERS))
async def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Ledger]:
    adapter = ADAPTERS[request.param](tmp_path, clock)
    yield adapter
    await adapter.aclose()


@dataclass
class _Journey:
    creator: SuiKeypair
    buyer: SuiKeypair
    pending_id: str
    verification_id: str
    listing_id: str
    receipts: dict[str, TxReceipt]


async def _journey(ledger: Ledger, clock: ManualClock) -> tuple[SuiKeypair, SuiKeypair, str]:
    run = await _full_journey(ledger, clock)
    return run.creator, run.buyer, run.listing_id


async def _full_journey(ledger: Ledger, clock: ManualClock) -> _Journey:
    creator, buyer, operator = SuiKeypair.generate(), SuiKeypair.generate(), SuiKeypair.generate()
    enclave = Ed25519PrivateKey.generate()
    info = replace(debug_enclave_info(enclave), attestation=ATTESTATION)
    reg = await ledger.register_enclave(operator, info, request_id="e")
    up = await ledger.upload_model(creator, DRAFT, request_id="up")
    pid = up.created[0]
    assert (await ledger.get_object(pid)).fields["status"] == STATUS_PENDING
    await ledger.submit_for_verification(creator, pid, request_id="sub")
    assert (await ledger.get_object(pid)).fields["status"] == STATUS_VERIFYING
    result = signed_quality_result(
        enclave,
        model_hash=DIGEST,
        quality_score=77,
        timestamp_ms=clock(),
        enclave_id=reg.created[0],
    )
    with pytest.raises(PermissionDenied):  # on chain only the owner can pass a PendingModel
        await ledger.complete_verification(buyer, pid, result, request_id="cv-stranger")
    cv = await ledger.complete_verification(creator, pid, result, request_id="cv")
    assert (await ledger.get_object(pid)).fields["status"] == STATUS_VERIFIED
    lst = await ledger.list_on_marketplace(creator, pid, cv.created[0], request_id="list")
    receipts = {"upload": up, "complete": cv, "list": lst}
    return _Journey(creator, buyer, pid, cv.created[0], lst.created[0], receipts)


def _events(receipt: TxReceipt) -> list[tuple[str, dict[str, object]]]:
    return [(e.type.rsplit("::", 1)[1], e.fields) for e in receipt.events]


async def test_events_objects_and_money_are_the_contracts(
    ledger: Ledger, clock: ManualClock
) -> None:
    """What ``satya::marketplace`` does, observed in the Move test runner (reference/move)."""
    run = await _full_journey(ledger, clock)
    creator, buyer = run.creator.address, run.buyer.address
    assert _events(run.receipts["upload"]) == [
        (
            "ModelUploaded",
            {
                "model_id": run.pending_id,
                "creator": creator,
                "title": DRAFT.title,
                "blob_id": DRAFT.model_blob_id,
                "status": STATUS_PENDING,
            },
        )
    ]
    assert _events(run.receipts["complete"]) == [
        (
            "VerificationSubmitted",
            {
                "model_id": run.pending_id,
                "verification_id": run.verification_id,
                "quality_score": 77,
                "verified": True,
            },
        )
    ]
    assert _events(run.receipts["list"]) == [
        (
            "ModelListed",
            {
                "model_id": run.pending_id,
                "marketplace_id": run.listing_id,
                "creator": creator,
                "price": DRAFT.price_mist,
                "verified": True,
            },
        )
    ]
    # Listing returns the pending model and the verification to the creator; once only.
    pending = await ledger.get_object(run.pending_id)
    verification = await ledger.get_object(run.verification_id)
    assert (pending.owner, pending.fields["status"]) == (creator, STATUS_VERIFIED)
    assert verification.owner == creator
    # attestation_hash: the sha256 of the enclave's attestation document (not its key)
    assert (
        verification.fields["attestation_hash"] == hashlib.sha256(ATTESTATION.encode()).hexdigest()
    )
    assert verification.fields["quality_score"] == 77
    listing = await ledger.get_object(run.listing_id)
    assert listing.fields["pending_model_id"] == run.pending_id
    assert listing.fields["verification_id"] == run.verification_id

    # An overpayment goes wholly to the creator; the fee (on the price) to 0x0.
    creator_before = await ledger.balance(creator)
    burned_before = await ledger.balance(PLATFORM_ADDRESS)
    payment = DRAFT.price_mist + 1_000
    fee = DRAFT.price_mist * 250 // 10_000
    buy = await ledger.purchase(run.buyer, run.listing_id, payment_mist=payment, request_id="b")
    assert await ledger.balance(creator) == creator_before + payment - fee
    assert await ledger.balance(PLATFORM_ADDRESS) == burned_before + fee
    record = await ledger.get_object(buy.created[0])
    assert record.owner == buyer
    assert record.fields["access_key"] == []
    assert (record.fields["amount_paid"], record.fields["platform_fee"]) == (DRAFT.price_mist, fee)
    assert _events(buy) == [
        (
            "ModelPurchased",
            {
                "purchase_id": buy.created[0],
                "buyer": buyer,
                "model_id": run.listing_id,
                "amount": DRAFT.price_mist,
                "access_granted": True,
            },
        )
    ]
    listing = await ledger.get_object(run.listing_id)
    assert listing.fields["total_earnings"] == DRAFT.price_mist - fee
    assert listing.fields["current_downloads"] == 1


async def test_adapter_is_a_ledger(ledger: Ledger) -> None:
    assert isinstance(ledger, Ledger)
    assert ledger.network


async def test_full_journey_and_purchase(ledger: Ledger, clock: ManualClock) -> None:
    creator, buyer, listing_id = await _journey(ledger, clock)
    listing = await ledger.get_object(listing_id)
    assert listing.owner == "shared" and listing.fields["quality_score"] == 77
    before_creator = await ledger.balance(creator.address)
    before_buyer = await ledger.balance(buyer.address)
    receipt = await ledger.purchase(buyer, listing_id, payment_mist=3_000_000, request_id="buy")
    fee = 3_000_000 * 250 // 10_000
    assert await ledger.balance(creator.address) == before_creator + 3_000_000 - fee
    assert await ledger.balance(buyer.address) == before_buyer - 3_000_000 - receipt.gas_used_mist
    records = await ledger.owned_objects(buyer.address, "PurchaseRecord")
    assert [r.object_id for r in records] == [receipt.created[0]]
    assert records[0].fields["platform_fee"] == fee
    assert [o.object_id for o in await ledger.listings(category="nlp")] == [listing_id]
    assert await ledger.listings(min_quality=78) == []


async def test_the_creator_reprices_and_delists_a_listing_and_buyers_see_it(
    ledger: Ledger, clock: ManualClock
) -> None:
    run = await _full_journey(ledger, clock)
    if isinstance(ledger, SuiLedger):  # the deployed contract has no such entry points
        with pytest.raises(NotSupported, match="no entry point to change the price"):
            await ledger.reprice(run.creator, run.listing_id, 1, request_id="rp")
        with pytest.raises(NotSupported, match="no entry point to delist"):
            await ledger.delist(run.creator, run.listing_id, request_id="dl")
        return
    with pytest.raises(PermissionDenied):  # only the listing's creator
        await ledger.reprice(run.buyer, run.listing_id, 1, request_id="rp-stranger")
    with pytest.raises(PermissionDenied):
        await ledger.delist(run.buyer, run.listing_id, request_id="dl-stranger")
    before = await ledger.balance(run.creator.address)
    rp = await ledger.reprice(run.creator, run.listing_id, 2 * 10**9, request_id="rp")
    assert await ledger.balance(run.creator.address) == before - rp.gas_used_mist  # gas, no fee
    assert _events(rp) == [
        (
            "ModelRepriced",
            {
                "marketplace_id": run.listing_id,
                "creator": run.creator.address,
                "old_price": DRAFT.price_mist,
                "price": 2 * 10**9,
            },
        )
    ]
    assert (await ledger.get_object(run.listing_id)).fields["price"] == 2 * 10**9
    with pytest.raises(InsufficientFunds):  # the buyer now pays the new price
        await ledger.purchase(
            run.buyer, run.listing_id, payment_mist=DRAFT.price_mist, request_id="b1"
        )
    with pytest.raises(InvalidStatus):  # a listed model must be delisted before withdrawing
        await ledger.withdraw_model(run.creator, run.pending_id, reason="x", request_id="w0")
    dl = await ledger.delist(run.creator, run.listing_id, request_id="dl")
    assert [name for name, _ in _events(dl)] == ["ModelDelisted"]
    assert await ledger.listings() == []
    with pytest.raises(ObjectNotFound):  # a buyer who opens it sees it is gone
        await ledger.purchase(run.buyer, run.listing_id, payment_mist=2 * 10**9, request_id="b2")
    again = await ledger.delist(run.creator, run.listing_id, request_id="dl")  # a replay
    assert again.replayed


async def test_the_creator_withdraws_a_model_that_failed_verification(ledger: Ledger) -> None:
    creator, stranger = SuiKeypair.generate(), SuiKeypair.generate()
    pid = (await ledger.upload_model(creator, DRAFT, request_id="up")).created[0]
    await ledger.submit_for_verification(creator, pid, request_id="sub")
    if isinstance(ledger, SuiLedger):  # the deployed contract has no such entry point
        with pytest.raises(NotSupported, match="no entry point to withdraw"):
            await ledger.withdraw_model(creator, pid, reason="r", request_id="w")
        return
    with pytest.raises(PermissionDenied):
        await ledger.withdraw_model(stranger, pid, reason="no", request_id="w-stranger")
    w = await ledger.withdraw_model(
        creator, pid, reason="it failed verification: dangerous import", request_id="w"
    )
    model = await ledger.get_object(pid)
    assert model.fields["status"] == STATUS_WITHDRAWN
    assert model.fields["description"] == (
        "Withdrawn by its creator: it failed verification: dangerous import"
    )
    assert [name for name, _ in _events(w)] == ["ModelWithdrawn"]
    with pytest.raises(InvalidStatus):
        await ledger.submit_for_verification(creator, pid, request_id="sub2")
    with pytest.raises(InvalidStatus):
        await ledger.withdraw_model(creator, pid, reason="again", request_id="w2")


async def test_events_are_ordered_and_typed(ledger: Ledger, clock: ManualClock) -> None:
    await _journey(ledger, clock)
    events = await ledger.events()
    names = [e.type.rsplit("::", 1)[1] for e in events if "::marketplace::" in e.type]
    assert names == ["ModelUploaded", "VerificationSubmitted", "ModelListed"]
    assert [e.seq for e in events] == sorted({e.seq for e in events})


async def test_retries_replay_and_errors_are_typed(ledger: Ledger, clock: ManualClock) -> None:
    creator, buyer, listing_id = await _journey(ledger, clock)
    first = await ledger.purchase(buyer, listing_id, payment_mist=3_000_000, request_id="b")
    again = await ledger.purchase(buyer, listing_id, payment_mist=3_000_000, request_id="b")
    assert again.replayed and again.digest == first.digest
    with pytest.raises(PermissionDenied):
        await ledger.purchase(creator, listing_id, payment_mist=3_000_000, request_id="self")
    with pytest.raises(ObjectNotFound):
        await ledger.get_object("0x" + "99" * 32)
    poor = SuiKeypair.generate()
    with pytest.raises(InsufficientFunds):
        await ledger.purchase(poor, listing_id, payment_mist=10**17, request_id="poor")
    up = await ledger.upload_model(creator, DRAFT, request_id="up2")
    with pytest.raises(PermissionDenied):
        await ledger.submit_for_verification(buyer, up.created[0], request_id="x")
    with pytest.raises(InvalidStatus):
        await ledger.list_on_marketplace(creator, up.created[0], up.created[0], request_id="y")
    assert all(issubclass(e, ChainError) for e in (PermissionDenied, InvalidStatus))


# -- what each adapter signs --------------------------------------------------------------


def _local_tx(sender: str) -> bytes:
    return canonical_tx_bytes(
        kind="upload_model_entry",
        args={"title": DRAFT.title, "price": DRAFT.price_mist},
        sender=sender,
        request_id="r",
        gas_budget=1_000_000,
        package="0x" + "ab" * 32,
    )


def _sui_tx(sender: str) -> bytes:
    builder = MarketplaceTxBuilder(
        package_id="0x" + "ab" * 32, registry=SharedRef("0x" + "cd" * 32, 1, True)
    )
    coin = ObjectRef("0x" + "11" * 32, 1, "11111111111111111111111111111111")
    kind = builder.upload_model_entry(DRAFT)
    return serialize(transaction_data(kind, sender=sender, gas=GasConfig((coin,), 1, 10)))


@pytest.mark.parametrize("build", [_local_tx, _sui_tx], ids=["local", "sui"])
def test_built_transactions_are_signed_by_their_sender_only(build: Callable[[str], bytes]) -> None:
    sender, other = SuiKeypair.generate(), SuiKeypair.generate()
    tx = build(sender.address)
    assert verify_transaction_signature(tx, sender.sign_transaction(tx)) == sender.address
    assert verify_transaction_signature(tx, other.sign_transaction(tx)) != sender.address
    assert build(sender.address) == tx  # deterministic
    assert verify_transaction_signature(build(other.address), sender.sign_transaction(tx)) is None


# -- the pysui adapter offline: a ledger whose errors stay typed ------------------------------


async def _unreachable_sui_ledger(tmp: Path) -> SuiLedger:
    """The live adapter over pysui's gRPC client, pointed at a loopback port nobody serves."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"https://127.0.0.1:{port}"
    config = write_pysui_config(tmp / "sui", url=url, network="testnet")
    node = PysuiNode(
        GrpcProtocolClient(pysui_config=config), url=url, network="testnet", timeout_s=2
    )
    return SuiLedger.from_settings(
        network="testnet",
        rpc_url=url,
        package_id="0x" + "ab" * 32,
        registry_id="0x" + "cd" * 32,
        node=node,
    )


async def test_sui_adapter_is_a_ledger_and_fails_typed_without_a_node(tmp_path: Path) -> None:
    ledger = await _unreachable_sui_ledger(tmp_path)
    assert isinstance(ledger, Ledger) and ledger.network == "testnet"
    kp = SuiKeypair.generate()
    pending = "0x" + "22" * 32
    enclave = Ed25519PrivateKey.generate()
    result = signed_quality_result(enclave, model_hash=DIGEST, quality_score=70, timestamp_ms=T0)
    ledger.trust_enclave_key(result.public_key)
    calls = {
        "balance": ledger.balance(kp.address),
        "upload": ledger.upload_model(kp, DRAFT, request_id="u"),
        "submit": ledger.submit_for_verification(kp, pending, request_id="s"),
        "complete": ledger.complete_verification(kp, pending, result, request_id="c"),
        "list": ledger.list_on_marketplace(kp, pending, pending, request_id="l"),
        "purchase": ledger.purchase(kp, pending, payment_mist=1, request_id="p"),
        "get_object": ledger.get_object(pending),
        "owned": ledger.owned_objects(kp.address, "PendingModel"),
    }
    for name, call in calls.items():
        with pytest.raises(ChainUnavailable) as caught:
            await call
        assert "127.0.0.1" in str(caught.value), name
        assert "SATYA_SUI_RPC_URL" in caught.value.hint, name
    # The deployed contract has no entry point to take anything back: said, not attempted.
    for undo in (
        ledger.withdraw_model(kp, pending, reason="r", request_id="w"),
        ledger.delist(kp, pending, request_id="d"),
        ledger.reprice(kp, pending, 1, request_id="r"),
    ):
        with pytest.raises(NotSupported, match="deployed Satya contract on testnet has no entry"):
            await undo
    # Queries a full node cannot answer say so instead of returning nothing.
    with pytest.raises(ChainError, match="indexer"):
        await ledger.listings()
    with pytest.raises(ChainError, match="indexer"):
        await ledger.events()
    await ledger.aclose()


async def test_sui_adapter_refuses_an_untrusted_enclave_before_sending(tmp_path: Path) -> None:
    ledger = await _unreachable_sui_ledger(tmp_path)
    stranger = Ed25519PrivateKey.generate()
    result = signed_quality_result(stranger, model_hash=DIGEST, quality_score=70, timestamp_ms=T0)
    with pytest.raises(ResultRejected, match="does not trust"):
        await ledger.complete_verification(
            SuiKeypair.generate(), "0x" + "22" * 32, result, request_id="c"
        )
    await ledger.aclose()
