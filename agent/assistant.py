"""The ``Assistant``: threads, send / continue / state, over the journey graph.

The only door into the journeys: the chat, the scripted journeys and the HTTP server
create, list, read, own and delete threads and run turns through it; none of them
touches the graph, the checkpointer or the store.

The turn loop lives here: what a message starts (an answer, a new request, going back,
finishing a stopped step). The rest of the class comes from its parts, one concern each:
threads and state views (``agent/threads.py``), step events and insights
(``agent/step_log.py``), notifications (``agent/notifications.py``), reading a message
(``agent/reading.py``), one run of the graph (``agent/graph_run.py``) and the turns of
background verification (``agent/verification_turns.py``); they share
``agent/assistant_base.py``.

Example::

    async with Assistant.open(Settings(home=tmp)) as assistant:
        thread = await assistant.new_thread("ana")
        async for event in assistant.send(thread, "upload ./model.safetensors"):
            print(event)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agent.assistant_base import AssistantBase, Interpreter, JourneyGraph
from agent.events import ErrorEvent, Event, TextEvent
from agent.graph_run import TurnOutcome, full_disk_of
from agent.home import prepare_home
from agent.monitor import Lease, SqliteLease, VerificationMonitor
from agent.notifications import NotificationStream
from agent.pending import PendingOperation, pending_operations
from agent.reading import Reading, shown_listings
from agent.redaction import scrub_secrets
from agent.replies import render
from agent.settings import Settings
from agent.threads import (
    DIALOGUE_NAMESPACE,
    THREADS_NAMESPACE,
    ThreadRecord,
    ThreadView,
    stopped_at,
)
from agent.time_travel import Target, checkpoint_target, history_lines, undo_target
from agent.understanding.bounds import MAX_MESSAGE_CHARS
from agent.verification_turns import VerificationTurns
from flows.graph import build_graph
from flows.intents import Intent, intent
from flows.services import Services
from flows.state import WorkflowStatus
from flows.tracing import Tracer

__all__ = [
    "THREADS_NAMESPACE",
    "Assistant",
    "AssistantBase",
    "Collector",
    "Interpreter",
    "JourneyGraph",
    "NotificationStream",
    "ThreadRecord",
    "ThreadView",
    "collect",
    "stopped_at",
]

_NOT_YOURS = ErrorEvent(
    "not_found",
    "There is no such conversation for you.",
    "Start a new one, or name the user it belongs to (satya chat --user USER --thread ID).",
)
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


class Assistant(Reading, VerificationTurns):
    """Runs journeys: one LangGraph thread per conversation, persisted by the checkpointer."""

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
            trace_with = getattr(interpreter, "trace_with", None)
            if tracer_provider is not None and callable(trace_with):
                trace_with(tracer_provider.get_tracer("satya-agent"))  # the language model's calls
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
            said_full = False
            try:
                async for event in self._send(
                    thread_id, text, user_id=user_id, mode=mode, steps=steps
                ):
                    said_full = said_full or getattr(event, "code", "") == "disk_full"
                    yield event
            except Exception as error:  # a store write after the journey's own found no room
                full = full_disk_of(error, self.settings.home)
                if full is None:
                    raise
                if not said_full:  # said once a turn
                    yield ErrorEvent(full.code, full.message, full.hint)

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
            if self.tracer is None:
                intent = await self._interpret(text, dialogue)
            else:
                with self.tracer.reading(thread_id=thread_id, user_id=user):
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
        outcome = TurnOutcome()
        shown: list[str] = []
        async for event in self._run(payload, cfg, values, outcome=outcome, steps=steps):
            outcome.kinds.append(getattr(event, "kind", ""))
            if isinstance(event, TextEvent):
                shown = shown_listings(event.kind, event.data) or shown
            yield event
        await self._remember_question(thread_id, outcome.kinds, intent, offered, shown)
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
        # in debug mode 'step' runs the next step (the run stops before each one)
        go_on = word in _RESUME_WORDS or (debug and word in _CONTINUE_WORDS)
        kind = "retry" if go_on else None
        if kind is None:
            dialogue = await self._dialogue(thread_id, snap, user, text, {})
            kind = (await self._interpret(text, dialogue))["kind"]
        if kind in ("retry", "approve"):
            outcome = TurnOutcome()
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

    async def resume_pending(
        self, thread_id: str, *, user_id: str | None = None
    ) -> AsyncIterator[Event]:
        """Finish a step that was interrupted (Ctrl-C, a crash), up to the next question;
        in debug mode run one step. Runs nothing for anyone but the thread's owner."""
        async with self._lock_for(thread_id):
            user = await self._speaker(thread_id, user_id)
            if user is None:
                yield _NOT_YOURS
                return
            async for event in self._resume_pending(thread_id, user):
                yield event

    async def _resume_pending(self, thread_id: str, user: str) -> AsyncIterator[Event]:
        cfg = self._config(thread_id)
        snap = await self.graph.aget_state(cfg)
        if stopped_at(snap):
            outcome = TurnOutcome()
            async for event in self._run(None, cfg, dict(snap.values or {}), outcome=outcome):
                yield event
            # a job the resumed step left running goes to the monitor, as after any turn:
            # else no one follows it and its completion turn never runs
            if outcome.verifying:
                await self._follow_verification(thread_id, user)

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


Collector = Callable[[Event], Awaitable[None]]


async def collect(events: AsyncIterator[Event]) -> list[Event]:
    """All events of a turn, in order (for tests and scripts)."""
    return [event async for event in events]
