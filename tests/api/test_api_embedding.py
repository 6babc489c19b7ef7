"""The API mounted inside a platform's own FastAPI app, as the README shows."""

from __future__ import annotations

from pathlib import Path

from api_harness import ServerThread, read_sse


def test_mounted_under_a_prefix(tmp_path: Path) -> None:
    srv = ServerThread(tmp_path / "home", mount="/assistant").start()
    try:
        with srv.client("emma") as c:
            assert c.get("/ready").json()["status"] == "ready"
            tid = c.post("/threads", json={}).json()["thread_id"]
            with c.stream(
                "POST", f"/threads/{tid}/runs/stream", json={"input": {"message": "help"}}
            ) as r:
                assert r.headers["location"].startswith(f"/assistant/threads/{tid}/runs/")
                events = list(read_sse(r))
            assert events[-1].event == "end"
            again = c.get(r.headers["location"].removeprefix("/assistant"))
            assert again.status_code == 200
        with srv.client() as anon:
            assert anon.get(f"/threads/{tid}").status_code == 401
    finally:
        srv.stop()
