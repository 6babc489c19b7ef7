"""Runs: one turn of a thread, executed in the background, its events logged for streaming.

A run is started by ``RunManager.start``; its task feeds the Assistant's events into
the run's log (``eventlog``: in memory while the run lives, written to the shared log
in batches and in full before the run is marked done) and its chat messages into the
thread's conversation (``conversation``). Cancel stops the task (the thread stays
resumable: the checkpointer keeps the last finished step). Work outside a turn
(background verification) becomes a run of kind ``background`` on its thread
(``background``); heartbeats mark this worker's runs alive (``heartbeat``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from langgraph.types import StateSnapshot

from agent.assistant import Assistant
from agent.events import ErrorEvent, Event, GateEvent, TextEvent
from agent.server.assistants import Mode
from agent.server.background import BackgroundRuns
from agent.server.conversation import CONVERSATION_LIMIT, chat_message
from agent.server.eventlog import Entry, EventLog
from agent.server.expiry import touch_all
from agent.server.files import FileAccess, current_user
from agent.server.heartbeat import beat_forever, dead
from agent.server.jsonsafe import event_payload, json_safe
from agent.server.liveness import new_worker_name, worker_gone
from agent.server.rundb import STALE_AFTER_S, RunDb, RunRecord, ThreadBusy
from agent.server.streams import RunStream

__all__ = ["CONVERSATION_LIMIT", "RunManager", "chat_message", "event_payload", "json_safe"]
log = logging.getLogger("satya.server.runs")
_ALL_MODES = ["values", "updates", "custom", "messages-tuple"]  # a background run's
STEP_MODES = frozenset({"values", "updates", "tasks", "checkpoints", "debug", "events"})
END_AFTER_STATUS_S = 2.0  # how long a reader waits for the end of a run marked done


class RunManager:
    """Starts, streams, joins and cancels runs for one worker."""

    def __init__(
        self,
        assistant: Assistant,
        db: RunDb,
        *,
        poll_s: float = 0.2,
        access: FileAccess | None = None,
    ) -> None:
        self.assistant = assistant
        self.db = db
        self.access = access  # a run on a thread naming uploads restarts their clocks
        self.poll_s = poll_s
        self.worker = new_worker_name()
        self.log = EventLog(db)
        self.chat = self.log.chat
        self.background = BackgroundRuns(assistant, self)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._final: dict[str, dict[str, Any] | None] = {}
        self._streams: dict[str, RunStream] = {}  # what each live run's clients asked for
        self._loops: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()

    async def start_background(self) -> None:
        """Start the heartbeat, the log's flush loop and the background-run forwarding."""
        beat = beat_forever(
            self.db,
            self.worker,
            poll_s=self.poll_s,
            local=lambda: list(self._tasks) + self.background.run_ids(),
            cancel=self._cancel_local,
        )
        self._loops = [asyncio.create_task(beat), asyncio.create_task(self.log.flush_loop())]
        self.background.start()

    async def close(self) -> None:
        for loop_task in self._loops:
            loop_task.cancel()
        self.background.close()
        for side in self._side_tasks:
            side.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    @property
    def conversation_limit(self) -> int:
        """How many of a thread's last chat messages ``values.messages`` shows."""
        return self.chat.limit

    @conversation_limit.setter
    def conversation_limit(self, limit: int) -> None:
        self.chat.limit = limit

    def _cancel_local(self, run_id: str) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()

    # -- starting ----------------------------------------------------------------

    async def start(
        self,
        *,
        user: str,
        thread_id: str,
        text: str,
        metadata: dict[str, Any],
        modes: list[str],
        mode: Mode | None = None,
        checkpoint_id: str | None = None,
        queue: bool = False,
        multitask_strategy: str = "reject",
        assistant_id: str = "satya",
    ) -> RunRecord:
        """Record a run and start it in the background (ThreadBusy if one is going);
        ``checkpoint_id`` forks the thread from that earlier question first. ``queue``:
        the run waits (``pending``) until the thread's earlier runs have ended.
        ``multitask_strategy`` and ``assistant_id`` are kept to show in the run object."""
        now = time.time()
        record = RunRecord(
            run_id=str(uuid.uuid4()),
            thread_id=thread_id,
            user_id=user,
            status="pending",
            kind="queued" if queue else "user",
            created_at=now,
            updated_at=now,
            heartbeat=now,
            worker=self.worker,
            metadata=metadata,
            modes=modes,
            multitask_strategy=multitask_strategy,
            assistant_id=assistant_id,
        )
        for earlier in await self.db.unfinished(thread_id):  # its worker may have died mid-run
            await self.settle(earlier)
        await self.db.insert(record)
        self._open_log(record.run_id, thread_id, modes)
        self._tasks[record.run_id] = asyncio.create_task(
            self._drive(record, text, mode, checkpoint_id)
        )
        return record

    def _open_log(self, run_id: str, thread_id: str, modes: list[str]) -> None:
        self.log.open(run_id)
        self._streams[run_id] = RunStream(run_id, thread_id, frozenset(modes))

    async def _complete(self, run_id: str, status: str) -> None:
        """Write the rest of the run's log, its final status, then its ``end``; forget it."""
        try:
            await self.log.complete(run_id, status)
        finally:
            self._streams.pop(run_id, None)

    async def _drive(
        self,
        record: RunRecord,
        text: str,
        mode: Mode | None = None,
        checkpoint_id: str | None = None,
    ) -> None:
        run_id = record.run_id
        current_user.set(record.user_id)
        status = "success"
        try:
            if record.kind == "queued":
                await self._wait_turn(record)
            await self.db.set_status(run_id, "running")
            await self.log.append(run_id, "metadata", {"run_id": run_id, "attempt": 1})
            self.chat.say(run_id, record.thread_id, chat_message("human", text, f"{run_id}:human"))
            turn = self.assistant.send(
                record.thread_id,
                text,
                user_id=record.user_id,
                mode=mode,
                checkpoint_id=checkpoint_id,
                steps=bool(self._streams[run_id].modes & STEP_MODES),
            )
            async for event in turn:
                await self.emit(run_id, record.thread_id, event)
                if isinstance(event, ErrorEvent) and event.code == "internal_error":
                    status = "error"
            final = await self.values(record.thread_id)
            await self.keep_uploads(record.user_id, final)
            final = await self.chat.with_chat(run_id, record.thread_id, final)
            if run_id in self._final:  # a waiting request takes these, no second read
                self._final[run_id] = final
            await self.log.append(run_id, "values", final)
        except asyncio.CancelledError:
            status = "interrupted"
        except Exception as error:  # the run fails, the server goes on
            log.exception("run %s failed", run_id)
            status = "error"
            with contextlib.suppress(Exception):
                await self.log.append(
                    run_id, "error", {"error": type(error).__name__, "message": "The run failed."}
                )
        finally:
            await self._finish_even_if_cancelled(run_id, status)

    async def _finish_even_if_cancelled(self, run_id: str, status: str) -> None:
        """End the run (its log, then its status, then its end), even when it is cancelled
        meanwhile (interrupt or rollback as the run was ending): cut short, its status would
        stay ``running`` and hold the thread until its heartbeat went stale. The task then
        ends, cancelled if it was asked to."""
        finishing = asyncio.ensure_future(self._finish(run_id, status))
        cancelled = False
        while not finishing.done():
            try:
                await asyncio.shield(finishing)
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        finishing.result()

    async def _wait_turn(self, record: RunRecord) -> None:
        """Wait until the thread runs nothing and every run queued before this one has
        gone, then become the thread's running run (in the shared record, so that no other
        worker starts one meanwhile)."""
        while True:
            earlier = [await self.settle(r) for r in await self.db.queued_before(record)]
            if (
                not any(not r.done for r in earlier)
                and await self.live_run(record.thread_id) is None
            ):
                try:
                    if await self.db.promote(record.run_id):
                        record.kind = "user"
                        return
                    raise asyncio.CancelledError  # cancelled or deleted while it waited
                except ThreadBusy:
                    pass  # another run took the thread first
            await asyncio.sleep(self.poll_s)

    async def cancel_waiting(self, thread_id: str) -> None:
        """Cancel the thread's queued runs (the thread is being deleted)."""
        for record in await self.db.unfinished(thread_id):
            if record.kind == "queued":
                await self.cancel(record)

    async def _finish(self, run_id: str, status: str) -> None:
        try:
            await self._complete(run_id, status)
        finally:
            self._tasks.pop(run_id, None)

    async def conversation(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's last ``CONVERSATION_LIMIT`` chat messages, oldest first."""
        return await self.chat.messages(thread_id)

    async def emit(self, run_id: str, thread_id: str, event: Event) -> None:
        """Log one of the run's events in the shapes its stream modes show (``streams``)."""
        message = None
        if isinstance(event, TextEvent | GateEvent):  # a reply: one AI message
            message = chat_message("ai", event.text, f"{run_id}:{self.chat.count(run_id)}")
            self.chat.say(run_id, thread_id, message)
        stream = self._streams.get(run_id) or RunStream(run_id, thread_id, frozenset(_ALL_MODES))

        async def snapshot() -> StateSnapshot:
            return await self.assistant.snapshot(thread_id)

        async def with_chat(values: dict[str, Any]) -> dict[str, Any]:
            return await self.chat.with_chat(run_id, thread_id, values, during=True)

        for name, data in await stream.shape(event, message, snapshot, with_chat):
            await self.log.append(run_id, name, data)

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
        snap = await self.assistant.snapshot(thread_id)
        values: dict[str, Any] = json_safe(dict(snap.values or {}))
        if snap.interrupts:
            values["__interrupt__"] = [
                {"value": json_safe(i.value), "id": i.id} for i in snap.interrupts
            ]
        return values

    # -- background work (verification followed outside a turn) -------------------

    async def open_background(self, thread_id: str) -> str:
        """A run of kind 'background' on the thread for work outside a turn; its id."""
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
            modes=list(_ALL_MODES),
        )
        await self.db.insert(record)
        self._open_log(record.run_id, thread_id, list(_ALL_MODES))
        await self.log.append(record.run_id, "metadata", {"run_id": record.run_id, "attempt": 1})
        return record.run_id

    async def close_background(self, run_id: str, thread_id: str) -> None:
        """End a background run with the thread's values and conversation."""
        values = await self.chat.with_chat(run_id, thread_id, await self.values(thread_id))
        await self.log.append(run_id, "values", values)
        await self._complete(run_id, "success")

    # -- following ---------------------------------------------------------------

    def is_local(self, run_id: str) -> bool:
        return run_id in self._tasks

    async def events(self, record: RunRecord, after: int = 0) -> AsyncIterator[Entry]:
        """The run's events after sequence ``after``, following it until it ends."""
        run_id = record.run_id
        done_at: float | None = None
        while True:
            live = self.log.live(run_id)
            if live is not None:  # a live run of this worker: from memory
                local, wake = live
                fresh = local[after:]
                for seq, name, data in fresh:
                    after = seq
                    if name == "end":  # its status is written before the client hears the end
                        await self.log.settled(run_id)
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
            if not current.done and dead(current):
                current = await self.settle(current)  # its worker died: it ends with an error
            if current.done:  # its end is written just after its status: read on a while
                done_at = done_at or time.monotonic()
                if time.monotonic() - done_at > END_AFTER_STATUS_S:  # its worker stopped
                    for seq, name, data in await self.db.events_after(run_id, after):
                        yield seq, name, data
                    return
            await asyncio.sleep(self.poll_s)

    async def live_run(self, thread_id: str) -> RunRecord | None:
        """The thread's user run in progress, after settling one whose worker died."""
        record = await self.db.active(thread_id)
        if record is not None and dead(record):
            await self.settle(record)
            return None
        return record

    async def busy(self, thread_id: str) -> bool:
        """Whether the thread has a turn running or queued (LangGraph's ``busy``: pending
        or running runs), after settling those whose worker died; verification outside a
        turn does not count."""
        for record in await self.db.unfinished(thread_id):
            if record.kind != "background" and not (await self.settle(record)).done:
                return True
        return False

    async def settle(self, record: RunRecord) -> RunRecord:
        """A run whose worker died (``dead``): marked ``error`` and closed in its log
        with an ``error`` and an ``end`` event (once, whichever worker sees it first)."""
        if record.done or not dead(record):
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
