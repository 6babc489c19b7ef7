"""Background verification: the monitor follows jobs past their turn, across restarts, once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_faults import SlowVerifier, VerifierWrapper
from agent.monitor import VERIFYING_NAMESPACE, SqliteLease, VerificationMonitor
from agent.wiring import build_services
from integrations.errors import EnclaveUnavailable
from integrations.tee.port import JobStatus


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


class _UnreadableStatus(VerifierWrapper):
    """A real verifier whose jobs' status cannot be read the next ``failures`` times."""

    failures = 0

    async def status(self, job_id: str) -> JobStatus:
        if self.failures > 0:
            self.failures -= 1
            raise EnclaveUnavailable("The enclave did not answer (connection refused).")
        return await self.inner.status(job_id)


class _TimedLease:
    """The SQLite lease, noting when each worker took or renewed it."""

    def __init__(self, inner: SqliteLease) -> None:
        self.inner = inner
        self.taken: list[tuple[float, str]] = []

    async def acquire(self, key: str, owner: str, ttl_s: float) -> bool:
        ok = await self.inner.acquire(key, owner, ttl_s)
        if ok:
            self.taken.append((time.monotonic(), owner))
        return ok

    async def release(self, key: str, owner: str) -> None:
        await self.inner.release(key, owner)


async def test_status_errors_back_off_and_the_lease_is_renewed_while_waiting(home: Path) -> None:
    """Four unreadable statuses in a row: retried after 2, 4, 8 and 16 polls, the fifth try
    reads the end; through the long waits the worker keeps its lease, so no other worker
    takes the job over from one that is only backing off."""
    settings = _settings(home)
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        verifier = _UnreadableStatus(SlowVerifier(services.verifier, 1.0))
        services = dataclasses.replace(services, verifier=verifier)
        assistant = await stack.enter_async_context(Assistant.open(settings, services=services))
        assert assistant.monitor is not None
        await assistant.monitor.stop()
        lease = _TimedLease(SqliteLease(home / "leases.sqlite"))
        monitor = VerificationMonitor(assistant, lease, poll_s=0.1, lease_ttl_s=0.9)
        assistant.monitor = monitor
        await monitor.start()
        stack.push_async_callback(monitor.stop)
        notes = assistant.notifications()
        thread = await _to_background(assistant)
        verifier.failures = 4
        began = time.monotonic()
        assert await assistant.wait_idle(thread, 60)
        took = time.monotonic() - began
        view = await assistant.state(thread)
    assert verifier.failures == 0
    assert took >= 0.2 + 0.4 + 0.8 + 1.6  # the backoff waited
    assert view.gate is not None and view.gate["gate"] == "listing"
    kinds = [n.event.kind for n in notes.drain(thread) if isinstance(n.event, TextEvent)]
    assert kinds.count("verification_passed") == 1
    times = [t for t, owner in lease.taken if owner == monitor.owner and t >= began]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and max(gaps) < monitor.lease_ttl_s, f"the lease lapsed for {max(gaps):.2f}s"


async def _stopped_mid_upload(assistant: Assistant) -> str:
    """A thread whose upload was stopped half way, as Ctrl-C stops it."""
    from agent.journeys import say_and_stop

    thread = await assistant.new_thread()
    [e async for e in assistant.send(thread, "upload ./big.safetensors")]
    await say_and_stop(assistant, thread, "yes", "vera", 0.5)
    view = await assistant.state(thread)
    assert view.next_nodes == ("upload",) and view.status == "paused"
    return thread


@pytest.mark.parametrize("how", ["enter", "resume"])
async def test_a_resumed_step_hands_its_running_job_to_the_monitor(home: Path, how: str) -> None:
    """A stopped upload continued (Enter in the chat: ``resume_pending``; or 'resume') goes
    on to a verification that outlives the turn: the monitor follows that job, and its
    completion turn brings the thread to the listing question."""
    from agent.journey_files import make_model_file

    make_model_file(home.parent / "big.safetensors", "safetensors", size_mb=4)
    settings = _settings(home).model_copy(update={"chunk_size_mib": 0.25, "upload_concurrency": 1})
    async with _open(settings, slow_s=1.0) as assistant:
        notes = assistant.notifications()
        thread = await _stopped_mid_upload(assistant)
        if how == "enter":
            events = [e async for e in assistant.resume_pending(thread, user_id="vera")]
        else:
            events = [e async for e in assistant.send(thread, "resume", user_id="vera")]
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert "verification_background" in kinds
        assert (await assistant.state(thread)).status == "verifying"
        assert await assistant.store.aget(VERIFYING_NAMESPACE, thread) is not None
        assert await assistant.wait_idle(thread, 30)
        got = [n.event for n in notes.drain(thread)]
        assert "verification_passed" in [e.kind for e in got if isinstance(e, TextEvent)]
        view = await assistant.state(thread)
        assert view.status == "active" and view.gate and view.gate["gate"] == "listing"


@pytest.mark.parametrize("by", ["step", "/step"])
async def test_a_debug_step_that_leaves_a_job_running_hands_it_to_the_monitor(
    home: Path, by: str
) -> None:
    """Debug mode: the step that hands the verification to the background, run by the
    message 'step' or by /step in the chat (``resume_pending``), leaves the job followed."""
    settings = _settings(home).model_copy(update={"mode": "debug"})
    async with _open(settings, slow_s=1.0) as assistant:
        thread = await assistant.new_thread()
        [e async for e in assistant.send(thread, "upload ./m.safetensors")]
        for _ in range(40):
            view = await assistant.state(thread)
            if view.status == "verifying":
                break
            if view.gate:
                [e async for e in assistant.send(thread, "yes")]
            elif view.next_nodes == ("verify_monitor",) and by == "step":
                [e async for e in assistant.send(thread, "step")]
            else:
                [e async for e in assistant.resume_pending(thread, user_id="vera")]
        assert (await assistant.state(thread)).status == "verifying"
        assert await assistant.store.aget(VERIFYING_NAMESPACE, thread) is not None
        assert await assistant.wait_idle(thread, 30)
        view = await assistant.state(thread)
        assert view.gate and view.gate["gate"] == "listing"
        assert view.context.get("verification_id")
