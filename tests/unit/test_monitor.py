"""Background verification: the monitor follows jobs past their turn, across restarts, once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_faults import SlowVerifier
from agent.monitor import VERIFYING_NAMESPACE, SqliteLease
from agent.wiring import build_services


def _settings(home: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        home=home,
        user="vera",
        chunk_size_mib=0.5,
        verify_foreground_s=0,
        monitor_poll_s=0.05,
    )


@contextlib.asynccontextmanager
async def _open(settings: Settings, slow_s: float) -> AsyncIterator[Assistant]:
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        services = dataclasses.replace(services, verifier=SlowVerifier(services.verifier, slow_s))
        yield await stack.enter_async_context(Assistant.open(settings, services=services))


async def _to_background(assistant: Assistant) -> str:
    thread = await assistant.new_thread()
    [e async for e in assistant.send(thread, "upload ./m.safetensors")]
    events = [e async for e in assistant.send(thread, "yes")]
    assert "verification_background" in [e.kind for e in events if isinstance(e, TextEvent)]
    assert (await assistant.state(thread)).status == "verifying"
    return thread


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from agent.journey_files import make_model_file

    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=1)
    return tmp_path / "home"


async def test_completion_resumes_the_thread_and_is_announced(home: Path) -> None:
    async with _open(_settings(home), slow_s=1.0) as assistant:
        notes = assistant.notifications()
        thread = await _to_background(assistant)
        # The user keeps chatting meanwhile.
        status = [e async for e in assistant.send(thread, "check status")]
        assert any(isinstance(e, TextEvent) and e.kind == "status" for e in status)
        assert await assistant.wait_idle(thread, 30)
        got = [n.event for n in notes.drain(thread)]
        kinds = [e.kind for e in got if isinstance(e, TextEvent)]
        assert "verification_passed" in kinds and "price_suggestion" in kinds
        assert any(getattr(e, "task", None) == "verification" for e in got)
        view = await assistant.state(thread)
        assert view.status == "active" and view.gate and view.gate["gate"] == "listing"
        assert await assistant.store.aget(VERIFYING_NAMESPACE, thread) is None


async def test_a_restarted_process_picks_the_job_up(home: Path) -> None:
    settings = _settings(home)
    async with _open(settings, slow_s=60.0) as assistant:
        thread = await _to_background(assistant)
    # Closed while the job ran: the record survives; a new process follows it.
    async with _open(settings, slow_s=0.0) as assistant:
        assert await assistant.wait_idle(thread, 30)
        view = await assistant.state(thread)
        assert view.gate and view.gate["gate"] == "listing"
        assert view.context.get("verification_id")


async def test_two_workers_deliver_the_completion_once(home: Path) -> None:
    settings = _settings(home)
    async with _open(settings, slow_s=0.8) as first, _open(settings, slow_s=0.8) as second:
        notes = [first.notifications(), second.notifications()]
        thread = await _to_background(first)
        second.monitor.watch(thread)  # type: ignore[union-attr]
        assert await first.wait_idle(thread, 30) and await second.wait_idle(thread, 30)
        passed = [
            n
            for stream in notes
            for n in stream.drain(thread)
            if isinstance(n.event, TextEvent) and n.event.kind == "verification_passed"
        ]
        assert len(passed) == 1


async def test_lease_is_exclusive_until_it_expires(tmp_path: Path) -> None:
    lease = SqliteLease(tmp_path / "leases.sqlite")
    assert await lease.acquire("k", "a", ttl_s=0.3)
    assert not await lease.acquire("k", "b", ttl_s=0.3)
    assert await lease.acquire("k", "a", ttl_s=0.3)  # renewal
    await asyncio.sleep(0.35)
    assert await lease.acquire("k", "b", ttl_s=5)
    await lease.release("k", "a")  # not a's any more: no effect
    assert not await lease.acquire("k", "a", ttl_s=5)
    await lease.release("k", "b")
    assert await lease.acquire("k", "a", ttl_s=5)


async def test_text_cannot_impersonate_the_completion_event(home: Path) -> None:
    async with _open(_settings(home), slow_s=5.0) as assistant:
        thread = await assistant.new_thread()
        from flows.intents import intent

        class Forger:
            async def interpret(self, text: str, *, at_gate: bool = False) -> object:
                return intent("verification_update", text)

        assistant.interpreter = Forger()  # type: ignore[assignment]
        events = [e async for e in assistant.send(thread, "verification_update")]
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert kinds == ["not_understood"]


async def test_a_job_cut_off_by_a_crash_is_verified_again_and_completes(home: Path) -> None:
    """The enclave died with its process mid-job: the next process's monitor finds the job
    interrupted, the journey's recovery submits a fresh one, and the thread reaches listing."""
    import json

    settings = _settings(home)
    async with _open(settings, slow_s=60.0) as assistant:
        thread = await _to_background(assistant)
        job_id = str((await assistant.state(thread)).context["job_id"])
    record_path = home / "verifier" / "jobs" / f"{job_id}.json"
    record = json.loads(record_path.read_text())
    record.update(state="running", fraction=0.4, message="inspecting")  # as a crash leaves it
    record.pop("result", None)
    record_path.write_text(json.dumps(record))

    async with _open(settings, slow_s=0.0) as assistant:
        notes = assistant.notifications()
        assert await assistant.wait_idle(thread, 30)
        kinds = [n.event.kind for n in notes.drain(thread) if isinstance(n.event, TextEvent)]
        assert "auto_retry" in kinds and "verification_passed" in kinds
        view = await assistant.state(thread)
        assert view.gate and view.gate["gate"] == "listing"
        assert view.context["job_id"] != job_id  # a fresh job, not the dead one
        assert view.context.get("verification_id")
