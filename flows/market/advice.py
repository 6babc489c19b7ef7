"""Advice from the market's figures: what an author could do next, each with its numbers.

Three kinds, from the listings on the ledger (``MarketplaceModel`` objects with
``price``, ``quality_score``, ``category``, ``creator``, ``current_downloads`` and
``listed_at``) and, optionally, the author's verified models not listed yet:

- ``price_above`` / ``price_below``: one of the author's listings is priced at least
  ``gap_percent`` away from what comparable listings suggest (the same category, at
  least ``MIN_COMPARABLES`` others, weighted towards similar quality as ``suggest_price``
  does);
- ``demand``: a category whose listings sell more per listing than the market as a
  whole, where the author has listings or verified models not listed;
- ``unsold``: one of the author's listings with no sale ``unsold_days`` after it was
  listed.

Amounts are integer MIST; percentages are whole numbers, rounded towards zero.

Example::

    listings = await ledger.listings()
    for advice in recommendations(listings, owner=wallet.address, now_ms=now_ms,
                                  unsold_days=14, gap_percent=30):
        print(advice.kind, advice.text)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from flows.market.analysis import _category, _int, _median, _sui, suggest_price
from integrations.chain.port import ChainObject

MIN_COMPARABLES = 2  # a price gap needs at least this many other listings in the category
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class PriceGap:
    """How far a listing's price is from what its comparable listings suggest."""

    listing_id: str
    title: str
    category: str
    price_mist: int
    suggested_mist: int
    low_mist: int
    high_mist: int
    comparables: int
    percent: int  # (price - suggested) / suggested, in whole percent; negative: below

    @property
    def direction(self) -> str:
        return "above" if self.percent > 0 else "below"


@dataclass(frozen=True, slots=True)
class Advice:
    """One recommendation: its kind, one sentence with its numbers, and the numbers."""

    kind: str  # price_above, price_below, demand, unsold
    text: str
    category: str
    listing_id: str = ""
    figures: dict[str, int | str] = field(default_factory=dict)


def category_of(obj: ChainObject) -> str:
    """A listing's category as advice compares it (trimmed, lower case)."""
    return _category(obj)


def _creator(obj: ChainObject) -> str:
    return str(obj.fields.get("creator", "")).lower()


def _sales(obj: ChainObject) -> int:
    return int(str(obj.fields.get("current_downloads") or 0))


def _title(obj: ChainObject) -> str:
    return str(obj.fields.get("title") or obj.object_id)


def price_gap(listing: ChainObject, listings: Sequence[ChainObject]) -> PriceGap | None:
    """``listing``'s price against the other listings of its category (None with fewer
    than ``MIN_COMPARABLES`` of them).

    Example::

        gap = price_gap(mine, await ledger.listings())
        if gap is not None and abs(gap.percent) >= 30:
            print(f"{gap.percent}% {gap.direction} {gap.comparables} comparables")
    """
    category = _category(listing)
    others = [o for o in listings if _category(o) == category and o.object_id != listing.object_id]
    if len(others) < MIN_COMPARABLES:
        return None
    quality = _int(listing, "quality_score")
    s = suggest_price(
        others,
        category=category,
        size_bytes=0,
        quality_score=quality if 0 <= quality <= 100 else None,
    )
    price = _int(listing, "price")
    if s.price_mist <= 0:
        return None
    return PriceGap(
        listing_id=listing.object_id,
        title=_title(listing),
        category=category,
        price_mist=price,
        suggested_mist=s.price_mist,
        low_mist=s.low_mist,
        high_mist=s.high_mist,
        comparables=s.comparables,
        percent=int(Fraction(100 * (price - s.price_mist), s.price_mist)),
    )


def typical_range(gap: PriceGap) -> str:
    """'1.5 SUI - 2.5 SUI', or one price when the comparables agree."""
    if gap.low_mist == gap.high_mist:
        return _sui(gap.low_mist)
    return f"{_sui(gap.low_mist)} - {_sui(gap.high_mist)}"


def describe_gap(gap: PriceGap) -> str:
    """One sentence: where the price stands and what to do, with the figures."""
    how_far = f"{abs(gap.percent)}% {gap.direction}"
    move = "lowering" if gap.percent > 0 else "raising"
    return (
        f'"{gap.title}" at {_sui(gap.price_mist)} is {how_far} the {_sui(gap.suggested_mist)} '
        f"that {gap.comparables} comparable listings in '{gap.category}' suggest "
        f"(typical {typical_range(gap)}): consider {move} it "
        f"('make it {_sui(gap.suggested_mist)}' in the conversation that listed it)."
    )


