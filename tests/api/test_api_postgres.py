"""Several workers on one PostgreSQL: threads, runs, keys and background work are shared.

Needs a PostgreSQL server. The URL comes from SATYA_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); each test run creates its own
database there and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import free_port, read_sse, texts

from agent.journey_files import make_model_file
from agent.keys import ApiKeys
from agent.persistence import open_persistence
from agent.settings import Settings

pytestmark = pytest.mark.postgres
BASE_URL = os.environ.get(
    "SATYA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SATYA = str(Path(sys.executable).parent / "satya")
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    import psycopg

    name = f"satya_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {BASE_URL} ({error}). These tests need one: start "
            "PostgreSQL on 127.0.0.1:5432, or set SATYA_TEST_DATABASE_URL=postgresql://user@host:port/db "
            "(a role that may CREATE DATABASE).",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = BASE_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with psycopg.connect(BASE_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Worker:
    """One server process on its own port."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                out = self.proc.stdout.read() if self.proc.stdout else ""
                raise RuntimeError(f"worker on {port} did not start:\n{out[-3000:]}")
            time.sleep(0.1)

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc.stdout:
            self.proc.stdout.close()


def _env(home: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "DATABASE_URL"))}
    env.update({"SATYA_HOME": str(home), "DATABASE_URL": url, **extra})
    return env


def _key(env: dict[str, str], user: str) -> str:
    """A key made the way an operator makes one: ``satya serve keys add USER``."""
    out = subprocess.run(
        [SATYA, "serve", "keys", "add", user], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def _quick_key(env: dict[str, str], user: str) -> str:
    """The same, in this process (saves starting the CLI)."""

    async def add() -> str:
        settings = Settings(home=Path(env["SATYA_HOME"]))
        async with open_persistence(settings, url=env["DATABASE_URL"]) as persistence:
            return await ApiKeys(persistence.store).add(user)

    return asyncio.run(add())


def test_two_servers_share_threads(database_url: str, tmp_path: Path) -> None:
    env = _env(tmp_path / "home", database_url)
    key_a, key_b = _key(env, "ana"), _quick_key(env, "ben")
    port1, port2 = free_port(), free_port()
    w1 = Worker([SATYA, "serve", "--port", str(port1)], env, port1)
    w2 = Worker([SATYA, "serve", "--port", str(port2)], env, port2)
    try:
        model = make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.2)
        with w1.client(key_a) as c1, w2.client(key_a) as c2, w2.client(key_b) as other:
            assert c1.get("/ready").json()["storage"] == "postgres"
            with model.open("rb") as fh:
                upload = c1.post("/uploads", files={"file": (model.name, fh)}).json()
            tid = c1.post("/threads", json={"metadata": {"via": "w1"}}).json()["thread_id"]
            gate = c1.post(
                f"/threads/{tid}/runs/wait",
                json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
            ).json()
            assert gate["__interrupt__"][0]["value"]["gate"] == "upload"

            # the other worker sees the thread, its gate, and answers it
            assert c2.get(f"/threads/{tid}").json()["status"] == "interrupted"
            with c2.stream(
                "POST", f"/threads/{tid}/runs/stream", json={"command": {"resume": "yes"}}
            ) as r:
                run_id = r.headers["content-location"].rsplit("/", 1)[-1]
                events = list(read_sse(r))
            assert "verification_passed" in texts(events)
            # the run's log is shared: worker 1 replays what worker 2 streamed
            with c1.stream("GET", f"/threads/{tid}/runs/{run_id}/stream") as r:
                replay = list(read_sse(r))
            assert [(e.id, e.data) for e in replay] == [(e.id, e.data) for e in events]
            done = c1.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}})
            assert done.json()["context"]["listing_id"].startswith("0x")
            # the conversation of turns on both workers, in order, the same from either
            chat = c2.get(f"/threads/{tid}/state").json()["values"]["messages"]
            assert c1.get(f"/threads/{tid}").json()["values"]["messages"] == chat
            asked = [m["content"] for m in chat if m["type"] == "human"]
            assert asked[0].startswith("upload ") and asked[1:] == ["yes", "yes"]
            assert [m["type"] for m in chat].count("ai") >= 3 and chat[-1]["type"] == "ai"
            newest = c1.get(f"/threads/{tid}/runs", params={"limit": 1}).json()[0]["run_id"]
            assert chat[-1]["id"].startswith(newest)
            found = c2.post("/threads/search", json={"metadata": {"via": "w1"}}).json()
            assert [t["thread_id"] for t in found] == [tid]
            assert len(c2.get(f"/threads/{tid}/runs").json()) == 3
            # isolation holds across workers
            assert other.get(f"/threads/{tid}").status_code == 404
            assert other.get(f"/threads/{tid}/runs/{run_id}/stream").status_code == 404
    finally:
        w1.stop()
        w2.stop()


