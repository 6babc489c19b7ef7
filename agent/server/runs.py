"""Runs: one turn of a thread, executed in the background, its events logged for streaming.

A run is started by ``RunManager.start``; its task feeds the Assistant's events
into the run's log: kept in memory while the run lives (local listeners are woken
at once), written to the shared log (``RunDb``) in batches and in full before the
run is marked done, where listeners on other workers read it. Cancel stops the
task (the thread stays resumable: the checkpointer keeps the last finished step).
Work outside a turn (background verification) becomes a run of kind
``background`` on its thread. The chat messages of every run (the user's text as
the Assistant got it, then one AI message per reply) are written to the thread's
conversation in the same batches, before the events that follow them, and shown
as the thread's ``values.messages`` (its last ``CONVERSATION_LIMIT``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from agent.events import ErrorEvent, Event, GateEvent, Notification, TextEvent
from agent.server.expiry import touch_all
from agent.server.files import FileAccess, current_user
from agent.server.liveness import new_worker_name, worker_gone
from agent.server.rundb import STALE_AFTER_S, RunDb, RunRecord

log = logging.getLogger("satya.server.runs")
CONVERSATION_LIMIT = 200  # the last messages a thread's values.messages shows


def json_safe(value: Any) -> Any:
    """Values of a thread as plain JSON (dataclasses, paths, sets and the like as text)."""
    return json.loads(json.dumps(value, default=_default))


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def chat_message(kind: str, text: str, message_id: str) -> dict[str, Any]:
    """A chat message as LangGraph serializes one (``type`` is ``human`` or ``ai``)."""
    return {
        "type": kind,
        "content": text,
        "id": message_id,
        "name": None,
        "additional_kwargs": {},
        "response_metadata": {},
        "tool_calls": [],
        "invalid_tool_calls": [],
        "usage_metadata": None,
        "example": False,
    }


def event_payload(event: Event) -> dict[str, Any]:
    """A typed event as the ``custom`` SSE payload (its ``type`` says which)."""
    payload: dict[str, Any] = json_safe(dataclasses.asdict(event))
    return payload


class RunManager:
    """Starts, logs, streams, joins and cancels runs for one worker."""

    def __init__(
        self, assistant: Any, db: RunDb, *, poll_s: float = 0.2, access: FileAccess | None = None
    ) -> None:
        self.assistant = assistant
        self.db = db
        self.access = access  # a run on a thread naming uploads restarts their clocks
        self.poll_s = poll_s
        self.worker = new_worker_name()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._seq: dict[str, int] = {}
        self._wake: dict[str, asyncio.Event] = {}
        # events of this worker's live runs: served from memory, written to the shared
        # log in batches (every flush_s) and in full before a run is marked done
        self._log: dict[str, list[tuple[int, str, Any]]] = {}
        self._flushed: dict[str, int] = {}
        self._flush_lock = asyncio.Lock()
        self._flush_needed = asyncio.Event()
        self._final: dict[str, dict[str, Any] | None] = {}
        # each run's chat messages (the user's, then one per reply): ``messages`` events;
        # kept in the thread's conversation (RunDb.messages), not in the graph's state
        self._chat: dict[str, list[dict[str, Any]]] = {}
        self._unsaved: dict[str, list[tuple[str, str, float, dict[str, Any]]]] = {}
        self.conversation_limit = CONVERSATION_LIMIT
        self._tuples: set[str] = set()  # runs whose client asked for "messages-tuple"
        self.flush_s = 0.05
        self._beat_task: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._background: dict[str, str] = {}  # thread id -> its open background run
        self._bg_queue: asyncio.Queue[Notification | tuple[str, str]] = asyncio.Queue()
        self._bg_tasks: list[asyncio.Task[None]] = []
        self._stream: Any = None
        self._side_tasks: set[asyncio.Task[None]] = set()

    async def start_background(self) -> None:
        self._beat_task = asyncio.create_task(self._beat_loop())
        self._flush_task = asyncio.create_task(self._flush_loop())
        if hasattr(self.assistant, "notifications"):
            stream = self._stream = self.assistant.notifications()
            self._bg_tasks = [
                asyncio.create_task(self._forward(stream)),
                asyncio.create_task(self._process_background()),
            ]

    async def close(self) -> None:
        for loop_task in (self._beat_task, self._flush_task):
            if loop_task is not None:
                loop_task.cancel()
        for bg in (*self._bg_tasks, *self._side_tasks):
            bg.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def _beat_loop(self) -> None:
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(max(self.poll_s, 0.5))
            local = list(self._tasks) + list(self._background.values())
            try:
                if local:  # a cancel asked for on another worker
                    for run_id in await self.db.cancel_requested(self.worker):
                        task = self._tasks.get(run_id)
                        if task is not None:
                            task.cancel()
                if time.monotonic() - last_beat > STALE_AFTER_S / 4:
                    await self.db.beat(local)
                    last_beat = time.monotonic()
            except Exception:  # a missed beat only matters after several in a row
                log.warning("run heartbeat failed", exc_info=True)

    # -- starting ----------------------------------------------------------------

    async def start(
        self,
        *,
        user: str,
        thread_id: str,
        text: str,
        metadata: dict[str, Any],
        modes: list[str],
    ) -> RunRecord:
        """Record a run and start it in the background (ThreadBusy if one is going)."""
        now = time.time()
        record = RunRecord(
            run_id=str(uuid.uuid4()),
            thread_id=thread_id,
            user_id=user,
            status="pending",
            kind="user",
            created_at=now,
            updated_at=now,
            heartbeat=now,
            worker=self.worker,
            metadata=metadata,
            modes=modes,
        )
        for earlier in await self.db.unfinished(thread_id):  # its worker may have died mid-run
            await self.settle(earlier)
        await self.db.insert(record)
        self._open_log(record.run_id)
        if "messages-tuple" in modes:
            self._tuples.add(record.run_id)
        self._tasks[record.run_id] = asyncio.create_task(self._drive(record, text))
        return record

    def _open_log(self, run_id: str) -> None:
        self._seq[run_id] = 0
        self._wake[run_id] = asyncio.Event()
        self._log[run_id] = []
        self._flushed[run_id] = 0
        self._chat[run_id] = []
        self._unsaved[run_id] = []

    async def _append(self, run_id: str, event: str, data: Any) -> None:
        seq = self._seq[run_id] + 1
        self._seq[run_id] = seq
        self._log[run_id].append((seq, event, data))
        wake, self._wake[run_id] = self._wake[run_id], asyncio.Event()
        wake.set()  # every listener waits on the event it saw; none misses a wake-up
        self._flush_needed.set()

    async def _flush(self, run_ids: list[str]) -> None:
        async with self._flush_lock:
            # messages first: a reader that sees a run's end finds all its messages
            said = {run_id: list(self._unsaved.get(run_id, [])) for run_id in run_ids}
            if any(said.values()):
                await self.db.add_messages([row for kept in said.values() for row in kept])
                for run_id, kept in said.items():  # more may have come meanwhile
                    del self._unsaved.get(run_id, [])[: len(kept)]
            rows: list[tuple[str, int, str, Any]] = []
            for run_id in run_ids:
                log = self._log.get(run_id)
                if log is None:
                    continue
                done = self._flushed[run_id]
                rows.extend((run_id, seq, name, data) for seq, name, data in log[done:])
                self._flushed[run_id] = len(log)
            if rows:
                await self.db.append_many(rows)

    async def _flush_loop(self) -> None:
        while True:
            await self._flush_needed.wait()
            self._flush_needed.clear()
            await asyncio.sleep(self.flush_s)  # gather a batch
            try:
                await self._flush(list(self._log))
            except Exception:  # the end of each run flushes again
                log.warning("run log flush failed", exc_info=True)

    async def _complete(self, run_id: str, status: str) -> None:
        """Write the rest of the run's log, then its final status; forget it here."""
        try:
            await self._flush([run_id])
            await self.db.set_status(run_id, status)
        finally:
            wake = self._wake.pop(run_id, None)
            self._log.pop(run_id, None)
            self._flushed.pop(run_id, None)
            self._seq.pop(run_id, None)
            self._chat.pop(run_id, None)
            self._unsaved.pop(run_id, None)
            self._tuples.discard(run_id)
            if wake is not None:
                wake.set()

    async def _drive(self, record: RunRecord, text: str) -> None:
        run_id = record.run_id
        current_user.set(record.user_id)
        status = "success"
        try:
            await self.db.set_status(run_id, "running")
            await self._append(run_id, "metadata", {"run_id": run_id, "attempt": 1})
            self._say(run_id, record.thread_id, chat_message("human", text, f"{run_id}:human"))
            async for event in self.assistant.send(record.thread_id, text, user_id=record.user_id):
                await self._emit(run_id, record.thread_id, event)
                if isinstance(event, ErrorEvent) and event.code == "internal_error":
                    status = "error"
            final = await self.values(record.thread_id)
            await self.keep_uploads(record.user_id, final)
            final = await self._with_chat(run_id, record.thread_id, final)
            if run_id in self._final:  # a waiting request takes these, no second read
                self._final[run_id] = final
            await self._append(run_id, "values", final)
        except asyncio.CancelledError:
            status = "interrupted"
        except Exception as error:  # the run fails, the server goes on
            log.exception("run %s failed", run_id)
            status = "error"
            with contextlib.suppress(Exception):
                await self._append(
                    run_id, "error", {"error": type(error).__name__, "message": "The run failed."}
                )
        finally:
            await self._finish(run_id, status)

    async def _finish(self, run_id: str, status: str) -> None:
        try:
            with contextlib.suppress(Exception):
                await self._append(run_id, "end", None)
            await self._complete(run_id, status)
        finally:
            self._tasks.pop(run_id, None)

    def _say(self, run_id: str, thread_id: str, message: dict[str, Any]) -> None:
        """A chat message of the run: kept for its events, written with the next batch."""
        self._chat[run_id].append(message)
        self._unsaved[run_id].append((thread_id, run_id, time.time(), message))
        self._flush_needed.set()

    async def _with_chat(
        self, run_id: str, thread_id: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        """The thread's values with its conversation as ``messages`` (for chat UIs):
        the earlier turns, then this run's messages."""
        mine = list(self._chat.get(run_id, []))
        ids = {m["id"] for m in mine}
        kept = await self.db.messages(thread_id, self.conversation_limit + len(mine))
        earlier = [m for m in kept if m.get("id") not in ids]
        return {**values, "messages": (earlier + mine)[-self.conversation_limit :]}

    async def conversation(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's last ``conversation_limit`` chat messages, oldest first."""
        return await self.db.messages(thread_id, self.conversation_limit)

    async def _emit(self, run_id: str, thread_id: str, event: Event) -> None:
        if isinstance(event, TextEvent | GateEvent):  # a reply: one AI message
            message = chat_message("ai", event.text, f"{run_id}:{len(self._chat[run_id])}")
            self._say(run_id, thread_id, message)
            meta: dict[str, Any] = {"run_id": run_id, "thread_id": thread_id}
            if isinstance(event, GateEvent):
                meta.update(kind="gate", gate=event.gate)
            else:
                meta["kind"] = event.kind
            if run_id in self._tuples:
                await self._append(run_id, "messages", [message, meta])
        if isinstance(event, GateEvent):
            interrupt = {
                "value": {"gate": event.gate, "text": event.text, "data": json_safe(event.data)},
                "id": event.interrupt_id,
            }
            await self._append(run_id, "updates", {"__interrupt__": [interrupt]})
        await self._append(run_id, "custom", event_payload(event))

    async def keep_uploads(self, user: str, values: Any) -> None:
        """Restart the clock of the uploads a thread's state refers to: the journey
        may read the file again when it goes on (a gate answered, an upload resumed)."""
        if self.access is None:
            return
        folders = self.access.referenced(user, values)
        if folders:
            await asyncio.to_thread(touch_all, folders)

    async def values(self, thread_id: str) -> dict[str, Any]:
        """The thread's values now, with ``__interrupt__`` when a gate waits."""
        snap = await self.assistant.graph.aget_state({"configurable": {"thread_id": thread_id}})
        values: dict[str, Any] = json_safe(dict(snap.values or {}))
        if snap.interrupts:
            values["__interrupt__"] = [
                {"value": json_safe(i.value), "id": i.id} for i in snap.interrupts
            ]
        return values

    # -- background work (verification followed outside a turn) -------------------

    async def _forward(self, stream: Any) -> None:
        try:
            async for note in stream:
                self._bg_queue.put_nowait(note)  # no await in between: order is kept
        finally:
            stream.close()

    async def _process_background(self) -> None:
        while True:
            item = await self._bg_queue.get()
            try:
                if isinstance(item, tuple):
                    await self._close_background(item[1])
                else:
                    await self._background_event(item.thread_id, item.event)
            except Exception:  # one thread's bookkeeping must not stop the others'
                log.exception("background event not recorded")

    async def _background_event(self, thread_id: str, event: Event) -> None:
        """Events of work outside a turn go to a run of kind 'background' on the thread."""
        run_id = self._background.get(thread_id)
        if run_id is None:
            now = time.time()
            record = RunRecord(
                run_id=str(uuid.uuid4()),
                thread_id=thread_id,
                user_id=await self.assistant.owner(thread_id) or "",
                status="running",
                kind="background",
                created_at=now,
                updated_at=now,
                heartbeat=now,
                worker=self.worker,
                metadata={"source": "verification"},
                modes=["values", "updates", "custom", "messages-tuple"],
            )
            await self.db.insert(record)
            run_id = record.run_id
            self._background[thread_id] = run_id
            self._open_log(run_id)
            self._tuples.add(run_id)
            await self._append(run_id, "metadata", {"run_id": run_id, "attempt": 1})
            waiter = asyncio.create_task(self._await_idle(thread_id))
            self._side_tasks.add(waiter)  # referenced until done, cancelled on close
            waiter.add_done_callback(self._side_tasks.discard)
        await self._emit(run_id, thread_id, event)

    async def _await_idle(self, thread_id: str) -> None:
        await self.assistant.wait_idle(thread_id, 24 * 3600.0)
        # what was published before the thread went idle follows, then the close marker
        if self._stream is not None:
            for note in self._stream.drain(thread_id):
                self._bg_queue.put_nowait(note)
        self._bg_queue.put_nowait(("close", thread_id))

    async def _close_background(self, thread_id: str) -> None:
        run_id = self._background.pop(thread_id, None)
        if run_id is None:
            return
        values = await self._with_chat(run_id, thread_id, await self.values(thread_id))
        await self._append(run_id, "values", values)
        await self._append(run_id, "end", None)
        await self._complete(run_id, "success")

    # -- following ---------------------------------------------------------------

    def is_local(self, run_id: str) -> bool:
        return run_id in self._tasks

    async def events(
        self, record: RunRecord, after: int = 0
    ) -> AsyncIterator[tuple[int, str, Any]]:
        """The run's events after sequence ``after``, following it until it ends."""
        run_id = record.run_id
        while True:
            local = self._log.get(run_id)
            if local is not None:  # a live run of this worker: from memory
                wake = self._wake[run_id]
                fresh = local[after:]
                for seq, name, data in fresh:
                    after = seq
                    yield seq, name, data
                    if name == "end":
                        return
                if not fresh:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout=5.0)
                continue
            batch = await self.db.events_after(run_id, after)
            for seq, name, data in batch:
                after = seq
                yield seq, name, data
                if name == "end":
                    return
            current = await self.db.get(run_id)
            if current is None:
                return
            if not current.done and _dead(current):
                current = await self.settle(current)  # its worker died: it ends with an error
            if current.done:  # its end may have just been written
                for seq, name, data in await self.db.events_after(run_id, after):
                    yield seq, name, data
                return
            await asyncio.sleep(self.poll_s)

    async def live_run(self, thread_id: str) -> RunRecord | None:
        """The thread's user run in progress, after settling one whose worker died."""
        record = await self.db.active(thread_id)
        if record is not None and _dead(record):
            await self.settle(record)
            return None
        return record

    async def settle(self, record: RunRecord) -> RunRecord:
        """A run whose worker died (``_dead``): marked ``error`` and closed in its log
        with an ``error`` and an ``end`` event (once, whichever worker sees it first)."""
        if record.done or not _dead(record):
            return record
        # a worker known gone is reaped whatever its last beat; otherwise only a silent one
        cutoff = time.time() + 1 if worker_gone(record.worker) else time.time() - STALE_AFTER_S
        if await self.db.reap(record.run_id, heartbeat_before=cutoff):
            seq = await self.db.last_seq(record.run_id)
            error = {
                "error": "WorkerLost",
                "message": "The server process running this turn stopped. Every step it "
                "finished is kept and nothing was approved for you. To go on, send a run with "
                '{"input": {"message": "resume"}}: the stopped step continues up to its next '
                'question, which waits for your answer; {"input": {"message": "cancel"}} '
                "abandons it.",
            }
            await self.db.append_many(
                [(record.run_id, seq + 1, "error", error), (record.run_id, seq + 2, "end", None)]
            )
        return await self.db.get(record.run_id) or record

    async def wait_values(self, record: RunRecord) -> dict[str, Any]:
        """Wait for a run, then the thread's values (those the run ended with, if it was ours)."""
        if record.run_id in self._tasks:
            self._final.setdefault(record.run_id, None)
        try:
            await self.join(record)
            final = self._final.get(record.run_id)
        finally:
            self._final.pop(record.run_id, None)
        if final is not None:
            return final
        values = await self.values(record.thread_id)
        return {**values, "messages": await self.conversation(record.thread_id)}

    async def join(self, record: RunRecord) -> RunRecord:
        """Wait until the run ends; its final record."""
        task = self._tasks.get(record.run_id)
        if task is not None:  # ours: wait for the task itself, not its log
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        else:
            async for _ in self.events(record):
                pass
        final = await self.db.get(record.run_id)
        return final or record

    def cancel_soon(self, record: RunRecord) -> None:
        """Cancel from a task that is itself being cancelled (a client that went away)."""
        task = asyncio.get_running_loop().create_task(self.cancel(record))
        self._side_tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._side_tasks.discard)

    async def cancel(self, record: RunRecord) -> None:
        """Stop a run here, or ask its worker to stop it."""
        task = self._tasks.get(record.run_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            return
        await self.db.request_cancel(record.run_id)


def _dead(record: RunRecord) -> bool:
    """Its worker stopped beating, or is known to have exited (``worker_gone``)."""
    return record.heartbeat < time.time() - STALE_AFTER_S or worker_gone(record.worker)
