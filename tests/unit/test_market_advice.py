"""Advice from the market: price gaps, categories in demand, unsold listings, and the
price notice, over listings made, bought and declined by real journeys on the ledger."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_files import make_model_file
from flows.market.advice import DAY_MS, price_gap, recommendations
from flows.market.analysis import suggest_price
from integrations.chain.port import MIST_PER_SUI, STATUS_VERIFIED, ChainObject


@contextlib.asynccontextmanager
async def _open(home: Path, **extra: Any) -> AsyncIterator[Assistant]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=home, user="ana", chunk_size_mib=0.5, **extra
    )
    async with Assistant.open(settings) as assistant:
        yield assistant


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for seed, name in enumerate(("bert-ana", "bert-ben", "bert-cy", "bert-ana-two")):
        make_model_file(tmp_path / f"{name}.safetensors", "safetensors", size_mb=0.5, seed=seed)
    return tmp_path / "home"


async def _say(assistant: Assistant, thread: str, text: str) -> list[TextEvent]:
    return [e async for e in assistant.send(thread, text) if isinstance(e, TextEvent)]


async def _list(assistant: Assistant, user: str, file: str, price_sui: int) -> tuple[str, str]:
    """A real journey: upload, verify, list at ``price_sui``; (thread, listing id)."""
    thread = await assistant.new_thread(user)
    await _say(assistant, thread, f"upload ./{file}")
    await _say(assistant, thread, "yes")
    await _say(assistant, thread, f"make it {price_sui} SUI")
    await _say(assistant, thread, "yes")
    listing_id = str((await assistant.state(thread)).context["listing_id"])
    return thread, listing_id


async def _buy(assistant: Assistant, buyer: str, listing_id: str) -> None:
    thread = await assistant.new_thread(buyer)
    await _say(assistant, thread, f"buy {listing_id}")
    assert "purchased" in [e.kind for e in await _say(assistant, thread, "yes")]


def _advice(event: TextEvent) -> list[dict[str, Any]]:
    advice = event.data["advice"]
    assert isinstance(advice, list)
    return advice


async def _listings(assistant: Assistant) -> list[ChainObject]:
    return await assistant.services.ledger.listings()


async def test_advice_and_the_price_notice_from_real_listings(home: Path) -> None:
    async with _open(home, unsold_days=0) as assistant:
        ana_thread, ana_listing = await _list(assistant, "ana", "bert-ana.safetensors", 6)
        # one comparable is not enough to call a price far: nobody is told yet
        await _list(assistant, "ben", "bert-ben.safetensors", 2)
        # a second one is: ana's 6 SUI is far above what the two others suggest
        _, cy_listing = await _list(assistant, "cy", "bert-cy.safetensors", 2)
        listings = await _listings(assistant)
        mine = next(o for o in listings if o.object_id == ana_listing)
        others = [o for o in listings if o.object_id != ana_listing]
        expected = suggest_price(
            others,
            category="nlp",
            size_bytes=0,
            quality_score=int(str(mine.fields["quality_score"])),
        )
        percent = int(Fraction(100 * (6 * MIST_PER_SUI - expected.price_mist), expected.price_mist))
        assert percent >= 30 and expected.comparables == 2

        # ana was away: the notice waits for her next turn, in any conversation, once
        other = await assistant.new_thread("ana")
        first = (await _say(assistant, other, "check status"))[0]
        assert first.kind == "price_far"
        assert first.data["listing_id"] == ana_listing and first.data["thread_id"] == ana_thread
        assert first.data["percent"] == percent and first.data["direction"] == "above"
        assert first.data["suggested_mist"] == expected.price_mist
        assert f"is now {percent}% above" in first.text and "2 comparable listings" in first.text
        again = await _say(assistant, other, "check status")
        assert "price_far" not in [e.kind for e in again]
        # ben's 2 SUI is far below what ana's 6 and cy's 2 suggest: he is told so; cy chose
        # her price a moment ago, with the suggestion in front of her: she is not
        ben = [e for e in await _say(assistant, await assistant.new_thread("ben"), "hi")]
        ben_notes = [e for e in ben if e.kind == "price_far"]
        assert len(ben_notes) == 1 and ben_notes[0].data["direction"] == "below"
        cy = await _say(assistant, await assistant.new_thread("cy"), "hi")
        assert "price_far" not in [e.kind for e in cy]

        # a sale in nlp, and a verified model of ana's there that she did not list
        await _buy(assistant, "dan", cy_listing)
        declined = await assistant.new_thread("ana")
        await _say(assistant, declined, "upload ./bert-ana-two.safetensors")
        await _say(assistant, declined, "yes")
        said = await _say(assistant, declined, "no")
        assert "listing_declined" in [e.kind for e in said]

        reply = (await _say(assistant, other, "market analysis"))[-1]
        assert reply.kind == "market_analysis"
        advice = _advice(reply)
        kinds = [a["kind"] for a in advice]
        assert kinds == ["price_above", "demand", "unsold"], kinds
        price, demand, unsold = advice
        assert price["listing_id"] == ana_listing
        assert price["figures"] == {
            "price_mist": 6 * MIST_PER_SUI,
            "suggested_mist": expected.price_mist,
            "percent": percent,
            "comparables": 2,
        }
        # nlp: 1 sale over 3 listings, the whole market's rate; ana has one model waiting
        assert demand["category"] == "nlp"
        assert demand["figures"]["sales"] == 1 and demand["figures"]["listings"] == 3
        assert demand["figures"]["yours_listed"] == 1
        assert demand["figures"]["yours_not_listed"] == 1
        assert unsold["listing_id"] == ana_listing and unsold["figures"]["sold_comparables"] == 1
        assert unsold["figures"]["sold_median_mist"] == 2 * MIST_PER_SUI
        assert "What to do next:" in reply.text
        assert (
            f"{percent}% above" in reply.text
            and "'nlp' is in demand: 1 sale(s) over 3 listing(s), every sale" in reply.text
        )
        assert "not listed yet" in reply.text and "has had no sale in 0 day(s)" in reply.text

        board = (await _say(assistant, other, "refresh my dashboard"))[-1]
        assert board.kind == "dashboard"
        assert [a["kind"] for a in _advice(board)] == kinds
        assert "What to do next:" in board.text and f"{percent}% above" in board.text

        # the buyer and the other sellers get no advice about ana's listings
        for user in ("ben", "cy", "dan"):
            thread = await assistant.new_thread(user)
            their = (await _say(assistant, thread, "market analysis"))[-1]
            for a in _advice(their):
                assert a["listing_id"] != ana_listing


async def test_unsold_and_price_thresholds_over_ledger_listings(home: Path) -> None:
    async with _open(home) as assistant:
        await _list(assistant, "ana", "bert-ana.safetensors", 3)
        await _list(assistant, "ben", "bert-ben.safetensors", 2)
        await _list(assistant, "cy", "bert-cy.safetensors", 2)
        listings = await _listings(assistant)
        wallet = await assistant.services.wallet_for("ana")
        mine = next(o for o in listings if o.fields["creator"] == wallet.address)
        gap = price_gap(mine, listings)
        assert gap is not None and gap.comparables == 2 and gap.direction == "above"
        listed_at = mine.fields["listed_at"]
        assert isinstance(listed_at, int)

        def kinds(*, days_after: float, unsold_days: float, gap_percent: int) -> list[str]:
            found = recommendations(
                listings,
                owner=wallet.address,
                now_ms=listed_at + int(days_after * DAY_MS),
                unsold_days=unsold_days,
                gap_percent=gap_percent,
            )
            return [a.kind for a in found]

        # no sale anywhere: no category is in demand
        assert kinds(days_after=13, unsold_days=14, gap_percent=gap.percent + 1) == []
        assert kinds(days_after=15, unsold_days=14, gap_percent=gap.percent + 1) == ["unsold"]
        assert kinds(days_after=1, unsold_days=14, gap_percent=gap.percent) == ["price_above"]
        assert (
            recommendations(listings, owner=None, now_ms=listed_at, unsold_days=0, gap_percent=1)
            == ()
        )
        # verified models of the owner's that are not listed count only where buyers are
        unlisted = [
            o
            for o in await assistant.services.ledger.owned_objects(wallet.address, "PendingModel")
            if o.fields.get("status") == STATUS_VERIFIED
        ]
        assert all(
            a.kind != "demand"
            for a in recommendations(
                listings,
                owner=wallet.address,
                now_ms=listed_at,
                unsold_days=14,
                gap_percent=100,
                unlisted=unlisted,
            )
        )


def _listing(n: int, price_sui: int, quality: int = 90) -> ChainObject:
    return ChainObject(
        object_id=f"0x{n:064x}",
        type="0x1::marketplace::MarketplaceModel",
        owner="shared",
        version=1,
        fields={
            "category": "nlp",
            "price": price_sui * MIST_PER_SUI,
            "quality_score": quality,
            "creator": f"0x{n:064x}",
            "title": f"model {n}",
        },
    )


async def test_a_price_notice_is_told_once_each_time_the_price_goes_far() -> None:
    from langgraph.store.memory import InMemoryStore

    from flows.notices import check_prices, remember_author, take_inbox

    store = InMemoryStore()
    await remember_author(store, _listing(1, 1).object_id, user_id="ana", thread_id="t1", title="A")

    async def told(*listings: ChainObject, changed: tuple[str, ...] = ()) -> list[str]:
        found = await check_prices(
            store, list(listings), category="NLP", gap_percent=30, changed=changed
        )
        return [str(n["data"]["direction"]) for n in found]

    assert await told(_listing(1, 2), _listing(2, 2), _listing(3, 2)) == []  # at the market
    assert await told(_listing(1, 2), _listing(2, 4), _listing(3, 4)) == ["below"]
    assert await told(_listing(1, 2), _listing(2, 4), _listing(3, 5)) == []  # still below: once
    assert await told(_listing(1, 2), _listing(2, 2), _listing(3, 2)) == []  # back: cleared
    assert await told(_listing(1, 2), _listing(2, 1), _listing(3, 1)) == ["above"]
    assert await told(_listing(1, 2), _listing(2, 2), _listing(3, 2)) == []  # back again
    # the author who just set this price is not told about it, and it is not told later
    ana = _listing(1, 9)
    assert await told(ana, _listing(2, 2), _listing(3, 2), changed=(ana.object_id,)) == []
    assert await told(ana, _listing(2, 2), _listing(3, 2)) == []
    # listings nobody here made are nobody's to tell
    assert await told(_listing(2, 9), _listing(3, 1), _listing(4, 1)) == []
    assert [n["kind"] for n in await take_inbox(store, "ana")] == ["price_far", "price_far"]
