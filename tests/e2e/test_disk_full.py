"""SATYA_HOME on a small file system that fills up: one plain paragraph naming the disk and
the room needed, nothing half-written kept, and 'retry' works once space is back."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.events import ErrorEvent
from agent.journey_files import make_model_file


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs (root may mount one; elsewhere the test cannot run and says so)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


async def _say(assistant: Assistant, thread: str, text: str) -> list[object]:
    return [e async for e in assistant.send(thread, text)]


def _texts(events: list[object]) -> str:
    return "\n".join(e.text for e in events if isinstance(e, TextEvent))


async def test_a_full_disk_is_one_paragraph_and_retry_works_after(
    small_disk: Path, tmp_path: Path
) -> None:
    model = make_model_file(tmp_path / "big.safetensors", "safetensors", size_mb=4)
    home = small_disk / "home"
    settings = Settings(_env_file=None, home=home)  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _say(assistant, thread, f"upload {model}")
        filler = small_disk / "filler"
        with filler.open("wb") as fh:  # leave about 1 MiB free
            free = shutil.disk_usage(small_disk).free
            assert free > 8 * 1024 * 1024  # room enough once the filler is gone
            fh.write(b"\0" * (free - 1024 * 1024))
        failed = await _say(assistant, thread, "yes")
        said = _texts(failed)
        assert f"The disk at {small_disk} is full" in said and "free at least" in said
        assert "'retry'" in said
        assert not [e for e in failed if isinstance(e, ErrorEvent)]
        assert "Traceback" not in said and "internal" not in said
        kept = [p for p in (home / "blobs").rglob("*") if p.is_file()]
        assert kept == []  # nothing half-written
        filler.unlink()  # space is back
        again = await _say(assistant, thread, "retry")
        assert "Verified" in _texts(again) or "Uploaded" in _texts(again), _texts(again)


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(shutil.disk_usage(disk).free - leave, 0))
    return filler


def test_the_http_api_answers_507_and_is_not_ready_on_a_full_disk(
    small_disk: Path, tmp_path: Path
) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
    from api_harness import ServerThread

    model = make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=2)
    server = ServerThread(small_disk / "home").start()
    try:
        with server.client("ana") as c:
            assert c.get("/ready").status_code == 200
            filler = _fill(small_disk, 64 * 1024)
            with model.open("rb") as fh:
                r = c.post("/uploads", files={"file": (model.name, fh)})
            assert r.status_code == 507, r.text
            body = r.json()
            assert body["code"] == "disk_full" and f"The disk at {small_disk}" in body["detail"]
            assert "retry" in body["hint"]
            ready = c.get("/ready")
            assert ready.status_code == 503 and "is full" in ready.json()["detail"]
            other = c.post("/threads", json={})
            assert other.status_code in (200, 507), other.text  # never a bare 500
            assert other.headers["content-type"].startswith("application/json")
            filler.unlink()
            assert c.get("/ready").status_code == 200
            with model.open("rb") as fh:
                assert c.post("/uploads", files={"file": (model.name, fh)}).status_code == 201
    finally:
        server.stop()