def test_a_run_queued_on_one_worker_starts_after_the_run_on_another(
    database_url: str, tmp_path: Path
) -> None:
    """multitask_strategy enqueue across workers: answered at once as pending, started
    only when the other worker's run has ended (the shared record lets one run at a time)."""
    env = _env(tmp_path / "home", database_url)
    key = _quick_key(env, "quinn")
    port1, port2 = free_port(), free_port()
    w1 = Worker([SATYA, "serve", "--port", str(port1)], env, port1)
    w2 = Worker([SATYA, "serve", "--port", str(port2)], env, port2)
    try:
        model = make_model_file(tmp_path / "q.safetensors", "safetensors", size_mb=0.2)
        with w1.client(key) as c1, w2.client(key) as c2:
            with model.open("rb") as fh:
                upload = c1.post("/uploads", files={"file": (model.name, fh)}).json()
            tid = c1.post("/threads", json={}).json()["thread_id"]
            c1.post(
                f"/threads/{tid}/runs/wait",
                json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
            )
            first = c1.post(f"/threads/{tid}/runs", json={"command": {"resume": "yes"}}).json()
            queued = c2.post(
                f"/threads/{tid}/runs",
                json={"input": {"message": "check status"}, "multitask_strategy": "enqueue"},
            ).json()
            assert queued["status"] == "pending"
            values = c2.get(f"/threads/{tid}/runs/{queued['run_id']}/join").json()
            runs = {r["run_id"]: r for r in c1.get(f"/threads/{tid}/runs").json()}
            assert runs[first["run_id"]]["status"] == runs[queued["run_id"]]["status"] == "success"
            assert runs[first["run_id"]]["updated_at"] <= runs[queued["run_id"]]["updated_at"]
            said = [m["content"] for m in values["messages"] if m["type"] == "human"]
            assert said[1:] == ["yes", "check status"]  # the queued turn came after
    finally:
        w1.stop()
        w2.stop()


def test_workers_get_the_settings_satya_serve_read(database_url: str, tmp_path: Path) -> None:
    """``--workers 2``: each worker builds its app from the settings the command read and
    was handed (here ``--upload-ttl never``, a flag no worker could read from anywhere)."""
    env = _env(tmp_path / "home", database_url)
    key = _quick_key(env, "ana")
    port = free_port()
    argv = [SATYA, "serve", "--port", str(port), "--workers", "2", "--upload-ttl", "never"]
    server = Worker(argv, env, port)
    try:
        model = make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.2)
        for _ in range(6):  # a new connection each: both workers answer some of them
            with server.client(key) as c, model.open("rb") as fh:
                upload = c.post("/uploads", files={"file": (model.name, fh)})
            assert upload.status_code == 201, upload.text
            assert upload.json()["expires_at"] is None
    finally:
        server.stop()


