"""A thread's conversation: every run's messages, kept in the run log and shown in its values."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from api_harness import ServerThread, read_sse

TURNS = ["I'm new here", "market analysis", "help"]


def _turn(c: httpx.Client, tid: str, text: str) -> tuple[str, dict[str, Any]]:
    """One turn, streamed: its run id and the values of its last ``values`` event."""
    with c.stream(
        "POST",
        f"/threads/{tid}/runs/stream",
        json={"input": {"messages": [{"role": "user", "content": text}]}, "stream_mode": "values"},
    ) as r:
        assert r.status_code == 200, r.read().decode()
        events = list(read_sse(r))
    run_id = str(events[0].data["run_id"])
    return run_id, [e.data for e in events if e.event == "values"][-1]


def _kept(server: ServerThread, tid: str) -> int:
    with sqlite3.connect(server.home / "server.sqlite") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM satya_messages WHERE thread_id = ?", (tid,)
        ).fetchone()
    return int(count)


def _check_conversation(messages: list[dict[str, Any]], runs: list[str]) -> None:
    """The user's message of each run, in order, each followed by that run's replies."""
    assert [m["type"] for m in messages if m["type"] == "human"] == ["human"] * len(runs)
    assert [m["content"] for m in messages if m["type"] == "human"] == TURNS[: len(runs)]
    assert [m["id"] for m in messages if m["type"] == "human"] == [f"{r}:human" for r in runs]
    owner = [m["id"].split(":")[0] for m in messages]
    assert owner == sorted(owner, key=runs.index)  # run by run, in the order they ran
    for run_id in runs:
        mine = [m for m in messages if m["id"].startswith(run_id)]
        assert mine[0]["type"] == "human" and len(mine) >= 2, mine
        assert all(m["type"] == "ai" and m["content"] for m in mine[1:])
    assert len({m["id"] for m in messages}) == len(messages)
    assert all(set(m) >= {"type", "content", "id", "additional_kwargs"} for m in messages)


def test_the_whole_conversation_is_in_the_threads_values(server: ServerThread) -> None:
    with server.client("talker") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        assert c.get(f"/threads/{tid}").json()["values"] == {}  # as LangGraph shows a new one
        runs: list[str] = []
        for text in TURNS:
            run_id, values = _turn(c, tid, text)
            runs.append(run_id)
            # each run's values: the earlier turns, then this run's messages
            _check_conversation(values["messages"], runs)
            assert values["messages"][-1]["id"].startswith(run_id)

        state = c.get(f"/threads/{tid}/state").json()["values"]["messages"]
        _check_conversation(state, runs)
        assert state == values["messages"]
        assert c.get(f"/threads/{tid}").json()["values"]["messages"] == state
        history = c.post(f"/threads/{tid}/history", json={"limit": 3}).json()
        assert history[0]["values"]["messages"] == state  # the newest: the current state
        assert all("messages" not in h["values"] for h in history[1:])
        waited = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "status"}})
        assert waited.json()["messages"][: len(state)] == state
        assert waited.json()["messages"][len(state)]["content"] == "status"

        assert _kept(server, tid) == len(waited.json()["messages"])
        assert c.delete(f"/threads/{tid}").status_code == 204
        assert _kept(server, tid) == 0


def test_values_show_the_last_messages_only(server: ServerThread) -> None:
    runs = server.app.state.satya.runs
    runs.conversation_limit = 3
    try:
        with server.client("chatty") as c:
            tid = c.post("/threads", json={}).json()["thread_id"]
            ids = [_turn(c, tid, text)[0] for text in TURNS[:2]]
            state = c.get(f"/threads/{tid}/state").json()["values"]["messages"]
            last = c.get(f"/threads/{tid}/runs/{ids[-1]}/join").json()["messages"]
    finally:
        runs.conversation_limit = 200
    assert len(state) == 3 and state == last
    assert state[-1]["id"].startswith(ids[-1]) and state[-1]["type"] == "ai"
    assert _kept(server, tid) > 3  # all of it is kept; only the view is cut
