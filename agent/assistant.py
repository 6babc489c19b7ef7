"""The ``Assistant``: threads, send / continue / state, over the journey graph.

The only door into the journeys: the chat, the scripted journeys and the HTTP server
create, list, read, own and delete threads and run turns through it; none of them
touches the graph, the checkpointer or the store.

Over 500 lines: it is one class whose turn paths (send, resume, the completion of a
background job) share the per-thread locks and one run loop; its views sit beside it.

Example::

    async with Assistant.open(Settings(home=tmp)) as assistant:
        thread = await assistant.new_thread("ana")
        async for event in assistant.send(thread, "upload ./model.safetensors"):
            print(event)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore, Item
from langgraph.types import Command, StateSnapshot

from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    NodeEvent,
    Notification,
    PauseEvent,
    PhaseEvent,
    ProgressEvent,
    StepEvent,
    TextEvent,
)
from agent.home import prepare_home
from agent.monitor import VERIFYING_NAMESPACE, Lease, SqliteLease, VerificationMonitor
from agent.pending import PendingOperation, pending_operations
from agent.redaction import scrub_secrets
from agent.replies import render
from agent.settings import Settings
from agent.time_travel import Target, checkpoint_target, history_lines, undo_target
from agent.understanding.bounds import MAX_MESSAGE_CHARS
from agent.understanding.dialogue import Dialogue
from agent.understanding.entities import mentions_last_price
from flows.graph import build_graph
from flows.insights import STEPS_NAMESPACE, Insights, compute_insights, load_records, save_records
from flows.intents import SYSTEM_KINDS, Intent, intent
from flows.notices import Notice, discard, post, take_inbox
from flows.onboarding import PROFILE_KEY, profile_namespace
from flows.services import Services
from flows.state import JourneyState, WorkflowStatus, progress
from flows.step_events import StepRecord, StepRecorder, recording_services
from flows.tracing import Tracer
from flows.users import check_user_id, user_label
from integrations.errors import SatyaError

log = logging.getLogger("satya.assistant")


JourneyGraph: TypeAlias = CompiledStateGraph[JourneyState, Services, JourneyState, JourneyState]
THREADS_NAMESPACE = ("threads",)  # (…, user): the user's thread ids
METADATA_NAMESPACE = ("thread_metadata",)  # (…, user): a thread's metadata (the HTTP API's)
OWNERS_NAMESPACE = ("thread_owners",)  # thread id -> the user it was created for
DIALOGUE_NAMESPACE = ("dialogue",)  # thread id -> the slot the agent last asked for
FOREGROUND_NAMESPACE = ("verifying_foreground",)  # thread id -> a job this turn follows
LEARNED_NAMESPACE = ("understood",)  # (…, user): words -> the reading the user picked for them
_NOT_YOURS = ErrorEvent(
    "not_found",
    "There is no such conversation for you.",
    "Start a new one, or name the user it belongs to (satya chat --user USER --thread ID).",
)
_ORDINALS = {
    "1": 0, "one": 0, "first": 0, "the first": 0, "the first one": 0, "first one": 0,
    "2": 1, "two": 1, "second": 1, "the second": 1, "the second one": 1, "second one": 1,
    "3": 2, "three": 2, "third": 2, "the third": 2, "the third one": 2, "third one": 2,
}  # fmt: skip


def _learn_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())[:200]


def _pick(text: str, choices: list[str]) -> str | None:
    """The choice a reply names: by number, by position, or by the kind's own words."""
    said = _learn_key(text)
    if said in _ORDINALS and _ORDINALS[said] < len(choices):
        return choices[_ORDINALS[said]]
    for kind in choices:
        if said and said in (kind.replace("_", " "), kind):
            return kind
    return None


_VERIFY_NODES = frozenset({"verify_submit", "verify_monitor"})
# Requests that answer without moving a journey towards verification.
_ASKS_ONLY = frozenset(
    {
        "status", "raw_data", "help", "greet", "unknown", "clarify", "market_analysis",
        "dashboard", "insights", "browse", "set_expertise", "set_mode", "support_bundle",
        "conversion_guide", "abandon", "tour", "verbosity", "optimise",
    }
)  # fmt: skip
# Reply kinds that ask the user for one slot: the next message is read as its value.
_ASKS = {"ask_for_path": "path", "ask_for_title": "title", "tour_nav": "tour"}
# The stopped step, in the user's words.
_STEP_WORDS = {
    "upload": "upload",
    "register": "registration",
    "verify_submit": "verification",
    "verify_monitor": "verification",
    "list_model": "listing",
    "purchase_execute": "purchase",
    "bulk_upload": "bulk upload",
    "bulk_file": "bulk upload",
    "bulk_join": "bulk upload",
    "bulk_list": "bulk listing",
    "upload_gate": "upload question",
    "listing_gate": "listing question",
    "purchase_gate": "purchase question",
}
_CONTINUE_WORDS = frozenset({"step", "/step", "continue", "/continue", "next", "c", "s"})
# Words that only ask to finish a step that was cut off (Ctrl-C, a killed process).
_RESUME_WORDS = frozenset(
    {"", "continue", "/continue", "resume", "/resume", "retry", "go on", "carry on", "go", "next"}
)


