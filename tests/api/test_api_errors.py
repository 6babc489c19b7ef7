"""What integrators get wrong gets a documented status and a {detail, code, hint} body."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import ServerThread, read_sse

from agent.server import ServerSettings

ERROR_KEYS = {"detail", "code", "hint"}


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = ServerThread(
        tmp_path_factory.mktemp("errors-home"), ServerSettings(max_upload_bytes=200_000)
    ).start()
    yield srv
    srv.stop()


def _is_error(body: object, code: str) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == ERROR_KEYS
        and body["code"] == code
        and all(isinstance(body[k], str) and body[k] for k in ERROR_KEYS)
    )


def test_malformed_and_misshapen_bodies(small_server: ServerThread) -> None:
    with small_server.client("shaper") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        headers = {"content-type": "application/json"}
        r = c.post("/threads", content=b"{bad", headers=headers)
        assert r.status_code == 400 and _is_error(r.json(), "bad_json"), r.text
        r = c.post(f"/threads/{tid}/runs", content=b'{"input": ', headers=headers)
        assert r.status_code == 400 and _is_error(r.json(), "bad_json"), r.text
        secret = "sk-satya-pasted-in-the-wrong-place"
        for body in ({"input": secret}, [1, 2], {"input": {"message": 5}}):
            r = c.post(f"/threads/{tid}/runs", json=body)
            assert r.status_code == 422 and _is_error(r.json(), "invalid_request"), r.text
            assert secret not in r.text  # what was sent is never echoed back
        assert (
            "body.input" in c.post(f"/threads/{tid}/runs", json={"input": secret}).json()["detail"]
        )
        r = c.get(f"/threads/{tid}/runs", params={"limit": "abc"})
        assert r.status_code == 422 and _is_error(r.json(), "invalid_request")
        assert "query.limit" in r.json()["detail"]
        # nothing was started by any of them
        assert c.get(f"/threads/{tid}/runs").json() == []


def test_openapi_documents_the_error_shape_for_422(small_server: ServerThread) -> None:
    doc = small_server.client().get("/openapi.json").json()
    run = doc["paths"]["/threads/{thread_id}/runs"]["post"]["responses"]
    assert run["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_upload_over_the_limit_speaks_of_the_file(small_server: ServerThread) -> None:
    with small_server.client("big-sender") as c:
        r = c.post("/uploads", files={"file": ("m.safetensors", b"\0" * 300_000)})
        assert r.status_code == 413 and _is_error(r.json(), "upload_too_large"), r.text
        assert "200000 bytes" in r.json()["detail"]  # the configured limit, not limit + framing
        assert "POST /uploads" not in r.json()["hint"]
        ok = c.post("/uploads", files={"file": ("m.safetensors", b"\0" * 150_000)})
        assert ok.status_code == 201, ok.text


def test_an_upload_named_part_is_refused_saying_why(small_server: ServerThread) -> None:
    """A .part name is how the server marks a file still arriving: taking one gave 201 and
    an upload nothing could use."""
    with small_server.client("partial-sender") as c:
        for name in ("x.part", "model.safetensors.PART"):
            r = c.post("/uploads", files={"file": (name, b"\0" * 1000)})
            assert r.status_code == 400 and _is_error(r.json(), "partial_file"), r.text
            assert "unfinished download" in r.json()["detail"]
            assert "complete file" in r.json()["hint"]
        received = small_server.app.state.satya.access.user_uploads("partial-sender")
        assert not received.exists() or not any(p.is_file() for p in received.rglob("*"))


def test_not_found_hints_fit_what_was_missing(small_server: ServerThread) -> None:
    with small_server.client("hinted") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        r = c.post(f"/threads/{tid}/runs", json={"input": {"upload_id": "nosuchupload1"}})
        assert r.status_code == 404 and _is_error(r.json(), "not_found")
        assert "POST /uploads" in r.json()["hint"]
        r = c.get(f"/threads/{tid}/runs/no-such-run")
        assert r.status_code == 404 and "/threads/{thread_id}/runs" in r.json()["hint"]


def test_a_run_whose_worker_died_ends_with_an_error_for_its_followers(
    small_server: ServerThread,
) -> None:
    """A worker killed mid-run leaves its run 'running' with an old heartbeat and a log
    cut short: whoever follows it then gets an error and the end, and the thread goes on."""
    from agent.server.rundb import STALE_AFTER_S, RunRecord

    backend = small_server.app.state.satya
    with small_server.client("orphaned") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        then = time.time() - STALE_AFTER_S - 5
        dead = RunRecord(
            run_id=str(uuid.uuid4()),
            thread_id=tid,
            user_id="orphaned",
            status="running",
            kind="user",
            created_at=then,
            updated_at=then,
            heartbeat=then,
            worker="gone-host:1:abc",
            metadata={},
            modes=["values", "updates", "custom"],
        )
        small_server.call(backend.runs.db.insert(dead))
        started = [(dead.run_id, 1, "metadata", {"run_id": dead.run_id, "attempt": 1})]
        started.append((dead.run_id, 2, "custom", {"type": "phase", "phase": "upload"}))
        small_server.call(backend.runs.db.append_many(started))
        base = f"/threads/{tid}/runs/{dead.run_id}"
        with c.stream("GET", f"{base}/stream", headers={"Last-Event-ID": "1"}) as r:
            events = list(read_sse(r))
        assert [(e.id, e.event) for e in events] == [("2", "custom"), ("3", "error"), ("4", "end")]
        assert '{"input": {"message": "resume"}}' in events[1].data["message"]
        assert c.get(base).json()["status"] == "error"
        # a second follower reads the same closing events, written once
        with c.stream("GET", f"{base}/stream", headers={"Last-Event-ID": "2"}) as r:
            assert [e.event for e in read_sse(r)] == ["error", "end"]
        assert c.get(f"/threads/{tid}").json()["status"] == "idle"
        again = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "help"}})
        assert again.status_code == 200, again.text

        # a new turn on the thread before anyone followed the dead run closes it the same way
        then = time.time() - STALE_AFTER_S - 5
        other = dataclasses.replace(dead, run_id=str(uuid.uuid4()), created_at=then)
        small_server.call(backend.runs.db.insert(other))
        assert c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "help"}}).is_success
        with c.stream("GET", f"/threads/{tid}/runs/{other.run_id}/stream") as r:
            assert [e.event for e in read_sse(r)] == ["error", "end"]
        assert c.get(f"/threads/{tid}/runs/{other.run_id}").json()["status"] == "error"


def test_a_second_run_at_once_is_409_naming_the_run_to_wait_for(
    small_server: ServerThread,
) -> None:
    from agent.server.rundb import RunRecord

    backend = small_server.app.state.satya
    with small_server.client("twice") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        now = time.time()
        going = RunRecord(  # a turn going on (on some worker), beating
            run_id=str(uuid.uuid4()),
            thread_id=tid,
            user_id="twice",
            status="running",
            kind="user",
            created_at=now,
            updated_at=now,
            heartbeat=now + 600,
            worker="other-host:1:abc",
        )
        small_server.call(backend.runs.db.insert(going))
        r = c.post(f"/threads/{tid}/runs", json={"input": {"message": "help"}})
        assert r.status_code == 409 and _is_error(r.json(), "thread_busy")
        assert f"/threads/{tid}/runs/{going.run_id}/join" in r.json()["hint"]
        assert c.get(f"/threads/{tid}").json()["status"] == "busy"
        assert [x["run_id"] for x in c.get(f"/threads/{tid}/runs").json()] == [going.run_id]


def test_a_key_pasted_into_a_message_is_kept_nowhere(small_server: ServerThread) -> None:
    key = small_server.key("paster")
    secret = key.removeprefix("sk-satya-")
    with small_server.client(key=key) as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        said = c.post(
            f"/threads/{tid}/runs/wait",
            json={"input": {"messages": [{"role": "user", "content": f"my key is {key}, help"}]}},
        )
        assert said.status_code == 200, said.text
        assert secret not in said.text
        answer = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": f"sell {key}"}})
        assert answer.status_code in (200, 400) and secret not in answer.text
        # the conversation keeps the user's words as the Assistant got them: scrubbed
        messages = c.get(f"/threads/{tid}/state").json()["values"]["messages"]
        asked = [m["content"] for m in messages if m["type"] == "human"]
        assert asked[0] == "my key is [secret removed], help"
        assert asked[1:] in ([], ["sell [secret removed]"])
        assert any(m["type"] == "ai" for m in messages)
        seen = [c.get(f"/threads/{tid}").text, c.get(f"/threads/{tid}/state").text]
        seen.append(c.post(f"/threads/{tid}/history", json={}).text)
        for run in c.get(f"/threads/{tid}/runs").json():
            with c.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as r:
                seen.append(r.read().decode())
        assert all(secret not in text for text in seen)
        assert c.get(f"/threads/{tid}").status_code == 200  # the key itself still works
    stored = [p for p in small_server.home.rglob("*") if p.is_file()]
    assert stored and all(secret.encode() not in _bytes_if_still_there(p) for p in stored)


def _bytes_if_still_there(path: Path) -> bytes:
    """The server is still running: a temporary file may be renamed away after listing."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def test_a_chosen_thread_id_is_refused_not_ignored(small_server: ServerThread) -> None:
    """LangGraph clients may send thread_id; silently giving another id would lose the
    platform's mapping, so it is refused with what to do instead."""
    with small_server.client("chooser") as c:
        r = c.post("/threads", json={"thread_id": "conv-42", "if_exists": "do_nothing"})
        assert r.status_code == 400 and _is_error(r.json(), "thread_id_not_supported")
        assert "metadata" in r.json()["hint"]
        assert c.post("/threads/search", json={}).json() == []  # nothing was created
        made = c.post("/threads", json={"metadata": {"conversation": "conv-42"}})
        assert made.status_code == 200
        found = c.post("/threads/search", json={"metadata": {"conversation": "conv-42"}}).json()
        assert [t["thread_id"] for t in found] == [made.json()["thread_id"]]


def test_paths_refused_without_a_files_root_point_only_at_uploads(
    small_server: ServerThread,
) -> None:
    """No SATYA_SERVER_FILES_ROOT here: neither way of naming a path may suggest one."""
    with small_server.client("pathless") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        for body in (
            {"input": {"message": "upload", "path": "/etc/passwd"}},
            {"input": {"message": "upload /etc/passwd"}},
        ):
            r = c.post(f"/threads/{tid}/runs", json=body)
            assert r.status_code == 403 and _is_error(r.json(), "path_not_allowed"), r.text
            assert "files root" not in r.text and "POST /uploads" in r.json()["hint"]
            assert "passwd" in r.json()["detail"]
