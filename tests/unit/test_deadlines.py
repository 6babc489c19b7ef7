"""Deadlines: derived from the estimate; a hung enclave never holds a conversation."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
from pathlib import Path
from typing import Any

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_faults import VerifierWrapper
from agent.journey_files import make_model_file
from agent.wiring import build_services, flow_config
from flows.deadlines import TX_SAMPLES, step_deadline_s, tx_estimates
from flows.failures import retry_rule
from flows.insights import load_records
from flows.publication import TxTimes, model_draft, register_model
from integrations.chain.faults import FaultyLedger
from integrations.errors import ChainSlow
from integrations.tee.port import JobStatus


class HungCalls(VerifierWrapper):
    """A real verifier whose status calls never answer (an enclave hung mid-request)."""

    async def status(self, job_id: str) -> JobStatus:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def _one_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **knobs: Any) -> Settings:
    """Settings in auto mode, in a folder holding one small model, m.safetensors."""
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.05)
    return Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", mode="auto", **knobs
    )


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
    settings = _one_model(
        tmp_path, monkeypatch, call_timeout_s=0.3, retry_backoff_s=0.1, verify_foreground_s=30
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


async def test_a_ledger_transaction_is_late_past_the_deadline_its_recorded_durations_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _one_model(
        tmp_path, monkeypatch, tx_estimate_s=7.0, deadline_factor=2, deadline_min_s=1.0
    )
    cfg = flow_config(settings)
    user = settings.user
    async with contextlib.AsyncExitStack() as stack:
        real = await build_services(settings, stack)
        async with Assistant.open(settings, services=real) as assistant:
            # nothing recorded yet: the documented default
            assert await tx_estimates(assistant.store, user, ["upload_model"], cfg) == {
                "upload_model": 7.0
            }
            thread = await assistant.new_thread()
            _ = [e async for e in assistant.send(thread, "quick upload m.safetensors")]
            view = await assistant.state(thread)
            records = [
                r
                for r in await load_records(assistant.store, user)
                if r["kind"] == "call" and r["name"] == "ledger.upload_model"
            ]
            assert records, "the registration was recorded as a step event"
            estimates = await tx_estimates(assistant.store, user, ["upload_model"], cfg)
            median = statistics.median(r["duration_s"] for r in records[-TX_SAMPLES:])
            assert estimates == {"upload_model": round(median, 3)}
        # A registration that executes but never confirms is late past max(1 s, 2 x estimate).
        late = FaultyLedger(real.ledger, writes_late={"upload_model": 1})
        services = dataclasses.replace(real, ledger=late)
        wallet = await services.wallet_for(user)
        draft = model_draft({**view.context, "title": "again"})
        times = TxTimes(estimates)
        with pytest.raises(ChainSlow) as caught:
            await asyncio.wait_for(
                register_model(services, wallet, draft, prefix="wf-late", times=times), 20
            )
        assert (
            f"The registration transaction is taking longer than expected: estimated "
            f"{estimates['upload_model']:g} s, no confirmation after 1 s." == caught.value.message
        )
        assert retry_rule(ChainSlow.code) == "on_request"  # the user chooses: wait, retry, cancel
        # Sent again under its key: the PendingModel the late one made, not a second one.
        again = await register_model(services, wallet, draft, prefix="wf-late", times=times)
        assert again.replayed
