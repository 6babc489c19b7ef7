"""The ``Assistant``'s threads: creating, owning, listing, reading, copying, rolling
back and deleting them, and the views of their state.

Who owns a thread and its metadata live in the store; its state and history in the
checkpointer. Every way in (chat, journeys, HTTP) reaches them through ``Assistant``.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import Item
from langgraph.types import StateSnapshot

from agent.step_log import StepLog
from flows.insights import STEPS_NAMESPACE
from flows.state import JourneyState, progress
from flows.users import check_user_id, user_label

THREADS_NAMESPACE = ("threads",)  # (…, user): the user's thread ids
METADATA_NAMESPACE = ("thread_metadata",)  # (…, user): a thread's metadata (the HTTP API's)
OWNERS_NAMESPACE = ("thread_owners",)  # thread id -> the user it was created for
DIALOGUE_NAMESPACE = ("dialogue",)  # thread id -> the slot the agent last asked for
_INTERRUPTS = "__interrupt__"  # the checkpoint writes channel of a task's pending questions


@dataclass(frozen=True, slots=True)
class ThreadView:
    """What a thread looks like now (for /status, the HTTP API and tests)."""

    thread_id: str
    user_id: str
    phase: str
    status: str
    progress: float
    mode: str
    expertise: str
    completed_steps: list[str]
    pending_steps: list[str]
    context: dict[str, Any]  # JSON-shaped, as the journey keeps it
    error: dict[str, Any] | None
    gate: dict[str, Any] | None
    next_nodes: tuple[str, ...]
    values: dict[str, object] = field(repr=False, default_factory=dict)


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """A thread as its owner's list shows it: when it was made and last touched, its metadata."""

    thread_id: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, object] = field(default_factory=dict)


