"""The chat's main screens, rendered on an 80-column console without colour, against snapshots.

A change to a screen shows up as a snapshot diff: review it, then refresh with
``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_screens.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from agent import screens
from agent.assistant import Assistant
from agent.events import ErrorEvent, Event, GateEvent, PauseEvent, ProgressEvent, TextEvent
from agent.journey_files import make_model_file
from agent.replies import render
from agent.settings import Settings
from agent.wiring import build_services
from flows.market.analysis import CategoryStats, MarketAnalysis, OwnerPosition, QualityBucket
from integrations.chain.fixed_terms import FixedTermsLedger

SNAPSHOTS = Path(__file__).parent / "snapshots"
MIB = 1024 * 1024


def _render(renderable: RenderableType, *, width: int = 80, soft_wrap: bool = False) -> str:
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system=None,
        force_terminal=False,
        legacy_windows=False,
        highlight=False,
        emoji=False,
    )
    console.print(renderable, soft_wrap=soft_wrap)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _reply(kind: str, **data: object) -> TextEvent:
    return TextEvent(render(kind, data, str(data.get("expertise", "intermediate"))), kind, data)


def _gate(gate: str, kind: str, **data: object) -> GateEvent:
    return GateEvent(gate, render(kind, data, "beginner"), data, interrupt_id="i-1")


PLAN = _reply(
    "assessment",
    file_name="sentiment-bert.safetensors",
    size_bytes=438_000_000,
    format="safetensors",
    category="nlp",
    chunk_count=53,
    blobs=54,
    epochs=2,
    cost_frost=61_234_567,
    upload_eta_s=87.6,
    verify_eta_s=14.2,
    suggestions=["quantize_fp16", "prune_unused"],
    expertise="beginner",
)

DASHBOARD = _reply(
    "dashboard",
    sources=[
        {
            "source": "pending_models",
            "ok": True,
            "value": [{"id": "0xa1", "title": "Sentiment BERT", "status": "verifying"}],
            "ms": 3.1,
        },
        {"source": "marketplace", "ok": True, "value": {"listed": 12, "mine": 2}, "ms": 2.4},
        {
            "source": "user_stats",
            "ok": True,
            "value": {
                "balance_mist": 9_750_000_000,
                "earnings_mist": 4_875_000_000,
                "downloads": 3,
            },
            "ms": 2.9,
        },
        {
            "source": "platform_metrics",
            "ok": False,
            "error": "The event index did not answer.",
            "hint": "Try again in a minute.",
            "ms": 5000.0,
        },
    ],
)

UPLOAD_GATE = _gate(
    "upload",
    "upload_gate",
    file_name="sentiment-bert.safetensors",
    size_bytes=438_000_000,
    cost_frost=61_234_567,
    chunk_count=53,
    epochs=2,
    upload_eta_s=87.6,
    verify_eta_s=14.2,
    optimise=True,  # over the size threshold: optimise first, or upload as is
)

LISTING_GATE = _gate(
    "listing",
    "listing_gate",
    title="Sentiment BERT",
    description="Classifies the sentiment of English reviews.",
    tags=["nlp", "safetensors", "tee-verified"],
    price_mist=2_500_000_000,
    low_mist=1_750_000_000,
    high_mist=3_250_000_000,
    explanation="2 comparable nlp listings, median 2.25 SUI.",
    quality_score=92,
    category="nlp",
)

PURCHASE_GATE = _gate(
    "purchase",
    "purchase_gate",
    listing_id="0xfeed",
    title="Sentiment Bert",
    price_mist=2_000_000_000,
    fee_mist=50_000_000,
)

LISTINGS = _reply(
    "listings",
    total=2,
    listings=[
        {
            "id": "0x5a1e",
            "title": "Sentiment BERT",
            "category": "nlp",
            "price_mist": 2_500_000_000,
            "quality_score": 92,
        },
        {
            "id": "0x7c0d",
            "title": "Tiny YOLO",
            "category": "vision",
            "price_mist": 1_000_000_000,
            "quality_score": 81,
        },
    ],
)

STATUS = _reply(
    "status",
    phase="verification_monitoring",
    status="active",
    progress=0.58,
    pending_steps=["monitor_verification", "report_quality", "suggest_price"],
    context={
        "file_name": "sentiment-bert.safetensors",
        "size_bytes": 438_000_000,
        "format": "safetensors",
    },
    job={"state": "running", "fraction": 0.4, "eta_s": 9.0},
    error=None,
)

MARKET = _reply(
    "market_analysis",
    analysis=MarketAnalysis(
        total_listings=3,
        categories=(
            CategoryStats("nlp", 2, 2_250_000_000, 2_000_000_000, 2_500_000_000, 90),
            CategoryStats("vision", 1, 1_000_000_000, 1_000_000_000, 1_000_000_000, 81),
        ),
        quality_buckets=(QualityBucket("80-89", 80, 89, 1), QualityBucket("90-100", 90, 100, 2)),
        owner="0xme",
        owner_models=(
            OwnerPosition("0x5a1e", "Sentiment BERT", "nlp", 2_500_000_000, 92, 0, 1, 2),
        ),
    ),
)

PROGRESS = [
    ProgressEvent("upload", 0.45, int(19.8 * MIB), 44 * MIB, rate=3_100_000.0, eta_s=8.2),
    ProgressEvent("upload:tiny-yolo.onnx", 1.0, 12 * MIB, 12 * MIB, rate=2_900_000.0, eta_s=0.0),
    ProgressEvent("verification", 0.8, 80, 100, eta_s=2.5),
]

SCREENS: dict[str, RenderableType] = {
    "plan": screens.reply(PLAN),
    "dashboard": screens.reply(DASHBOARD),
    "upload_gate": screens.gate(UPLOAD_GATE),
    "listing_gate": screens.gate(LISTING_GATE),
    "purchase_gate": screens.gate(PURCHASE_GATE),
    "listings": screens.reply(LISTINGS),
    "status": screens.reply(STATUS),
    "market_analysis": screens.reply(MARKET),
    "progress": screens.progress(PROGRESS),
    "error": screens.error(
        ErrorEvent("network_timeout", "The upload timed out at 40%.", "Say 'retry' to resume.")
    ),
    "help": screens.help_screen(),
}


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"screen_{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(text)
    assert text == path.read_text(), f"the {name} screen changed: review, then UPDATE_SNAPSHOTS=1"
    assert all(len(line) <= 80 for line in text.splitlines())


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screen_matches_its_snapshot(name: str) -> None:
    _check_snapshot(name, _render(SCREENS[name]))


# -- screens of events the journey itself emits --------------------------------------------


async def _converse(home: Path, says: list[str], *, terms_fixed: bool) -> list[list[Event]]:
    """Each turn's events from a real Assistant on the embedded adapters."""
    settings = Settings(_env_file=None, home=home, user="mira", chunk_size_mib=0.5)  # type: ignore[call-arg]
    turns: list[list[Event]] = []
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        if terms_fixed:  # listings keep the upload's terms, as on a live Sui network
            services = dataclasses.replace(services, ledger=FixedTermsLedger(services.ledger))
        async with Assistant.open(settings, services=services) as assistant:
            thread = await assistant.new_thread("mira")
            for say in says:
                turns.append([e async for e in assistant.send(thread, say, user_id="mira")])
    return turns


