"""Deadlines: derived from the estimate; a hung enclave never holds a conversation."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_faults import VerifierWrapper
from agent.journey_files import make_model_file
from agent.wiring import build_services, flow_config
from flows.deadlines import step_deadline_s
from integrations.tee.port import JobStatus


class HungCalls(VerifierWrapper):
    """A real verifier whose status calls never answer (an enclave hung mid-request)."""

    async def status(self, job_id: str) -> JobStatus:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_a_deadline_is_a_multiple_of_the_estimate_never_under_the_minimum(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path, deadline_factor=3, deadline_min_s=30
    )
    cfg = flow_config(settings)
    assert step_deadline_s(100.0, cfg) == 300.0
    assert step_deadline_s(2.0, cfg) == 30.0
    assert step_deadline_s(None, cfg) == 30.0


async def test_an_enclave_that_never_answers_ends_the_turn_with_the_choices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.05)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        home=tmp_path / "home",
        mode="auto",
        call_timeout_s=0.3,
        retry_backoff_s=0.1,
        verify_foreground_s=30,
    )
    async with contextlib.AsyncExitStack() as stack:
        real = await build_services(settings, stack)
        services = dataclasses.replace(real, verifier=HungCalls(real.verifier))
        async with Assistant.open(settings, services=services) as assistant:
            thread = await assistant.new_thread()

            async def turn() -> list[TextEvent]:
                events = [e async for e in assistant.send(thread, "quick upload m.safetensors")]
                return [e for e in events if isinstance(e, TextEvent)]

            texts = await asyncio.wait_for(turn(), 20)  # never the 30 s foreground wait
    kinds = [t.kind for t in texts]
    assert "auto_retry" in kinds and kinds[-1] == "step_stopped"
    said = "\n".join(t.text for t in texts)
    assert "The enclave did not answer within 0.3 s." in said
    assert "retrying in 0.1 s, 1 of 1" in said
    assert "'cancel' to stop here" in said