def _when(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _record(item: Item, metadata: dict[str, object] | None) -> ThreadRecord:
    return ThreadRecord(
        thread_id=item.key,
        created_at=_when(item.created_at),
        updated_at=_when(item.updated_at),
        metadata=dict(metadata or {}),
    )


def stopped_at(snap: Any) -> tuple[str, ...]:
    """The steps a cut-off run left to do (Ctrl-C, a cancelled run, a killed process): its
    next nodes or, killed after a step finished but before the step was committed, that
    step (its results wait to be applied). () when nothing was cut off or a gate waits."""
    if snap.interrupts:
        return ()
    if snap.next:
        return tuple(snap.next)
    return tuple(t.name for t in snap.tasks if t.result is not None)


class Threads(StepLog):
    """Threads, ownership and state views (a part of ``Assistant``)."""

    async def new_thread(self, user_id: str | None = None) -> str:
        """Create a thread owned by ``user_id``; later turns on it run as that user.

        An id that is not valid (see ``flows.users``) raises ``UserInputError``."""
        user = check_user_id(user_id or self.settings.user)
        thread_id = uuid.uuid4().hex[:12]
        await self._bind(thread_id, user)
        return thread_id

    async def _bind(self, thread_id: str, user: str) -> None:
        await self.store.aput(
            (*THREADS_NAMESPACE, user_label(user)), thread_id, {"thread_id": thread_id}
        )
        await self.store.aput(OWNERS_NAMESPACE, thread_id, {"user_id": user})

    async def delete_thread(self, thread_id: str, user_id: str) -> None:
        """Forget a thread: background work following it, its checkpoints, its owner, its
        metadata and what the agent last asked on it."""
        if self.monitor is not None:  # background verification stops following it
            await self.monitor.forget(thread_id)
        await self.store.adelete((*METADATA_NAMESPACE, user_label(user_id)), thread_id)
        await self.store.adelete((*THREADS_NAMESPACE, user_label(user_id)), thread_id)
        await self.store.adelete(OWNERS_NAMESPACE, thread_id)
        await self.store.adelete(DIALOGUE_NAMESPACE, thread_id)
        await self.flush_step_events()
        steps = (*STEPS_NAMESPACE, user_label(user_id), thread_id)
        for item in await self.store.asearch(steps, limit=100_000):
            await self.store.adelete(item.namespace, item.key)
        checkpointer = self.graph.checkpointer
        if isinstance(checkpointer, BaseCheckpointSaver):
            try:
                await checkpointer.adelete_thread(thread_id)
            except sqlite3.OperationalError as error:
                if "no such table" not in str(error):
                    raise  # else no checkpoint was ever written here: nothing to delete

    async def owns(self, user_id: str, thread_id: str) -> bool:
        """Whether ``thread_id`` is one of ``user_id``'s threads."""
        return (
            await self.store.aget((*THREADS_NAMESPACE, user_label(user_id)), thread_id) is not None
        )

    async def thread_record(self, user_id: str, thread_id: str) -> ThreadRecord | None:
        """One of the user's threads (None when it is not theirs)."""
        item = await self.store.aget((*THREADS_NAMESPACE, user_label(user_id)), thread_id)
        if item is None:
            return None
        meta = await self.store.aget((*METADATA_NAMESPACE, user_label(user_id)), thread_id)
        return _record(item, meta.value.get("metadata") if meta is not None else None)

    async def thread_records(self, user_id: str, *, limit: int = 10_000) -> list[ThreadRecord]:
        """The user's threads, most recently updated first, with their metadata."""
        items = await self.store.asearch((*THREADS_NAMESPACE, user_label(user_id)), limit=limit)
        items.sort(key=lambda item: item.updated_at, reverse=True)
        metas = {
            m.key: m.value.get("metadata")
            for m in await self.store.asearch(
                (*METADATA_NAMESPACE, user_label(user_id)), limit=limit
            )
        }
        return [_record(item, metas.get(item.key)) for item in items]

    async def set_metadata(self, user_id: str, thread_id: str, metadata: dict[str, Any]) -> None:
        """Keep metadata with a thread (plain JSON; kept apart from the thread list, which
        every turn rewrites)."""
        await self.store.aput(
            (*METADATA_NAMESPACE, user_label(user_id)), thread_id, {"metadata": metadata}
        )

    async def threads(self, user_id: str | None = None) -> list[str]:
        """Thread ids of a user, most recently updated first."""
        user = user_id or self.settings.user
        items = await self.store.asearch((*THREADS_NAMESPACE, user_label(user)), limit=1000)
        items.sort(key=lambda item: item.updated_at, reverse=True)
        return [item.key for item in items]

    async def owner(self, thread_id: str) -> str | None:
        """The user a thread belongs to, or None if no one has it yet."""
        item = await self.store.aget(OWNERS_NAMESPACE, thread_id)
        if item is not None and item.value.get("user_id"):
            return str(item.value["user_id"])
        snap = await self.graph.aget_state(self._config(thread_id))
        return snap.values.get("user_id") if snap.values else None

    async def _speaker(self, thread_id: str, user_id: str | None) -> str | None:
        """Who runs this turn: the thread's owner. None when ``user_id`` is someone else."""
        owner = await self.owner(thread_id)
        if owner is None:
            user = check_user_id(user_id or self.settings.user)
            await self._bind(thread_id, user)  # first turn of a thread created elsewhere
            return user
        if user_id is not None and user_id != owner:
            return None
        return owner

    async def state(self, thread_id: str) -> ThreadView:
        """The thread's state now, with the pending gate if any."""
        snap = await self.graph.aget_state(self._config(thread_id))
        v: JourneyState | dict[str, Any] = snap.values or {}
        gate = None
        if snap.interrupts:
            first = snap.interrupts[0]
            gate = {
                "id": first.id,
                **(first.value if isinstance(first.value, dict) else {"value": first.value}),
            }
        error = v.get("error")
        return ThreadView(
            thread_id=thread_id,
            user_id=str(v.get("user_id", "")),
            phase=str(v.get("current_phase") or "idle"),
            # a step stopped by Ctrl-C, a cancelled run or a lost worker waits for resume/cancel
            status="paused" if stopped_at(snap) else str(v.get("status") or "active"),
            progress=progress(v) if v else 0.0,  # type: ignore[arg-type]
            mode=str(v.get("mode") or self.settings.mode),
            expertise=str(v.get("expertise") or "intermediate"),
            completed_steps=list(v.get("completed_steps") or []),
            pending_steps=list(v.get("pending_steps") or []),
            context=dict(v.get("context") or {}),
            error=dict(error) if error else None,
            gate=gate,
            next_nodes=tuple(snap.next) or stopped_at(snap),
            values=dict(v),
        )

    async def snapshot(self, thread_id: str) -> StateSnapshot:
        """The thread's checkpointed state now, as LangGraph keeps it."""
        return await self.graph.aget_state(self._config(thread_id))

    async def history(
        self, thread_id: str, *, limit: int, before: tuple[str, str] | None = None
    ) -> AsyncIterator[StateSnapshot]:
        """The thread's past states, newest first; ``before``: (checkpoint_ns, checkpoint_id)."""
        before_cfg: RunnableConfig | None = None
        if before is not None:
            before_cfg = {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": before[0],
                    "checkpoint_id": before[1],
                }
            }
        async for snap in self.graph.aget_state_history(
            self._config(thread_id), limit=limit, before=before_cfg
        ):
            yield snap

    def drawing(self, *, xray: bool | int = False) -> dict[str, Any]:
        """The journey graph's nodes and edges, as LangGraph draws them (JSON)."""
        drawn: dict[str, Any] = self.graph.get_graph(xray=xray).to_json()
        return drawn

    async def check_storage(self) -> None:
        """Raise when the thread storage does not answer (a readiness probe)."""
        await self.store.aget(("health",), "probe")

    async def set_mode(self, thread_id: str, mode: Literal["supervised", "auto", "debug"]) -> None:
        """Switch a thread's mode without a turn (used by /mode)."""
        await self.graph.aupdate_state(self._config(thread_id), {"mode": mode})

    def _saver(self) -> BaseCheckpointSaver[Any]:
        saver = self.graph.checkpointer
        if not isinstance(saver, BaseCheckpointSaver):
            raise TypeError("this journey graph keeps no checkpoints")
        return saver

    async def rollback(self, thread_id: str, before: float) -> None:
        """Put the thread back to its last checkpoint from before ``before`` (a Unix time),
        as the newest one, its pending question asked again (as LangGraph shows a rolled-back
        thread); a thread that had none before then is emptied."""
        config = self._config(thread_id)
        async for snap in self.graph.aget_state_history(config):
            made = datetime.fromisoformat(snap.created_at).timestamp() if snap.created_at else 0
            if made < before:
                copied = await self.graph.aupdate_state(snap.config, None, as_node="__copy__")
                await self._ask_again(snap, copied)
                return
        await self._saver().adelete_thread(thread_id)

    async def _ask_again(self, source: StateSnapshot, copied: RunnableConfig) -> None:
        """The questions pending in ``source`` pend in its copy too: a copy has new task ids,
        so each question is written again for the copy's task of the same step."""
        asked = [task for task in source.tasks if task.interrupts]
        if not asked:
            return
        fresh = await self.graph.aget_state(copied)
        tasks = {task.name: task for task in fresh.tasks}
        for task in asked:
            if task.name in tasks:
                await self._saver().aput_writes(
                    fresh.config, [(_INTERRUPTS, list(task.interrupts))], tasks[task.name].id
                )

    async def copy_thread(self, thread_id: str, user_id: str) -> str:
        """A new thread of ``user_id`` with a copy of this one's checkpoints (its whole
        history, a pending question included) and what the agent last asked on it."""
        copy = await self.new_thread(user_id)
        saver = self._saver()
        tuples = [t async for t in saver.alist(self._config(thread_id))]
        for t in reversed(tuples):  # oldest first: each parent exists before its children
            ns = t.config["configurable"].get("checkpoint_ns", "")
            parent = (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
            target: RunnableConfig = {"configurable": {"thread_id": copy, "checkpoint_ns": ns}}
            if parent:
                target["configurable"]["checkpoint_id"] = parent
            saved = await saver.aput(
                target, t.checkpoint, t.metadata, dict(t.checkpoint["channel_versions"])
            )
            by_task: dict[str, list[tuple[str, Any]]] = {}
            for task_id, channel, value in t.pending_writes or []:
                by_task.setdefault(task_id, []).append((channel, value))
            for task_id, writes in by_task.items():
                await saver.aput_writes(saved, writes, task_id)
        asked = await self.store.aget(DIALOGUE_NAMESPACE, thread_id)
        if asked is not None:
            await self.store.aput(DIALOGUE_NAMESPACE, copy, dict(asked.value))
        return copy
