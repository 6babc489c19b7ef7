"""Server-sent events: ``id:``, ``event:`` and ``data:`` lines, sent by sse-starlette's
``EventSourceResponse``, whose ping (a ``: keep-alive`` comment every ``keepalive_s``) keeps
idle connections open through proxies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

from agent.server.streams import event_names


def frame(ident: int | str, event: str, data: Any) -> bytes:
    """One SSE message; ``id`` is the run's event sequence number (a thread's stream:
    ``run_id:seq``), what a client sends back as ``Last-Event-ID`` to resume."""
    return ServerSentEvent(data=json.dumps(data), event=event, id=str(ident), sep="\n").encode()


def _keepalive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep="\n")


def parse_last_event_id(value: str | None) -> int:
    """The sequence number a reconnecting client saw last (0: from the start)."""
    if value is None:
        return 0
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 12 else 0


async def sse_frames(
    events: AsyncIterator[tuple[int, str, Any]], modes: list[str]
) -> AsyncIterator[bytes]:
    """Frames for the events whose mode the client asked for."""
    wanted = event_names(modes)
    async for seq, name, data in events:
        if name in wanted:
            yield frame(seq, name, data)


def event_source(
    body: AsyncIterator[bytes], *, keepalive_s: float, headers: Mapping[str, str] | None = None
) -> EventSourceResponse:
    """An SSE response for ``body``'s frames, pinging while no event comes."""
    return EventSourceResponse(
        body,
        headers={"Cache-Control": "no-store", **(headers or {})},
        ping=keepalive_s,
        ping_message_factory=_keepalive,
        sep="\n",
    )
