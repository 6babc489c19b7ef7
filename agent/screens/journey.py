"""Screens of one model's journey: the plan, compression, the listing draft, status and progress."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.constrain import Constrain
from rich.json import JSON
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from agent.events import ProgressEvent
from agent.replies import human_bytes, human_duration, optimisation_fields, sui, wal
from agent.screens.layout import (
    Data,
    about,
    add_row,
    as_int,
    as_mapping,
    as_num,
    facts,
    headed_table,
)

_CONTEXT_LABELS = {
    "file_name": "File",
    "size_bytes": "Size",
    "sha256": "SHA-256",
    "manifest_blob_id": "Blob id",
    "model_id": "Model id",
    "verification_id": "Verification id",
    "quality_score": "Quality",
    "price_mist": "Price",
    "listing_id": "Listing id",
}


def plan(data: Data, text: str = "") -> RenderableType:
    """The pre-upload assessment: format, size, storage, cost and time estimates."""
    chunks = as_int(data.get("chunk_count"))
    epochs = as_int(data.get("epochs")) or 1
    suggestions = data.get("suggestions")
    tips = (
        "; ".join(str(s).replace("_", " ") for s in suggestions)
        if isinstance(suggestions, list) and suggestions
        else "none, the file is ready to upload"
    )
    rows: list[tuple[str, RenderableType | str]] = [
        ("Format", str(data.get("format", "unknown"))),
        ("Size", human_bytes(as_int(data.get("size_bytes")))),
        ("Category", str(data.get("category", "general"))),
        (
            "Storage",
            f"{data.get('blobs', chunks + 1)} blobs ({chunks} chunk{'s' * (chunks != 1)} + "
            f"manifest) for {epochs} epoch{'s' * (epochs != 1)}",
        ),
        ("Estimated cost", wal(as_int(data.get("cost_frost")))),
        ("Upload time", about(data.get("upload_eta_s"))),
        ("Verification", about(data.get("verify_eta_s"))),
        ("Suggestions", tips),
    ]
    body: list[RenderableType] = [facts(rows)]
    if data.get("expertise") == "beginner":
        body.append(Text("Estimates only: nothing is paid until you say yes.", style="dim"))
    return Panel(
        Group(*body),
        title=Text(f"Plan for {data.get('file_name', 'your model')}"),
        title_align="left",
        box=box.ROUNDED,
        expand=False,
    )


def compression(data: Data, text: str = "") -> RenderableType:
    """What optimising a large file would give, computed from its weights (a beginner also
    gets the why, in words)."""
    fields = optimisation_fields(data)
    table = headed_table(
        f"Over {human_bytes(as_int(data.get('threshold')))}: what optimising it would give",
        "",
        "size",
    )
    size = human_bytes(as_int(data.get("size_bytes")))
    add_row(table, "as it is", f"{size}, {fields['params_text']}")
    add_row(table, "fp16 / bf16", fields["fp16_text"])
    add_row(table, "int8", fields["int8_text"])
    add_row(table, "upload", fields["shards_text"])
    if data.get("onnx_command"):
        add_row(table, "ONNX", f"export from {str(data.get('onnx_framework', '')).capitalize()}")
    if data.get("expertise") == "beginner" and text:
        return Group(Text(text), table)
    return table


def tags_text(value: object) -> str:
    """Tags as 'a, b, c', or '—' where there are none."""
    return ", ".join(str(t) for t in value) if isinstance(value, list) and value else "—"


def price(data: Data, text: str = "") -> RenderableType:
    """The suggested price and the listing draft."""
    rows: list[tuple[str, RenderableType | str]] = [
        ("Suggested price", sui(as_int(data.get("price_mist")))),
        (
            "Range",
            f"{sui(as_int(data.get('low_mist')))} – {sui(as_int(data.get('high_mist')))} "
            f"({as_int(data.get('comparables'))} comparable listing(s))",
        ),
        ("Title", str(data.get("title", ""))),
        ("Tags", tags_text(data.get("tags"))),
    ]
    body: list[RenderableType] = [facts(rows)]
    for key in ("explanation", "description"):
        if data.get(key):
            body.append(Text(str(data[key])))
    panel = Panel(Group(*body), title="Listing draft", title_align="left", box=box.ROUNDED)
    return Constrain(panel, width=100)


def status(data: Data, text: str = "") -> RenderableType:
    """Where the journey stands: phase, progress, the model, the verification job, next steps."""
    fraction = float(as_num(data.get("progress")) or 0.0)
    bar = Table.grid(padding=(0, 1))
    add_row(bar, ProgressBar(total=100, completed=fraction * 100, width=24), f"{fraction:.0%}")
    rows: list[tuple[str, RenderableType | str]] = [
        ("Phase", f"{data.get('phase', 'idle')} ({data.get('status', 'active')})"),
        ("Progress", bar),
    ]
    ctx = as_mapping(data.get("context"))
    for key, value in ctx.items():
        shown = (
            human_bytes(as_int(value))
            if key == "size_bytes"
            else sui(as_int(value))
            if key == "price_mist"
            else str(value)
        )
        rows.append((_CONTEXT_LABELS.get(key, key.replace("_", " ").capitalize()), shown))
    job = as_mapping(data.get("job"))
    if job:
        rows.append(
            (
                "Verification",
                f"{job.get('state')} {float(as_num(job.get('fraction')) or 0):.0%}, "
                f"time left {human_duration(as_num(job.get('eta_s')))}"
                if "error" not in job
                else f"{job.get('state')}: {job.get('error')}",
            )
        )
    error = as_mapping(data.get("error"))
    if error:
        rows.append(("Last problem", f"{error.get('message')} {error.get('hint', '')}".strip()))
    pending = data.get("pending_steps")
    if isinstance(pending, list) and pending:
        rows.append(("Next steps", ", ".join(str(s).replace("_", " ") for s in pending[:6])))
    elif data.get("expertise") == "beginner":
        rows.append(("Next", "nothing in progress: say 'upload PATH' to publish a model"))
    return Panel(facts(rows), title="Status", title_align="left", box=box.ROUNDED, expand=False)


def raw(data: Data, text: str = "") -> RenderableType:
    """The chain object as pretty-printed JSON (print it with ``soft_wrap=True``)."""
    payload = str(data.get("json", text or "{}"))
    try:
        return JSON(payload, indent=2, highlight=True)
    except json.JSONDecodeError:
        return Text(payload)


def verified(data: Data, text: str) -> RenderableType:
    """The enclave's verdict, announced as soon as it arrives."""
    return Panel(
        Text(text),
        title="✔ Verification passed",
        title_align="left",
        border_style="green",
        box=box.ROUNDED,
        expand=False,
    )


