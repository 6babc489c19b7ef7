"""The pysui-backed Sui node: what runs offline.

No Sui node can run here, so these tests cover the parts that need none:
construction against unreachable endpoints (a refused port and a listener that
never answers, both on loopback), the key-free pysui configuration, the wiring
that selects the live ledger, and the mapping of real pysui protobuf messages
to the port's types.
"""

from __future__ import annotations

import json
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pysui.sui.sui_grpc.suimsgs.google.protobuf as pb
import pysui.sui.sui_grpc.suimsgs.sui.rpc.v2 as sui_prot
import pytest
from pysui.sui.sui_grpc import pgrpc_requests as rq

from agent.settings import Settings
from agent.wiring import build_ledger
from integrations.chain.keys import SuiKeypair, verify_transaction_signature
from integrations.chain.port import ModelDraft
from integrations.chain.sui_node import (
    PysuiNode,
    object_from_proto,
    pick_gas,
    receipt_from_proto,
    shared_from_proto,
    write_pysui_config,
)
from integrations.chain.sui_tx import (
    GasConfig,
    MarketplaceTxBuilder,
    ObjectRef,
    SharedRef,
    deserialize,
    serialize,
    transaction_data,
)
from integrations.errors import ChainError, ChainUnavailable, ConfigurationError, InsufficientFunds

PKG = "0x" + "ab" * 32
ADDR = "0x" + "12" * 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback listener that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