class Interpreter(Protocol):
    """Text -> Intent (rules or a language model)."""

    async def interpret(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Intent: ...


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


class NotificationStream:
    """Events that happen outside a user's turn, from the moment it is created.

    An async iterator (``async for note in stream``); ``drain()`` takes what is
    queued without waiting; ``close()`` stops it. A stream made for a user
    (``notifications(user_id=…)``) counts as that user being there: their marketplace
    notices (a sale) are delivered to it at once instead of on their next turn.
    """

    def __init__(self, owner: Assistant, user_id: str | None = None) -> None:
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


@dataclass(slots=True)
class _TurnOutcome:
    verifying: bool = False
    status: str | None = None  # the last status the turn set
    kinds: list[str] = field(default_factory=list)


def _running_jobs(ctx: dict[str, Any]) -> dict[str, str]:
    """The enclave jobs a journey waits for -> the progress task each is shown as."""
    bulk = [f for f in ctx.get("bulk") or [] if f.get("status") == "verifying"]
    if bulk:
        return {str(f["job_id"]): f"verification:{f.get('file_name', '')}" for f in bulk}
    if ctx.get("job_id") and not ctx.get("verification_id"):
        return {str(ctx["job_id"]): "verification"}
    return {}


def _job_deadlines(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The running jobs' deadlines, with what the 'taking longer than expected' notice says."""
    bulk = [f for f in ctx.get("bulk") or [] if f.get("status") == "verifying"]
    items = bulk or ([ctx] if ctx.get("job_id") and not ctx.get("verification_id") else [])
    return {
        str(f["job_id"]): {
            "deadline_at": f["verify_deadline_at"],
            "started_at": f.get("verify_started_at"),
            "eta_s": f.get("verify_eta_s"),
            "file_name": f.get("file_name", ""),
            "bulk": bool(bulk),
        }
        for f in items
        if f.get("verify_deadline_at")
    }


class Assistant:
    """Runs journeys: one LangGraph thread per conversation, persisted by the checkpointer."""

    def __init__(
        self,
        *,
        graph: JourneyGraph,
        services: Services,
        interpreter: Interpreter,
        settings: Settings,
        store: BaseStore,
        tracer: Tracer | None = None,
    ) -> None:
        self.graph = graph
        self.tracer = tracer
        self.services = services
        self.interpreter = interpreter
        self.settings = settings
        self.store = store
        self.monitor: VerificationMonitor | None = None
        self._subscribers: set[asyncio.Queue[Notification]] = set()
        self._listeners: dict[asyncio.Queue[Notification], str] = {}  # stream -> its user
        self._locks: dict[str, asyncio.Lock] = {}
        self._saving: set[asyncio.Task[None]] = set()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        *,
        services: Services | None = None,
        interpreter: Interpreter | None = None,
        tracer_provider: Any | None = None,
    ) -> AsyncIterator[Assistant]:
        """Open the checkpointer, store and adapters under ``settings.home``; close them after.

        ``tracer_provider`` (an OpenTelemetry ``TracerProvider``) turns tracing on; without
        it, ``settings.otel_endpoint`` makes one that exports over OTLP, else none is made."""
        from agent.persistence import PostgresLease, open_persistence
        from agent.wiring import build_interpreter, build_services

        home = settings.home
        prepare_home(home)  # private; a path that is no usable folder is named
        async with contextlib.AsyncExitStack() as stack:
            # SQLite under home, or PostgreSQL when DATABASE_URL is set (several workers)
            persistence = await stack.enter_async_context(open_persistence(settings))
            saver, store = persistence.saver, persistence.store
            if services is None:
                services = await build_services(settings, stack)
            if interpreter is None:
                interpreter = build_interpreter(settings)
            graph = build_graph(checkpointer=saver, store=store)
            if tracer_provider is None and settings.otel_endpoint:
                from agent.telemetry import otlp_provider

                tracer_provider = otlp_provider(settings.otel_endpoint)
                stack.callback(tracer_provider.shutdown)
            assistant = cls(
                graph=graph,
                services=services,
                interpreter=interpreter,
                settings=settings,
                store=store,
                tracer=Tracer(tracer_provider.get_tracer("satya-agent"))
                if tracer_provider is not None
                else None,
            )
            lease: Lease = (
                PostgresLease(persistence.pool)
                if persistence.pool is not None
                else SqliteLease(home / "leases.sqlite")
            )
            assistant.monitor = VerificationMonitor(
                assistant, lease, poll_s=settings.monitor_poll_s
            )
            await assistant.monitor.start()
            stack.push_async_callback(assistant.monitor.stop)
            stack.push_async_callback(assistant.flush_step_events)
            await assistant.resume_crashed_verifications()
            yield assistant

    # -- threads -----------------------------------------------------------------

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

    # -- turns -------------------------------------------------------------------

    async def send(
        self,
        thread_id: str,
        text: str,
        *,
        user_id: str | None = None,
        mode: Literal["supervised", "auto", "debug"] | None = None,
        checkpoint_id: str | None = None,
        steps: bool = False,
    ) -> AsyncIterator[Event]:
        """Handle one user message and yield what happens, as typed events.

        The turn runs as the thread's owner; a ``user_id`` that is not the owner runs nothing.
        ``mode`` sets the thread's mode from this message on (not with a gate's answer).
        ``checkpoint_id`` first takes the journey back to that earlier question (a fork, as
        LangGraph's API allows a run to name a checkpoint); the message then answers it.
        Only a question with no payment, upload or transaction after it can be named.
        ``steps`` adds a ``NodeEvent`` as each journey step finishes.
        """
        async with self._lock_for(thread_id):
            if checkpoint_id is not None:
                if await self._speaker(thread_id, user_id) is None:
                    yield _NOT_YOURS
                    return
                back = [e async for e in self._go_back(thread_id, checkpoint_id, steps)]
                for event in back:
                    yield event
                if any(getattr(e, "kind", "") == "undo_refused" for e in back):
                    return
            async for event in self._send(thread_id, text, user_id=user_id, mode=mode, steps=steps):
                yield event

    async def _go_back(
        self, thread_id: str, checkpoint_id: str, steps: bool = False
    ) -> AsyncIterator[Event]:
        """Fork the thread from an earlier question named by its checkpoint id."""
        cfg = self._config(thread_id)
        snaps = [snap async for snap in self.graph.aget_state_history(cfg, limit=1000)]
        values: dict[str, Any] = dict(snaps[0].values or {}) if snaps else {}
        target, why = checkpoint_target(snaps, checkpoint_id)
        async for event in self._fork(cfg, target, why, values, steps=steps):
            yield event

    async def _send(
        self,
        thread_id: str,
        text: str,
        *,
        user_id: str | None = None,
        mode: Literal["supervised", "auto", "debug"] | None = None,
        steps: bool = False,
    ) -> AsyncIterator[Event]:
        user = await self._speaker(thread_id, user_id)
        if user is None:
            yield _NOT_YOURS
            return
        for note in await self._inbox(user):  # what happened while they were away
            yield note
        cfg = self._config(thread_id)
        snap = await self.graph.aget_state(cfg)
        values: dict[str, Any] = dict(snap.values or {})
        if len(text) > MAX_MESSAGE_CHARS:  # refused whole: nothing of it is read or kept
            data: dict[str, object] = {"length": len(text), "limit": MAX_MESSAGE_CHARS}
            yield TextEvent(
                render("message_too_long", data, "intermediate"), "message_too_long", data
            )
            return
        clean = scrub_secrets(text)
        if clean != text:  # a pasted key never reaches the state, the checkpoints or a log
            text = clean
            yield TextEvent(render("secret_removed", {}, "intermediate"), "secret_removed")
        gate_pending = bool(snap.interrupts)
        if stopped_at(snap):
            async for event in self._paused_turn(thread_id, text, snap, user, steps=steps):
                yield event
            return
        asked = await self.store.aget(DIALOGUE_NAMESPACE, thread_id)  # read once per turn
        offered: dict[str, Any] = dict(asked.value) if asked is not None else {}
        dialogue = await self._dialogue(thread_id, snap, user, text, offered)
        intent = await self._picked(user, text, dialogue, offered)
        if intent is None:
            intent = await self._interpret(text, dialogue)
        take_notice = getattr(self.interpreter, "take_notice", None)
        notice = take_notice() if callable(take_notice) else None
        if notice:  # the language model is not being used, and why: said once
            yield TextEvent(str(notice), "model_notice")
        if intent["kind"] in ("undo", "history"):  # the journey's checkpoints, not a step
            async for event in self._time_travel(thread_id, intent, values, user):
                yield event
            return
        if intent["kind"] == "insights":  # figures include the turns just before
            await self.flush_step_events()
        if gate_pending:
            payload: Any = Command(resume=intent)
        else:
            payload = {"intent": intent, "user_id": user}
            if not values.get("workflow_id"):
                payload["workflow_id"] = thread_id
                payload["mode"] = self.settings.mode
            if mode is not None:
                payload["mode"] = mode
        outcome = _TurnOutcome()
        async for event in self._run(payload, cfg, values, outcome=outcome, steps=steps):
            outcome.kinds.append(getattr(event, "kind", ""))
            yield event
        await self._remember_question(thread_id, outcome.kinds, intent, offered)
        if intent["kind"] == "status":  # and everything else of the user that waits
            yield await self._pending_elsewhere(user, thread_id, str(values.get("expertise") or ""))
        if outcome.verifying:
            await self._follow_verification(thread_id, user)
        elif (
            self.monitor is not None
            and values.get("status") == WorkflowStatus.VERIFYING
            and outcome.status is not None
        ):  # cancelled while verifying: nothing left to follow
            await self.monitor.forget(thread_id)

    async def _time_travel(
        self, thread_id: str, intent: Intent, values: dict[str, Any], user: str
    ) -> AsyncIterator[Event]:
        """'show history' in words; 'undo' / 'go back to …' forks from an earlier question."""
        cfg = self._config(thread_id)
        snaps = [snap async for snap in self.graph.aget_state_history(cfg, limit=1000)]
        expertise = str(values.get("expertise") or "intermediate")
        if intent["kind"] == "history":
            lines = history_lines(snaps)
            data: dict[str, Any] = {"lines": lines}
            yield TextEvent(render("history", data, expertise), "history", data)
            return
        target, why = undo_target(snaps, intent.get("text", ""))
        async for event in self._fork(cfg, target, why, values):
            yield event

    async def _fork(
        self,
        cfg: RunnableConfig,
        target: Target | None,
        why: str,
        values: dict[str, Any],
        *,
        steps: bool = False,
    ) -> AsyncIterator[Event]:
        """Go back to ``target`` (its question is asked again), or say ``why`` not."""
        expertise = str(values.get("expertise") or "intermediate")
        data: dict[str, object]
        if target is None:
            data = {"reason": why}
            yield TextEvent(render("undo_refused", data, expertise), "undo_refused", data)
            return
        data = {"label": target.label, "checkpoint_id": target.checkpoint_id}
        yield TextEvent(render("went_back", data, expertise), "went_back", data)
        fork: RunnableConfig = {
            "configurable": {
                **cfg["configurable"],
                "checkpoint_ns": "",
                "checkpoint_id": target.checkpoint_id,
            }
        }
        async for event in self._run(None, fork, values, debug_ok=False, steps=steps):
            yield event

    async def _paused_turn(
        self, thread_id: str, text: str, snap: Any, user: str, *, steps: bool = False
    ) -> AsyncIterator[Event]:
        """A step was stopped (Ctrl-C, a cancelled run, a lost worker, a debug breakpoint).

        Only a request to go on resumes it, and only up to the next question: the message
        is never also taken as the answer to a gate it was not typed for. A refusal abandons
        the journey; anything else is told how to do either.
        """
        cfg = self._config(thread_id)
        values: dict[str, Any] = dict(snap.values or {})
        debug = values.get("mode") == "debug"
        word = text.strip().lower().strip(".!")
        if debug and word in _CONTINUE_WORDS:
            async for event in self._run(None, cfg, values, steps=steps):
                yield event
            return
        kind = "retry" if word in _RESUME_WORDS else None
        if kind is None:
            dialogue = await self._dialogue(thread_id, snap, user, text, {})
            kind = (await self._interpret(text, dialogue))["kind"]
        if kind in ("retry", "approve"):
            outcome = _TurnOutcome()
            async for event in self._run(
                None, cfg, values, debug_ok=debug, outcome=outcome, steps=steps
            ):
                yield event
            if outcome.verifying:
                await self._follow_verification(thread_id, user)
            return
        if kind == "decline":
            payload = {"intent": intent("abandon", text), "user_id": user}
            async for event in self._run(payload, cfg, values, debug_ok=False, steps=steps):
                yield event
            return
        step = next(iter(stopped_at(snap)), "")
        ctx = values.get("context") or {}
        data = {
            "step": _STEP_WORDS.get(step, step),
            "file_name": ctx.get("file_name"),
            "debug": debug,
        }
        yield TextEvent(
            render("paused", data, str(values.get("expertise") or "intermediate")), "paused", data
        )

    async def _interpret(self, text: str, dialogue: Dialogue) -> Intent:
        at_gate = dialogue.gate is not None
        try:
            found = await self.interpreter.interpret(text, at_gate=at_gate, context=dialogue)
        except Exception:  # an interpreter is never allowed to break the conversation
            log.warning("interpreter failed; using the rules", exc_info=True)
            from agent.understanding.rules import RuleInterpreter

            found = RuleInterpreter().interpret(text, at_gate=at_gate)
        if found["kind"] in SYSTEM_KINDS:  # text never impersonates the system's own events
            found = {**found, "kind": "unknown"}
        return found

    async def _dialogue(
        self, thread_id: str, snap: Any, user: str, text: str, offered: dict[str, Any]
    ) -> Dialogue:
        """What the agent just asked on this thread (``offered``: its dialogue record), for
        reading the next message."""
        values: dict[str, Any] = dict(snap.values or {})
        ctx = values.get("context") or {}
        gate: Any = None
        question: str | None = None
        if snap.interrupts:
            value = snap.interrupts[0].value
            gate = value.get("gate") if isinstance(value, dict) else None
            if gate == "question":  # a checkpoint question: the next words are its answer
                question = str((value.get("data") or {}).get("question") or "") or None
        expecting = offered.get("expecting") if not gate else None
        price = ctx.get("price_mist")
        last_price = None
        if mentions_last_price(text):  # the profile is read only when the words refer to it
            profile = await self.store.aget(profile_namespace(user), PROFILE_KEY)
            last_price = (profile.value if profile is not None else {}).get("last_price_mist")
        return Dialogue(
            gate=gate if gate in ("upload", "listing", "purchase") else None,
            expecting=expecting if expecting in ("path", "title", "tour") else None,
            question=question,
            paused=bool(stopped_at(snap)),
            phase=str(values.get("current_phase") or "idle"),
            price_mist=int(price) if isinstance(price, int) and gate == "listing" else None,
            title=ctx.get("title"),
            last_price_mist=last_price if isinstance(last_price, int) else None,
            file_name=ctx.get("file_name"),
            listing_id=_listing_of(ctx),
            base_dir=Path.cwd(),
        )

    async def _remember_question(
        self, thread_id: str, kinds: list[str], asked: Intent, offered: dict[str, Any]
    ) -> None:
        """Keep the slot the agent asked for this turn, or the readings it offered to pick
        from (read with the next message)."""
        expecting = next((_ASKS[k] for k in reversed(kinds) if k in _ASKS), None)
        record: dict[str, object] = {"expecting": expecting}
        if "clarify" in kinds and asked.get("choices"):
            record = {"expecting": "choice", "choices": asked["choices"], "text": asked["text"]}
        if (offered or {"expecting": None}) != record:
            await self.store.aput(DIALOGUE_NAMESPACE, thread_id, record)

    async def _picked(
        self, user: str, text: str, dialogue: Dialogue, offered: dict[str, Any]
    ) -> Intent | None:
        """A reading the user picked after "did you mean…?", or picked before for these words."""
        if dialogue.gate is not None:
            return None
        key = _learn_key(text)
        if offered.get("expecting") == "choice":
            choices = [str(c) for c in offered.get("choices") or []]
            kind = _pick(text, choices)
            if kind is not None:
                original = str(offered.get("text") or text)
                await self.store.aput(
                    (*LEARNED_NAMESPACE, user_label(user)), _learn_key(original), {"kind": kind}
                )
                return self._resolve(kind, original, dialogue)
        if key:
            learned = await self.store.aget((*LEARNED_NAMESPACE, user_label(user)), key)
            if learned is not None:
                return self._resolve(str(learned.value["kind"]), text, dialogue)
        return None

    def _resolve(self, kind: str, text: str, dialogue: Dialogue) -> Intent:
        resolve = getattr(self.interpreter, "resolve", None)
        if callable(resolve):
            found: Intent = resolve(kind, text, dialogue)
            return found
        return intent(kind, text)  # type: ignore[arg-type]

    async def _follow_verification(self, thread_id: str, user: str) -> None:
        """The turn left a verification job running: hand it to the background monitor."""
        snap = await self.graph.aget_state(self._config(thread_id))
        ctx = dict((snap.values or {}).get("context") or {})
        tasks = _running_jobs(ctx)
        if self.monitor is not None and tasks:
            await self.monitor.register(
                thread_id, next(iter(tasks)), user, tasks=tasks, deadlines=_job_deadlines(ctx)
            )

    # -- background work ---------------------------------------------------------

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

    async def _away(self, thread_id: str, user_id: str) -> None:
        """A background verification ended with nobody there: keep a notice for them."""
        if self.listening(user_id):
            return
        view = await self.state(thread_id)
        ctx = view.context
        passed = bool(ctx.get("verification_id"))
        await post(
            self.store,
            kind="verification_ended_passed" if passed else "verification_ended_failed",
            user_id=user_id,
            thread_id=thread_id,
            data={
                "file_name": str(ctx.get("file_name") or "your model"),
                "quality_score": ctx.get("quality_score", ""),
            },
        )

    async def wait_idle(self, thread_id: str, timeout_s: float = 60.0) -> bool:
        """Wait until no background work is pending for the thread; False on timeout."""
        if self.monitor is None:
            return True
        return await self.monitor.wait_idle(thread_id, timeout_s)

    async def deliver_verification(self, thread_id: str, job_id: str, user_id: str) -> None:
        """The completion event: run the thread's next turn now that its job has ended."""
        async with self._lock_for(thread_id):
            cfg = self._config(thread_id)
            snap = await self.graph.aget_state(cfg)
            values: dict[str, Any] = dict(snap.values or {})
            ctx = values.get("context") or {}
            payload: Any
            if stopped_at(snap):  # a completion turn cut short by a crash
                payload = None
            elif (
                values.get("status") == WorkflowStatus.VERIFYING
                and job_id in _running_jobs(ctx)
                and not snap.interrupts
            ):
                payload = {"intent": intent("verification_update"), "user_id": user_id}
            else:  # the journey moved on meanwhile: nothing to deliver
                await self.store.adelete(VERIFYING_NAMESPACE, thread_id)
                return
            outcome = _TurnOutcome()
            async for event in self._run(payload, cfg, values, debug_ok=False, outcome=outcome):
                self.publish(thread_id, event)
            if outcome.verifying:
                await self._follow_verification(thread_id, user_id)
            else:
                await self.store.adelete(VERIFYING_NAMESPACE, thread_id)
                await self._away(thread_id, user_id)

    def _lock_for(self, thread_id: str) -> asyncio.Lock:
        lock = self._locks.get(thread_id)
        if lock is None:
            lock = self._locks[thread_id] = asyncio.Lock()
        return lock

    async def resume_pending(
        self, thread_id: str, *, user_id: str | None = None
    ) -> AsyncIterator[Event]:
        """Finish a step that was interrupted (Ctrl-C, a crash), up to the next question;
        in debug mode run one step. Runs nothing for anyone but the thread's owner."""
        async with self._lock_for(thread_id):
            if await self._speaker(thread_id, user_id) is None:
                yield _NOT_YOURS
                return
            async for event in self._resume_pending(thread_id):
                yield event

    async def _resume_pending(self, thread_id: str) -> AsyncIterator[Event]:
        cfg = self._config(thread_id)
        snap = await self.graph.aget_state(cfg)
        if stopped_at(snap):
            async for event in self._run(None, cfg, dict(snap.values or {})):
                yield event

    async def _run(
        self,
        payload: Any,
        cfg: RunnableConfig,
        values: dict[str, Any],
        *,
        debug_ok: bool = True,
        outcome: _TurnOutcome | None = None,
        steps: bool = False,
    ) -> AsyncIterator[Event]:
        expertise = str(values.get("expertise") or "intermediate")
        phase = values.get("current_phase")
        foreground: str | None = None  # the thread whose verification this turn follows
        mode = values.get("mode") or self.settings.mode
        if isinstance(payload, dict) and "mode" in payload:
            mode = payload["mode"]
        interrupt_before: Literal["*"] | Sequence[str] | None = (
            "*" if mode == "debug" and debug_ok else None
        )
        asks_only = isinstance(payload, dict) and payload["intent"]["kind"] in _ASKS_ONLY
        if not asks_only:
            # this run may reach a verification it follows in the foreground: recorded before
            # it starts, so that after a crash at any instant it goes on by itself
            foreground = str((cfg.get("configurable") or {})["thread_id"])
            speaker = payload.get("user_id") if isinstance(payload, dict) else None
            owner = values.get("user_id") or speaker or self.settings.user
            await self.store.aput(FOREGROUND_NAMESPACE, foreground, {"user_id": owner})
        recorder = self._recorder(payload, cfg, values)
        services = (
            self.services if recorder is None else recording_services(self.services, recorder)
        )
        turn_span = (
            self.tracer.turn(recorder, kind=_turn_kind(payload))
            if self.tracer is not None and recorder is not None
            else None
        )
        turn_outcome = "ok"
        try:
            stream: AsyncIterator[tuple[str, Any]] = self.graph.astream(  # type: ignore[assignment]
                payload,
                cfg,
                context=services,
                # with steps, the state after each step comes with that step's NodeEvent
                stream_mode=["custom", "updates", "values"] if steps else ["custom", "updates"],
                interrupt_before=interrupt_before,
                # each step's checkpoint is on disk before the next step (an external write)
                # starts: a crash at any instant leaves a journey that resumes where it was
                durability="sync",
            )
            step_began = time.monotonic()
            finished: list[NodeEvent] = []  # steps whose state has not come yet
            state: dict[str, Any] | None = None  # the journey's state after the last change
            async for stream_mode, chunk in stream:
                if stream_mode == "values":  # the state after the steps just finished
                    state = dict(chunk)
                for node_event in finished:  # a step that changed nothing has the state before
                    yield replace(node_event, values=state)
                finished = []
                if stream_mode == "values":
                    continue
                if stream_mode == "custom":
                    if isinstance(chunk, dict) and chunk.get("event") == "notice":
                        await self._notice(chunk["notice"])
                        continue
                    event = self._custom_event(chunk, expertise)
                    if event is not None:
                        yield event
                    continue
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        for item in update:
                            yield self._gate_event(item, expertise)
                        continue
                    if steps:  # the step that just finished (the graph runs one at a time)
                        took = time.monotonic() - step_began
                        step_began = time.monotonic()
                        finished.append(
                            NodeEvent(
                                str(node),
                                dict(update) if isinstance(update, dict) else {},
                                time.time() - took,
                                took,
                            )
                        )
                    if not isinstance(update, dict):
                        continue
                    if "expertise" in update:
                        expertise = str(update["expertise"])
                    if outcome is not None and "status" in update:
                        outcome.verifying = update["status"] == WorkflowStatus.VERIFYING
                        outcome.status = str(update["status"])
                    new_phase = update.get("current_phase")
                    if new_phase and new_phase != phase:
                        phase = new_phase
                        snap = await self.graph.aget_state(cfg)
                        yield PhaseEvent(str(new_phase), progress(snap.values))  # type: ignore[arg-type]
            for node_event in finished:  # the last step changed nothing
                yield replace(node_event, values=state)
        except SatyaError as error:
            turn_outcome = "failed"
            yield ErrorEvent(error.code, error.message, error.hint)
            return
        except (asyncio.CancelledError, GeneratorExit):
            turn_outcome = "stopped"
            # Ctrl-C: the user paused it, so it does not go on by itself after a restart
            if foreground:
                await asyncio.shield(self.store.adelete(FOREGROUND_NAMESPACE, foreground))
            raise
        except Exception:  # a bug must not kill the conversation; the thread stays resumable
            turn_outcome = "failed"
            log.exception("internal error during a turn")
            yield ErrorEvent(
                "internal_error",
                "Something went wrong inside Satya Agent; nothing was lost.",
                "Say 'retry' to continue, or 'support bundle' to report it (run with --verbose for details).",
            )
            return
        finally:
            if foreground:  # the turn ended (or failed) here, not in a crash
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.store.adelete(FOREGROUND_NAMESPACE, foreground))
            if recorder is not None and recorder.records:
                self._keep(recorder.records)
            if turn_span is not None:
                turn_span.end_turn(turn_outcome)
        if interrupt_before is not None:
            snap = await self.graph.aget_state(cfg)
            if snap.next and not snap.interrupts:
                yield PauseEvent(tuple(snap.next))

    async def resume_crashed_verifications(self) -> int:
        """After a crash: a verification that was followed in the foreground goes on by
        itself, as a background one does; its events come as notifications. How many."""
        handed = 0
        for item in await self.store.asearch(FOREGROUND_NAMESPACE, limit=10_000):
            thread_id = item.key
            snap = await self.graph.aget_state(self._config(thread_id))
            cut = stopped_at(snap)
            if self.monitor is not None and _VERIFY_NODES & set(cut):
                user = str(item.value.get("user_id") or self.settings.user)
                self.monitor.adopt(thread_id, self._finish_crashed_turn(thread_id, user))
                handed += 1
            await self.store.adelete(FOREGROUND_NAMESPACE, thread_id)
        return handed

    async def _finish_crashed_turn(self, thread_id: str, user: str) -> None:
        async with self._lock_for(thread_id):
            cfg = self._config(thread_id)
            snap = await self.graph.aget_state(cfg)
            if not stopped_at(snap):
                return  # someone went on meanwhile
            outcome = _TurnOutcome()
            async for event in self._run(
                None, cfg, dict(snap.values or {}), debug_ok=False, outcome=outcome
            ):
                self.publish(thread_id, event)
        if outcome.verifying:
            await self._follow_verification(thread_id, user)

    def _recorder(
        self, payload: Any, cfg: RunnableConfig, values: dict[str, Any]
    ) -> StepRecorder | None:
        """What records this run's steps and calls (None when recording is off)."""
        if not self.settings.step_events:
            return None
        thread_id = str((cfg.get("configurable") or {})["thread_id"])
        given = payload if isinstance(payload, dict) else {}
        return StepRecorder(
            thread_id=thread_id,
            user_id=str(values.get("user_id") or given.get("user_id") or self.settings.user),
            workflow_id=str(values.get("workflow_id") or given.get("workflow_id") or thread_id),
            tracer=self.tracer,
        )

    def _custom_event(self, chunk: Any, expertise: str) -> Event | None:
        if not isinstance(chunk, dict):
            return None
        if chunk.get("event") == "step":
            r = chunk["record"]
            return StepEvent(
                kind=r["kind"],
                name=r["name"],
                step=r["step"],
                phase=r["phase"],
                outcome=r["outcome"],
                duration_s=r["duration_s"],
                started_at=r["started_at"],
                error_code=r["error_code"],
                attempt=r["attempt"],
                bytes=r["bytes"],
                cost_frost=r["cost_frost"],
                cost_mist=r["cost_mist"],
                estimate_s=r["estimate_s"],
                file_name=r["file_name"],
                calls=r.get("calls", 0),
            )
        if chunk.get("event") == "reply":
            kind = str(chunk["kind"])
            data = dict(chunk.get("data") or {})
            level = str(data.get("expertise") or expertise)
            return TextEvent(render(kind, data, level), kind, data)
        if chunk.get("event") == "progress":
            return ProgressEvent(
                task=str(chunk["task"]),
                fraction=float(chunk["fraction"]),
                done=int(chunk["done"]),
                total=int(chunk["total"]),
                rate=chunk.get("rate"),
                eta_s=chunk.get("eta_s"),
                message=str(chunk.get("message", "")),
            )
        return None

    def _gate_event(self, item: Any, expertise: str) -> GateEvent:
        value = getattr(item, "value", {}) or {}
        data = dict(value.get("data") or {})
        kind = str(value.get("kind", "gate"))
        return GateEvent(
            gate=str(value.get("gate", "")),
            text=render(kind, data, expertise),
            data=data,
            interrupt_id=str(getattr(item, "id", "")),
        )

    async def pending(self, user_id: str | None = None) -> list[PendingOperation]:
        """Every unfinished operation of the user, in all their conversations, with how
        to continue each (uploads, verifications, bulk files one by one, gates)."""
        views = [await self.state(t) for t in await self.threads(user_id or self.settings.user)]
        return await pending_operations(views, self.services.verifier)

    async def _pending_elsewhere(self, user: str, current: str, expertise: str) -> TextEvent:
        ops = await self.pending(user)
        data: dict[str, object] = {
            "operations": [op.as_dict() for op in ops],
            "current": current,
        }
        return TextEvent(
            render("pending_operations", data, expertise or "intermediate"),
            "pending_operations",
            data,
        )

    # -- insights ----------------------------------------------------------------

    def _keep(self, records: list[StepRecord]) -> None:
        """Write a turn's step events with its thread, behind the turn (not in its time)."""

        async def save() -> None:
            try:
                await save_records(self.store, records)
            except Exception:  # never a reason to fail a conversation
                log.warning("could not keep %d step events", len(records), exc_info=True)

        task = asyncio.get_running_loop().create_task(save())
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def flush_step_events(self) -> None:
        """Wait until every finished turn's step events are written."""
        while self._saving:
            await asyncio.gather(*tuple(self._saving), return_exceptions=True)

    async def step_records(self, user_id: str | None = None) -> list[StepRecord]:
        """The recorded step events of a user (``None``: every user's), oldest first."""
        await self.flush_step_events()
        return await load_records(self.store, user_id)

    async def insights(self, user_id: str | None = None, *, platform: bool = False) -> Insights:
        """Where a user's journeys fail, their slowest steps, retries and money per phase,
        from the recorded step events; ``platform=True``: every user's journeys."""
        user = None if platform else (user_id or self.settings.user)
        records = await self.step_records(user)
        return compute_insights(
            records,
            scope=user or "platform",
            slow_factor=self.settings.deadline_factor,
            slow_min_s=self.settings.deadline_min_s,
        )

    # -- state -------------------------------------------------------------------

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
        as the newest one; a thread that had none before then is emptied."""
        config = self._config(thread_id)
        async for snap in self.graph.aget_state_history(config):
            made = datetime.fromisoformat(snap.created_at).timestamp() if snap.created_at else 0
            if made < before:
                await self.graph.aupdate_state(snap.config, None, as_node="__copy__")
                return
        await self._saver().adelete_thread(thread_id)

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

    @staticmethod
    def _config(thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}


def _turn_kind(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("intent"), dict):
        return str(payload["intent"].get("kind", "message"))
    return "resume" if isinstance(payload, Command) else "continue"


def stopped_at(snap: Any) -> tuple[str, ...]:
    """The steps a cut-off run left to do (Ctrl-C, a cancelled run, a killed process): its
    next nodes or, killed after a step finished but before the step was committed, that
    step (its results wait to be applied). () when nothing was cut off or a gate waits."""
    if snap.interrupts:
        return ()
    if snap.next:
        return tuple(snap.next)
    return tuple(t.name for t in snap.tasks if t.result is not None)


Collector = Callable[[Event], Awaitable[None]]


async def collect(events: AsyncIterator[Event]) -> list[Event]:
    """All events of a turn, in order (for tests and scripts)."""
    return [event async for event in events]


def _listing_of(ctx: dict[str, Any]) -> str | None:
    """The listing a thread is about: the one bought, else the one listed ("download it")."""
    for key in ("purchase_listing_id", "listing_id"):
        value = ctx.get(key)
        if isinstance(value, str) and value:
            return value
    return None
