"""Offline Sui transactions: BCS round-trips, exact arguments, signatures pysui agrees with."""

from __future__ import annotations

import base64

import pytest
from pysui.sui.sui_bcs import bcs
from pysui.sui.sui_crypto import keypair_from_keystring

from integrations.chain.ids import b58encode
from integrations.chain.keys import SuiKeypair, verify_transaction_signature
from integrations.chain.port import ModelDraft
from integrations.chain.sui import SuiLedger
from integrations.chain.sui_tx import (
    CLOCK_ID,
    GasConfig,
    MarketplaceTxBuilder,
    ObjectRef,
    SharedRef,
    deserialize,
    serialize,
    transaction_data,
)
from integrations.errors import ChainError, ConfigurationError, SignatureRejected

PKG = "0x" + "ab" * 32
REG = SharedRef("0x" + "cd" * 32, 12, True)
COIN = ObjectRef("0x" + "11" * 32, 5, b58encode(bytes(range(32))))
PENDING = ObjectRef("0x" + "22" * 32, 7, b58encode(b"\x01" * 32))
VERIFICATION = ObjectRef("0x" + "33" * 32, 8, b58encode(b"\x02" * 32))
LISTING = SharedRef("0x" + "44" * 32, 9, True)
GAS = GasConfig((COIN,), 1_000, 50_000_000)
DRAFT = ModelDraft(
    title="Tiny BERT",
    description="encoder",
    category="nlp",
    tags=("bert", "small"),
    model_blob_id="blob-1",
    model_digest="00" * 32,
    size_bytes=10,
    file_format="safetensors",
    price_mist=1_000_000_000,
    seal_metadata=b"\x01\x02\x03",
)
KP = SuiKeypair.generate()
BUILDER = MarketplaceTxBuilder(package_id=PKG, registry=REG)


def all_kinds() -> dict[str, bcs.TransactionKind]:
    return {
        "upload": BUILDER.upload_model_entry(DRAFT),
        "submit": BUILDER.submit_for_verification(PENDING),
        "complete": BUILDER.complete_verification(
            PENDING,
            enclave_id="enclave-1",
            quality_score=87,
            security_assessment="clean",
            attestation_hash=b"\x05" * 32,
            verifier_signature=b"\x06" * 64,
            recipient=KP.address,
        ),
        "list": BUILDER.list_on_marketplace(PENDING, VERIFICATION),
        "purchase": BUILDER.purchase_model(LISTING, price_mist=2_500, buyer=KP.address),
    }


def _pt(tx: bcs.TransactionData) -> bcs.ProgrammableTransaction:
    kind: bcs.ProgrammableTransaction = tx.value.TransactionKind.value
    return kind


@pytest.mark.parametrize("name", list(all_kinds()))
def test_bcs_round_trip(name: str) -> None:
    tx = transaction_data(all_kinds()[name], sender=KP.address, gas=GAS)
    raw = serialize(tx)
    back = deserialize(raw)
    assert serialize(back) == raw
    v1 = back.value
    assert v1.Sender.to_address_str() == KP.address
    assert (v1.GasData.Price, v1.GasData.Budget) == (1_000, 50_000_000)
    assert v1.GasData.Payment[0].ObjectID.to_address_str() == COIN.object_id


@pytest.mark.parametrize("name", list(all_kinds()))
def test_signature_is_valid_and_matches_pysui(name: str) -> None:
    raw = serialize(transaction_data(all_kinds()[name], sender=KP.address, gas=GAS))
    ours = KP.sign_transaction(raw)
    assert verify_transaction_signature(raw, ours) == KP.address
    pysui_kp = keypair_from_keystring(KP.to_keystring())
    theirs = base64.b64decode(pysui_kp.new_sign_secure(base64.b64encode(raw).decode()))
    assert theirs == ours
    assert verify_transaction_signature(raw + b"\x00", ours) is None


