"""A user id with a dot (an e-mail address) works on every thread route."""

from __future__ import annotations

from api_harness import ServerThread


def test_a_dotted_user_id_works_on_the_thread_routes(server: ServerThread) -> None:
    with server.client("ana.smith@example.com") as c:
        created = c.post("/threads", json={"metadata": {"team": "x"}})
        assert created.status_code == 200, created.text
        tid = created.json()["thread_id"]
        run = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "check status"}})
        assert run.status_code == 200, run.text
        assert c.get(f"/threads/{tid}").status_code == 200
        assert c.get(f"/threads/{tid}/state").status_code == 200
        assert c.get(f"/threads/{tid}/runs").status_code == 200
        found = c.post("/threads/search", json={})
        assert found.status_code == 200 and tid in [t["thread_id"] for t in found.json()]
        assert c.delete(f"/threads/{tid}").status_code in (200, 204)
    with server.client("ana") as other:  # the same name without the domain is someone else
        assert other.get(f"/threads/{tid}").status_code == 404
