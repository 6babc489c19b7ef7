"""kill -9 at a random instant after the upload's "yes", single and bulk, 20 times: every time
the journey is resumable, resumes to its listing, and each ledger object exists once."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent import Assistant, Settings
from agent.journey_files import make_model_file
from integrations.chain.keys import load_or_create_keypair
from integrations.chain.local import LocalLedger

RUNS = int(os.environ.get("SATYA_KILL_RUNS", "20"))
DRIVER = textwrap.dedent(
    """
    import asyncio, contextlib, sys
    from agent.assistant import Assistant
    from agent.journey_faults import apply_faults
    from agent.journey_faults import Faults, StorageFaults
    from agent.settings import Settings
    from agent.wiring import build_services

    async def main(message):
        settings = Settings(_env_file=None)
        async with contextlib.AsyncExitStack() as stack:
            services = await build_services(settings, stack)
            services = apply_faults(services, Faults(storage=StorageFaults(delay_s=0.05)), model_bytes=0)
            async with Assistant.open(settings, services=services) as assistant:
                thread = await assistant.new_thread()
                async for _ in assistant.send(thread, message):
                    pass
                print(thread, flush=True)
                async for _ in assistant.send(thread, "yes"):
                    pass
                await assistant.wait_idle(thread, 60)
                print("done", flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)
FILES = ("a.safetensors", "b.onnx")


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SATYA_HOME": str(home),
        "SATYA_CHUNK_SIZE_MIB": "0.25",
        "SATYA_UPLOAD_CONCURRENCY": "2",
    }


def _resumable(view: object) -> bool:
    v = view  # a ThreadView
    return bool(
        getattr(v, "gate", None)
        or getattr(v, "next_nodes", ())
        or getattr(v, "status", "") in ("verifying", "completed")
        or getattr(v, "error", None)
        or getattr(v, "context", {}).get("verification_id")
        or getattr(v, "context", {}).get("bulk")
    )


async def _finish(home: Path, thread: str, bulk: bool) -> list[str]:
    """Come back after the kill: resume, wait for verification, list. The replies seen."""
    seen: list[str] = []
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=home, chunk_size_mib=0.25, upload_concurrency=2
    )
    async with Assistant.open(settings) as assistant:
        view = await assistant.state(thread)
        assert _resumable(view), (view.status, view.phase, view.next_nodes, view.context)
        for _ in range(8):
            view = await assistant.state(thread)
            if view.next_nodes and not view.gate:
                message = "resume"
            elif view.gate and view.gate.get("gate") == "upload":
                message = "yes"  # killed before the answer was recorded: the user answers again
            elif view.gate and view.gate.get("gate") == "listing":
                message = "yes"
            elif view.status == "verifying":
                await assistant.wait_idle(thread, 60)
                continue
            elif view.error:  # e.g. the enclave died with the process: the user says retry
                message = "retry"
            elif bulk and not all(f.get("listing_id") for f in view.context.get("bulk", [])):
                message = "list them"
            else:
                break
            seen += [
                getattr(e, "text", getattr(e, "message", ""))
                async for e in assistant.send(thread, message)
            ]
            await assistant.wait_idle(thread, 60)
        return seen


async def _ledger_counts(home: Path) -> tuple[int, int]:
    ledger = LocalLedger(home / "ledger.sqlite")
    me = load_or_create_keypair(home / "keys" / "local.key")
    try:
        pending = await ledger.owned_objects(me.address, "PendingModel")
        listings = [o for o in await ledger.listings() if o.fields.get("creator") == me.address]
        return len(pending), len(listings)
    finally:
        await ledger.aclose()


@pytest.mark.parametrize("run", range(RUNS))
def test_kill_at_a_random_instant_leaves_a_resumable_journey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: int
) -> None:
    rng = random.Random(run)
    bulk = run % 2 == 1
    home = tmp_path / "home"
    for i, name in enumerate(FILES if bulk else FILES[:1]):
        make_model_file(tmp_path / name, "safetensors", size_mb=1.5, seed=i)
    message = "bulk upload a.safetensors b.onnx" if bulk else "upload ./a.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, message],
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    thread = proc.stdout.readline().strip()
    assert thread, "the driver did not start"
    time.sleep(rng.uniform(0.0, 2.0))  # somewhere in upload, registration or verification
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    monkeypatch.chdir(tmp_path)  # relative paths of the journey, as the user's shell had them
    seen = asyncio.run(_finish(home, thread, bulk))
    pending, listings = asyncio.run(_ledger_counts(home))
    files = 2 if bulk else 1
    assert pending <= files and listings == files, (pending, listings, seen)


FOREGROUND_DRIVER = DRIVER.replace(
    "Faults(storage=StorageFaults(delay_s=0.05))",
    "Faults(verifier=VerifierFaults(slow_s=3))",
).replace("StorageFaults", "StorageFaults, VerifierFaults", 1)


def test_a_kill_during_foreground_verification_resumes_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    make_model_file(tmp_path / "a.safetensors", "safetensors", size_mb=0.5)
    env = {**_env(home), "SATYA_VERIFY_FOREGROUND_S": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-c", FOREGROUND_DRIVER, "upload ./a.safetensors"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    thread = proc.stdout.readline().strip()
    jobs = home / "verifier" / "jobs"
    deadline = time.monotonic() + 30
    while not (jobs.exists() and any(jobs.glob("*.json"))):  # verifying in the foreground now
        assert time.monotonic() < deadline, "verification never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    monkeypatch.chdir(tmp_path)

    async def come_back() -> tuple[str | None, list[str]]:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, home=home, chunk_size_mib=0.25, upload_concurrency=2
        )
        async with Assistant.open(settings) as assistant:  # nobody writes anything
            notes = assistant.notifications()
            assert await assistant.wait_idle(thread, 60)
            view = await assistant.state(thread)
            kinds = [getattr(n.event, "kind", "") for n in notes.drain(thread)]
            where = [view.status, view.phase, *view.next_nodes, *view.completed_steps[-2:]]
            return (view.gate or {}).get("gate"), kinds + where

    gate, kinds = asyncio.run(come_back())
    assert gate == "listing", kinds
