"""Work outside a turn (verification followed in the background) as runs of kind ``background``.

The Assistant publishes such work as notifications; each thread's become one run,
opened at its first event and closed (with the thread's values) once the
Assistant says the thread has no background work left.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from agent.assistant import Assistant, NotificationStream
from agent.events import Event, Notification, TextEvent

log = logging.getLogger("satya.server.runs")
_DAY_S = 24 * 3600.0


def _told_elsewhere(note: Notification) -> bool:
    """A verification's end told to its user's notification stream: the background run
    already carries that verification's own events."""
    event = note.event
    return (
        bool(note.user_id)
        and isinstance(event, TextEvent)
        and event.kind.startswith("verification_ended")
    )


class BackgroundSink(Protocol):
    """Where background runs are recorded (the worker's ``RunManager``)."""

    async def open_background(self, thread_id: str) -> str:
        """Record a new background run on the thread and start its log; its id."""
        ...

    async def emit(self, run_id: str, thread_id: str, event: Event) -> None:
        """Log one event of the run."""
        ...

    async def close_background(self, run_id: str, thread_id: str) -> None:
        """End the run with the thread's values."""
        ...


class BackgroundRuns:
    """Forwards the Assistant's notifications, in order, into one run per thread."""

    def __init__(self, assistant: Assistant, sink: BackgroundSink) -> None:
        self.assistant = assistant
        self.sink = sink
        self._open: dict[str, str] = {}  # thread id -> its open background run
        self._queue: asyncio.Queue[Notification | tuple[str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._stream: NotificationStream | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()

    def run_ids(self) -> list[str]:
        """The background runs open on this worker."""
        return list(self._open.values())

    def start(self) -> None:
        stream = self._stream = self.assistant.notifications()
        self._tasks = [
            asyncio.create_task(self._forward(stream)),
            asyncio.create_task(self._process()),
        ]

    def close(self) -> None:
        for task in (*self._tasks, *self._side_tasks):
            task.cancel()

    async def _forward(self, stream: NotificationStream) -> None:
        try:
            async for note in stream:
                if _told_elsewhere(note):
                    continue
                self._queue.put_nowait(note)  # no await in between: order is kept
        finally:
            stream.close()

    async def _process(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, tuple):
                    await self._close(item[1])
                else:
                    await self._event(item.thread_id, item.event)
            except Exception:  # one thread's bookkeeping must not stop the others'
                log.exception("background event not recorded")

    async def _event(self, thread_id: str, event: Event) -> None:
        run_id = self._open.get(thread_id)
        if run_id is None:
            run_id = await self.sink.open_background(thread_id)
            self._open[thread_id] = run_id
            waiter = asyncio.create_task(self._await_idle(thread_id))
            self._side_tasks.add(waiter)  # referenced until done, cancelled on close
            waiter.add_done_callback(self._side_tasks.discard)
        await self.sink.emit(run_id, thread_id, event)

    async def _await_idle(self, thread_id: str) -> None:
        await self.assistant.wait_idle(thread_id, _DAY_S)
        # what was published before the thread went idle follows, then the close marker
        if self._stream is not None:
            for note in self._stream.drain(thread_id):
                self._queue.put_nowait(note)
        self._queue.put_nowait(("close", thread_id))

    async def _close(self, thread_id: str) -> None:
        run_id = self._open.pop(thread_id, None)
        if run_id is None:
            return
        await self.sink.close_background(run_id, thread_id)
