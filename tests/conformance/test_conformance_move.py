"""The embedded ledger and the enclave against the real Move code, in the real Move VM.

One scenario (upload, submit, complete, list, purchase with an overpayment) runs
on the embedded ledger; then a Move test scenario (``sui::test_scenario``) runs
Satya's own ``satya::marketplace`` with the same senders, clock, arguments and
enclave-signature bytes, and asserts that every event and object has exactly the
BCS bytes of the ledger's (object ids spliced in) and that the creator and the
``@satya`` address (0x0) hold exactly the coins the ledger credited them.

The enclave's signed results (the product's schema and Satya's) are checked with
Nautilus's own ``enclave::verify_signature`` on a Move mirror of each schema.

The Move packages are copies of ``../shared/reference/move`` with a test-only
constructor appended (``init`` / an ``Enclave`` holding a given key), compiled and
run by the real Sui Move compiler and test runner (``move.mjs test``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conformance_tools import move_test, reference_dir
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from move_gen import Expected, literal, struct_defs

import integrations.chain.local_rules as rules
from integrations.chain.keys import SuiKeypair
from integrations.chain.local import LocalLedger
from integrations.chain.local_rules import PLATFORM_ADDRESS
from integrations.chain.port import MIST_PER_SUI, ChainEvent, ChainObject, ModelDraft
from integrations.chain.testing import ManualClock, debug_enclave_info, signed_quality_result
from integrations.tee.port import SignedResult
from integrations.tee.schemas import PRODUCT, SATYA, ResultSchema

T0 = 1_744_041_600_000
GAS = 1_000_000
PRICE = 2 * MIST_PER_SUI
PAYMENT = (
    PRICE + 123_456
)  # an overpayment: the contract gives all of it (less the fee) to the seller
DRAFT = ModelDraft(
    title="Conformance model",
    description="checked against satya::marketplace",
    category="computer-vision",
    tags=("vision", "onnx"),
    model_blob_id="M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk",
    model_digest="5e" * 32,
    size_bytes=4096,
    file_format="onnx",
    price_mist=PRICE,
    dataset_blob_id="dataset-blob",
    encryption_policy_id="policy-1",
    seal_metadata=b"\x01\x02\x03",
    max_downloads=10,
)
ADMIN = "0x" + "ad" * 32
CHECKS = [
    "ModelUploaded event",
    "PendingModel after listing",
    "submit emits no event",
    "VerificationSubmitted event",
    "VerificationResult",
    "ModelListed event",
    "MarketplaceModel after the sale",
    "ModelPurchased event",
    "PurchaseRecord",
    "coin paid to the creator",
    "coin paid to @satya (0x0)",
    "one event per step",
]


def _code(name: str) -> int:
    return 1000 + CHECKS.index(name)


@dataclass
class LedgerRun:
    """What the embedded ledger did, to be reproduced in Move."""

    creator: str
    buyer: str
    times: dict[str, int]
    verification: ChainObject
    pending: ChainObject
    listing: ChainObject
    record: ChainObject
    events: dict[str, dict[str, object]]
    creator_gain: int
    platform_gain: int
    buyer_spent: int


async def _run_ledger(tmp: Path) -> LedgerRun:
    clock = ManualClock(T0)
    ledger = LocalLedger(tmp / "ledger.sqlite3", clock_ms=clock, gas_mist=GAS)
    creator, buyer, operator = SuiKeypair.generate(), SuiKeypair.generate(), SuiKeypair.generate()
    key = Ed25519PrivateKey.generate()
    reg = await ledger.register_enclave(operator, debug_enclave_info(key), request_id="e")
    times = {"upload": T0 + 1_000, "submit": T0 + 2_000, "complete": T0 + 3_000}
    times |= {"list": T0 + 4_000, "purchase": T0 + 5_000}
    events: dict[str, dict[str, object]] = {}

    def only_event(receipt_events: tuple[ChainEvent, ...], step: str) -> None:
        marketplace = [e for e in receipt_events if "::marketplace::" in e.type]
        assert len(marketplace) <= 1, step
        for e in marketplace:
            events[e.type.rsplit("::", 1)[1]] = dict(e.fields)

    clock.now_ms = times["upload"]
    up = await ledger.upload_model(creator, DRAFT, request_id="up")
    only_event(up.events, "upload")
    pid = up.created[0]
    clock.now_ms = times["submit"]
    sub = await ledger.submit_for_verification(creator, pid, request_id="sub")
    assert not sub.events, "the contract emits nothing at submit"
    clock.now_ms = times["complete"]
    result = signed_quality_result(
        key,
        model_hash=DRAFT.model_digest,
        quality_score=88,
        timestamp_ms=clock(),
        enclave_id=reg.created[0],
    )
    cv = await ledger.complete_verification(creator, pid, result, request_id="cv")
    only_event(cv.events, "complete")
    clock.now_ms = times["list"]
    lst = await ledger.list_on_marketplace(creator, pid, cv.created[0], request_id="list")
    only_event(lst.events, "list")
    clock.now_ms = times["purchase"]
    before = {a: await ledger.balance(a) for a in (creator.address, buyer.address)}
    before[PLATFORM_ADDRESS] = await ledger.balance(PLATFORM_ADDRESS)
    buy = await ledger.purchase(buyer, lst.created[0], payment_mist=PAYMENT, request_id="buy")
    only_event(buy.events, "purchase")
    run = LedgerRun(
        creator=creator.address,
        buyer=buyer.address,
        times=times,
        verification=await ledger.get_object(cv.created[0]),
        pending=await ledger.get_object(pid),
        listing=await ledger.get_object(lst.created[0]),
        record=await ledger.get_object(buy.created[0]),
        events=events,
        creator_gain=await ledger.balance(creator.address) - before[creator.address],
        platform_gain=await ledger.balance(PLATFORM_ADDRESS) - before[PLATFORM_ADDRESS],
        buyer_spent=before[buyer.address] - await ledger.balance(buyer.address),
    )
    await ledger.aclose()
    return run


def _bytes(value: object) -> bytes:
    """A ledger ``vector<u8>`` field (a list of ints) as bytes."""
    assert isinstance(value, list)
    return bytes(int(b) for b in value)


OPT_STR = ("option", "string")
OPT_U64 = ("option", "u64")
STRINGS = ("vector", "string")


def _scenario(run: LedgerRun) -> str:
    """The Move scenario asserting the ledger's bytes, coins and events."""
    p, v, lst, rec, ev = (
        run.pending.fields,
        run.verification.fields,
        run.listing.fields,
        run.record.fields,
        run.events,
    )
    up = ev["ModelUploaded"]
    e_up = Expected("e_up").id("pending_id").address(str(up["creator"]))
    e_up.value(up["title"], "string").value(up["blob_id"], "string").value(up["status"], "u8")
    e_pm = Expected("e_pm").id("pending_id").address(str(p["creator"]))
    for name in ("title", "description", "category"):
        e_pm.value(p[name], "string")
    e_pm.value(p["tags"], STRINGS).value(p["model_blob_id"], "string")
    e_pm.value(p["dataset_blob_id"], OPT_STR).value(p["encryption_policy_id"], "string")
    e_pm.value(_bytes(p["seal_metadata"]), "bytes").value(p["price"], "u64")
    e_pm.value(p["max_downloads"], OPT_U64).value(p["status"], "u8")
    for name in ("created_at", "updated_at", "verification_attempts"):
        e_pm.value(p[name], "u64")
    vs = ev["VerificationSubmitted"]
    e_vs = Expected("e_vs").id("pending_id").id("verification_id")
    e_vs.value(vs["quality_score"], "u64").value(vs["verified"], "bool")
    attestation = bytes.fromhex(str(v["attestation_hash"]))
    signature = bytes.fromhex(str(v["verifier_signature"]))
    e_vr = Expected("e_vr").id("verification_id").id("pending_id")
    e_vr.value(v["enclave_id"], "string").value(v["quality_score"], "u64")
    e_vr.value(v["security_assessment"], "string").value(attestation, "bytes")
    e_vr.value(v["verified_at"], "u64").value(signature, "bytes")
    ml = ev["ModelListed"]
    e_ml = Expected("e_ml").id("pending_id").id("listing_id").address(str(ml["creator"]))
    e_ml.value(ml["price"], "u64").value(ml["verified"], "bool")
    e_mm = Expected("e_mm").id("listing_id").id("pending_id").id("verification_id")
    e_mm.address(str(lst["creator"]))
    for name in ("title", "description", "category"):
        e_mm.value(lst[name], "string")
    e_mm.value(lst["tags"], STRINGS).value(lst["model_blob_id"], "string")
    e_mm.value(lst["dataset_blob_id"], OPT_STR).value(lst["quality_score"], "u64")
    e_mm.value(lst["tee_verified"], "bool").value(lst["price"], "u64")
    e_mm.value(lst["max_downloads"], OPT_U64).value(lst["current_downloads"], "u64")
    e_mm.value(lst["total_earnings"], "u64").value(lst["listed_at"], "u64")
    e_mm.value(lst["last_purchased_at"], OPT_U64).value(lst["featured"], "bool")
    mp = ev["ModelPurchased"]
    e_mp = Expected("e_mp").id("purchase_id").address(str(mp["buyer"])).id("listing_id")
    e_mp.value(mp["amount"], "u64").value(mp["access_granted"], "bool")
    e_pr = Expected("e_pr").id("purchase_id").address(str(rec["buyer"])).id("listing_id")
    e_pr.address(str(rec["seller"])).value(rec["amount_paid"], "u64")
    e_pr.value(rec["platform_fee"], "u64").value(rec["purchased_at"], "u64")
    e_pr.value(rec["expires_at"], OPT_U64).value(rec["access_granted"], "bool")
    e_pr.value(rec["download_count"], "u64").value(_bytes(rec["access_key"]), "bytes")

    def s(text: object) -> str:
        return literal(text, "string", "")

    tags = literal(list(DRAFT.tags), STRINGS, "")
    ds = literal(DRAFT.dataset_blob_id, OPT_STR, "")
    t = run.times
    return f"""#[test_only]
module satya::conformance_tests {{
    use sui::test_scenario as ts;
    use sui::clock;
    use sui::coin::{{Self, Coin}};
    use sui::sui::SUI;
    use sui::event;
    use std::bcs;
    use satya::marketplace::{{Self as m, MarketplaceRegistry, PendingModel, VerificationResult,
        MarketplaceModel, PurchaseRecord, ModelUploaded, VerificationSubmitted, ModelListed,
        ModelPurchased}};

    #[test]
    fun the_embedded_ledger_scenario() {{
        let creator = @{run.creator};
        let buyer = @{run.buyer};
        let mut sc = ts::begin(@{ADMIN});
        m::init_for_testing(sc.ctx());
        let mut clk = clock::create_for_testing(sc.ctx());

        sc.next_tx(creator);
        clk.set_for_testing({t["upload"]});
        m::upload_model_entry({s(DRAFT.title)}, {s(DRAFT.description)}, {s(DRAFT.category)},
            {tags}, {s(DRAFT.model_blob_id)}, {ds}, {s(DRAFT.encryption_policy_id)},
            x"{DRAFT.seal_metadata.hex()}", {DRAFT.price_mist}, std::option::some({DRAFT.max_downloads}u64),
            &clk, sc.ctx());
        let uploaded = event::events_by_type<ModelUploaded>();
        assert!(event::num_events() == 1, {_code("one event per step")});

        sc.next_tx(creator);
        clk.set_for_testing({t["submit"]});
        let mut pm = sc.take_from_sender<PendingModel>();
        let pending_id = object::id(&pm);
        let mut reg = sc.take_shared<MarketplaceRegistry>();
        m::submit_for_verification(&mut pm, &mut reg, &clk, sc.ctx());
        assert!(event::num_events() == 0, {_code("submit emits no event")});
        sc.return_to_sender(pm);
        ts::return_shared(reg);

        sc.next_tx(creator);
        clk.set_for_testing({t["complete"]});
        let mut pm = sc.take_from_sender<PendingModel>();
        let mut reg = sc.take_shared<MarketplaceRegistry>();
        let vr = m::complete_verification(&mut pm, &mut reg, {s(v["enclave_id"])}, {v["quality_score"]},
            {s(v["security_assessment"])}, x"{attestation.hex()}", x"{signature.hex()}", &clk, sc.ctx());
        let verification_id = object::id(&vr);
        let submitted = event::events_by_type<VerificationSubmitted>();
        assert!(event::num_events() == 1, {_code("one event per step")});
        transfer::public_transfer(vr, creator);
        sc.return_to_sender(pm);
        ts::return_shared(reg);

        sc.next_tx(creator);
        clk.set_for_testing({t["list"]});
        let pm = sc.take_from_sender<PendingModel>();
        let vr = sc.take_from_sender<VerificationResult>();
        let mut reg = sc.take_shared<MarketplaceRegistry>();
        let mm = m::list_on_marketplace(pm, vr, &mut reg, &clk, sc.ctx());
        let listing_id = object::id(&mm);
        let listed = event::events_by_type<ModelListed>();
        assert!(event::num_events() == 1, {_code("one event per step")});
        transfer::public_share_object(mm);
        ts::return_shared(reg);

        sc.next_tx(buyer);
        clk.set_for_testing({t["purchase"]});
        let mut mm = sc.take_shared<MarketplaceModel>();
        let mut reg = sc.take_shared<MarketplaceRegistry>();
        let payment = coin::mint_for_testing<SUI>({run.buyer_spent - GAS}, sc.ctx());
        let record = m::purchase_model(&mut mm, &mut reg, payment, &clk, sc.ctx());
        let purchase_id = object::id(&record);
        let purchased = event::events_by_type<ModelPurchased>();
        assert!(event::num_events() == 1, {_code("one event per step")});
        transfer::public_transfer(record, buyer);
        ts::return_shared(mm);
        ts::return_shared(reg);

        sc.next_tx(@{ADMIN});
        {e_up.move()}
        assert!(bcs::to_bytes(&uploaded[0]) == e_up, {_code("ModelUploaded event")});
        {e_vs.move()}
        assert!(bcs::to_bytes(&submitted[0]) == e_vs, {_code("VerificationSubmitted event")});
        {e_ml.move()}
        assert!(bcs::to_bytes(&listed[0]) == e_ml, {_code("ModelListed event")});
        {e_mp.move()}
        assert!(bcs::to_bytes(&purchased[0]) == e_mp, {_code("ModelPurchased event")});

        let pm = ts::take_from_address<PendingModel>(&sc, creator);
        {e_pm.move()}
        assert!(bcs::to_bytes(&pm) == e_pm, {_code("PendingModel after listing")});
        ts::return_to_address(creator, pm);
        let vr = ts::take_from_address<VerificationResult>(&sc, creator);
        {e_vr.move()}
        assert!(bcs::to_bytes(&vr) == e_vr, {_code("VerificationResult")});
        ts::return_to_address(creator, vr);
        let mm = sc.take_shared<MarketplaceModel>();
        {e_mm.move()}
        assert!(bcs::to_bytes(&mm) == e_mm, {_code("MarketplaceModel after the sale")});
        ts::return_shared(mm);
        let pr = ts::take_from_address<PurchaseRecord>(&sc, buyer);
        {e_pr.move()}
        assert!(bcs::to_bytes(&pr) == e_pr, {_code("PurchaseRecord")});
        ts::return_to_address(buyer, pr);

        let paid = ts::take_from_address<Coin<SUI>>(&sc, creator);
        assert!(paid.value() == {run.creator_gain}, {_code("coin paid to the creator")});
        ts::return_to_address(creator, paid);
        let fee = ts::take_from_address<Coin<SUI>>(&sc, @satya);
        assert!(fee.value() == {run.platform_gain}, {_code("coin paid to @satya (0x0)")});
        ts::return_to_address(@satya, fee);

        clock::destroy_for_testing(clk);
        sc.end();
    }}
}}
"""


