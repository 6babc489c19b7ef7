"""FaultyLedger: chosen queries fail as an unavailable node's would; everything else is real."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from integrations.chain.faults import QUERIES, FaultyLedger
from integrations.chain.keys import SuiKeypair
from integrations.chain.local import LocalLedger
from integrations.chain.port import Ledger
from integrations.errors import ChainError, ChainUnavailable


async def test_only_the_named_queries_fail(tmp_path: Path) -> None:
    ledger = FaultyLedger(LocalLedger(tmp_path / "l.sqlite3"), unavailable={"events"})
    assert isinstance(ledger, Ledger) and ledger.network == "local"
    kp = SuiKeypair.generate()
    assert await ledger.balance(kp.address) > 0
    assert await ledger.listings() == []
    with pytest.raises(ChainUnavailable, match="did not answer the events query") as caught:
        await ledger.events()
    assert isinstance(caught.value, ChainError) and caught.value.retryable
    assert "refresh my dashboard" in caught.value.hint
    assert ledger.refused == ["events"]
    await ledger.aclose()


@pytest.mark.parametrize("query", QUERIES)
async def test_every_query_can_be_failed(tmp_path: Path, query: str) -> None:
    ledger = FaultyLedger(LocalLedger(tmp_path / "l.sqlite3"), unavailable={query})  # type: ignore[arg-type]
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "balance": lambda: ledger.balance("0x" + "00" * 32),
        "get_object": lambda: ledger.get_object("0x" + "11" * 32),
        "owned_objects": lambda: ledger.owned_objects("0x" + "00" * 32, "PendingModel"),
        "listings": lambda: ledger.listings(),
        "events": lambda: ledger.events(),
    }
    with pytest.raises(ChainUnavailable):
        await calls[query]()
    await ledger.aclose()