def test_verification_in_flight_survives_a_killed_worker_and_completes_once(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(
        tmp_path / "home",
        database_url,
        SATYA_VERIFY_FOREGROUND_S="0",
        SATYA_MONITOR_POLL_S="0.2",
        SATYA_CHUNK_SIZE_MIB="0.05",
        SATYA_UPLOAD_CONCURRENCY="1",
    )
    key = _quick_key(env, "kim")
    slow = ["--verify-min-s", "10", "--lease-ttl-s", "1.5", "--rescan-s", "0.5"]
    slow += ["--storage-delay-s", "0.15"]
    w1, w2 = _slowed_workers(env, slow)
    try:
        # 12 chunks at 0.15 s each: the cancel from the other worker lands inside the upload
        model = make_model_file(tmp_path / "k.safetensors", "safetensors", size_mb=0.6)
        with w1.client(key) as c1, w2.client(key) as c2:
            with model.open("rb") as fh:
                upload = c1.post("/uploads", files={"file": (model.name, fh)}).json()
            # first: a run going on one worker is cancelled through the other
            other, run_id = _slow_upload_run(c1, upload["upload_id"])  # uploading on worker 1
            cancelled = c2.post(f"/threads/{other}/runs/{run_id}/cancel").json()
            assert cancelled["status"] == "interrupted"
            assert c1.get(f"/threads/{other}").json()["status"] != "busy"
            tid = c1.post("/threads", json={}).json()["thread_id"]
            c1.post(
                f"/threads/{tid}/runs/wait",
                json={"input": {"message": "upload", "upload_id": upload["upload_id"]}},
            )
            turn = c1.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}})
            assert turn.json()["status"] == "verifying"
            # The in-process enclave dies with its worker (a Nautilus enclave would not): let
            # it finish the job; to worker 1's monitor the job still runs for 10 s (slowed).
            jobs = tmp_path / "home" / "verifier" / "jobs"
            deadline = time.monotonic() + 20
            while not any('"succeeded"' in p.read_text() for p in jobs.glob("*.json")):
                assert time.monotonic() < deadline, "the enclave never finished the job"
                time.sleep(0.05)
            assert c1.get(f"/threads/{tid}").json()["values"]["status"] == "verifying"
        w1.kill()

        with w2.client(key) as c2:
            deadline = time.monotonic() + 30
            values: dict[str, object] = {}
            while time.monotonic() < deadline:
                values = c2.get(f"/threads/{tid}").json()["values"]
                if (
                    values.get("status") != "verifying"
                    and c2.get(f"/threads/{tid}").json()["interrupts"]
                ):
                    break
                time.sleep(0.2)
            assert values.get("status") != "verifying", "the surviving worker never finished it"
            # worker 2's background run closes once its monitor is idle (just after the state)
            finished: list[dict[str, str]] = []
            while not finished and time.monotonic() < deadline:
                finished = [
                    r
                    for r in c2.get(f"/threads/{tid}/runs", params={"limit": 50}).json()
                    if r["kind"] == "background" and r["status"] == "success"
                ]
                time.sleep(0.1)
            passed = 0
            for run in finished:
                with c2.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as r:
                    passed += texts(list(read_sse(r))).count("verification_passed")
            assert passed == 1
            steps = c2.get(f"/threads/{tid}/state").json()["values"]["completed_steps"]
            assert steps.count("report_quality") == 1
            done = c2.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}})
            assert done.json()["context"]["listing_id"].startswith("0x")
    finally:
        w1.stop()
        w2.stop()


def test_postgres_lease_one_owner_until_it_expires(database_url: str, tmp_path: Path) -> None:
    from agent.persistence import PostgresLease

    async def scenario() -> None:
        async with open_persistence(Settings(home=tmp_path), url=database_url) as p:
            assert p.backend == "postgres"
            lease = PostgresLease(p.pool)
            assert await lease.acquire("job:1", "w1", 30)
            assert not await lease.acquire("job:1", "w2", 30)
            assert await lease.acquire("job:1", "w1", 0.3)  # renewal by its owner
            await asyncio.sleep(0.5)
            assert await lease.acquire("job:1", "w2", 30)  # expired: taken over
            assert not await lease.acquire("job:1", "w1", 30)
            await lease.release("job:1", "w1")  # not the owner: nothing happens
            assert not await lease.acquire("job:1", "w1", 30)
            await lease.release("job:1", "w2")
            assert await lease.acquire("job:1", "w1", 30)

    asyncio.run(scenario())