def _words(text: str) -> str:
    """A screen's text without its frame, on one line: wrapped phrases read whole."""
    return " ".join(text.translate(str.maketrans("│╭╮╰╯─", "      ")).split())


def _gate_in(events: list[Event], gate: str) -> GateEvent:
    found = [e for e in events if isinstance(e, GateEvent) and e.gate == gate]
    assert len(found) == 1, f"expected one {gate} gate in {events}"
    return found[0]


def _reply_in(events: list[Event], kind: str) -> TextEvent:
    found = [e for e in events if isinstance(e, TextEvent) and e.kind == kind]
    assert len(found) == 1, f"expected one {kind} reply in {events}"
    return found[0]


@pytest.fixture(scope="module")
def journey_screens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Event]:
    """Gates and bulk replies captured from short journeys, by snapshot name."""
    work = tmp_path_factory.mktemp("screens")
    model = make_model_file(work / "resnet50-imagenet.onnx", "onnx", size_mb=1)
    fixed = asyncio.run(
        _converse(work / "fixed", [f"upload {model} at 2 SUI", "yes"], terms_fixed=True)
    )
    drafted = asyncio.run(
        _converse(work / "drafted", [f"upload {model}", "yes"], terms_fixed=False)
    )
    make_model_file(work / "small.safetensors", "safetensors", size_mb=0.3, seed=1)
    with contextlib.chdir(work):  # relative names, so the screens hold no temporary path
        bulk = asyncio.run(
            _converse(
                work / "bulk",
                [
                    "I'm an expert. bulk upload resnet50-imagenet.onnx small.safetensors "
                    "missing.gguf",
                    "yes",
                ],
                terms_fixed=False,
            )
        )
    summary = _reply_in(bulk[1], "bulk_summary")
    # the only figures that differ between runs: the time taken and the new objects' ids
    listed = summary.data.get("outcomes")
    assert isinstance(listed, list)
    outcomes = [
        {**o, "model_id": f"0x{i:064x}"} if isinstance(o, dict) and "model_id" in o else o
        for i, o in enumerate(listed)
    ]
    summary = dataclasses.replace(
        summary, data={**summary.data, "elapsed_s": 4.2, "outcomes": outcomes}
    )
    return {
        "upload_gate_terms_fixed": _gate_in(fixed[0], "upload"),
        "listing_gate_terms_fixed": _gate_in(fixed[1], "listing"),
        "upload_gate_drafted": _gate_in(drafted[0], "upload"),
        "listing_gate_drafted": _gate_in(drafted[1], "listing"),
        "bulk_plan": _reply_in(bulk[0], "bulk_plan"),
        "bulk_gate": _gate_in(bulk[0], "upload"),
        "bulk_summary": summary,
    }


