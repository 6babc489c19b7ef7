"""Threads over real HTTP: create, get, search, delete, state, history; health and OpenAPI."""

from __future__ import annotations

from api_harness import ServerThread


def test_health_and_ready(server: ServerThread) -> None:
    with server.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/ready").json() == {"status": "ready", "storage": "sqlite"}


def test_thread_lifecycle(server: ServerThread) -> None:
    with server.client("thea") as c:
        created = c.post("/threads", json={"metadata": {"project": "vision"}})
        assert created.status_code == 200, created.text
        thread = created.json()
        tid = thread["thread_id"]
        assert thread["status"] == "idle" and thread["metadata"] == {"project": "vision"}
        other = c.post("/threads", json={}).json()["thread_id"]

        got = c.get(f"/threads/{tid}").json()
        assert got["thread_id"] == tid and got["values"] == {}

        # a turn, so that state and history have something in them
        done = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "help"}})
        assert done.status_code == 200, done.text
        assert done.json()["user_id"] == "thea"

        found = c.post("/threads/search", json={"metadata": {"project": "vision"}}).json()
        assert [t["thread_id"] for t in found] == [tid]
        everything = c.post("/threads/search", json={"limit": 10}).json()
        assert {t["thread_id"] for t in everything} == {tid, other}
        assert c.post("/threads/search", json={"status": "busy"}).json() == []

        state = c.get(f"/threads/{tid}/state").json()
        assert state["checkpoint"]["thread_id"] == tid and state["checkpoint"]["checkpoint_id"]
        assert state["values"]["user_id"] == "thea"
        assert state["journey"]["phase"] and state["next"] == []

        history = c.get(f"/threads/{tid}/history", params={"limit": 3}).json()
        assert 1 <= len(history) <= 3
        assert history[0]["checkpoint"]["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
        older = c.post(
            f"/threads/{tid}/history", json={"limit": 2, "before": history[0]["checkpoint"]}
        ).json()
        assert (
            older
            and older[0]["checkpoint"]["checkpoint_id"] != history[0]["checkpoint"]["checkpoint_id"]
        )

        assert c.delete(f"/threads/{tid}").status_code == 204
        assert c.get(f"/threads/{tid}").status_code == 404
        assert c.get(f"/threads/{tid}/state").status_code == 404
        assert [t["thread_id"] for t in c.post("/threads/search", json={}).json()] == [other]


def test_openapi_lists_every_endpoint(server: ServerThread) -> None:
    with server.client() as c:
        doc = c.get("/openapi.json").json()
    paths = doc["paths"]
    expected = {
        "/assistants": {"post"},
        "/assistants/search": {"post"},
        "/assistants/count": {"post"},
        "/assistants/{assistant_id}": {"get", "patch", "delete"},
        "/assistants/{assistant_id}/schemas": {"get"},
        "/assistants/{assistant_id}/graph": {"get"},
        "/assistants/{assistant_id}/subgraphs": {"get"},
        "/assistants/{assistant_id}/versions": {"post"},
        "/assistants/{assistant_id}/latest": {"post"},
        "/threads": {"post"},
        "/threads/search": {"post"},
        "/threads/count": {"post"},
        "/threads/{thread_id}/copy": {"post"},
        "/runs": {"post"},
        "/runs/stream": {"post"},
        "/runs/wait": {"post"},
        "/runs/batch": {"post"},
        "/runs/cancel": {"post"},
        "/runs/{run_id}/stream": {"get"},
        "/threads/prune": {"post"},
        "/threads/{thread_id}/stream": {"get"},
        "/threads/{thread_id}": {"get", "patch", "delete"},
        "/threads/{thread_id}/state": {"get", "post"},
        "/threads/{thread_id}/history": {"get", "post"},
        "/threads/{thread_id}/runs": {"get", "post"},
        "/threads/{thread_id}/runs/stream": {"post"},
        "/threads/{thread_id}/runs/wait": {"post"},
        "/threads/{thread_id}/runs/{run_id}": {"get"},
        "/threads/{thread_id}/runs/{run_id}/cancel": {"post"},
        "/threads/{thread_id}/runs/{run_id}/join": {"get"},
        "/threads/{thread_id}/runs/{run_id}/stream": {"get"},
        "/uploads": {"post"},
        "/uploads/{upload_id}": {"get"},
        "/insights": {"get"},
        "/insights/platform": {"get"},
        "/notifications/stream": {"get"},
        "/health": {"get"},
        "/ready": {"get"},
    }
    assert set(paths) == set(expected)
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    assert "text/event-stream" in str(
        paths["/threads/{thread_id}/runs/stream"]["post"]["responses"]
    )
    assert "text/event-stream" in str(paths["/notifications/stream"]["get"]["responses"])
    for path, method in [("/threads/{thread_id}/stream", "get"), ("/runs/{run_id}/stream", "get")]:
        assert "text/event-stream" in str(paths[path][method]["responses"]), path
    # what is refused is documented with its {detail, code, hint} body
    refusals = [
        ("/threads/{thread_id}/state", "post", "403"),
        ("/threads/prune", "post", "400"),
        ("/runs/cancel", "post", "400"),
        ("/runs/batch", "post", "422"),
    ]
    for path, method, status in refusals:
        schema = paths[path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ErrorOut"), (path, status)
    assert "multipart/form-data" in str(paths["/uploads"]["post"]["requestBody"])
    assert {"HTTPBearer", "APIKeyHeader"} <= set(doc["components"]["securitySchemes"])
