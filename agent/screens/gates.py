"""Approval gates: what the question is about, what it costs, the answers and the default.

Listing terms show where the gate data carries them. On a ledger that fixes
them at upload (``terms_fixed`` in the data, with the ``network``), the upload
gate shows the terms and takes edits, and the listing gate shows the terms on
chain with yes or no only; elsewhere the listing gate shows the draft and
takes edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from agent.events import GateEvent
from agent.replies import human_bytes, sui, wal
from agent.screens.journey import tags_text
from agent.screens.layout import Data, about, as_int, facts

Rows = list[tuple[str, str]]

# What can be said to a gate that takes edits to the listing terms.
TERM_EDITS = ("title: …", "set description to …", "add tag …", "remove tag …", "price 2.5 SUI")
# ... and to a bulk listing gate, one model named by its file.
BULK_EDITS = (
    "make them all 2 SUI",
    "price FILE 3 SUI",
    "title FILE: …",
    "set description of FILE to …",
    "add tag … to FILE",
    "remove tag … from FILE",
)


@dataclass(slots=True)
class _Screen:
    title: str
    question: str
    rows: Rows
    notes: list[str] = field(default_factory=list)
    edits: tuple[str, ...] = ()


def _price_range(data: Data) -> str:
    low, high = as_int(data.get("low_mist")), as_int(data.get("high_mist"))
    return f"{sui(low)} – {sui(high)}" if low or high else "—"


def _terms(data: Data, *, drafted: bool) -> Rows:
    """The listing terms: title, description, tags, price; a draft's range and reason too."""
    rows: Rows = [
        ("Title", str(data.get("title", ""))),
        ("Description", str(data.get("description") or "—")),
        ("Tags", tags_text(data.get("tags"))),
        ("Price", sui(as_int(data.get("price_mist")))),
    ]
    if drafted:
        rows.append(("Suggested range", _price_range(data)))
        if data.get("explanation"):
            rows.append(("Why", str(data["explanation"])))
    return rows


def _upload(data: Data) -> _Screen:
    name = data.get("file_name", "this file")
    rows: Rows = [
        ("File", f"{data.get('file_name', '')} ({human_bytes(as_int(data.get('size_bytes')))})"),
        (
            "Chunks",
            f"{as_int(data.get('chunk_count'))} for {as_int(data.get('epochs')) or 1} epoch(s)",
        ),
        ("Storage cost", f"about {wal(as_int(data.get('cost_frost')))}"),
        ("Upload time", about(data.get("upload_eta_s"))),
        ("Verification", about(data.get("verify_eta_s"))),
    ]
    if not data.get("terms_fixed"):
        notes = (
            [
                "A large file: say 'optimise first' for the steps to shrink it before paying, "
                "or 'upload as is' (yes)."
            ]
            if data.get("optimise")
            else []
        )
        return _Screen(
            "Approve the upload?", f"Upload {name} and pay the storage cost?", rows, notes=notes
        )
    network = data.get("network", "this")
    return _Screen(
        "Approve the upload and its listing terms?",
        f"Upload {name}, pay the storage cost and register these terms?",
        [*rows, *_terms(data, drafted=True)],
        notes=[
            f"On the {network} network the title, description, tags and price are fixed "
            "once the model is registered: change them now if you want others."
        ],
        edits=TERM_EDITS,
    )


def _listing(data: Data) -> _Screen:
    question = (
        f"List “{data.get('title', '')}” on the marketplace at "
        f"{sui(as_int(data.get('price_mist')))}?"
    )
    about_model: Rows = [
        ("Category", str(data.get("category") or "—")),
        (
            "Quality",
            f"{data.get('quality_score') if data.get('quality_score') is not None else '—'}/100",
        ),
    ]
    if data.get("terms_fixed"):
        network = data.get("network", "this")
        return _Screen(
            "Approve the listing?",
            question,
            [*_terms(data, drafted=False), *about_model],
            notes=[
                f"These terms were fixed at upload on the {network} network. To list with "
                "others, say no and upload the model again, changing them at the upload gate."
            ],
        )
    return _Screen(
        "Approve the listing?",
        question,
        [*_terms(data, drafted=True), *about_model],
        edits=TERM_EDITS,
    )


