"""Runs over real HTTP: a whole journey streamed over SSE, gates answered with
``command.resume``, reconnecting with Last-Event-ID, wait / join / get / list, cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread, Sse, read_sse, slowed, texts

from agent.journey_files import make_model_file
from agent.server import ServerSettings
from agent.server.streams import MODES
from agent.settings import Settings


def _upload(c: httpx.Client, path: Path) -> dict[str, object]:
    with path.open("rb") as fh:
        r = c.post("/uploads", files={"file": (path.name, fh, "application/octet-stream")})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _stream(c: httpx.Client, tid: str, body: dict[str, object]) -> list[Sse]:
    with c.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["location"].endswith("/stream")
        return list(read_sse(r))


def _gate(events: list[Sse]) -> dict[str, object] | None:
    for e in events:
        if e.event == "updates" and "__interrupt__" in e.data:
            return dict(e.data["__interrupt__"][0]["value"])
    return None


def test_whole_journey_over_sse(server: ServerThread, model_file: Path) -> None:
    with server.client("ana") as c:
        upload = _upload(c, model_file)
        assert upload["size"] == model_file.stat().st_size
        tid = c.post("/threads", json={}).json()["thread_id"]

        events = _stream(c, tid, {"input": {"messages": [{"role": "user", "content": "hello"}]}})
        assert events[0].event == "metadata" and events[-1].event == "end"
        assert [int(e.id or 0) for e in events] == list(range(1, len(events) + 1))
        assert texts(events)

        events = _stream(c, tid, {"input": {"message": "upload", "upload_id": upload["upload_id"]}})
        gate = _gate(events)
        assert gate is not None and gate["gate"] == "upload"
        values = [e for e in events if e.event == "values"][-1].data
        assert values["__interrupt__"][0]["value"]["gate"] == "upload"
        thread = c.get(f"/threads/{tid}").json()
        assert thread["status"] == "interrupted" and thread["interrupts"]

        events = _stream(c, tid, {"command": {"resume": True}})
        progress = [e.data for e in events if e.event == "custom" and e.data["type"] == "progress"]
        assert {p["task"] for p in progress} >= {"upload", "verification"}
        assert "verification_passed" in texts(events)
        gate = _gate(events)
        assert gate is not None and gate["gate"] == "listing"

        events = _stream(c, tid, {"command": {"resume": "make it 2 SUI"}, "stream_mode": "custom"})
        assert {e.event for e in events} <= {"metadata", "custom", "end"}
        events = _stream(c, tid, {"command": {"resume": {"answer": "yes"}}})
        assert "listed" in texts(events)
        final = [e for e in events if e.event == "values"][-1].data
        assert final["context"]["listing_id"].startswith("0x")
        assert "__interrupt__" not in final
        assert c.get(f"/threads/{tid}").json()["status"] == "idle"

        runs = c.get(f"/threads/{tid}/runs", params={"limit": 100}).json()
        assert len(runs) == 5 and all(r["status"] == "success" for r in runs)


def test_reconnect_with_last_event_id_misses_nothing(server: ServerThread) -> None:
    with server.client("rei") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        run = c.post(f"/threads/{tid}/runs", json={"input": {"message": "I'm new here"}}).json()
        assert run["status"] in ("pending", "running", "success")
        path = f"/threads/{tid}/runs/{run['run_id']}/stream"
        with c.stream("GET", path) as r:
            first = list(read_sse(r, stop_after=3))  # then the connection drops
        with c.stream("GET", path, headers={"Last-Event-ID": first[-1].id or ""}) as r:
            rest = list(read_sse(r))
        with c.stream("GET", path) as r:
            whole = list(read_sse(r))
    assert [e.id for e in first + rest] == [e.id for e in whole]
    assert [e.data for e in first + rest] == [e.data for e in whole]
    assert whole[-1].event == "end" and len(whole) > 4


def test_wait_join_get_list_and_errors(server: ServerThread) -> None:
    with server.client("wim") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        run = c.post(f"/threads/{tid}/runs", json={"input": {"message": "help"}}).json()
        joined = c.get(f"/threads/{tid}/runs/{run['run_id']}/join")
        assert joined.status_code == 200 and joined.json()["user_id"] == "wim"
        got = c.get(f"/threads/{tid}/runs/{run['run_id']}").json()
        assert got["status"] == "success" and got["thread_id"] == tid
        # cancelling a finished run changes nothing
        assert c.post(f"/threads/{tid}/runs/{run['run_id']}/cancel").json()["status"] == "success"
        listed = c.get(f"/threads/{tid}/runs").json()
        assert [r["run_id"] for r in listed] == [run["run_id"]]

        r = c.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}})
        assert r.status_code == 409 and r.json()["code"] == "no_pending_gate"
        r = c.post(f"/threads/{tid}/runs/wait", json={})
        assert r.status_code == 400 and r.json()["hint"]
        r = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "   "}})
        assert r.status_code == 400
        r = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": 5}})
        assert r.status_code == 422
        assert c.get(f"/threads/{tid}/runs/not-a-run").status_code == 404


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    home = tmp_path_factory.mktemp("slow-home")
    settings = Settings(home=home, chunk_size_mib=0.05, upload_concurrency=1)
    srv = ServerThread(
        home, ServerSettings(), settings=settings, assistant_factory=slowed(storage_delay_s=0.25)
    ).start()
    yield srv
    srv.stop()


def test_cancel_a_running_upload_then_continue(slow_server: ServerThread, tmp_path: Path) -> None:
    model = make_model_file(tmp_path / "slow.safetensors", "safetensors", size_mb=0.6)
    with slow_server.client("cat") as c:
        upload = _upload(c, model)
        tid = c.post("/threads", json={}).json()["thread_id"]
        c.post(
            f"/threads/{tid}/runs/wait",
            json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
        )
        run = c.post(f"/threads/{tid}/runs", json={"command": {"resume": "yes"}}).json()
        with c.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as r:
            for e in read_sse(r):
                if e.event == "custom" and e.data["type"] == "progress":
                    break  # the upload is under way
        busy = c.post(f"/threads/{tid}/runs", json={"input": {"message": "check status"}})
        assert busy.status_code == 409 and busy.json()["code"] == "thread_busy"
        started = time.monotonic()
        cancelled = c.post(f"/threads/{tid}/runs/{run['run_id']}/cancel").json()
        assert cancelled["status"] == "interrupted"
        assert time.monotonic() - started < 5
        assert c.get(f"/threads/{tid}").json()["status"] != "busy"
        with c.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as r:
            assert [e.event for e in read_sse(r)][-1] == "end"
        # the thread goes on: a new run is accepted
        after = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "check status"}})
        assert after.status_code == 200, after.text


def test_stream_with_on_disconnect_cancel_stops_the_run(
    slow_server: ServerThread, tmp_path: Path
) -> None:
    model = make_model_file(tmp_path / "gone.safetensors", "safetensors", size_mb=0.6)
    with slow_server.client("dora") as c:
        upload = _upload(c, model)
        tid = c.post("/threads", json={}).json()["thread_id"]
        c.post(
            f"/threads/{tid}/runs/wait",
            json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
        )
        body = {"command": {"resume": "yes"}, "on_disconnect": "cancel"}
        with c.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
            run_id = r.headers["content-location"].rsplit("/", 1)[-1]
            for e in read_sse(r):
                if e.event == "custom" and e.data["type"] == "progress":
                    break  # the client goes away mid-upload
        deadline = time.monotonic() + 10
        while c.get(f"/threads/{tid}/runs/{run_id}").json()["status"] in ("pending", "running"):
            assert time.monotonic() < deadline, "the run went on after its client left"
            time.sleep(0.05)
        assert c.get(f"/threads/{tid}/runs/{run_id}").json()["status"] == "interrupted"


def test_a_run_may_name_an_earlier_question_by_its_checkpoint(
    server: ServerThread, model_file: Path
) -> None:
    with server.client("ugo") as c:
        upload = _upload(c, model_file)
        tid = c.post("/threads", json={}).json()["thread_id"]
        _stream(c, tid, {"input": {"message": "upload", "upload_id": upload["upload_id"]}})
        upload_gate = c.get(f"/threads/{tid}/state").json()["checkpoint"]["checkpoint_id"]
        assert _gate(_stream(c, tid, {"command": {"resume": True}})) is not None
        draft = c.get(f"/threads/{tid}/state").json()
        first_price = draft["values"]["context"]["price_mist"]
        _stream(c, tid, {"command": {"resume": "make it 3 SUI"}})
        assert c.get(f"/threads/{tid}/state").json()["values"]["context"]["price_mist"] == 3 * 10**9

        # Back to the draft as first proposed (LangGraph's 'checkpoint' form), and list it.
        checkpoint = {"thread_id": tid, "checkpoint_id": draft["checkpoint"]["checkpoint_id"]}
        events = _stream(
            c,
            tid,
            {
                "command": {"resume": "yes"},
                "checkpoint": checkpoint,
                "stream_mode": ["updates", "custom", "values"],
            },
        )
        assert "went_back" in texts(events) and "listed" in texts(events)
        steps = [node for e in events if e.event == "updates" for node in e.data]
        assert "list_model" in steps  # the fork's steps are streamed as any run's
        final = [e for e in events if e.event == "values"][-1].data
        assert final["context"]["price_mist"] == first_price

        # The upload question lies before the upload and the listing: refused, nothing runs.
        events = _stream(c, tid, {"input": {"message": "yes"}, "checkpoint_id": upload_gate})
        assert texts(events) == ["undo_refused"]
        state = c.get(f"/threads/{tid}/state").json()
        assert state["values"]["context"]["listing_id"] == final["context"]["listing_id"]


def test_a_quiet_stream_is_kept_open_with_pings(tmp_path: Path, model_file: Path) -> None:
    """While a step runs without events (verification), the stream sends ``: keep-alive``
    comments (sse-starlette's ping) every ``keepalive_s``; the events around them are whole."""
    srv = ServerThread(
        tmp_path,
        ServerSettings(keepalive_s=0.3),
        assistant_factory=slowed(verify_min_s=2.0),
    ).start()
    try:
        with srv.client("quiet") as c:
            upload = _upload(c, model_file)
            tid = c.post("/threads", json={}).json()["thread_id"]
            _stream(c, tid, {"input": {"message": "upload", "upload_id": upload["upload_id"]}})
            body = {"command": {"resume": True}, "stream_mode": ["custom"]}
            with c.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
                raw = "".join(r.iter_text())
        assert raw.count(": keep-alive") >= 3
        frames = [f for f in raw.split("\n\n") if f.strip()]
        pings = [f for f in frames if f.startswith(": keep-alive")]
        assert all(f == ": keep-alive" for f in pings)  # a comment on its own, never inside
        events = [f for f in frames if not f.startswith(":")]
        assert events[0].startswith("id: 1\nevent: metadata") and "event: end" in events[-1]
    finally:
        srv.stop()


def test_a_streamed_end_finds_the_run_final(server: ServerThread) -> None:
    """A client that reads a run's ``end`` and asks for the run at once finds its final
    status (the status is written before the end is sent, not after)."""
    backend = server.app.state.satya

    async def follow() -> list[str]:
        thread_id = await backend.assistant.new_thread("enid")
        record = await backend.runs.start(
            user="enid", thread_id=thread_id, text="market analysis", metadata={}, modes=["custom"]
        )
        seen = []
        async for _, name, _ in backend.runs.events(record):
            if name == "end":
                now = await backend.runs.db.get(record.run_id)
                seen.append(now.status if now is not None else "gone")
        return seen

    for _ in range(3):
        assert server.call(follow()) == ["success"]


def test_a_join_takes_only_the_stream_modes_it_documents(server: ServerThread) -> None:
    """The join routes' stream_mode is an enum in the API description (empty: all modes,
    as LangGraph's Python client sends it); any other value is 422 with what to send."""
    with server.client("joan") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        run = c.post(f"/threads/{tid}/runs", json={"input": {"message": "help"}}).json()
        paths = [f"/threads/{tid}/runs/{run['run_id']}/stream", f"/runs/{run['run_id']}/stream"]
        doc = c.get("/openapi.json").json()
        for path in ("/threads/{thread_id}/runs/{run_id}/stream", "/runs/{run_id}/stream"):
            get = doc["paths"][path]["get"]
            (param,) = [p for p in get["parameters"] if p["name"] == "stream_mode"]
            items = param["schema"]["anyOf"][0]["items"]
            named = {v for part in items.get("anyOf", [items]) for v in part.get("enum", [])}
            named |= {part["const"] for part in items.get("anyOf", []) if "const" in part}
            assert named == {*MODES, ""}
            assert "422" in get["responses"]
        for path in paths:
            r = c.get(path, params={"stream_mode": ["custom", "\u00e9v\u00e9nements"]})
            assert r.status_code == 422, r.text
            body = r.json()
            assert body["code"] == "invalid_request" and "messages-tuple" in body["detail"]
            with c.stream("GET", path, params={"stream_mode": ""}) as r:
                every = [e.event for e in read_sse(r)]
            assert every[0] == "metadata" and every[-1] == "end" and "values" in every
            with c.stream("GET", path, params={"stream_mode": "custom"}) as r:
                some = {e.event for e in read_sse(r)}
            assert "custom" in some and "values" not in some


def test_a_run_stopped_while_it_finishes_still_ends(server: ServerThread) -> None:
    """Cancelling a run just as it ends (its last events being written; what interrupt and
    rollback do to the thread's current run) leaves it ended, and the thread free at once
    (not after the 30 s a dead worker's run takes to be freed)."""
    backend = server.app.state.satya

    async def stop_at_values() -> tuple[str, float]:
        thread_id = await backend.assistant.new_thread("fin")
        record = await backend.runs.start(
            user="fin", thread_id=thread_id, text="help", metadata={}, modes=["custom"]
        )
        async for _, name, _ in backend.runs.events(record):
            if name == "values":  # its last event: the run is writing its log now
                await backend.runs.cancel(record)
                break
        began = time.monotonic()
        ended = await backend.runs.join(record)
        nxt = await backend.runs.start(
            user="fin", thread_id=thread_id, text="help", metadata={}, modes=["values"]
        )
        await backend.runs.join(nxt)
        return ended.status, time.monotonic() - began

    for _ in range(3):
        status, took = server.call(stop_at_values())
        assert status in ("success", "interrupted") and took < 10
