"""Marketplace events reach the author: a sale by another user, a verification that
ended while they were away."""

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
from integrations.chain.port import MIST_PER_SUI


@contextlib.asynccontextmanager
async def _open(home: Path, *, slow_s: float = 0.0) -> AsyncIterator[Assistant]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        home=home,
        user="ana",
        chunk_size_mib=0.5,
        verify_foreground_s=0 if slow_s else 30,
        monitor_poll_s=0.05,
    )
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        if slow_s:
            services = dataclasses.replace(
                services, verifier=SlowVerifier(services.verifier, slow_s)
            )
        yield await stack.enter_async_context(Assistant.open(settings, services=services))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.5)
    return tmp_path / "home"


async def _say(assistant: Assistant, thread: str, text: str) -> list[TextEvent]:
    return [e async for e in assistant.send(thread, text) if isinstance(e, TextEvent)]


async def _buy(assistant: Assistant, buyer: str, listing_id: str) -> None:
    thread = await assistant.new_thread(buyer)
    await _say(assistant, thread, f"buy {listing_id}")
    said = await _say(assistant, thread, "yes")
    assert "purchased" in [e.kind for e in said]


async def test_a_sale_reaches_the_author_now_or_on_their_next_turn(home: Path) -> None:
    async with _open(home) as assistant:
        author = await assistant.new_thread("ana")
        await _say(assistant, author, "upload ./m.safetensors")
        await _say(assistant, author, "yes")
        await _say(assistant, author, "make it 2 SUI")
        await _say(assistant, author, "yes")
        listing_id = str((await assistant.state(author)).context["listing_id"])

        # away: the sale waits for the author's next turn, in any of their conversations
        await _buy(assistant, "ben", listing_id)
        other = await assistant.new_thread("ana")
        first = (await _say(assistant, other, "check status"))[0]
        assert first.kind == "model_sold"
        assert first.data["listing_id"] == listing_id and first.data["thread_id"] == author
        assert first.data["price_mist"] == 2 * MIST_PER_SUI
        assert "was bought for 2 SUI; 1.95 SUI is yours after the platform fee" in first.text
        again = await _say(assistant, other, "check status")
        assert "model_sold" not in [e.kind for e in again]  # delivered once

        # there: a stream listening for the author gets it as it happens, and only once
        notes = assistant.notifications(user_id="ana")
        await _buy(assistant, "cy", listing_id)
        live = [n for n in notes.drain() if n.user_id == "ana"]
        assert [n.event.kind for n in live if isinstance(n.event, TextEvent)] == ["model_sold"]
        assert live[0].thread_id == author
        later = await _say(assistant, author, "check status")
        assert "model_sold" not in [e.kind for e in later]

        # the buyer's own purchase is never announced to the buyer as a sale
        ben = await assistant.new_thread("ben")
        assert "model_sold" not in [e.kind for e in await _say(assistant, ben, "check status")]


async def test_a_verification_that_ends_while_away_is_told_on_return(home: Path) -> None:
    async with _open(home, slow_s=0.5) as assistant:
        thread = await assistant.new_thread("ana")
        await _say(assistant, thread, "upload ./m.safetensors")
        await _say(assistant, thread, "yes")
        assert (await assistant.state(thread)).status == "verifying"
        assert await assistant.wait_idle(thread, 30)
        back = await _say(assistant, thread, "check status")
    assert back[0].kind == "verification_ended_passed"
    assert "While you were away, the verification of m.safetensors passed" in back[0].text
