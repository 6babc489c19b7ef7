"""Modes and gates through the public Assistant API: debug breakpoints, the auto-mode cap, bad answers."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from agent import Assistant, GateEvent, PauseEvent, Settings, TextEvent
from agent.journey_files import make_model_file


async def _texts(assistant: Assistant, thread: str, text: str) -> list[object]:
    return [e async for e in assistant.send(thread, text)]


async def test_debug_mode_stops_before_every_step_and_shows_state(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home", mode="debug")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _texts(assistant, thread, "check status")
        pauses = [e for e in events if isinstance(e, PauseEvent)]
        assert pauses and pauses[0].next_nodes == ("intake",)
        view = await assistant.state(thread)
        assert view.next_nodes == ("intake",) and view.mode == "debug"
        events = await _texts(assistant, thread, "/step")
        assert next(e for e in events if isinstance(e, PauseEvent)).next_nodes == ("status",)
        events = await _texts(assistant, thread, "continue")
        assert any(isinstance(e, TextEvent) and e.kind == "status" for e in events)
        assert (await assistant.state(thread)).next_nodes == ()


async def test_auto_mode_asks_when_the_cost_is_over_the_cap(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=1)
    settings = Settings(_env_file=None, home=tmp_path / "home", mode="auto", auto_cap_wal=0.0)  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = await _texts(assistant, thread, "upload ./m.safetensors")
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert "auto_cap_exceeded" in kinds
        assert any(isinstance(e, GateEvent) and e.gate == "upload" for e in events)


async def test_an_unclear_answer_at_a_gate_asks_again_and_pays_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=1)
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _texts(assistant, thread, "upload ./m.safetensors")
        events = await _texts(assistant, thread, "banana")
        assert any(isinstance(e, GateEvent) and e.gate == "upload" for e in events)
        view = await assistant.state(thread)
        assert view.gate is not None and "manifest_blob_id" not in view.context
        events = await _texts(assistant, thread, "no")
        assert any(isinstance(e, TextEvent) and e.kind == "upload_declined" for e in events)
        assert (await assistant.state(thread)).status == "cancelled"


async def test_another_user_cannot_use_a_thread(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("ana")
        await _texts(assistant, thread, "hello")  # ana's first turn
        events = [e async for e in assistant.send(thread, "show raw data", user_id="bob")]
        assert [getattr(e, "code", None) for e in events] == ["not_found"]


async def test_continue_after_a_cut_off_upload_finishes_it_and_says_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from agent import ProgressEvent

    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=8)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", chunk_size_mib=0.25, upload_concurrency=1
    )
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _texts(assistant, thread, "upload ./m.safetensors")

        async def until_half() -> None:  # the turn is cancelled mid-upload, as Ctrl-C does
            async for event in assistant.send(thread, "yes"):
                if (
                    isinstance(event, ProgressEvent)
                    and event.task == "upload"
                    and event.fraction >= 0.5
                ):
                    raise asyncio.CancelledError

        with contextlib.suppress(asyncio.CancelledError):
            await until_half()
        view = await assistant.state(thread)
        assert view.next_nodes == ("upload",) and "manifest_blob_id" not in view.context
        events = await _texts(assistant, thread, "continue")
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert "nothing_to_retry" not in kinds and "gate_reminder" not in kinds
        assert any(isinstance(e, GateEvent) and e.gate == "listing" for e in events)
