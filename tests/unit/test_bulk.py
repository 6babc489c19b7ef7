"""Bulk upload through the public Assistant API: one plan, one gate, largest first, isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.runnables import RunnableConfig

from agent import Assistant, GateEvent, Settings, TextEvent
from agent.events import Event, ProgressEvent
from agent.journey_files import make_model_file
from agent.journeys import Journey, run_journey
from agent.understanding.rules import RuleInterpreter
from flows.bulk import expand_paths, file_key


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events if isinstance(e, TextEvent)]


def _data(events: list[Event], kind: str) -> list[dict[str, object]]:
    return [e.data for e in events if isinstance(e, TextEvent) and e.kind == kind]


async def _send(assistant: Assistant, thread: str, text: str) -> list[Event]:
    return [e async for e in assistant.send(thread, text)]


@pytest.mark.parametrize(
    ("text", "kind", "paths"),
    [
        ("upload ./models/*.onnx", "bulk_upload", ["./models/*.onnx"]),
        (
            "bulk upload a.safetensors b.gguf c.onnx",
            "bulk_upload",
            ["a.safetensors", "b.gguf", "c.onnx"],
        ),
        ("upload a.onnx and ./b.onnx", "bulk_upload", ["a.onnx", "./b.onnx"]),
        ("upload these 5 models", "bulk_upload", None),
        ("upload ./model.safetensors", "upload", ["./model.safetensors"]),
        ("quick upload m.gguf", "quick_upload", ["m.gguf"]),
    ],
)
def test_several_paths_or_a_glob_make_a_bulk_upload(
    text: str, kind: str, paths: list[str] | None
) -> None:
    got = RuleInterpreter().interpret(text)
    assert got["kind"] == kind
    assert got.get("paths") == paths


def test_expand_paths_globs_dedupes_and_reports_empty_patterns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    for name in ("b.onnx", "a.onnx", "c.gguf"):
        (tmp_path / "models" / name).write_bytes(b"x")
    (tmp_path / "models" / "dir.onnx").mkdir()
    paths, empty = expand_paths(["models/*.onnx", "./models/a.onnx", "models/*.h5", "x.pt"])
    assert paths == ["models/a.onnx", "models/b.onnx", "x.pt"]
    assert empty == ["models/*.h5"]
    assert file_key("wf-1", "/m/a.onnx") != file_key("wf-1", "/m/b.onnx")
    assert file_key("wf-1", "/m/a.onnx").startswith("wf-1:file:")


async def test_one_plan_one_gate_then_largest_first_and_a_failure_stops_no_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sizes = {"mid.safetensors": 0.6, "big.safetensors": 1.2, "small.safetensors": 0.2}
    for name, mb in sizes.items():
        make_model_file(tmp_path / "models" / name, "safetensors", size_mb=mb)
    make_model_file(tmp_path / "models" / "gone.safetensors", "safetensors", size_mb=0.9)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", chunk_size_mib=0.25, bulk_concurrency=1
    )
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _send(assistant, thread, "upload ./models/*.safetensors")
        gates = [e for e in events if isinstance(e, GateEvent)]
        assert len(gates) == 1 and gates[0].gate == "upload"
        assert gates[0].data["count"] == 4
        plan = _data(events, "bulk_plan")[0]
        files = plan["plan_files"]
        assert isinstance(files, list)
        assert [f["file_name"] for f in files] == [
            "big.safetensors",
            "gone.safetensors",
            "mid.safetensors",
            "small.safetensors",
        ]
        assert plan["total_cost_frost"] == sum(f["cost_frost"] for f in files)
        assert all(f["upload_eta_s"] is not None and f["verify_eta_s"] is not None for f in files)
        # The file disappears between the plan and the approval: only it fails.
        (tmp_path / "models" / "gone.safetensors").unlink()
        events = await _send(assistant, thread, "yes")
        finished = [
            str(d["file_name"])
            for e in events
            if isinstance(e, TextEvent)
            if e.kind in ("bulk_file_done", "bulk_file_failed")
            for d in [e.data]
        ]
        assert finished == [
            "big.safetensors",
            "gone.safetensors",
            "mid.safetensors",
            "small.safetensors",
        ]
        failed = _data(events, "bulk_file_failed")
        assert [(f["file_name"], f["stage"], f["error_code"]) for f in failed] == [
            ("gone.safetensors", "upload", "file_problem")
        ]
        tasks = {e.task for e in events if isinstance(e, ProgressEvent)}
        assert {
            "upload:big.safetensors",
            "upload:mid.safetensors",
            "upload:small.safetensors",
        } <= tasks
        summary = _data(events, "bulk_summary")[0]
        assert (summary["done"], summary["failed"], summary["total"]) == (3, 1, 4)
        view = await assistant.state(thread)
        assert view.gate is None and view.status == "completed"
        done = [f for f in view.context["bulk"] if f["status"] == "done"]
        for f in done:  # each model is on the ledger, verified, with the uploaded digest
            obj = await assistant.services.ledger.get_object(f["model_id"])
            assert obj.fields["model_digest"] == f["sha256"]
            assert obj.fields["model_blob_id"] == f["manifest_blob_id"]


async def test_files_upload_in_parallel_up_to_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        make_model_file(tmp_path / f"m{i}.safetensors", "safetensors", size_mb=0.3, seed=i)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", mode="auto", bulk_concurrency=3
    )
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _send(
            assistant, thread, "bulk upload m0.safetensors m1.safetensors m2.safetensors"
        )
        assert "auto_approved" in _kinds(events)
        assert not any(isinstance(e, GateEvent) for e in events)
        # All three uploads started before the first one was done.
        order = [
            ("progress", e.task)
            if isinstance(e, ProgressEvent)
            else ("done", str(e.data["file_name"]))
            for e in events
            if isinstance(e, ProgressEvent)
            or (isinstance(e, TextEvent) and e.kind == "bulk_file_done")
        ]
        first_done = next(i for i, (what, _) in enumerate(order) if what == "done")
        started = {task for what, task in order[:first_done] if what == "progress"}
        assert len(started) == 3, order
        assert _data(events, "bulk_summary")[0]["done"] == 3


async def test_auto_mode_cap_applies_to_the_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        make_model_file(tmp_path / f"m{i}.onnx", "onnx", size_mb=0.2, seed=i)
    settings = Settings(_env_file=None, home=tmp_path / "home", mode="auto")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _send(assistant, thread, "bulk upload m0.onnx")
        one = int(str(_data(events, "bulk_plan")[0]["total_cost_frost"]))
    # A cap above any one file's cost but below the three together: the gate is asked.
    cap_wal = (one * 2) / 10**9
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home2", mode="auto", auto_cap_wal=cap_wal
    )
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _send(assistant, thread, "bulk upload m0.onnx m1.onnx m2.onnx")
        assert "auto_cap_exceeded" in _kinds(events)
        assert [e.gate for e in events if isinstance(e, GateEvent)] == ["upload"]
        events = await _send(assistant, thread, "no")
        assert "bulk_declined" in _kinds(events)
        view = await assistant.state(thread)
        assert view.status == "cancelled"
        assert all(f["status"] == "planned" for f in view.context["bulk"])


async def test_beginners_get_a_note_and_can_still_proceed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "a.onnx", "onnx", size_mb=0.1)
    make_model_file(tmp_path / "notes.txt", "garbage", size_mb=0.01)
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _send(assistant, thread, "I'm new here, bulk upload a.onnx ./notes.txt")
        kinds = _kinds(events)
        assert kinds[:2] == ["bulk_beginner_note", "bulk_plan"]
        text = "\n".join(e.text for e in events if isinstance(e, TextEvent))
        assert "notes.txt: skipped: notes.txt is not a model format" in text
        events = await _send(assistant, thread, "yes")
        assert _data(events, "bulk_summary")[0]["done"] == 1


async def test_runner_checks_bulk_entries_and_absent_files(tmp_path: Path) -> None:
    journey = Journey.model_validate(
        {
            "name": "runner checks",
            "settings": {"mode": "auto"},
            "files": [{"name": "a.onnx", "kind": "onnx", "size_mb": 0.1}],
            "turns": [
                {
                    "say": "bulk upload a.onnx b.onnx",
                    "expect": {
                        "bulk": {"a.onnx": {"status": "failed"}, "c.onnx": {"status": "done"}},
                        "files_absent": ["*.onnx"],
                    },
                }
            ],
        }
    )
    report = await run_journey(journey, workdir=tmp_path)
    failures = report.turns[0].failures
    assert "bulk.a.onnx.status: expected 'failed', got 'done'" in failures
    assert any(f.startswith("bulk: no entry for 'c.onnx'") for f in failures)
    assert any(f.startswith("files_absent: '*.onnx' matches") for f in failures)
    assert len(failures) == 3, failures


async def test_one_listing_failing_stops_no_other_and_retry_with_nothing_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        make_model_file(tmp_path / f"m{i}.onnx", "onnx", size_mb=0.1 + 0.1 * i, seed=i)
    settings = Settings(_env_file=None, home=tmp_path / "home", user="ines")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("ines")
        await _send(assistant, thread, "bulk upload m0.onnx m1.onnx m2.onnx")
        events = await _send(assistant, thread, "yes")
        assert "bulk_next_list" in _kinds(events)
        events = await _send(assistant, thread, "retry")
        assert _kinds(events) == ["bulk_nothing_to_retry"]
        events = await _send(assistant, thread, "list them")
        gates = [e for e in events if isinstance(e, GateEvent)]
        assert [g.gate for g in gates] == ["listing"] and gates[0].data["count"] == 3
        rows = gates[0].data["listing_files"]
        assert isinstance(rows, list)
        assert gates[0].data["total_price_mist"] == sum(r["price_mist"] for r in rows)
        assert all(
            r["title"] and r["price_low_mist"] <= r["price_mist"] <= r["price_high_mist"]
            for r in rows
        )
        # Another client lists m1 first: its pending model is gone when the bulk listing runs.
        view = await assistant.state(thread)
        m1 = next(f for f in view.context["bulk"] if f["file_name"] == "m1.onnx")
        services = assistant.services
        wallet = await services.wallet_for("ines")
        await services.ledger.list_on_marketplace(
            wallet, m1["model_id"], m1["verification_id"], request_id="elsewhere"
        )
        events = await _send(assistant, thread, "yes")
        failed = _data(events, "bulk_file_list_failed")
        assert [f["file_name"] for f in failed] == ["m1.onnx"]
        assert sorted(str(d["file_name"]) for d in _data(events, "bulk_file_listed")) == [
            "m0.onnx",
            "m2.onnx",
        ]
        summary = _data(events, "bulk_list_summary")[0]
        assert (summary["listed"], summary["failed"], summary["total"]) == (2, 1, 3)
        assert "bulk_next_relist" in _kinds(events)
        view = await assistant.state(thread)
        for f in view.context["bulk"]:
            if f["file_name"] == "m1.onnx":
                assert "listing_id" not in f and f["list_error_code"]
                continue
            obj = await services.ledger.get_object(f["listing_id"])
            assert obj.type.endswith("::MarketplaceModel")
            assert obj.fields["price"] == f["price_mist"]
            assert obj.fields["title"] == f["title"]


def test_list_them_and_bulk_prices_are_understood() -> None:
    rules = RuleInterpreter()
    assert rules.interpret("list them")["kind"] == "list"
    assert rules.interpret("list all")["kind"] == "list"
    assert rules.interpret("list all models")["kind"] == "browse"
    every = rules.interpret("make them all 2 SUI", at_gate=True)
    assert (every["kind"], every["price_mist"], every.get("paths")) == (
        "set_price",
        2_000_000_000,
        None,
    )
    one = rules.interpret("price tiny.onnx 3 SUI", at_gate=True)
    assert (one["kind"], one["price_mist"], one.get("paths")) == (
        "set_price",
        3_000_000_000,
        ["tiny.onnx"],
    )


async def test_per_file_edits_at_the_bulk_gate_are_checked_shown_and_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "tiny.onnx", "onnx", size_mb=0.1, seed=1)
    make_model_file(tmp_path / "tiny.safetensors", "safetensors", size_mb=0.1, seed=2)
    make_model_file(tmp_path / "bert.onnx", "onnx", size_mb=0.2, seed=3)
    settings = Settings(_env_file=None, home=tmp_path / "home", user="ines")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("ines")
        await _send(assistant, thread, "bulk upload tiny.onnx tiny.safetensors bert.onnx")
        await _send(assistant, thread, "yes")
        events = await _send(assistant, thread, "list them")
        assert [e.gate for e in events if isinstance(e, GateEvent)] == ["listing"]

        async def at_gate(text: str) -> tuple[list[str], str, dict[str, dict[str, object]]]:
            """Send one answer: the reply kinds, their text, and the files the gate asks about."""
            got = await _send(assistant, thread, text)
            gates = [e for e in got if isinstance(e, GateEvent)]
            assert [g.gate for g in gates] == ["listing"], f"{text!r}: the gate is asked again"
            rows = gates[0].data["listing_files"]
            assert isinstance(rows, list)
            said = "\n".join(e.text for e in got if isinstance(e, TextEvent))
            return _kinds(got), said, {str(r["file_name"]): r for r in rows}

        kinds, said, rows = await at_gate("title tiny.onnx: Tiny classifier")
        assert kinds == ["bulk_listing_edited"]
        assert 'Updated tiny.onnx: title "Tiny classifier"' in said
        assert 'tiny.onnx: "Tiny classifier"' in said  # the plan, shown again with it
        assert rows["tiny.onnx"]["title"] == "Tiny classifier"
        assert rows["tiny.safetensors"]["title"] == "Tiny"  # the other "tiny" is untouched
        _, said, rows = await at_gate("add tag vision to tiny.onnx")
        assert "Updated tiny.onnx: tag vision added" in said
        assert rows["tiny.onnx"]["tags"] == ["onnx", "tee-verified", "vision"]
        _, said, rows = await at_gate("tags bert.onnx: NLP, Small, nlp")
        assert rows["bert.onnx"]["tags"] == ["nlp", "small"]
        _, said, rows = await at_gate("remove tag small from bert.onnx")
        assert rows["bert.onnx"]["tags"] == ["nlp"]
        _, said, rows = await at_gate("set description of bert.onnx to Sentence embeddings.")
        assert rows["bert.onnx"]["description"] == "Sentence embeddings."
        before = rows
        # Refused, with the reason; nothing changes and the gate asks again.
        for text, reason in [
            ("title tiny.onnx:", "tiny.onnx: A listing needs a title"),
            ("title bert.onnx: " + "x" * 81, "bert.onnx: A title is at most 80 characters"),
            ("remove tag gpu from bert.onnx", "bert.onnx: There is no tag 'gpu'"),
            (
                "title nothing.onnx: X",
                "No model called nothing.onnx in this listing; "
                "they are: tiny.safetensors, bert.onnx, tiny.onnx",
            ),
            (
                "title tiny: X",
                "tiny could be any of tiny.safetensors, tiny.onnx; say which by its full file name",
            ),
            ("title: X", "Say which model to change"),
        ]:
            kinds, said, rows = await at_gate(text)
            assert kinds == ["listing_edit_problem"], text
            assert reason in said, said
            assert rows == before, text
        events = await _send(assistant, thread, "yes")
        assert _data(events, "bulk_list_summary")[0]["listed"] == 3
        view = await assistant.state(thread)
        listed = {f["file_name"]: f for f in view.context["bulk"]}
        ledger = assistant.services.ledger
        tiny = (await ledger.get_object(listed["tiny.onnx"]["listing_id"])).fields
        assert (tiny["title"], tiny["tags"]) == (
            "Tiny classifier",
            ["onnx", "tee-verified", "vision"],
        )
        bert = (await ledger.get_object(listed["bert.onnx"]["listing_id"])).fields
        assert (bert["description"], bert["tags"]) == ("Sentence embeddings.", ["nlp"])
        other = (await ledger.get_object(listed["tiny.safetensors"]["listing_id"])).fields
        assert other["title"] == "Tiny"


async def test_an_edit_said_before_list_them_shows_in_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "a.onnx", "onnx", size_mb=0.1, seed=1)
    make_model_file(tmp_path / "b.onnx", "onnx", size_mb=0.1, seed=2)
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _send(assistant, thread, "bulk upload a.onnx b.onnx")
        await _send(assistant, thread, "yes")
        events = await _send(assistant, thread, "title b.onnx: Model B")
        plan = _data(events, "bulk_listing_plan")[0]["listing_files"]
        assert isinstance(plan, list)
        assert {r["file_name"]: r["title"] for r in plan} == {"a.onnx": "A", "b.onnx": "Model B"}


async def test_edits_are_refused_where_the_terms_are_fixed_at_upload(tmp_path: Path) -> None:
    journey = Journey.model_validate(
        {
            "name": "bulk edits on fixed terms",
            "files": [
                {"name": "a.onnx", "kind": "onnx", "size_mb": 0.1},
                {"name": "b.safetensors", "kind": "safetensors", "size_mb": 0.1},
            ],
            "faults": {"ledger": {"terms_fixed_at_upload": True}},
            "turns": [
                {"say": "bulk upload a.onnx b.safetensors", "expect": {"gate": "upload"}},
                {"say": "yes"},
                {"say": "list them", "expect": {"gate": "listing"}},
                {
                    "say": "title a.onnx: Other",
                    "expect": {
                        "gate": "listing",
                        "reply_kinds": ["listing_terms_fixed"],
                        "reply_contains": ["the title cannot be changed any more"],
                        "reply_not_contains": ["Updated a.onnx"],
                        "bulk": {"a.onnx": {"title": "A"}},
                    },
                },
                {
                    "say": "add tag vision to b.safetensors",
                    "expect": {
                        "gate": "listing",
                        "reply_contains": ["the tags cannot be changed any more"],
                    },
                },
                {
                    "say": "yes",
                    "expect": {
                        "status": "completed",
                        "ledger": {
                            "file": "a.onnx",
                            "object": "listing_id",
                            "fields": {"title": "A"},
                        },
                    },
                },
            ],
        }
    )
    report = await run_journey(journey, workdir=tmp_path)
    assert report.ok, report.summary()


async def test_each_file_is_a_sub_journey_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk upload sends every file to ``bulk_file`` (one LangGraph ``Send`` each), which
    takes it through the single upload's steps; ``bulk_join`` gathers their outcomes."""
    monkeypatch.chdir(tmp_path)
    names = [f"m{i}.safetensors" for i in range(3)]
    for i, name in enumerate(names):
        make_model_file(tmp_path / name, "safetensors", size_mb=0.2 + 0.1 * i, seed=i)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", mode="auto", bulk_concurrency=2
    )
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _send(assistant, thread, "bulk upload " + " ".join(names))
        assert _data(events, "bulk_summary")[0]["done"] == 3
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        history = [snap async for snap in assistant.graph.aget_state_history(config)]
        sent = [t for snap in history for t in snap.tasks if t.name == "bulk_file"]
        assert len(sent) == 3, [t.name for snap in history for t in snap.tasks]
        # each sub-journey wrote its own file's outcome (nothing left ungathered)
        outcomes = [t.result for t in sent]
        assert all(isinstance(r, dict) and len(r["bulk_outcomes"]) == 1 for r in outcomes)
        view = await assistant.state(thread)
        assert sorted(f["file_name"] for f in view.context["bulk"]) == names
        assert all(f["status"] == "done" for f in view.context["bulk"])
        latest = await assistant.graph.aget_state(config)
        assert not latest.values.get("bulk_outcomes")