def _price_advice(
    mine: list[ChainObject], listings: Sequence[ChainObject], gap_percent: int
) -> list[Advice]:
    out: list[Advice] = []
    for obj in mine:
        gap = price_gap(obj, listings)
        if gap is None or abs(gap.percent) < gap_percent:
            continue
        out.append(
            Advice(
                kind=f"price_{gap.direction}",
                text=describe_gap(gap),
                category=gap.category,
                listing_id=gap.listing_id,
                figures={
                    "price_mist": gap.price_mist,
                    "suggested_mist": gap.suggested_mist,
                    "percent": gap.percent,
                    "comparables": gap.comparables,
                },
            )
        )
    return out


def _demand_advice(
    mine: list[ChainObject], unlisted: Sequence[ChainObject], listings: Sequence[ChainObject]
) -> list[Advice]:
    total_sales = sum(_sales(o) for o in listings)
    if not listings or total_sales == 0:
        return []
    market_rate = Fraction(total_sales, len(listings))
    by_category: dict[str, list[ChainObject]] = {}
    for obj in listings:
        by_category.setdefault(_category(obj), []).append(obj)
    ranked = sorted(
        by_category.items(),
        key=lambda kv: (-Fraction(sum(_sales(o) for o in kv[1]), len(kv[1])), kv[0]),
    )
    out: list[Advice] = []
    for category, objs in ranked:
        sales = sum(_sales(o) for o in objs)
        rate = Fraction(sales, len(objs))
        if sales == 0 or rate < market_rate:
            continue
        listed_here = [o for o in mine if _category(o) == category]
        waiting = [o for o in unlisted if _category(o) == category]
        if not listed_here and not waiting:
            continue
        text = f"'{category}' is in demand: {sales} sale(s) over {len(objs)} listing(s), "
        if sales == total_sales:
            text += "every sale on the market so far"
        else:
            text += (
                f"{float(rate):.1f} per listing against {float(market_rate):.1f} "
                f"across the market ({total_sales} over {len(listings)})"
            )
        if waiting:
            names = ", ".join(f'"{_title(o)}"' for o in waiting[:3])
            text += f"; you have {len(waiting)} verified model(s) there not listed yet ({names}): list them"
        else:
            own_sales = sum(_sales(o) for o in listed_here)
            text += (
                f"; your {len(listed_here)} listing(s) there sold {own_sales}: "
                "more models of this kind would meet that demand"
            )
        out.append(
            Advice(
                kind="demand",
                text=text + ".",
                category=category,
                figures={
                    "sales": sales,
                    "listings": len(objs),
                    "market_sales": total_sales,
                    "market_listings": len(listings),
                    "yours_listed": len(listed_here),
                    "yours_not_listed": len(waiting),
                },
            )
        )
    return out


def _unsold_advice(
    mine: list[ChainObject], listings: Sequence[ChainObject], now_ms: int, unsold_days: float
) -> list[Advice]:
    out: list[Advice] = []
    for obj in mine:
        listed_at = obj.fields.get("listed_at")
        if _sales(obj) or not isinstance(listed_at, int):
            continue
        age_ms = now_ms - listed_at
        if age_ms < unsold_days * DAY_MS:
            continue
        days = age_ms // DAY_MS
        category = _category(obj)
        sold = [
            o
            for o in listings
            if _category(o) == category and o.object_id != obj.object_id and _sales(o) > 0
        ]
        text = (
            f'"{_title(obj)}" has had no sale in {days} day(s) since it was listed at '
            f"{_sui(_int(obj, 'price'))}"
        )
        figures: dict[str, int | str] = {
            "days": days,
            "price_mist": _int(obj, "price"),
            "sold_comparables": len(sold),
        }
        if sold:
            median = _median([_int(o, "price") for o in sold])
            figures["sold_median_mist"] = median
            text += (
                f"; {len(sold)} listing(s) in '{category}' that did sell have a median price "
                f"of {_sui(median)}: consider that price, or a clearer title and description."
            )
        else:
            text += (
                f"; nothing in '{category}' has sold yet: a clearer title, description and "
                "tags help buyers find it."
            )
        out.append(
            Advice(
                kind="unsold",
                text=text,
                category=category,
                listing_id=obj.object_id,
                figures=figures,
            )
        )
    return out


def recommendations(
    listings: Sequence[ChainObject],
    *,
    owner: str | None,
    now_ms: int,
    unsold_days: float,
    gap_percent: int,
    unlisted: Sequence[ChainObject] = (),
) -> tuple[Advice, ...]:
    """What ``owner`` could do next, from the listings (price gaps first, then demand,
    then unsold listings). ``unlisted``: the owner's verified models not listed yet.

    Example::

        advice = recommendations(await ledger.listings(), owner=me, now_ms=now,
                                 unsold_days=14, gap_percent=30)
    """
    if owner is None:
        return ()
    mine = [o for o in listings if _creator(o) == owner.lower()]
    return (
        *_price_advice(mine, listings, gap_percent),
        *_demand_advice(mine, unlisted, listings),
        *_unsold_advice(mine, listings, now_ms, unsold_days),
    )