async def test_refused_endpoint_fails_fast_with_what_to_set(tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(ChainUnavailable) as caught:
        await PysuiNode.connect(url=url, network="testnet", config_dir=tmp_path, timeout_s=2)
    assert time.monotonic() - started < 2
    assert "could not be reached" in str(caught.value)
    assert "connection refused" in str(caught.value)
    assert url in str(caught.value)
    assert "SATYA_SUI_RPC_URL" in caught.value.hint
    assert "SATYA_CHAIN_BACKEND" in caught.value.hint


async def test_silent_endpoint_times_out_instead_of_hanging(
    tmp_path: Path, silent_port: int
) -> None:
    started = time.monotonic()
    with pytest.raises(ChainUnavailable, match="no answer in time"):
        await PysuiNode.connect(
            url=f"https://127.0.0.1:{silent_port}",
            network="testnet",
            config_dir=tmp_path,
            timeout_s=0.3,
        )
    assert time.monotonic() - started < 3


async def test_unusable_url_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a gRPC endpoint"):
        await PysuiNode.connect(url="not a url", network="testnet", config_dir=tmp_path)


def test_pysui_configuration_is_private_and_key_free(tmp_path: Path) -> None:
    config = write_pysui_config(
        tmp_path / "sui", url="fullnode.testnet.sui.io:443", network="testnet"
    )
    assert config.url == "fullnode.testnet.sui.io:443"
    path = tmp_path / "sui" / "PysuiConfig.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    groups = json.loads(path.read_text())["groups"]
    assert [g["group_name"] for g in groups] == ["satya"]
    assert groups[0]["key_list"] == [] and groups[0]["address_list"] == []
    # Written again (a second start), it is replaced, not refused.
    write_pysui_config(tmp_path / "sui", url="fullnode.mainnet.sui.io:443", network="mainnet")
    assert "mainnet" in path.read_text()


async def test_wiring_selects_the_live_ledger_and_reports_an_unreachable_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = SuiKeypair.generate().to_bech32()
    monkeypatch.setenv("SUI_PRIVATE_KEY", key)
    settings = Settings(
        home=tmp_path,
        chain_backend="sui",
        sui_rpc_url=f"https://127.0.0.1:{_free_port()}",
        sui_package_id=PKG,
        sui_registry_id="0x" + "cd" * 32,
    )
    with pytest.raises(ChainUnavailable) as caught:
        await build_ledger(settings)
    assert key not in str(caught.value) and key not in caught.value.hint
    missing = Settings(home=tmp_path, chain_backend="sui")
    with pytest.raises(ConfigurationError, match="SATYA_SUI_PACKAGE_ID"):
        await build_ledger(missing)


def _json(value: object) -> pb.Value:
    if isinstance(value, dict):
        return pb.Value(struct_value=pb.Struct(fields={k: _json(v) for k, v in value.items()}))
    if isinstance(value, list):
        return pb.Value(list_value=pb.ListValue(values=[_json(v) for v in value]))
    if isinstance(value, bool):
        return pb.Value(bool_value=value)
    if isinstance(value, int | float):
        return pb.Value(number_value=float(value))
    return pb.Value(string_value=str(value))


def test_objects_map_to_the_sui_shape() -> None:
    obj = sui_prot.Object(
        object_id="0x" + "22" * 32,
        version=7,
        digest="4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi",
        owner=sui_prot.Owner(kind=sui_prot.OwnerOwnerKind.ADDRESS, address=ADDR),
        object_type=f"{PKG}::marketplace::PendingModel",
        json=_json({"title": "Tiny BERT", "price": "1000000000", "status": 0, "tags": ["nlp"]}),
    )
    chain = object_from_proto(obj)
    raw = chain.as_sui_json()
    assert raw["objectId"] == "0x" + "22" * 32 and raw["owner"] == ADDR
    assert raw["content"] == {
        "dataType": "moveObject",
        "type": f"{PKG}::marketplace::PendingModel",
        "fields": {"title": "Tiny BERT", "price": "1000000000", "status": 0.0, "tags": ["nlp"]},
    }
    shared = sui_prot.Object(
        object_id="0x" + "44" * 32,
        owner=sui_prot.Owner(kind=sui_prot.OwnerOwnerKind.SHARED, version=40),
    )
    assert shared_from_proto(shared, mutable=True) == SharedRef("0x" + "44" * 32, 40, True)
    assert object_from_proto(shared).owner == "shared"
    with pytest.raises(ChainError, match="not shared"):
        shared_from_proto(obj, mutable=True)


def _coin(n: int, balance: int) -> sui_prot.Object:
    return sui_prot.Object(
        object_id=f"0x{n:064x}",
        version=n,
        digest="4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi",
        balance=balance,
    )


def test_gas_takes_the_fewest_largest_coins() -> None:
    gas = pick_gas([_coin(1, 10), _coin(2, 700), _coin(3, 400)], budget=1_000, price=750)
    assert [c.version for c in gas.payment] == [2, 3]
    assert (gas.price, gas.budget) == (750, 1_000)
    with pytest.raises(InsufficientFunds, match="1110 MIST"):
        pick_gas([_coin(1, 10), _coin(2, 700), _coin(3, 400)], budget=5_000, price=750)


def _executed(success: bool) -> sui_prot.ExecutedTransaction:
    created = [
        sui_prot.ChangedObject(
            object_id="0x" + "aa" * 32,
            id_operation=sui_prot.ChangedObjectIdOperation.CREATED,
            object_type="0x2::coin::Coin<0x2::sui::SUI>",
        ),
        sui_prot.ChangedObject(
            object_id="0x" + "bb" * 32,
            id_operation=sui_prot.ChangedObjectIdOperation.CREATED,
            object_type=f"{PKG}::marketplace::PurchaseRecord",
        ),
        sui_prot.ChangedObject(
            object_id="0x" + "cc" * 32, id_operation=sui_prot.ChangedObjectIdOperation.NONE
        ),
    ]
    status = sui_prot.ExecutionStatus(
        success=success,
        error=None if success else sui_prot.ExecutionError(description="MoveAbort code 3"),
    )
    return sui_prot.ExecutedTransaction(
        digest="9fJ3",
        effects=sui_prot.TransactionEffects(
            status=status,
            changed_objects=created,
            gas_used=sui_prot.GasCostSummary(
                computation_cost=1_000, storage_cost=3_000, storage_rebate=500
            ),
        ),
        events=sui_prot.TransactionEvents(
            events=[
                sui_prot.Event(
                    event_type=f"{PKG}::marketplace::ModelPurchased",
                    json=_json({"amount": "1000"}),
                )
            ]
        ),
    )


def test_receipts_put_the_marketplace_object_first_and_account_gas() -> None:
    receipt = receipt_from_proto(_executed(True))
    assert receipt.digest == "9fJ3"
    assert receipt.created == ("0x" + "bb" * 32, "0x" + "aa" * 32)
    assert receipt.gas_used_mist == 3_500
    assert [e.type.rsplit("::", 1)[1] for e in receipt.events] == ["ModelPurchased"]
    assert receipt.events[0].fields == {"amount": "1000"}
    with pytest.raises(ChainError, match="MoveAbort code 3"):
        receipt_from_proto(_executed(False))


def test_every_marketplace_transaction_goes_out_signed_and_intact() -> None:
    """The execute request pysui would send carries our exact bytes and a valid signature."""
    kp = SuiKeypair.generate()
    coin = ObjectRef("0x" + "11" * 32, 5, "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi")
    pending = ObjectRef("0x" + "22" * 32, 7, "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi")
    builder = MarketplaceTxBuilder(package_id=PKG, registry=SharedRef("0x" + "cd" * 32, 12, True))
    draft = ModelDraft("t", "d", "nlp", ("a",), "blob", "00" * 32, 1, "onnx", 5)
    kinds = [
        builder.upload_model_entry(draft),
        builder.submit_for_verification(pending),
        builder.complete_verification(
            pending,
            enclave_id="e",
            quality_score=80,
            security_assessment="clean",
            attestation_hash=b"\x01" * 32,
            verifier_signature=b"\x02" * 64,
            recipient=kp.address,
        ),
        builder.list_on_marketplace(pending, pending),
        builder.purchase_model(
            SharedRef("0x" + "44" * 32, 9, True), price_mist=5, buyer=kp.address
        ),
    ]
    for kind in kinds:
        tx_bytes = serialize(
            transaction_data(kind, sender=kp.address, gas=GasConfig((coin,), 1, 9))
        )
        signature = kp.sign_transaction(tx_bytes)
        request = rq.ExecuteTransaction(tx_bytestr=tx_bytes, sig_array=[signature])
        sent = bytes(request.transaction.bcs.value)
        assert serialize(deserialize(sent)) == tx_bytes
        assert (
            verify_transaction_signature(sent, bytes(request.signatures[0].bcs.value)) == kp.address
        )
