"""Over HTTP: a run after a cancelled run never carries an approval forward, and the
error or hint tells the client exactly which request goes on."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_harness import ServerThread, read_sse, slowed

from agent.journey_files import make_model_file
from agent.server import ServerSettings
from agent.settings import Settings


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    home = tmp_path_factory.mktemp("consent-home")
    settings = Settings(home=home, chunk_size_mib=0.05, upload_concurrency=1)
    limits = ServerSettings(rate_per_minute=60_000, rate_burst=10_000)  # the sequences are quick
    srv = ServerThread(
        home, limits, settings=settings, assistant_factory=slowed(storage_delay_s=0.3)
    ).start()
    yield srv
    srv.stop()


def _cancelled_mid_upload(c: httpx.Client, model: Path) -> str:
    with model.open("rb") as fh:
        upload = c.post("/uploads", files={"file": (model.name, fh)}).json()
    tid = c.post("/threads", json={}).json()["thread_id"]
    c.post(
        f"/threads/{tid}/runs/wait",
        json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
    )
    run_id = c.post(f"/threads/{tid}/runs", json={"command": {"resume": "yes"}}).json()["run_id"]
    with c.stream("GET", f"/threads/{tid}/runs/{run_id}/stream") as r:
        for e in read_sse(r):
            if e.event == "custom" and e.data["type"] == "progress":
                break
    assert c.post(f"/threads/{tid}/runs/{run_id}/cancel").json()["status"] == "interrupted"
    return str(tid)


def test_yes_after_a_cancelled_run_resumes_up_to_the_listing_question_only(
    slow_server: ServerThread, tmp_path: Path
) -> None:
    model = make_model_file(tmp_path / "c.safetensors", "safetensors", size_mb=0.2)
    with slow_server.client("cora") as c:
        tid = _cancelled_mid_upload(c, model)
        state = c.get(f"/threads/{tid}/state").json()
        assert state["journey"]["status"] == "paused"
        refused = c.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}})
        assert refused.status_code == 409
        hint = refused.json()["hint"]
        assert '{"input": {"message": "resume"}}' in hint
        turn = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "yes"}})
        assert turn.status_code == 200, turn.text
        state = c.get(f"/threads/{tid}/state").json()
        assert (state["journey"]["gate"] or {}).get("gate") == "listing"
        assert "listing_id" not in state["values"]["context"]


def test_cancel_after_a_cancelled_run_abandons_the_journey(
    slow_server: ServerThread, tmp_path: Path
) -> None:
    model = make_model_file(tmp_path / "d.safetensors", "safetensors", size_mb=0.2)
    with slow_server.client("dan") as c:
        tid = _cancelled_mid_upload(c, model)
        turn = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "cancel"}})
        assert turn.status_code == 200, turn.text
        said = " ".join(m["content"] for m in turn.json()["messages"] if m["type"] == "ai")
        assert "Cancelled" in said and "not refunded" in said
        state = c.get(f"/threads/{tid}/state").json()
        assert state["journey"]["status"] == "cancelled" and state["next"] == []
        assert "model_id" not in state["values"]["context"]


HTTP_RUNS = int(os.environ.get("SATYA_HTTP_PROPERTY_RUNS", "24"))
APPROVALS = ("yes", "go ahead", "sure", "ok")
OTHERS = ("ok, how much is that?", "yes if it's cheap", "resume", "cancel", "check status", "no")


def _state(c: httpx.Client, tid: str) -> dict[str, object]:
    r = c.get(f"/threads/{tid}/state")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _gate_now(c: httpx.Client, tid: str) -> str | None:
    state = _state(c, tid)
    return (state["journey"]["gate"] or {}).get("gate")  # type: ignore[index]


def test_random_sequences_over_http_never_pay_without_a_yes_at_the_gate(
    slow_server: ServerThread, tmp_path: Path
) -> None:
    model = make_model_file(tmp_path / "p.safetensors", "safetensors", size_mb=0.2)
    reached: set[str] = set()
    with slow_server.client("pat") as c, slow_server.client("mallory") as other:
        with model.open("rb") as fh:
            upload = c.post("/uploads", files={"file": (model.name, fh)}).json()
        for seed in range(HTTP_RUNS):
            rng = random.Random(seed)
            tid = c.post("/threads", json={}).json()["thread_id"]
            log = [f"seed {seed}"]
            approved: set[str] = set()
            c.post(
                f"/threads/{tid}/runs/wait",
                json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
            )
            for _ in range(6):
                gate = _gate_now(c, tid)
                text = rng.choice(APPROVALS if rng.random() < 0.5 else OTHERS)
                roll = rng.random()
                if roll < 0.1:  # someone else
                    r = other.post(f"/threads/{tid}/runs/wait", json={"input": {"message": text}})
                    assert r.status_code == 404, (log, r.text)
                    log.append(f"mallory: {text!r}")
                    continue
                if gate is not None and text in APPROVALS:
                    approved.add(gate)
                body = {"command": {"resume": text}} if gate and roll < 0.5 else None
                body = body or {"input": {"message": text}}
                if gate == "upload" and text in APPROVALS and roll < 0.75:
                    run = c.post(f"/threads/{tid}/runs", json=body).json()
                    with c.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as r:
                        for e in read_sse(r):
                            if e.event == "custom" and e.data.get("type") == "progress":
                                break
                    c.post(f"/threads/{tid}/runs/{run['run_id']}/cancel")
                    log.append(f"{text!r} at {gate}, cancelled")
                else:
                    r = c.post(f"/threads/{tid}/runs/wait", json=body)
                    log.append(f"{body} at {gate} -> {r.status_code}")
                    assert r.status_code in (200, 409), (log, r.text)
                state: dict[str, Any] = _state(c, tid)
                ctx = state["values"].get("context") or {}
                reached.add(state["journey"]["status"])
                if state["journey"]["gate"]:
                    reached.add(f"gate:{state['journey']['gate']['gate']}")
                if ctx.get("manifest_blob_id") or ctx.get("model_id"):
                    assert "upload" in approved, ("stored without a yes at the upload gate", log)
                if ctx.get("listing_id"):
                    reached.add("listed")
                    assert "listing" in approved, ("listed without a yes at the listing gate", log)
    assert {"gate:upload", "gate:listing", "paused"} <= reached, reached