def _screen_of(event: Event) -> RenderableType:
    if isinstance(event, GateEvent):
        return screens.gate(event)
    assert isinstance(event, TextEvent)
    return screens.reply(event)


JOURNEY_SCREENS = (
    "upload_gate_terms_fixed",
    "listing_gate_terms_fixed",
    "upload_gate_drafted",
    "listing_gate_drafted",
    "bulk_plan",
    "bulk_gate",
    "bulk_summary",
)


@pytest.mark.parametrize("name", JOURNEY_SCREENS)
def test_journey_screen_matches_its_snapshot(name: str, journey_screens: dict[str, Event]) -> None:
    _check_snapshot(name, _render(_screen_of(journey_screens[name])))


def test_terms_fixed_at_upload_are_shown_and_editable_at_the_upload_gate(
    journey_screens: dict[str, Event],
) -> None:
    text = _words(_render(_screen_of(journey_screens["upload_gate_terms_fixed"])))
    for shown in ("Resnet50 Imagenet", "A computer vision model", "tee-verified", "2 SUI"):
        assert shown in text
    assert "fixed once the model is registered" in text and "On the local network" in text
    assert "'title: …'" in text and "'add tag …'" in text and "'price 2.5 SUI'" in text


def test_the_listing_gate_on_fixed_terms_takes_yes_or_no_only(
    journey_screens: dict[str, Event],
) -> None:
    text = _words(_render(_screen_of(journey_screens["listing_gate_terms_fixed"])))
    assert "Resnet50 Imagenet" in text and "tee-verified" in text and "2 SUI" in text
    assert "fixed at upload on the local network" in text
    assert "yes · no default: no" in text
    assert "'price" not in text and "make it" not in text and "change them" not in text


