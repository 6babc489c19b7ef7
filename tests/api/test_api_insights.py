"""Insights and the notification stream over real loopback HTTP: a user's own figures with
their key, the platform's with an operator key, and marketplace events as they happen."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_harness import ServerThread, Sse, background_verification_server, read_sse

from agent.cli import main
from flows.insights import compute_insights, load_records


def _operator_key(server: ServerThread, user: str) -> str:
    return server.key(user, role="operator")


def _upload(c: httpx.Client, model: Path) -> str:
    with model.open("rb") as fh:
        return str(c.post("/uploads", files={"file": (model.name, fh)}).json()["upload_id"])


def _wait(c: httpx.Client, tid: str, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post(f"/threads/{tid}/runs/wait", json=body)
    assert r.status_code == 200, r.text
    values: dict[str, Any] = r.json()
    return values


def _list(c: httpx.Client, model: Path, price: str = "2 SUI") -> str:
    """Upload, verify and list a model over HTTP; its listing id."""
    tid = c.post("/threads", json={}).json()["thread_id"]
    _wait(c, tid, {"input": {"message": "upload", "upload_id": _upload(c, model)}})
    _wait(c, tid, {"command": {"resume": "yes"}})
    _wait(c, tid, {"command": {"resume": f"make it {price}"}})
    done = _wait(c, tid, {"command": {"resume": "yes"}})
    listing_id = str(done["context"]["listing_id"])
    assert listing_id.startswith("0x")
    return listing_id


def _buy(c: httpx.Client, listing_id: str) -> None:
    tid = c.post("/threads", json={}).json()["thread_id"]
    _wait(c, tid, {"input": {"message": f"buy {listing_id}"}})
    done = _wait(c, tid, {"command": {"resume": "yes"}})
    assert done["context"].get("purchase_id"), done["context"]


class Listener:
    """An open ``GET /notifications/stream``, read on a thread into a queue until it has
    ``count`` events; then it is closed."""

    def __init__(self, server: ServerThread, key: str, user: str, *, count: int = 1) -> None:
        self.server, self.user = server, user
        self.events: queue.Queue[Sse] = queue.Queue()
        self.client = server.client(key=key)
        self.count = count
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assistant = server.app.state.satya.assistant
        # listening from the moment it opened (or already done: what waited came at once)
        _wait_for(lambda: assistant.listening(user) or not self.events.empty(), "never opened")

    def _read(self) -> None:
        with self.client, self.client.stream("GET", "/notifications/stream") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for event in read_sse(r, stop_after=self.count):
                self.events.put(event)

    def next(self, timeout_s: float = 30) -> Sse:
        return self.events.get(timeout=timeout_s)

    def closed(self) -> None:
        """Wait until the server no longer counts the user as there."""
        self.thread.join(timeout=30)
        assistant = self.server.app.state.satya.assistant
        _wait_for(lambda: not assistant.listening(self.user), "still listening")


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_insights_for_the_caller_and_for_operators(server: ServerThread, model_file: Path) -> None:
    ana_key, ben_key = server.key("ins-ana"), server.key("ins-ben")
    ops_key = _operator_key(server, "ins-ops")
    with server.client(key=ana_key) as ana, server.client(key=ben_key) as ben:
        _list(ana, model_file)
        tid = ben.post("/threads", json={}).json()["thread_id"]
        _wait(ben, tid, {"input": {"message": "upload", "upload_id": _upload(ben, model_file)}})

        mine = ana.get("/insights")
        assert mine.status_code == 200, mine.text
        body = mine.json()
        store = server.app.state.satya.assistant.store
        records = server.call(load_records(store, "ins-ana"))
        assert body["scope"] == "ins-ana" and body["records"] == len(records) > 0
        settings = server.settings
        recomputed = compute_insights(
            records,
            scope="ins-ana",
            slow_factor=settings.deadline_factor,
            slow_min_s=settings.deadline_min_s,
        )
        assert body["phases"] == recomputed["phases"]
        assert body["upload_to_listing"]["count"] == 1

        refused = ana.get("/insights/platform")
        assert refused.status_code == 403
        assert refused.json()["code"] == "operator_only"
        assert "--operator" in refused.json()["hint"]
        assert httpx.get(f"{server.url}/insights").status_code == 401

    with server.client(key=ops_key) as ops:
        platform = ops.get("/insights/platform").json()
        everyone = server.call(load_records(store, None))
        assert platform["scope"] == "platform" and platform["records"] == len(everyone)
        assert platform["journeys"] >= 2  # ana's and ben's at least
        one = ops.get("/insights/platform", params={"user": "ins-ana"}).json()
        assert one["scope"] == "ins-ana" and one["records"] == len(records)
        assert ops.get("/insights/platform", params={"user": "../x"}).status_code == 422
        assert ops.get("/insights").json()["scope"] == "ins-ops"  # an operator's own

    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/insights", "/insights/platform", "/notifications/stream"} <= set(spec["paths"])
    assert "403" in spec["paths"]["/insights/platform"]["get"]["responses"]


def test_a_purchase_reaches_the_authors_open_stream(server: ServerThread, model_file: Path) -> None:
    author_key = server.key("nt-ana")
    with server.client(key=author_key) as ana:
        listing_id = _list(ana, model_file)
    listener = Listener(server, author_key, "nt-ana")
    with server.client("nt-ben") as ben:
        _buy(ben, listing_id)
    event = listener.next()
    assert event.event == "notice" and event.id == "1"
    assert event.data["kind"] == "model_sold"
    assert event.data["data"]["listing_id"] == listing_id
    assert event.data["data"]["price_mist"] == 2 * 10**9
    assert "was bought for 2 SUI" in event.data["text"]
    listener.closed()
    # delivered on the stream: it does not come again on the author's next turn
    with server.client(key=author_key) as ana:
        tid = ana.post("/threads", json={}).json()["thread_id"]
        r = ana.post(
            f"/threads/{tid}/runs/stream",
            json={"input": {"message": "check status"}, "stream_mode": "custom"},
        )
        assert r.status_code == 200 and "pending_operations" in r.text
        assert '"model_sold"' not in r.text

    # a sale while no stream listens waits, and comes first when one opens
    with server.client("nt-cy") as cy:
        _buy(cy, listing_id)
    listener = Listener(server, author_key, "nt-ana")
    waited = listener.next()
    assert waited.data["kind"] == "model_sold" and waited.id == "1"
    listener.closed()


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = background_verification_server(tmp_path_factory.mktemp("nt-home"))
    yield srv
    srv.stop()


def test_a_verification_that_ends_in_the_background_reaches_the_stream(
    slow_server: ServerThread, model_file: Path
) -> None:
    key = slow_server.key("nt-vera")
    listener = Listener(slow_server, key, "nt-vera")
    with slow_server.client(key=key) as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        _wait(c, tid, {"input": {"message": "upload", "upload_id": _upload(c, model_file)}})
        assert _wait(c, tid, {"command": {"resume": "yes"}})["status"] == "verifying"
    event = listener.next()
    assert event.data["kind"] == "verification_ended_passed"
    assert event.data["thread_id"] == tid
    assert "tiny.safetensors passed" in event.data["text"]
    listener.closed()


def test_operator_keys_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "serve", "keys", "add", "ops", "--operator"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().startswith("sk-satya-")
    assert "Operator API key for 'ops'" in captured.err
    assert main(["--home", str(home), "serve", "keys", "add", "ana"]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "serve", "keys", "list"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert next(r for r in rows if " ops " in r).split()[3] == "operator"
    assert "operator" not in next(r for r in rows if " ana " in r)
