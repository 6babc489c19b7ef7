"""Step events: every journey step and external call is recorded with the thread; insights
are figures recomputable from those records; spans follow one journey's tree."""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agent import Assistant, Settings, StepEvent, TextEvent
from agent.journey_faults import SlowVerifier
from agent.journey_files import make_model_file
from agent.wiring import build_services
from flows.insights import compute_insights, percentile
from flows.step_events import StepRecord
from integrations.storage.faults import FaultPlan, FaultyBlobStore


def _settings(home: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, home=home, user="ana", chunk_size_mib=0.5, verify_foreground_s=30
    )


@contextlib.asynccontextmanager
async def _open(
    settings: Settings,
    *,
    slow_verify_s: float = 0.0,
    full_storage: bool = False,
    tracer_provider: TracerProvider | None = None,
) -> AsyncIterator[Assistant]:
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        if slow_verify_s:
            services = dataclasses.replace(
                services, verifier=SlowVerifier(services.verifier, slow_verify_s)
            )
        if full_storage:
            services = dataclasses.replace(
                services,
                storage=FaultyBlobStore(services.storage, FaultPlan(insufficient_storage=True)),
            )
        yield await stack.enter_async_context(
            Assistant.open(settings, services=services, tracer_provider=tracer_provider)
        )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "good.safetensors", "safetensors", size_mb=1)
    make_model_file(tmp_path / "second.safetensors", "safetensors", size_mb=0.5, seed=1)
    make_model_file(tmp_path / "notes.bin", "garbage", size_mb=0.1)
    return tmp_path / "home"


async def _say(assistant: Assistant, thread: str, text: str) -> list[object]:
    return [e async for e in assistant.send(thread, text)]


async def test_a_mix_of_journeys_gives_insights_recomputable_from_the_records(
    home: Path,
) -> None:
    settings = _settings(home)
    async with _open(settings, slow_verify_s=1.5) as assistant:
        listed = await assistant.new_thread("ana")
        await _say(assistant, listed, "upload ./good.safetensors")
        events = await _say(assistant, listed, "yes")
        steps = [e for e in events if isinstance(e, StepEvent)]
        # typed events while it happens: the steps and the calls they made
        assert {"upload", "register", "verify_submit", "verify_monitor"} <= {
            e.name for e in steps if e.kind == "step"
        }
        upload = next(e for e in steps if e.name == "upload")
        assert upload.calls >= 2 and upload.bytes > 1_000_000  # chunks + manifest
        await _say(assistant, listed, "yes")  # the listing
        assert (await assistant.state(listed)).context.get("listing_id")
        wrong = await assistant.new_thread("ana")
        await _say(assistant, wrong, "upload ./notes.bin")
    async with _open(settings, full_storage=True) as assistant:  # storage refuses: it is full
        full = await assistant.new_thread("ana")
        await _say(assistant, full, "upload ./second.safetensors")
        await _say(assistant, full, "yes")
        assert (await assistant.state(full)).status == "failed"
        # durable with the thread: a new process reads what the earlier ones recorded
        records = await assistant.step_records("ana")
        said = await _say(assistant, full, "where do my uploads fail?")
    assert {r["thread_id"] for r in records} == {listed, wrong, full}
    # each call is a record of its own, summed into its step
    uploaded = next(r for r in records if r["name"] == "upload" and r["outcome"] == "ok")
    puts = [
        r
        for r in records
        if r["name"] == "storage.put_blob" and r["thread_id"] == listed and r["step"] == "upload"
    ]
    assert uploaded["calls"] == len(puts) and uploaded["bytes"] == sum(r["bytes"] for r in puts)

    report = compute_insights(records, scope="ana")
    failures = {(f["step"], f["code"]): f["count"] for f in report["failures"]}
    assert failures == {("assess", "invalid_format"): 1, ("upload", "insufficient_storage"): 1}
    # the slowest step is verification, with figures recomputed from the records
    slowest = report["slowest"][0]
    assert slowest["step"] == "verify_monitor"
    runs = [
        r["duration_s"]
        for r in records
        if r["kind"] == "step" and r["name"] == "verify_monitor" and r["outcome"] == "ok"
    ]
    assert runs and min(runs) > 1.0  # the enclave takes 1.5 s from the submission
    assert slowest["median_s"] == round(statistics.median(runs), 4)
    assert slowest["p95_s"] == round(percentile(runs, 0.95), 4)
    rates = {p["phase"]: p for p in report["phases"]}
    assert rates["pre_upload_assessment"]["failed"] == 1
    assert rates["upload"]["failed"] == 1 and rates["upload"]["ok"] >= 2  # upload + register
    assert rates["marketplace_listing"]["success_rate"] == 1.0
    u2l = report["upload_to_listing"]
    assert u2l["count"] == 1 and u2l["median_s"] is not None and float(u2l["median_s"]) > 1.0
    spent = {m["phase"]: m for m in report["money"]}
    # the local store reports no cost per blob: a finished upload counts its plan's cost
    paid = [r["cost_frost"] for r in records if r["phase"] == "upload" and r["cost_frost"]]
    assert len(paid) == 1 and spent["upload"]["frost"] == paid[0] > 0
    assert spent["upload"]["mist"] > 0  # gas of the registration

    text = "\n".join(e.text for e in said if isinstance(e, TextEvent) and e.kind == "insights")
    assert "most often at assessment (invalid_format, 1 time(s))" in text
    assert "Slowest step: verification" in text
    assert "Time from upload to listing" in text


