"""The caller's notification stream: marketplace events for them, as they happen.

``GET /notifications/stream`` is an SSE stream of ``notice`` events: a purchase of one of
the caller's models, a listing of theirs whose price is now far from comparable
listings, a verification of theirs that ended in the background. While it is open the
caller counts as there: a notice made on this worker comes at once and does not wait
for their next turn. Notices that waited (made while nobody listened, or on another
worker) come first, then every ``SATYA_SERVER_NOTICE_POLL_S`` (1 s).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from agent.events import Notification, TextEvent
from agent.server.deps import BackendDep, UserDep
from agent.server.jsonsafe import json_safe
from agent.server.sse import event_source, frame

router = APIRouter(prefix="/notifications", tags=["notifications"])
SSE_NOTICES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events named `notice`, data `{kind, text, thread_id, "
        "data}`; kinds: `model_sold`, `price_far`, `verification_ended_passed`, "
        "`verification_ended_failed`. Keep-alive comments in between.",
        "content": {"text/event-stream": {}},
    }
}


def _payload(event: TextEvent, thread_id: str) -> dict[str, Any]:
    data = dict(event.data)
    return {
        "kind": event.kind,
        "text": event.text,
        "thread_id": str(data.pop("thread_id", thread_id)),
        "data": json_safe(data),
    }


@router.get("/stream", response_class=EventSourceResponse, responses=SSE_NOTICES)
async def notification_stream(user: UserDep, backend: BackendDep) -> EventSourceResponse:
    """Notices for the caller as they happen (SSE), from the moment it is opened."""
    assistant = backend.assistant
    listening = assistant.notifications(user_id=user)  # from now: the caller is there
    poll_s = backend.config.notice_poll_s

    async def body() -> AsyncIterator[bytes]:
        seq = 0
        loop = asyncio.get_running_loop()
        pending: asyncio.Future[Notification] | None = None
        try:
            while True:
                for event in await assistant.take_notices(user):
                    seq += 1
                    yield frame(seq, "notice", _payload(event, ""))
                # until the next look at the inbox (another worker may leave a notice there)
                look_again = loop.time() + poll_s
                while (now := loop.time()) < look_again:
                    if pending is None:
                        pending = asyncio.ensure_future(listening.__anext__())
                    done, _ = await asyncio.wait({pending}, timeout=max(0.0, look_again - now))
                    if done:
                        note, pending = pending.result(), None
                        if note.user_id == user and isinstance(note.event, TextEvent):
                            seq += 1
                            yield frame(seq, "notice", _payload(note.event, note.thread_id))
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            listening.close()

    # keep-alive comments: sse-starlette's ping, every keepalive_s while nothing is sent
    return event_source(body(), keepalive_s=backend.config.keepalive_s)
