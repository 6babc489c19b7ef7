"""Marketplace screens: listings, the dashboard, and the market analysis."""

from __future__ import annotations

import json
from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.text import Text

from agent.replies import advice_lines, sui
from agent.screens.layout import Data, add_row, as_int, as_mapping, headed_table, mappings


def listings(data: Data, text: str = "") -> RenderableType:
    """Marketplace listings as a table."""
    items = mappings(data.get("listings"))
    total = as_int(data.get("total")) if data.get("total") is not None else len(items)
    if not items:
        return Text("No listings match." if total == 0 else f"{total} listing(s).")
    title = (
        "Several listings match; say 'buy 0x…' with one of these ids:"
        if "total" not in data
        else f"{total} listing(s)" + (f", first {len(items)} shown" if total > len(items) else "")
    )
    table = headed_table(title, "id", "title", "category", "price", "quality", right=(3, 4))
    for item in items:
        add_row(
            table,
            str(item.get("id", "")),
            str(item.get("title", "")),
            str(item.get("category", "")),
            sui(as_int(item.get("price_mist"))),
            str(item.get("quality_score", "—")),
        )
    return table


def _value_text(value: object) -> str:
    """One dashboard value in words: money in SUI, lists by their titles."""
    if isinstance(value, Mapping):
        return " · ".join(
            f"{str(k).removesuffix('_mist').replace('_', ' ')} "
            f"{sui(as_int(v)) if str(k).endswith('_mist') else v}"
            for k, v in value.items()
        )
    if isinstance(value, list):
        if not value:
            return "none"
        shown = [
            f"{item.get('title') or item.get('id')} ({item.get('status', '?')})"
            if isinstance(item, Mapping)
            else str(item)
            for item in value[:5]
        ]
        more = f" and {len(value) - 5} more" if len(value) > 5 else ""
        return f"{len(value)}: " + ", ".join(shown) + more
    return json.dumps(value, default=str)


def dashboard(data: Data, text: str = "") -> RenderableType:
    """Each source's result or its error, side by side; a failed source hides nothing else."""
    table = headed_table("Dashboard", "source", "result", "time", right=(2,))
    for src in mappings(data.get("sources")):
        name = str(src.get("source", "")).replace("_", " ")
        ms = f"{src.get('ms', '—')} ms"
        if src.get("ok"):
            add_row(table, name, _value_text(src.get("value")), ms)
        else:
            problem = Text.assemble(("failed: ", "bold red"), str(src.get("error", "")))
            if src.get("hint"):
                problem.append(f" {src['hint']}", style="dim")
            add_row(table, name, problem, ms)
    return _with_advice(table, data)


def _with_advice(view: RenderableType, data: Data) -> RenderableType:
    """The view, then 'What to do next' with each recommendation and its figures."""
    lines = advice_lines(data)
    if not lines:
        return view
    return Group(view, Text("\n".join(lines), style="bold" if len(lines) > 1 else "dim"))


def market(data: Data, text: str = "") -> RenderableType:
    """Prices and quality per category, the quality spread, and where your models stand."""
    analysis = as_mapping(data.get("analysis"))
    if not analysis:
        return Text(text)
    parts: list[RenderableType] = []
    categories = headed_table(
        f"Market analysis: {analysis.get('total_listings', 0)} listing(s)",
        "category",
        "listings",
        "median price",
        "price range",
        "median quality",
        right=(1, 2, 4),
    )
    for c in mappings(analysis.get("categories")):
        add_row(
            categories,
            str(c.get("category", "")),
            str(c.get("count", 0)),
            sui(as_int(c.get("median_price_mist"))),
            f"{sui(as_int(c.get('min_price_mist')))} – {sui(as_int(c.get('max_price_mist')))}",
            str(c.get("median_quality", "—")),
        )
    parts.append(categories)
    buckets = mappings(analysis.get("quality_buckets"))
    if buckets:
        spread = headed_table("Quality", "score", "listings", right=(1,))
        for b in buckets:
            add_row(spread, str(b.get("label")), str(b.get("count")))
        parts.append(spread)
    mine = mappings(analysis.get("owner_models"))
    if mine:
        yours = headed_table(
            "Your models", "title", "price", "cheaper than", "quality rank", right=(1, 2, 3)
        )
        for m in mine:
            add_row(
                yours,
                str(m.get("title", "")),
                sui(as_int(m.get("price_mist"))),
                f"{m.get('cheaper_than_percent', 0)}%"
                if as_int(m.get("category_count")) > 1
                else "—",
                f"{m.get('quality_rank')} of {m.get('category_count')} in {m.get('category')}",
            )
        parts.append(yours)
    return _with_advice(Group(*parts), data)
