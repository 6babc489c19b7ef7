"""What happens outside a user's turn: notification streams, marketplace notices to
authors, and the inbox of notices that wait for a user's return."""

from __future__ import annotations

import asyncio

from agent.events import Event, Notification, TextEvent
from agent.replies import render
from agent.threads import Threads
from flows.notices import Notice, discard, post, take_inbox


class NotificationStream:
    """Events that happen outside a user's turn, from the moment it is created.

    An async iterator (``async for note in stream``); ``drain()`` takes what is
    queued without waiting; ``close()`` stops it. A stream made for a user
    (``notifications(user_id=…)``) counts as that user being there: their marketplace
    notices (a sale) are delivered to it at once instead of on their next turn.
    """

    def __init__(self, owner: Notifications, user_id: str | None = None) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[Notification] = asyncio.Queue()
        owner._subscribers.add(self._queue)
        if user_id:
            owner._listeners[self._queue] = user_id

    def __aiter__(self) -> NotificationStream:
        return self

    async def __anext__(self) -> Notification:
        return await self._queue.get()

    def drain(self, thread_id: str | None = None) -> list[Notification]:
        """Everything queued now (for ``thread_id`` only, if given; the rest stays queued)."""
        out: list[Notification] = []
        keep: list[Notification] = []
        while not self._queue.empty():
            note = self._queue.get_nowait()
            (out if thread_id in (None, note.thread_id) else keep).append(note)
        for note in keep:
            self._queue.put_nowait(note)
        return out

    @property
    def pending(self) -> int:
        """How many notifications wait to be read."""
        return self._queue.qsize()

    def close(self) -> None:
        self._owner._subscribers.discard(self._queue)
        self._owner._listeners.pop(self._queue, None)


class Notifications(Threads):
    """Notification streams, notices and the inbox (a part of ``Assistant``)."""

    def notifications(self, user_id: str | None = None) -> NotificationStream:
        """Events produced outside a user's turn (verification progress and completion,
        a sale of a user's model); with ``user_id``, that user is there to be told."""
        return NotificationStream(self, user_id)

    def publish(self, thread_id: str, event: Event, *, user_id: str = "") -> None:
        """Hand an event of background work to every notification stream."""
        note = Notification(thread_id, event, user_id)
        for queue in tuple(self._subscribers):
            queue.put_nowait(note)

    def listening(self, user_id: str) -> bool:
        """Whether a notification stream made for ``user_id`` is open."""
        return user_id in self._listeners.values()

    async def _notice(self, notice: Notice) -> None:
        """A marketplace notice made during a run: to the author now if they are there
        (then it leaves their inbox), else it waits for their next turn."""
        kind, data = notice["kind"], notice["data"]
        event = TextEvent(render(kind, data, "intermediate"), kind, dict(data))
        self.publish(notice["thread_id"], event, user_id=notice["user_id"])
        if self.listening(notice["user_id"]):
            await discard(self.store, notice)

    async def _inbox(self, user: str) -> list[TextEvent]:
        """Notices that waited for the user's return, as replies."""
        out: list[TextEvent] = []
        for notice in await take_inbox(self.store, user):
            data = {**notice["data"], "thread_id": notice["thread_id"]}
            out.append(
                TextEvent(render(notice["kind"], data, "intermediate"), notice["kind"], data)
            )
        return out

    async def take_notices(self, user_id: str) -> list[TextEvent]:
        """The marketplace notices that waited for ``user_id`` (a sale, a price far from
        comparable listings, a verification that ended), as replies; delivered (removed)
        now, oldest first. Each one's ``data`` names its conversation (``thread_id``)."""
        return await self._inbox(user_id)

    async def _away(self, thread_id: str, user_id: str) -> None:
        """A background verification ended outside a turn: a notice for its user, at once
        to a stream listening for them, else kept for their next turn."""
        view = await self.state(thread_id)
        ctx = view.context
        passed = bool(ctx.get("verification_id"))
        kind = "verification_ended_passed" if passed else "verification_ended_failed"
        data: dict[str, object] = {
            "file_name": str(ctx.get("file_name") or "your model"),
            "quality_score": ctx.get("quality_score", ""),
        }
        if self.listening(user_id):
            shown = {**data, "thread_id": thread_id}
            event = TextEvent(render(kind, shown, "intermediate"), kind, shown)
            self.publish(thread_id, event, user_id=user_id)
            return
        await post(self.store, kind=kind, user_id=user_id, thread_id=thread_id, data=data)