async def test_recording_can_be_turned_off(home: Path) -> None:
    settings = _settings(home).model_copy(update={"step_events": False})
    async with _open(settings) as assistant:
        thread = await assistant.new_thread("ana")
        events = await _say(assistant, thread, "upload ./good.safetensors")
        assert not [e for e in events if isinstance(e, StepEvent)]
        assert await assistant.step_records("ana") == []


async def test_one_journey_makes_a_tree_of_spans(home: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with _open(_settings(home), tracer_provider=provider) as assistant:
        thread = await assistant.new_thread("ana")
        await _say(assistant, thread, "upload ./good.safetensors")
        await _say(assistant, thread, "yes")
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans if s.context is not None}

    def parent(span: ReadableSpan) -> ReadableSpan | None:
        return by_id.get(span.parent.span_id) if span.parent is not None else None

    turns = [s for s in spans if s.name == "satya.turn"]
    assert len(turns) == 2 and all(s.parent is None for s in turns)
    assert all(s.attributes and s.attributes["satya.thread_id"] == thread for s in spans)
    tree: dict[str, set[str]] = {}
    for span in spans:
        up = parent(span)
        if up is not None:
            tree.setdefault(up.name, set()).add(span.name)
    assert {"satya.step assess", "satya.step upload_gate"} <= tree["satya.turn"]
    assert {"satya.step upload", "satya.step register", "satya.step verify_monitor"} <= tree[
        "satya.turn"
    ]
    assert "satya.call storage.put_blob" in tree["satya.step upload"]
    assert "satya.call ledger.upload_model" in tree["satya.step register"]
    assert "satya.call enclave.submit" in tree["satya.step verify_submit"]
    assert "satya.call enclave.result" in tree["satya.step verify_monitor"]
    call = next(s for s in spans if s.name == "satya.call ledger.upload_model")
    assert call.attributes is not None and call.attributes["satya.outcome"] == "ok"


def _record(name: str, duration_s: float, estimate_s: float | None, n: int) -> StepRecord:
    return StepRecord(
        kind="step", name=name, step=name, phase="upload", thread_id="t", workflow_id=f"w{n}",
        user_id="ana", seq=n, started_at=1000.0 + n, duration_s=duration_s, outcome="ok",
        error_code="", attempt=1, bytes=0, cost_frost=0, cost_mist=0, estimate_s=estimate_s,
        file_name=f"m{n}.onnx", calls=0,
    )  # fmt: skip


def test_slow_runs_are_those_past_the_deadline_of_their_estimate() -> None:
    runs = [_record("upload", d, 10.0, n) for n, d in enumerate([8.0, 12.0, 31.0, 45.0])]
    report = compute_insights(runs, slow_factor=3.0, slow_min_s=40.0)
    # deadline max(40, 3 x 10) = 40 s: only the 45 s run
    assert [r["duration_s"] for r in report["slow_runs"]] == [45.0]
    upload = report["slowest"][0]
    assert upload["median_s"] == 21.5 and upload["p95_s"] == 45.0
    assert upload["estimate_median_s"] == 10.0 and upload["ratio_to_estimate"] == 2.15