def test_upload_arguments_are_encoded_exactly() -> None:
    pt = _pt(transaction_data(all_kinds()["upload"], sender=KP.address, gas=GAS))
    pures = [bytes(i.value) for i in pt.Inputs if i.enum_name == "Pure"]
    assert pures[0] == b"\x09Tiny BERT"
    assert pures[3] == b"\x02\x04bert\x05small"  # vector<String>
    assert pures[5] == b"\x00"  # Option<String>::none
    assert pures[7] == b"\x03\x01\x02\x03"  # vector<u8>
    assert pures[8] == (1_000_000_000).to_bytes(8, "little")  # u64 is always 8 bytes
    assert pures[9] == b"\x00"  # Option<u64>::none
    clock = pt.Inputs[-1].value.value
    assert clock.ObjectID.to_address_str() == CLOCK_ID and clock.Mutable is False
    call = pt.Command[0].value
    assert (call.Module, call.Function) == ("marketplace", "upload_model_entry")
    assert call.Package.to_address_str() == PKG
    assert len(call.Arguments) == 11


def test_results_are_transferred_or_shared() -> None:
    complete = _pt(transaction_data(all_kinds()["complete"], sender=KP.address, gas=GAS))
    assert [c.enum_name for c in complete.Command] == ["MoveCall", "TransferObjects"]
    listing = _pt(transaction_data(all_kinds()["list"], sender=KP.address, gas=GAS))
    share = listing.Command[1].value
    assert (share.Module, share.Function) == ("transfer", "public_share_object")
    purchase = _pt(transaction_data(all_kinds()["purchase"], sender=KP.address, gas=GAS))
    assert [c.enum_name for c in purchase.Command] == ["SplitCoin", "MoveCall", "TransferObjects"]
    amount = bytes(purchase.Inputs[0].value)
    assert amount == (2_500).to_bytes(8, "little")


def test_owned_objects_carry_their_reference() -> None:
    pt = _pt(transaction_data(all_kinds()["submit"], sender=KP.address, gas=GAS))
    owned = pt.Inputs[0].value
    assert owned.enum_name == "ImmOrOwnedObject"
    assert owned.value.ObjectID.to_address_str() == PENDING.object_id
    assert owned.value.SequenceNumber == 7
    assert owned.value.ObjectDigest.to_digest_str() == PENDING.digest
    registry = pt.Inputs[1].value
    assert registry.enum_name == "SharedObject" and registry.value.Mutable is True


async def test_sui_ledger_needs_a_node_and_says_so() -> None:
    ledger = SuiLedger(network="testnet", package_id=PKG, registry=REG)
    assert ledger.network == "testnet"
    with pytest.raises(ChainError, match="No Sui node"):
        await ledger.balance(KP.address)
    with pytest.raises(ChainError, match="No Sui node"):
        await ledger.upload_model(KP, DRAFT, request_id="u")
    with pytest.raises(ConfigurationError):
        SuiLedger(network="testnet", package_id="abc", registry=REG)
    lazy = SuiLedger.from_settings(
        network="mainnet",
        rpc_url="fullnode.mainnet.sui.io:443",
        package_id=PKG,
        registry_id=REG.object_id,
        signer=KP,
    )
    with pytest.raises(ChainError, match=r"fullnode\.mainnet\.sui\.io"):
        await lazy.listings()
    with pytest.raises(ChainError, match="No Sui node"):
        await lazy.builder()
    await ledger.aclose()


async def test_sui_ledger_refuses_a_bad_signer() -> None:
    class Liar:
        address = SuiKeypair.generate().address
        public_key = KP.public_key

        def sign_transaction(self, tx_bytes: bytes) -> bytes:
            return KP.sign_transaction(tx_bytes)

    ledger = SuiLedger(network="testnet", package_id=PKG, registry=REG)
    with pytest.raises(SignatureRejected):
        await ledger.sign_checked(Liar(), BUILDER.upload_model_entry(DRAFT), GAS)
    raw, sig = await ledger.sign_checked(KP, BUILDER.upload_model_entry(DRAFT), GAS)
    assert verify_transaction_signature(raw, sig) == KP.address