def test_the_drafted_listing_gate_shows_the_draft_and_its_edits(
    journey_screens: dict[str, Event],
) -> None:
    text = _words(_render(_screen_of(journey_screens["listing_gate_drafted"])))
    assert "Resnet50 Imagenet" in text and "computer-vision, onnx, resnet" in text
    assert "Suggested range" in text and "1.036 SUI" in text
    for edit in ("'title: …'", "'add tag …'", "'remove tag …'", "'price 2.5 SUI'"):
        assert edit in text
    assert "fixed" not in text
    upload = _render(_screen_of(journey_screens["upload_gate_drafted"]))
    assert "Title" not in upload and "'title: …'" not in upload


def test_the_test_gates_carry_what_the_journey_puts_in_a_gate(
    journey_screens: dict[str, Event],
) -> None:
    real = journey_screens["listing_gate_drafted"]
    assert isinstance(real, GateEvent)
    assert set(LISTING_GATE.data) == set(real.data)
    real_upload = journey_screens["upload_gate_drafted"]
    assert isinstance(real_upload, GateEvent)
    assert set(UPLOAD_GATE.data) == set(real_upload.data)


def test_bulk_plan_gate_and_summary_are_tables(journey_screens: dict[str, Event]) -> None:
    plan = _render(_screen_of(journey_screens["bulk_plan"]))
    rows = plan.splitlines()
    assert rows[0].startswith("Bulk plan: 2 file(s)")
    assert [r.split()[:2] for r in rows if "(onnx)" in r or "(safetensors)" in r] == [
        ["1", "resnet50-imagenet.onnx"],
        ["2", "small.safetensors"],
    ]
    assert any("missing.gguf" in r and "skipped" in r for r in rows)
    assert "There is no file at missing.gguf" in plan
    assert any(r.lstrip().startswith("total") for r in rows)
    gate = _render(_screen_of(journey_screens["bulk_gate"]))
    assert "Approve the bulk upload?" in gate and "2 (1 skipped)" in gate
    summary = _render(_screen_of(journey_screens["bulk_summary"]))
    assert "2 of 3 done, 1 failed" in summary
    assert sum(" done " in r for r in summary.splitlines()) == 2


def test_the_plan_shows_the_cost_and_times_as_estimates() -> None:
    text = _render(SCREENS["plan"])
    assert "0.061234567 WAL" in text and "about 1 min 28 s" in text
    assert "nothing is paid until you say yes" in text


def test_a_gate_names_its_question_figures_answers_and_default() -> None:
    text = _render(SCREENS["listing_gate"])
    assert "List “Sentiment BERT” on the marketplace at 2.5 SUI?" in text
    assert "1.75 SUI – 3.25 SUI" in text
    assert "yes · no · or change them first: 'title: …'" in text and "default: no" in text
    assert "Classifies the sentiment" in text and "nlp, safetensors, tee-verified" in text
    assert "change them" not in _render(SCREENS["upload_gate"])


def test_user_text_is_never_read_as_markup() -> None:
    event = _reply(
        "listings",
        total=1,
        listings=[
            {"id": "0x1", "title": "[bold]x[/] [/oops]", "price_mist": 1, "quality_score": 1}
        ],
    )
    assert "[bold]x[/] [/oops]" in _render(screens.reply(event))
    gate = _gate("listing", "listing_gate", title="[red]boom", price_mist=1)
    assert "[red]boom" in _render(screens.gate(gate))


def test_raw_data_stays_parseable_json_however_narrow_the_terminal() -> None:
    payload = {"objectId": "0x" + "ab" * 32, "content": {"fields": {"title": "x" * 120}}}
    event = _reply("raw_data", json=json.dumps(payload, indent=2))
    text = _render(screens.reply(event), width=40, soft_wrap=True)
    assert json.loads(text) == payload


def test_unknown_kinds_fall_back_to_their_words_and_prose_reflows() -> None:
    event = TextEvent("Something new happened.", "brand_new_kind", {})
    assert _render(screens.reply(event)) == "Something new happened.\n"
    faq = _reply("faq", topic="storage")
    assert "Walrus is a decentralised blob store" in _render(screens.reply(faq), width=60)