def _nautilus_test(results: list[tuple[str, ResultSchema, SignedResult]]) -> str:
    """Move mirrors of both schemas and ``verify_signature`` on the enclave's results."""
    structs, tests = [], []
    for i, (label, schema, signed) in enumerate(results):
        prefix = f"S{i}"
        structs.append(struct_defs(schema.bcs, prefix, prefix + "Response"))
        payload = literal(signed.data, schema.bcs, prefix, "response")
        changed = dict(signed.data)
        changed["quality_score"] = int(str(signed.data["quality_score"])) + 1
        bad_payload = literal(changed, schema.bcs, prefix, "response")
        tests.append(f"""
    #[test]
    fun {label}_verifies() {{
        let mut ctx = tx_context::dummy();
        let e = enclave::new_for_testing<Conformance>(x"{signed.public_key}", &mut ctx);
        assert!(enclave::verify_signature(&e, {signed.intent}, {signed.timestamp_ms}, {payload},
            &x"{signed.signature}"), {2000 + i});
        assert!(!enclave::verify_signature(&e, {signed.intent}, {signed.timestamp_ms}, {bad_payload},
            &x"{signed.signature}"), {2100 + i});
        assert!(!enclave::verify_signature(&e, {signed.intent}, {signed.timestamp_ms + 1}, {payload},
            &x"{signed.signature}"), {2200 + i});
        enclave::destroy(e);
    }}""")
    return f"""#[test_only]
module enclave::conformance_tests {{
    use std::string::String;
    use enclave::enclave;

    public struct Conformance has drop {{}}
{chr(10).join(structs)}
{"".join(tests)}
}}
"""


