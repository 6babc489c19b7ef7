"""Server-sent events: ``id:``, ``event:`` and ``data:`` lines, with keep-alive comments
(framed by sse-starlette)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import ServerSentEvent

from agent.server.streams import event_names


def frame(seq: int, event: str, data: Any) -> bytes:
    """One SSE message; ``id`` is the run's event sequence number."""
    return ServerSentEvent(data=json.dumps(data), event=event, id=str(seq), sep="\n").encode()


KEEPALIVE = ServerSentEvent(comment="keep-alive", sep="\n").encode()


def parse_last_event_id(value: str | None) -> int:
    """The sequence number a reconnecting client saw last (0: from the start)."""
    if value is None:
        return 0
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 12 else 0


async def sse_stream(
    events: AsyncIterator[tuple[int, str, Any]], modes: list[str], *, keepalive_s: float
) -> AsyncIterator[bytes]:
    """Frames for the events whose mode the client asked for, plus keep-alive comments."""
    wanted = event_names(modes)
    iterator = events.__aiter__()
    pending: asyncio.Future[tuple[int, str, Any]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=keepalive_s)
            if not done:
                yield KEEPALIVE
                continue
            try:
                seq, name, data = pending.result()
            except StopAsyncIteration:
                return
            finally:
                if pending.done():
                    pending = None
            if name in wanted:
                yield frame(seq, name, data)
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(BaseException):
                await aclose()
