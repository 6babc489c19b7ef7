"""SIGKILL during an upload: the restarted chat completes with nothing paid or sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agent.journey_files import make_model_file

CHUNK = 256 * 1024
CONCURRENCY = 2

DRIVER = textwrap.dedent(
    """
    import asyncio, sys
    from agent.assistant import Assistant
    from agent.journey_faults import apply_faults
    from agent.journey_faults import Faults, StorageFaults
    from agent.settings import Settings
    from agent.wiring import build_services
    import contextlib

    async def main():
        settings = Settings(_env_file=None)
        async with contextlib.AsyncExitStack() as stack:
            services = await build_services(settings, stack)
            services = apply_faults(services, Faults(storage=StorageFaults(delay_s=0.15)), model_bytes=0)
            async with Assistant.open(settings, services=services) as assistant:
                thread = await assistant.new_thread()
                print(thread, flush=True)
                async for _ in assistant.send(thread, "upload ./model.safetensors"):
                    pass
                async for event in assistant.send(thread, "yes"):
                    print(getattr(event, "type", ""), flush=True)

    asyncio.run(main())
    """
)


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SATYA_HOME": str(home),
        "SATYA_CHUNK_SIZE_MIB": str(CHUNK / 1024 / 1024),
        "SATYA_UPLOAD_CONCURRENCY": str(CONCURRENCY),
    }


def _journal_bytes(journal_dir: Path) -> int:
    """Bytes in committed journals; temporary files are renamed away while we look."""
    total = 0
    for journal in journal_dir.glob("*.jsonl") if journal_dir.exists() else []:
        if journal.name.startswith(".tmp-"):
            continue
        try:
            total += journal.stat().st_size
        except FileNotFoundError:
            continue
    return total


def test_sigkill_during_upload_then_resume(tmp_path: Path) -> None:
    home = tmp_path / "home"
    model = make_model_file(tmp_path / "model.safetensors", "safetensors", size_mb=4)
    size = model.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER],
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    thread = proc.stdout.readline().strip()
    assert thread, "the driver did not start"
    journal_dir = home / "uploads"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some chunks are recorded, then kill -9
        if _journal_bytes(journal_dir) > 600:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("the upload never started")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    # The user comes back: `satya chat --thread ID`, answering the listing gate with "yes".
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "chat", "--thread", thread],
        cwd=tmp_path,
        env=_env(home),
        input="yes\n/raw\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "A step was interrupted; continuing it now." in out
    assert "Listed:" in out or "Listed!" in out, out
    assert "Resumed:" in out, out  # the upload reused the chunks stored before the kill

    # Nothing duplicated: one PendingModel, one listing, and bytes re-sent bounded.
    import asyncio

    from agent.settings import Settings
    from integrations.chain.keys import load_or_create_keypair
    from integrations.chain.local import LocalLedger

    async def check() -> None:
        ledger = LocalLedger(home / "ledger.sqlite")
        me = load_or_create_keypair(home / "keys" / "local.key")
        pending = await ledger.owned_objects(me.address, "PendingModel")
        listings = [o for o in await ledger.listings() if o.fields.get("creator") == me.address]
        await ledger.aclose()
        assert len(pending) <= 1 and len(listings) == 1, (pending, listings)

    asyncio.run(check())
    del Settings
    skipped_line = next(line for line in out.splitlines() if "Resumed:" in line)
    assert "not sent again" in skipped_line
    assert size > CONCURRENCY * CHUNK
