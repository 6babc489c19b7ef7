"""Bulk screens: the upload plan, each file's outcome, and the listing plan with its changes."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from agent.replies import human_bytes, human_duration, sui, wal
from agent.screens.layout import Data, add_row, as_int, as_num, headed_table, mappings, short


def _eta(seconds: object) -> str:
    """A short estimate for a table cell: '<1 s', '1 min 28 s', '—' when unknown."""
    s = as_num(seconds)
    return "—" if s is None else "<1 s" if s < 1 else human_duration(s)


def _wal(frost: object) -> str:
    """WAL without its unit (the column header names it)."""
    return wal(as_int(frost)).removesuffix(" WAL")


def bulk_plan(data: Data, text: str = "") -> RenderableType:
    """One row per file of a bulk upload (skipped ones with the reason), with the total."""
    table = headed_table(
        f"Bulk plan: {data.get('count', 0)} file(s), largest first, "
        f"{data.get('concurrency', 1)} at a time",
        "#",
        "file",
        "size",
        "cost, WAL",
        "upload",
        "verify",
        right=(0, 2, 3, 4, 5),
    )
    n = 0
    for f in mappings(data.get("plan_files")):
        if f.get("status") == "planned":
            n += 1
            add_row(
                table,
                str(n),
                f"{f.get('file_name', '')} ({f.get('format', '?')})",
                human_bytes(as_int(f.get("size_bytes"))),
                _wal(f.get("cost_frost")),
                _eta(f.get("upload_eta_s")),
                _eta(f.get("verify_eta_s")),
            )
        else:
            why = Text(str(f.get("file_name", "")))
            why.append(f"\n{f.get('error_message', '')}", style="dim")
            add_row(table, "–", why, Text("skipped", style="yellow"), "", "", "")
    table.add_section()
    add_row(
        table,
        "",
        "total",
        human_bytes(as_int(data.get("total_size_bytes"))),
        _wal(data.get("total_cost_frost")),
        _eta(data.get("total_upload_eta_s")),
        _eta(data.get("total_verify_eta_s")),
    )
    return table


def bulk_summary(data: Data, text: str = "") -> RenderableType:
    """Each file's outcome after a bulk upload."""
    table = headed_table(
        f"Bulk upload finished: {data.get('done', 0)} of {data.get('total', 0)} done, "
        f"{data.get('failed', 0)} failed, in {human_duration(as_num(data.get('elapsed_s')))}",
        "file",
        "outcome",
        "details",
    )
    for f in mappings(data.get("outcomes")):
        state = str(f.get("status", ""))
        if state == "done":
            add_row(
                table,
                str(f.get("file_name", "")),
                Text("done", style="green"),
                f"quality {f.get('quality_score', '—')}/100, model {short(f.get('model_id', ''))}",
            )
        else:
            add_row(
                table,
                str(f.get("file_name", "")),
                Text(state or "failed", style="red"),
                f"at {f.get('stage', '?')}: {f.get('error_message', '')}",
            )
    return table


def bulk_listings(data: Data, text: str = "", *, fixed: bool = False) -> RenderableType:
    """One row per model of a bulk listing plan: file, title, quality, price, and the total."""
    where = f" (terms fixed at upload on the {data.get('network')} network)" if fixed else ""
    table = headed_table(
        f"Listing plan: {data.get('count', 0)} model(s){where}",
        "file",
        "title",
        "quality",
        "price",
        right=(2, 3),
    )
    for f in mappings(data.get("listing_files")):
        quality = f.get("quality_score")
        title = Text(str(f.get("title") or "—"))
        tags = f.get("tags")
        if isinstance(tags, list) and tags:
            title.append(f"\n{', '.join(str(t) for t in tags)}", style="dim")
        add_row(
            table,
            str(f.get("file_name", "")),
            title,
            "—" if quality is None else f"{quality}/100",
            sui(as_int(f.get("price_mist"))),
        )
    table.add_section()
    add_row(table, "total", "", "", sui(as_int(data.get("total_price_mist"))))
    return table


def bulk_listings_changed(data: Data, text: str = "") -> RenderableType:
    """A bulk listing plan after a change: what changed (the reply's first line), then the plan."""
    said = text.splitlines()[0].removesuffix(" Now:") if text else ""
    table = bulk_listings(data, text)
    return Group(Text(said), table) if said else table


def bulk_listings_fixed(data: Data, text: str = "") -> RenderableType:
    """A bulk listing plan whose terms were registered at upload."""
    return bulk_listings(data, text, fixed=True)
