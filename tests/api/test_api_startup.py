"""Workers starting together on a fresh SATYA_HOME (``satya serve --workers N``) all come up.

Each worker is its own process, as uvicorn starts them: they create the operator key,
the enclave key and the enclave's registration on the ledger at the same moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from pathlib import Path
from typing import Any

from agent.settings import Settings
from agent.wiring import build_services
from integrations.chain.local import LocalLedger

WORKERS = 3


def _start_worker(home: str, barrier: Any, results: Any) -> None:
    async def start() -> str:
        async with contextlib.AsyncExitStack() as stack:
            services = await build_services(Settings(home=Path(home)), stack)
            info = await services.verifier.info()
            assert isinstance(services.ledger, LocalLedger)
            assert await services.ledger.enclave_for_key(info.public_key) is not None
            operator = await services.wallet_for("satya-operator")
            return f"ok {info.public_key} {operator.address}"

    barrier.wait()
    try:
        results.put(asyncio.run(start()))
    except Exception as error:  # reported to the test, which shows it
        results.put(f"failed {type(error).__name__}: {error}")


def test_workers_starting_together_on_a_fresh_home(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for attempt in range(4):  # each time a fresh home
        home = tmp_path / f"home{attempt}"
        barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
        procs = [
            ctx.Process(target=_start_worker, args=(str(home), barrier, results))
            for _ in range(WORKERS)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        assert all(o.startswith("ok ") for o in outcomes), outcomes
        # one enclave key and one operator wallet, shared by every worker
        assert len(set(outcomes)) == 1, outcomes
        assert sorted(p.name for p in (home / "enclave").iterdir() if p.name.startswith(".")) == []


def test_serve_with_an_unreachable_database_says_why_at_once(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from api_harness import free_port

    satya = str(Path(sys.executable).parent / "satya")
    port = free_port()  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "DATABASE_URL"))}
    env.update(
        SATYA_HOME=str(tmp_path / "home"),
        DATABASE_URL=f"postgresql://satya:hunter2pw@127.0.0.1:{port}/satya",
    )
    began = time.monotonic()
    out = subprocess.run(
        [satya, "serve", "--port", str(free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert time.monotonic() - began < 8  # not the pool's timeout per worker
    said = out.stdout + out.stderr
    assert f"Cannot reach PostgreSQL at postgresql://satya:***@127.0.0.1:{port}/satya" in said
    assert "refused" in said and "DATABASE_URL" in said
    assert "Traceback" not in said and "hunter2pw" not in said


def test_uploads_cut_off_by_a_killed_worker_are_swept_at_start(tmp_path: Path) -> None:
    import os
    import time

    from api_harness import ServerThread

    from agent.server.files import FileAccess

    home = tmp_path / "home"
    mine = FileAccess(home, None).user_uploads("ana")
    stale = mine / "cutoff000001" / "big.safetensors.part"  # its worker was killed mid-body
    live = mine / "receiving0001" / "now.safetensors.part"  # another worker is receiving it
    done = mine / "complete0001" / "m.safetensors"
    for path in (stale, live, done):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"\0" * 1000)
    hours_ago = time.time() - 3 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(done, (hours_ago, hours_ago))
    srv = ServerThread(home).start()
    try:
        assert not stale.exists() and not stale.parent.exists()
        assert live.exists() and done.exists()
    finally:
        srv.stop()