def _copy_satya(dst: Path) -> Path:
    pkg = dst / "satya"
    shutil.copytree(reference_dir() / "move" / "satya-contracts", pkg)
    module = pkg / "sources" / "satya_marketplace.move"
    text = module.read_text().rstrip()
    assert text.endswith("}")
    text = text[:-1] + (
        "\n    #[test_only]\n    public fun init_for_testing(ctx: &mut TxContext) { init(ctx) }\n}\n"
    )
    module.write_text(text)
    (pkg / "tests").mkdir(exist_ok=True)
    return pkg


def _copy_enclave(dst: Path) -> Path:
    pkg = dst / "enclave"
    shutil.copytree(reference_dir() / "move" / "nautilus-enclave", pkg)
    module = pkg / "sources" / "enclave.move"
    module.write_text(
        module.read_text()
        + "\n#[test_only]\npublic fun new_for_testing<T>(pk: vector<u8>, ctx: &mut TxContext)"
        ": Enclave<T> {\n    Enclave { id: object::new(ctx), pk, config_version: 0, owner: ctx.sender() }\n}\n"
    )
    (pkg / "tests").mkdir(exist_ok=True)
    return pkg


def _failed_checks(output: str) -> list[str]:
    """The scenario's checks named by the abort codes in the runner's output."""
    codes = {str(_code(name)): name for name in CHECKS}
    found = re.findall(r"aborted with code (\d+)", output)
    return list(dict.fromkeys(codes[c] for c in found if c in codes))


