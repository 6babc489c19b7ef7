"""A bug inside a step (an exception no adapter means to raise) ends the turn with one
plain paragraph, is logged with its traceback, and leaves the thread usable."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from agent import Assistant, Settings
from agent.events import ErrorEvent
from agent.wiring import build_services
from integrations.chain.port import ChainObject


class _BrokenListings:
    """The real ledger, except that reading the listings hits a bug (a ``KeyError``)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def listings(self, *args: Any, **kwargs: Any) -> list[ChainObject]:
        raise KeyError("price_mist")


async def test_a_bug_in_a_step_is_one_paragraph_logged_and_the_thread_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home", user="ana")  # type: ignore[call-arg]
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        broken = dataclasses.replace(services, ledger=_BrokenListings(services.ledger))
        assistant = await stack.enter_async_context(Assistant.open(settings, services=broken))
        thread = await assistant.new_thread()
        with caplog.at_level(logging.ERROR):
            events = [e async for e in assistant.send(thread, "market analysis")]
        errors = [e for e in events if isinstance(e, ErrorEvent)]
        assert [e.code for e in errors] == ["internal_error"], events
        assert "nothing was lost" in errors[0].message and "'retry'" in (errors[0].hint or "")
        logged = [r for r in caplog.records if r.getMessage() == "internal error during a turn"]
        assert logged and logged[0].exc_info and logged[0].exc_info[0] is KeyError
        again = [e async for e in assistant.send(thread, "hello")]
        assert again and not any(isinstance(e, ErrorEvent) for e in again), again
