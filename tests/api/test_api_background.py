"""Verification that goes on after the turn: its events reach the client as a background run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread, background_verification_server, read_sse, texts


@pytest.fixture(scope="module")
def bg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = background_verification_server(tmp_path_factory.mktemp("bg-home"))
    yield srv
    srv.stop()


def _verifying_in_background(c: httpx.Client, model: Path) -> tuple[str, list[dict[str, str]]]:
    """A thread whose upload was approved and whose verification goes on after the turn:
    its id, and its background run(s) once one has appeared."""
    with model.open("rb") as fh:
        upload = c.post("/uploads", files={"file": (model.name, fh)}).json()
    tid = c.post("/threads", json={}).json()["thread_id"]
    c.post(
        f"/threads/{tid}/runs/wait",
        json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
    )
    turn = c.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}}).json()
    assert turn["status"] == "verifying", turn.get("status")
    deadline = time.monotonic() + 30
    background: list[dict[str, str]] = []
    while not background and time.monotonic() < deadline:
        runs = c.get(f"/threads/{tid}/runs").json()
        background = [r for r in runs if r["kind"] == "background"]
        time.sleep(0.02)
    assert background, "no background run appeared"
    return tid, background


def test_background_verification_streams_as_a_run(
    bg_server: ServerThread, model_file: Path
) -> None:
    with bg_server.client("vera") as c:
        tid, background = _verifying_in_background(c, model_file)
        with c.stream("GET", f"/threads/{tid}/runs/{background[0]['run_id']}/stream") as r:
            events = list(read_sse(r))
        assert events[0].event == "metadata" and events[-1].event == "end"
        assert "verification_passed" in texts(events)
        values = [e for e in events if e.event == "values"][-1].data
        assert values["__interrupt__"][0]["value"]["gate"] == "listing"
        assert c.get(f"/threads/{tid}/runs/{background[0]['run_id']}").json()["status"] == "success"

        # its announcements join the conversation, after the turns before them
        bg_id = background[0]["run_id"]
        said = values["messages"]
        assert [m["content"] for m in said if m["type"] == "human"][1] == "yes"
        assert said[0]["type"] == "human" and said[-1]["id"].startswith(bg_id)
        announced = [m for m in said if m["id"].startswith(bg_id)]
        assert announced and all(m["type"] == "ai" for m in announced)

        done = c.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}}).json()
        assert done["context"]["listing_id"].startswith("0x")
        kept = c.get(f"/threads/{tid}/state").json()["values"]["messages"]
        asked = [i for i, m in enumerate(kept) if m["type"] == "human"]
        at = [i for i, m in enumerate(kept) if m["id"].startswith(bg_id)]
        assert len(asked) == 3 and asked[1] < min(at) and max(at) < asked[2]
        assert [kept[i] for i in at] == announced
    with bg_server.client("other") as o:
        assert o.get(f"/threads/{tid}/runs/{background[0]['run_id']}").status_code == 404


def test_deleting_a_thread_while_it_verifies_leaves_nothing_behind(
    bg_server: ServerThread, model_file: Path
) -> None:
    """The monitor stops following a deleted thread: no delivery, no background run's
    events or messages, no checkpoints written after the delete."""
    import sqlite3

    with bg_server.client("dora") as c:
        tid, background = _verifying_in_background(c, model_file)
        assert c.delete(f"/threads/{tid}").status_code == 204
        time.sleep(2.5)  # the job (at least 1 s) ends; a follower still at work would deliver now
        assert c.get(f"/threads/{tid}").status_code == 404

    def count(db: str, sql: str, arg: str) -> int:
        with sqlite3.connect(bg_server.home / db) as conn:
            return int(conn.execute(sql, (arg,)).fetchone()[0])

    assert (
        count("checkpoints.sqlite", "SELECT count(*) FROM checkpoints WHERE thread_id = ?", tid)
        == 0
    )
    assert (
        count("server.sqlite", "SELECT count(*) FROM satya_messages WHERE thread_id = ?", tid) == 0
    )
    bg_run = background[0]["run_id"]
    assert (
        count("server.sqlite", "SELECT count(*) FROM satya_run_events WHERE run_id = ?", bg_run)
        == 0
    )
    assert count("store.sqlite", "SELECT count(*) FROM store WHERE key = ?", tid) == 0