@pytest.fixture(scope="module")
def move_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("move")


def _run_satya(pkg: Path, run: LedgerRun) -> tuple[bool, str]:
    (pkg / "tests" / "conformance.move").write_text(_scenario(run))
    return move_test(pkg)


@pytest.mark.slow
async def test_satyas_contract_reproduces_the_embedded_ledger(tmp_path: Path) -> None:
    run = await _run_ledger(tmp_path)
    passed, output = _run_satya(_copy_satya(tmp_path), run)
    assert passed, f"differs from the contract: {_failed_checks(output)}\n{output}"
    assert "PASS" in output and "the_embedded_ledger_scenario" in output


@pytest.mark.slow
async def test_a_changed_fee_in_the_ledger_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "platform_fee", lambda price, bps=250: price * (bps + 1) // 10_000)
    run = await _run_ledger(tmp_path)
    passed, output = _run_satya(_copy_satya(tmp_path), run)
    assert not passed
    assert _failed_checks(output) == ["MarketplaceModel after the sale"], output


@pytest.mark.slow
async def test_nautilus_verify_signature_accepts_the_enclaves_results(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    results = [
        (
            label,
            schema,
            signed_quality_result(
                key, model_hash="5e" * 32, quality_score=88, timestamp_ms=T0, schema=schema
            ),
        )
        for label, schema in (("product_schema", PRODUCT), ("satya_schema", SATYA))
    ]
    pkg = _copy_enclave(tmp_path)
    (pkg / "tests" / "conformance.move").write_text(_nautilus_test(results))
    passed, output = move_test(pkg)
    assert passed, output
    assert "product_schema_verifies" in output and "satya_schema_verifies" in output