def task_label(task: str) -> str:
    """'upload' -> 'upload'; 'upload:m.onnx' -> 'm.onnx' (one row per file of a bulk upload)."""
    kind, _, name = task.partition(":")
    return name or kind


def progress(tasks: Sequence[ProgressEvent], *, bar_width: int = 24) -> RenderableType:
    """One row per running task: bar, percentage, bytes, rate and time left."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, max_width=28, overflow="ellipsis")
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, overflow="ellipsis")  # chunks done and in parallel
    for e in tasks:
        finished = e.fraction >= 1.0
        is_bytes = not e.task.startswith("verification")
        amount = f"{human_bytes(e.done)} / {human_bytes(e.total)}" if is_bytes and e.total else ""
        rate = f"{human_bytes(e.rate)}/s" if is_bytes and e.rate else ""
        left = (
            Text("done", style="green")
            if finished
            else Text(f"ETA {human_duration(e.eta_s)}" if e.eta_s is not None else "")
        )
        add_row(
            table,
            Text(task_label(e.task), style="bold"),
            ProgressBar(
                total=1.0,
                completed=e.fraction,
                width=bar_width,
                complete_style="green" if finished else "cyan",
                finished_style="green",
            ),
            f"{e.fraction:4.0%}",
            amount,
            rate,
            left,
            Text(e.message, style="dim") if is_bytes and e.message else "",
        )
    return table


def progress_line(e: ProgressEvent) -> str:
    """A task's progress as one plain line (pipes and logs)."""
    if e.task.startswith("verification"):
        return f"{e.task}: {e.fraction:5.0%}  ETA {human_duration(e.eta_s)}"
    rate = f"{human_bytes(e.rate)}/s" if e.rate else "—"
    return (
        f"{e.task}: {e.fraction:5.0%}  {human_bytes(e.done)} / {human_bytes(e.total)}  "
        f"{rate}  ETA {human_duration(e.eta_s)}" + (f"  ({e.message})" if e.message else "")
    )