def _purchase(data: Data) -> _Screen:
    title = str(data.get("title") or "this model")
    return _Screen(
        "Approve the purchase?",
        f'Buy "{title}" for {sui(as_int(data.get("price_mist")))}?',
        [
            ("Model", title),
            ("Listing", str(data.get("listing_id", ""))),
            ("Price", sui(as_int(data.get("price_mist")))),
            ("Platform fee", f"{sui(as_int(data.get('fee_mist')))} (included)"),
        ],
    )


def _bulk(data: Data) -> _Screen:
    return _Screen(
        "Approve the bulk upload?",
        f"Upload, register and verify these {data.get('count', 0)} file(s)?",
        [
            ("Files", f"{data.get('count', 0)} ({data.get('skipped', 0)} skipped)"),
            ("Total size", human_bytes(as_int(data.get("total_size_bytes")))),
            ("Storage cost", f"about {wal(as_int(data.get('total_cost_frost')))}"),
            ("Upload time", about(data.get("total_upload_eta_s"))),
            ("Verification", about(data.get("total_verify_eta_s"))),
        ],
    )


def _bulk_listing(data: Data) -> _Screen:
    total = sui(as_int(data.get("total_price_mist")))
    rows: Rows = [("Models", str(data.get("count", 0))), ("Total price", total)]
    if data.get("terms_fixed"):
        return _Screen(
            "Approve the listings?",
            f"List these {data.get('count', 0)} model(s) as registered?",
            rows,
            notes=[f"The terms were fixed at upload on the {data.get('network', 'this')} network."],
        )
    return _Screen(
        "Approve the listings?",
        f"List these {data.get('count', 0)} model(s) for {total} in total?",
        rows,
        edits=BULK_EDITS,
    )


def _screen(event: GateEvent) -> _Screen | None:
    """The gate's screen by its name and data; None for a gate this chat does not know."""
    if event.gate == "upload":
        return _bulk(event.data) if "total_cost_frost" in event.data else _upload(event.data)
    if event.gate == "listing":
        return _bulk_listing(event.data) if "listing_files" in event.data else _listing(event.data)
    if event.gate == "purchase":
        return _purchase(event.data)
    return None


def _answers(edits: tuple[str, ...]) -> Text:
    answers = Text.assemble(("yes", "bold green"), " · ", ("no", "bold red"))
    if edits:
        answers.append(" · or change them first:")
        for i, edit in enumerate(edits):
            answers.append(" · " if i else " ")
            answers.append(f"'{edit}'", style="bold")
    answers.append("    default: no (Enter)", style="dim")
    return answers


def question(event: GateEvent) -> RenderableType:
    """A checkpoint question: answered in words, skipped, or kept as last time."""
    answers = Text.assemble(
        ("your own words", "bold"), " · ", ("'skip'", "bold"), " · ", ("'skip all'", "bold")
    )
    if event.data.get("default"):
        answers.append(" · ")
        answers.append("'same'", style="bold")
    number, of = event.data.get("number"), event.data.get("of")
    return Panel(
        Group(Text(event.text), answers),
        title=f"About your model ({number} of {of})",
        title_align="left",
        border_style="cyan",
        box=box.ROUNDED,
        expand=False,
    )


def gate(event: GateEvent) -> RenderableType:
    """An approval question: what it is about, what it costs, the answers and the default."""
    if event.gate == "question":
        return question(event)
    screen = _screen(event)
    body: list[RenderableType] = []
    if screen is None:
        body.append(Text(event.text, style="bold"))
    else:
        body.append(facts(screen.rows))
        body.extend(Text(note, style="italic") for note in screen.notes)
        body.append(Text(screen.question, style="bold"))
    body.append(_answers(screen.edits if screen else ()))
    return Panel(
        Group(*body),
        title=screen.title if screen else "Your answer is needed",
        title_align="left",
        border_style="yellow",
        box=box.ROUNDED,
        expand=False,
    )
