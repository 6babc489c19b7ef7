"""Isolation and refusals: other users get 404, keys are required, paths and sizes are guarded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread

from agent.server import ServerSettings


def test_missing_or_invalid_key_is_401(server: ServerThread) -> None:
    with server.client() as anon:
        for method, path in [
            ("POST", "/threads"),
            ("POST", "/threads/search"),
            ("GET", "/threads/abc"),
            ("POST", "/uploads"),
        ]:
            r = anon.request(method, path, json={})
            assert r.status_code == 401, path
            assert (
                r.json()["code"] == "unauthenticated" and "satya serve keys add" in r.json()["hint"]
            )
            assert r.headers["www-authenticate"] == "Bearer"
    for bad in ("sk-satya-not-a-key", "nonsense", "sk-satya-" + "A" * 43):
        with server.client(key=bad) as c:
            assert c.post("/threads", json={}).status_code == 401
    key = server.key("xena")
    with httpx.Client(base_url=server.url, headers={"x-api-key": key}) as c:
        assert c.post("/threads", json={}).status_code == 200  # the LangGraph SDK's header


def test_other_users_get_404_for_everything(server: ServerThread, model_file: Path) -> None:
    with server.client("alice") as a, server.client("bob") as b:
        tid = a.post("/threads", json={"metadata": {"secret": 1}}).json()["thread_id"]
        run = a.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "help"}})
        assert run.status_code == 200
        rid = a.get(f"/threads/{tid}/runs").json()[0]["run_id"]
        with model_file.open("rb") as fh:
            upload = a.post("/uploads", files={"file": (model_file.name, fh)}).json()
        # what users send is readable by the service alone
        received = server.app.state.satya.access.uploads
        stored = [p for p in received.rglob("*") if p.is_file()]
        assert stored and all(p.stat().st_mode & 0o777 == 0o600 for p in stored)
        assert all(p.parent.stat().st_mode & 0o777 == 0o700 for p in stored)

        attempts = [
            ("GET", f"/threads/{tid}", None),
            ("GET", f"/threads/{tid}/state", None),
            ("GET", f"/threads/{tid}/history", None),
            ("POST", f"/threads/{tid}/history", {}),
            ("DELETE", f"/threads/{tid}", None),
            ("GET", f"/threads/{tid}/runs", None),
            ("POST", f"/threads/{tid}/runs", {"input": {"message": "hi"}}),
            ("POST", f"/threads/{tid}/runs/wait", {"input": {"message": "hi"}}),
            ("POST", f"/threads/{tid}/runs/stream", {"input": {"message": "hi"}}),
            ("POST", f"/threads/{tid}/runs/wait", {"command": {"resume": "yes"}}),
            ("GET", f"/threads/{tid}/runs/{rid}", None),
            ("GET", f"/threads/{tid}/runs/{rid}/join", None),
            ("GET", f"/threads/{tid}/runs/{rid}/stream", None),
            ("POST", f"/threads/{tid}/runs/{rid}/cancel", None),
        ]
        for method, path, body in attempts:
            r = b.request(method, path, json=body)
            assert r.status_code == 404, (method, path, r.status_code)
            assert r.json()["code"] == "not_found"
        # the same answer as for a thread that does not exist at all
        assert b.get("/threads/000000000000").json() == b.get(f"/threads/{tid}").json()
        assert b.post("/threads/search", json={}).json() == []
        # bob cannot use alice's upload either
        own = b.post("/threads", json={}).json()["thread_id"]
        r = b.post(
            f"/threads/{own}/runs/wait",
            json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
        )
        assert r.status_code == 404
        r = b.post(
            f"/threads/{own}/runs/wait", json={"input": {"message": "upload tiny.safetensors"}}
        )
        assert r.status_code == 403 and r.json()["code"] == "path_not_allowed"
        # and alice still has everything
        assert a.get(f"/threads/{tid}").json()["metadata"] == {"secret": 1}
        # a run of alice's under bob's thread id is not found either
        assert b.get(f"/threads/{own}/runs/{rid}").status_code == 404


@pytest.mark.parametrize(
    "message",
    [
        "upload /etc/passwd",
        "upload ../../../../etc/hostname",
        "upload ./../secrets.safetensors",
        "upload '/tmp/../etc/passwd'",
    ],
)
def test_paths_outside_the_allowed_places_are_refused(server: ServerThread, message: str) -> None:
    with server.client("pat") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        r = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": message}})
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["code"] == "path_not_allowed" and "POST /uploads" in body["hint"]
        assert "/etc" not in body["detail"]
        assert c.get(f"/threads/{tid}/runs").json() == []  # nothing ran


@pytest.fixture(scope="module")
def rooted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    root = tmp_path_factory.mktemp("files-root")
    (root / "models").mkdir()
    outside = tmp_path_factory.mktemp("outside") / "secret.safetensors"
    outside.write_bytes(b"secret")
    os.symlink(outside, root / "models" / "link.safetensors")
    config = ServerSettings(
        files_root=root,
        max_upload_bytes=100_000,
        max_body_bytes=4096,
        rate_per_minute=6,
        rate_burst=12,
    )
    srv = ServerThread(tmp_path_factory.mktemp("rooted-home"), config).start()
    yield srv
    srv.stop()


def test_files_root_paths_and_symlinks(rooted_server: ServerThread, model_file: Path) -> None:
    root = rooted_server.app.state.satya.access.files_root
    (root / "models" / "tiny.safetensors").write_bytes(model_file.read_bytes())
    with rooted_server.client("root-user") as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        ok = c.post(
            f"/threads/{tid}/runs/wait", json={"input": {"path": "models/tiny.safetensors"}}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["__interrupt__"][0]["value"]["gate"] == "upload"
        c.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "no"}})
        for path in ("models/link.safetensors", "../outside/secret.safetensors", "/etc/passwd"):
            r = c.post(f"/threads/{tid}/runs/wait", json={"input": {"path": path}})
            assert r.status_code == 403 and r.json()["code"] == "path_not_allowed", path
        r = c.post(
            f"/threads/{tid}/runs/wait",
            json={"input": {"message": "upload models/link.safetensors"}},
        )
        assert r.status_code == 403


def test_oversize_bodies_and_uploads_are_413(rooted_server: ServerThread, tmp_path: Path) -> None:
    big = tmp_path / "big.safetensors"
    big.write_bytes(os.urandom(300_000))
    with rooted_server.client("size-user") as c:
        with big.open("rb") as fh:
            r = c.post("/uploads", files={"file": ("big.safetensors", fh)})
        assert r.status_code == 413 and r.json()["code"] == "upload_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
            boundary = b"xyz"
            yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="s.bin"\r\n\r\n'
            for _ in range(30):
                yield b"\0" * 10_000
            yield b"\r\n--" + boundary + b"--\r\n"

        r = c.post(
            "/uploads",
            content=chunks(),
            headers={"content-type": "multipart/form-data; boundary=xyz"},
        )
        assert r.status_code == 413 and r.json()["code"] == "upload_too_large"
        tid = c.post("/threads", json={}).json()["thread_id"]
        r = c.post(f"/threads/{tid}/runs", json={"input": {"message": "x" * 10_000}})
        assert r.status_code == 413 and r.json()["code"] == "request_too_large"

        def json_chunks() -> Iterator[bytes]:  # a JSON body sent chunked, over the limit
            yield b'{"input": {"message": "'
            for _ in range(10):
                yield b"x" * 1_000
            yield b'"}}'

        r = c.post(
            f"/threads/{tid}/runs",
            content=json_chunks(),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413 and r.json()["code"] == "request_too_large", r.text
        r = c.post("/uploads", content=b"not a form", headers={"content-type": "text/plain"})
        assert r.status_code == 415
    received = rooted_server.app.state.satya.access.uploads
    leftovers = [p for p in received.rglob("*") if p.is_file()]
    assert leftovers == []  # refused uploads leave nothing behind


def test_rate_limit_is_429_with_retry_after(rooted_server: ServerThread) -> None:
    with rooted_server.client("busy-bee") as c:
        codes = [c.post("/threads/search", json={}).status_code for _ in range(14)]
    assert codes[:12] == [200] * 12 and 429 in codes[12:]
    with rooted_server.client("busy-bee2") as c:
        for _ in range(12):
            c.post("/threads/search", json={})
        r = c.post("/threads/search", json={})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["code"] == "rate_limited"
