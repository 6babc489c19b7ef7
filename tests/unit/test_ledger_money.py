"""Property: no MIST is created or lost, whatever purchases happen (and fail, and repeat)."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.chain.keys import SuiKeypair
from integrations.chain.local import LocalLedger
from integrations.chain.port import ModelDraft
from integrations.chain.testing import ManualClock, debug_enclave_info, signed_quality_result
from integrations.errors import ChainError

DIGEST = hashlib.sha256(b"m").hexdigest()
SELLERS = [SuiKeypair.generate() for _ in range(2)]
BUYERS = [SuiKeypair.generate() for _ in range(3)]
ENCLAVE = Ed25519PrivateKey.generate()

purchase = st.tuples(
    st.integers(0, len(BUYERS) - 1),  # buyer
    st.integers(0, 3),  # listing
    st.integers(0, 2_000),  # extra payment above the price
    st.integers(0, 5),  # request id (small range: repeats happen)
)


async def _scenario(
    path: Path, prices: list[int], faucet: int, gas: int, buys: list[tuple[int, int, int, int]]
) -> None:
    clock = ManualClock(1_744_041_600_000)
    ledger = LocalLedger(path, faucet_mist=faucet, gas_mist=gas, clock_ms=clock)
    op = SuiKeypair.generate()
    await ledger.fund(op.address, gas)
    await ledger.register_enclave(op, debug_enclave_info(ENCLAVE), request_id="boot")
    listings = []
    for i, price in enumerate(prices):
        seller = SELLERS[i % 2]
        await ledger.fund(seller.address, 4 * gas)
        draft = ModelDraft("m", "d", "nlp", (), "b", DIGEST, 1, "onnx", price)
        pid = (await ledger.upload_model(seller, draft, request_id=f"u{i}")).created[0]
        await ledger.submit_for_verification(seller, pid, request_id=f"s{i}")
        result = signed_quality_result(
            ENCLAVE, model_hash=DIGEST, quality_score=70, timestamp_ms=clock()
        )
        vid = (await ledger.complete_verification(seller, pid, result, request_id=f"c{i}")).created[
            0
        ]
        listings.append(
            (await ledger.list_on_marketplace(seller, pid, vid, request_id=f"l{i}")).created[0]
        )
    expected_fees = 0
    for buyer_i, listing_i, extra, rid in buys:
        index = listing_i % len(listings)
        try:
            receipt = await ledger.purchase(
                BUYERS[buyer_i],
                listings[index],
                payment_mist=prices[index] + extra,
                request_id=f"buy-{rid}",
            )
        except ChainError:
            pass
        else:
            if not receipt.replayed:
                expected_fees += prices[index] * 250 // 10_000
        stats = await ledger.platform_stats()
        supply = stats.circulating_mist + stats.platform_fees_mist + stats.gas_burnt_mist
        assert stats.minted_mist == supply
        assert stats.platform_fees_mist == expected_fees
    await ledger.aclose()


@settings(max_examples=25, deadline=None)
@given(
    prices=st.lists(st.integers(0, 10**12), min_size=1, max_size=4),
    faucet=st.sampled_from([0, 10**6, 10**9, 10**13]),
    gas=st.sampled_from([0, 1, 1_000_000]),
    buys=st.lists(purchase, max_size=12),
)
def test_money_is_conserved(
    prices: list[int], faucet: int, gas: int, buys: list[tuple[int, int, int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_scenario(Path(tmp) / "l.sqlite3", prices, faucet, gas, buys))