def test_workers_starting_together_create_the_run_log_once(tmp_path: Path) -> None:
    """Several workers start at once on an empty database: none fails on the shared DDL."""
    import psycopg

    from agent.persistence import postgres_pool
    from agent.server.rundb import PostgresSql, RunDb

    async def start_together(url: str) -> None:
        async def one() -> None:
            async with postgres_pool(url, max_size=2) as pool:
                await RunDb(PostgresSql(pool)).setup()

        await asyncio.gather(*(one() for _ in range(4)))

    for _ in range(3):  # a fresh, empty database each time
        name = f"satya_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            asyncio.run(start_together(BASE_URL.rsplit("/", 1)[0] + "/" + name))
        finally:
            with psycopg.connect(BASE_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _slowed_workers(env: dict[str, str], slow: list[str]) -> tuple[Worker, Worker]:
    """Two server processes on one database, slowed alike (``serve_process.py`` flags)."""
    script = str(HERE / "serve_process.py")
    port1, port2 = free_port(), free_port()
    first = Worker([sys.executable, script, str(port1), *slow], env, port1)
    try:
        return first, Worker([sys.executable, script, str(port2), *slow], env, port2)
    except BaseException:
        first.stop()
        raise


def _slow_upload_run(c: httpx.Client, upload_id: str) -> tuple[str, str]:
    """A thread whose run is uploading (slowly) on the client's worker: (thread, run)."""
    tid = c.post("/threads", json={}).json()["thread_id"]
    c.post(
        f"/threads/{tid}/runs/wait", json={"input": {"message": "upload", "upload_id": upload_id}}
    )
    run_id = c.post(f"/threads/{tid}/runs", json={"command": {"resume": "yes"}}).json()["run_id"]
    with c.stream("GET", f"/threads/{tid}/runs/{run_id}/stream") as r:
        for e in read_sse(r):
            if e.event == "custom" and e.data["type"] == "progress":
                break
    return tid, run_id


def test_a_killed_workers_thread_is_free_at_once_and_delete_waits_for_a_run(
    database_url: str, tmp_path: Path
) -> None:
    """On one machine a dead worker's process id tells at once that its run is orphaned:
    no 30 s of 409s. A delete while another worker runs the thread stops that run first,
    so nothing of the thread is written after the delete."""
    import psycopg

    env = _env(tmp_path / "home", database_url, SATYA_CHUNK_SIZE_MIB="0.05")
    env["SATYA_UPLOAD_CONCURRENCY"] = "1"
    key = _quick_key(env, "lee")
    # 5 chunks and a manifest, a second each: about 6 s of upload
    w1, w2 = _slowed_workers(env, ["--storage-delay-s", "1"])
    try:
        model = make_model_file(tmp_path / "w.safetensors", "safetensors", size_mb=0.2)
        with w1.client(key) as c1, w2.client(key) as c2:
            with model.open("rb") as fh:
                upload = c1.post("/uploads", files={"file": (model.name, fh)}).json()
            doomed, doomed_run = _slow_upload_run(c1, upload["upload_id"])
            assert c2.get(f"/threads/{doomed}").json()["status"] == "busy"
            deleted = c2.delete(f"/threads/{doomed}")
            assert deleted.status_code == 204, deleted.text
            assert c1.get(f"/threads/{doomed}").status_code == 404
            time.sleep(1.5)  # a run that outlived the delete would write its next step now
            with psycopg.connect(database_url) as db:
                rows = db.execute(
                    "SELECT count(*) FROM checkpoints WHERE thread_id = %s", (doomed,)
                ).fetchone()
                events = db.execute(
                    "SELECT count(*) FROM satya_run_events WHERE run_id = %s", (doomed_run,)
                ).fetchone()
                said = db.execute(
                    "SELECT count(*) FROM satya_messages WHERE thread_id = %s", (doomed,)
                ).fetchone()
            assert rows == (0,), "the cancelled run wrote checkpoints after the delete"
            assert events == (0,), "the cancelled run logged events after the delete"
            assert said == (0,), "the thread's messages outlived the delete"

            tid, run_id = _slow_upload_run(c1, upload["upload_id"])
        started = time.monotonic()
        w1.kill()
        with w2.client(key) as c2:
            assert c2.get(f"/threads/{tid}").json()["status"] != "busy"
            with c2.stream("GET", f"/threads/{tid}/runs/{run_id}/stream") as r:
                assert [e.event for e in read_sse(r)][-2:] == ["error", "end"]
            again = c2.post(f"/threads/{tid}/runs", json={"input": {"message": "continue"}})
            assert again.status_code == 200, again.text
            assert time.monotonic() - started < 10  # not the heartbeat's 30 s
            done = c2.get(f"/threads/{tid}/runs/{again.json()['run_id']}/join")
            assert done.status_code == 200
            # the turn finished before the kill kept its messages; the next turn follows
            chat = c2.get(f"/threads/{tid}/state").json()["values"]["messages"]
            assert chat[0]["content"].startswith("upload ") and chat[1]["type"] == "ai"
            assert [m["content"] for m in chat if m["type"] == "human"][-1] == "continue"
            assert chat[-1]["id"].startswith(again.json()["run_id"])
            assert c2.get(f"/threads/{tid}").json()["status"] != "busy"
    finally:
        w1.stop()
        w2.stop()
