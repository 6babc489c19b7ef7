"""'check status' lists every pending operation of the user across conversations."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_faults import SlowVerifier
from agent.journey_files import make_model_file
from agent.wiring import build_services


@contextlib.asynccontextmanager
async def _open(home: Path) -> AsyncIterator[Assistant]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=home, user="pia", chunk_size_mib=0.5, verify_foreground_s=0
    )
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        services = dataclasses.replace(services, verifier=SlowVerifier(services.verifier, 60))
        yield await stack.enter_async_context(Assistant.open(settings, services=services))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for n, name in enumerate(("a.safetensors", "b.safetensors", "c.safetensors")):
        make_model_file(tmp_path / name, "safetensors", size_mb=0.3, seed=n)
    make_model_file(tmp_path / "d.onnx", "onnx", size_mb=0.2)
    return tmp_path / "home"


async def _say(assistant: Assistant, thread: str, text: str) -> list[TextEvent]:
    return [e async for e in assistant.send(thread, text) if isinstance(e, TextEvent)]


async def test_check_status_lists_what_waits_in_every_conversation(home: Path) -> None:
    async with _open(home) as assistant:
        asking = await assistant.new_thread("pia")
        await _say(assistant, asking, "upload ./a.safetensors")
        verifying = await assistant.new_thread("pia")
        await _say(assistant, verifying, "upload ./b.safetensors")
        await _say(assistant, verifying, "yes")
        bulk = await assistant.new_thread("pia")
        await _say(assistant, bulk, "bulk upload c.safetensors d.onnx")
        await _say(assistant, bulk, "yes")
        other = await assistant.new_thread("someone-else")
        await _say(assistant, other, "upload ./a.safetensors")

        said = await _say(assistant, asking, "check status")
        ops = await assistant.pending("pia")
    kinds = [e.kind for e in said]
    assert kinds[0] == "status" and kinds[-1] == "pending_operations"
    by_thread = {(op.thread_id, op.kind, op.file_name) for op in ops}
    assert by_thread == {
        (asking, "gate", "a.safetensors"),
        (verifying, "verification", "b.safetensors"),
        (bulk, "bulk_file", "c.safetensors"),
        (bulk, "bulk_file", "d.onnx"),
    }
    text = said[-1].text
    assert "Pending across your conversations (4):" in text
    assert "here: the upload question waits for your answer (a.safetensors) — say 'yes'" in text
    assert f"in {verifying}: verification of b.safetensors runs in the background" in text
    assert f"in {bulk}: c.safetensors: verification runs in the background" in text
    assert f"in {bulk}: d.onnx: verification runs in the background" in text
    assert other not in text  # another user's conversation is not theirs to see
