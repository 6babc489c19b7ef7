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


async def _fill_checkpoints(how: str, disk: Path, assistant: Assistant) -> Path | None:
    """Leave no room for the next checkpoint: a tmpfs filled up, or (where no file system can
    be mounted) the checkpoint database held at its size with SQLite's max_page_count, which
    fails the same real write with the same SQLITE_FULL."""
    if how == "tmpfs":
        filler = disk / "filler"
        with filler.open("wb") as fh:
            fh.write(b"\0" * max(shutil.disk_usage(disk).free - 4096, 0))
        return filler
    conn = assistant.graph.checkpointer.conn  # type: ignore[union-attr]
    async with conn.execute("PRAGMA page_count") as cur:
        row = await cur.fetchone()
    await conn.execute(f"PRAGMA max_page_count = {int(row[0])}")
    return None


@pytest.mark.parametrize("how", ["tmpfs", "max_page_count"])
async def test_a_full_disk_while_a_checkpoint_is_written_loses_nothing(
    how: str, tmp_path: Path
) -> None:
    """The checkpoint of a turn cannot be written: the chat says the disk is full in one
    paragraph (it said "Something went wrong inside Satya Agent" with a traceback in the log),
    the conversation keeps its last checkpoint, and saying it again works once there is room."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if how == "tmpfs":
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], capture_output=True
        )
        if mounted.returncode != 0:
            pytest.skip("cannot mount a tmpfs here; the max_page_count case stands in for it")
    try:
        settings = Settings(_env_file=None, home=disk / "home")  # type: ignore[call-arg]
        async with Assistant.open(settings) as assistant:
            thread = await assistant.new_thread()
            await _say(assistant, thread, "I'm new here")
            before = await assistant.snapshot(thread)
            filler = await _fill_checkpoints(how, disk, assistant)
            failed = await _say(assistant, thread, "I'm an expert")
            errors = [e for e in failed if isinstance(e, ErrorEvent)]
            assert [e.code for e in errors] == ["disk_full"], failed
            assert "is full" in errors[0].message and "Free space" in errors[0].hint
            assert "Something went wrong" not in errors[0].message
            after = await assistant.snapshot(thread)
            # the last checkpoint that was written: at most the message read, nothing it did
            kept = {k: v for k, v in after.values.items() if k != "intent"}
            assert kept == {k: v for k, v in before.values.items() if k != "intent"}
            if filler is not None:
                filler.unlink()
            else:
                await assistant.graph.checkpointer.conn.execute(  # type: ignore[union-attr]
                    "PRAGMA max_page_count = 1073741823"
                )
            # as the hint says: 'resume', and if nothing waits, the message again
            assert "'resume'" in errors[0].hint
            again = await _say(assistant, thread, "resume")
            if (await assistant.snapshot(thread)).values["expertise"] != "expert":
                again = await _say(assistant, thread, "I'm an expert")
            assert not [e for e in again if isinstance(e, ErrorEvent)], again
            assert (await assistant.snapshot(thread)).values["expertise"] == "expert", (
                errors[0].hint,
                again,
            )
    finally:
        if how == "tmpfs":
            subprocess.run(["umount", "-l", str(disk)], check=False)