def test_progress_rows_name_bulk_files_and_mark_finished_tasks() -> None:
    text = _render(SCREENS["progress"])
    rows = text.splitlines()
    assert rows[0].startswith("upload ") and "45%" in rows[0] and "3.1 MB/s" in rows[0]
    assert "ETA 8 s" in rows[0]
    assert rows[1].startswith("tiny-yolo.onnx") and rows[1].rstrip().endswith("done")
    assert rows[2].startswith("verification") and "80%" in rows[2] and "MB" not in rows[2]
    assert screens.progress_line(PROGRESS[2]) == "verification:   80%  ETA 2 s"


def test_debug_pause_and_state() -> None:
    assert "paused before upload" in _render(screens.pause(PauseEvent(("upload",))))
    text = _render(screens.state({"current_phase": "upload"}, ("upload",)))
    assert '"current_phase": "upload"' in text and "next: upload" in text


def test_the_chat_finds_every_screen_it_uses_in_the_package() -> None:
    used = {"reply", "gate", "error", "problem", "pause", "state", "progress", "progress_line"}
    used |= {"help_screen", "threads", "COMMANDS", "SAYINGS", "task_label"}
    assert set(screens.__all__) == used
    assert all(getattr(screens, name, None) is not None for name in screens.__all__)


def test_a_bulk_listing_plan_and_its_gate_are_a_table_and_a_total() -> None:
    rows = [
        {
            "file_name": "a.onnx",
            "title": "A Model",
            "quality_score": 98,
            "price_mist": 1_036_000_000,
        },
        {
            "file_name": "b.onnx",
            "title": "B Model",
            "quality_score": None,
            "price_mist": 700_000_000,
        },
    ]
    data = {
        "count": 2,
        "total_price_mist": 1_736_000_000,
        "listing_files": rows,
        "network": "local",
    }
    plan = _render(screens.reply(TextEvent("…", "bulk_listing_plan", data)))
    assert "Listing plan: 2 model(s)" in plan and "fixed" not in plan
    assert any("a.onnx" in r and "98/100" in r and "1.036 SUI" in r for r in plan.splitlines())
    assert any(r.lstrip().startswith("total") and "1.736 SUI" in r for r in plan.splitlines())
    gate = _words(_render(screens.gate(GateEvent("listing", "…", {**data, "terms_fixed": False}))))
    assert (
        "List these 2 model(s) for 1.736 SUI in total?" in gate and "'make them all 2 SUI'" in gate
    )
    fixed = _words(_render(screens.gate(GateEvent("listing", "…", {**data, "terms_fixed": True}))))
    assert "fixed at upload on the local network" in fixed and "'make them" not in fixed


def test_a_bulk_listing_edit_says_what_changed_and_shows_the_edited_plan() -> None:
    rows = [
        {
            "file_name": "tiny.onnx",
            "title": "Tiny classifier",
            "tags": ["onnx", "vision"],
            "quality_score": 98,
            "price_mist": 1_000_000_000,
        }
    ]
    data = {"file_name": "tiny.onnx", "changes": ["tag vision added"], "listing_files": rows}
    text = "Updated tiny.onnx: tag vision added. Now:\n  1. tiny.onnx: …\nTotal: 1 SUI."
    shown = _render(screens.reply(TextEvent(text, "bulk_listing_edited", {**data, "count": 1})))
    lines = shown.splitlines()
    assert lines[0] == "Updated tiny.onnx: tag vision added."
    assert any("tiny.onnx" in r and "Tiny classifier" in r and "98/100" in r for r in lines)
    assert any("onnx, vision" in r for r in lines)
    gate = _words(_render(screens.gate(GateEvent("listing", "…", {**data, "terms_fixed": False}))))
    assert "'title FILE: …'" in gate and "'add tag … to FILE'" in gate
