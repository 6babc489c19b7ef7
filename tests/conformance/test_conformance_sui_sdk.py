"""The live adapter's transactions, read and checked by the official TypeScript SDK.

Each transaction the pysui-based ``SuiLedger`` would send (upload, submit,
complete, list, purchase) is built offline and signed by the product; then
``@mysten/sui`` must read it (``Transaction.from``), build it back to the very
same bytes, re-serialize it with its own BCS, and recover the sender from the
97-byte signature (``verifyTransactionSignature``).
"""

from __future__ import annotations

import base64
import json

import pytest
from conformance_tools import run_node

from integrations.chain.ids import b58encode
from integrations.chain.keys import SuiKeypair
from integrations.chain.port import ModelDraft
from integrations.chain.sui_tx import (
    GasConfig,
    MarketplaceTxBuilder,
    ObjectRef,
    SharedRef,
    serialize,
    transaction_data,
)

PKG = "0x" + "ab" * 32
BUILDER = MarketplaceTxBuilder(package_id=PKG, registry=SharedRef("0x" + "cd" * 32, 12, True))
PENDING = ObjectRef("0x" + "22" * 32, 7, b58encode(b"\x01" * 32))
VERIFICATION = ObjectRef("0x" + "33" * 32, 8, b58encode(b"\x02" * 32))
GAS = GasConfig((ObjectRef("0x" + "11" * 32, 5, b58encode(bytes(range(32)))),), 1_000, 50_000_000)
DRAFT = ModelDraft(
    title="Tiny BERT",
    description="encoder",
    category="nlp",
    tags=("bert", "small"),
    model_blob_id="M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk",
    model_digest="00" * 32,
    size_bytes=10,
    file_format="safetensors",
    price_mist=1_000_000_000,
    dataset_blob_id="dataset",
    seal_metadata=b"\x01\x02\x03",
    max_downloads=5,
)


@pytest.mark.slow
def test_the_official_sdk_reads_rebuilds_and_verifies_every_transaction() -> None:
    sender, stranger = SuiKeypair.generate(), SuiKeypair.generate()
    kinds = {
        "upload": BUILDER.upload_model_entry(DRAFT),
        "submit": BUILDER.submit_for_verification(PENDING),
        "complete": BUILDER.complete_verification(
            PENDING,
            enclave_id="0x" + "44" * 32,
            quality_score=87,
            security_assessment="passed",
            attestation_hash=b"\x05" * 32,
            verifier_signature=b"\x06" * 64,
            recipient=sender.address,
        ),
        "list": BUILDER.list_on_marketplace(PENDING, VERIFICATION),
        "purchase": BUILDER.purchase_model(
            SharedRef("0x" + "55" * 32, 9, True), price_mist=2_500, buyer=sender.address
        ),
    }
    rows = []
    for name, kind in kinds.items():
        raw = serialize(transaction_data(kind, sender=sender.address, gas=GAS))
        for signer, label in ((sender, name), (stranger, f"{name}-by-a-stranger")):
            rows.append(
                {
                    "name": label,
                    "tx": base64.b64encode(raw).decode(),
                    "signature": base64.b64encode(signer.sign_transaction(raw)).decode(),
                }
            )
    seen = {row["name"]: row for row in run_node("sui_check.mjs", stdin=json.dumps(rows))}
    functions = {
        "upload": "upload_model_entry",
        "submit": "submit_for_verification",
        "complete": "complete_verification",
        "list": "list_on_marketplace",
        "purchase": "purchase_model",
    }
    for name, function in functions.items():
        row = seen[name]
        assert row["bcs_roundtrip"] and row["rebuilt_identical"], row
        assert row["sender"] == sender.address and row["signer"] == sender.address, row
        assert f"{PKG}::marketplace::{function}" in row["calls"], row
        assert row["gas_budget"] == "50000000"
        assert seen[f"{name}-by-a-stranger"]["signer"] == stranger.address != sender.address
