"""Stream modes: the one place where a run's typed events become the SSE events of each
mode a client asked for (LangGraph's shapes). ``RunManager.emit`` logs what this returns.

| mode | events (name: data) |
|---|---|
| ``values`` | ``values``: the thread's values after each step, and when the run ends (``__interrupt__`` at a gate) |
| ``updates`` | ``updates``: ``{node: what it changed}`` as each step finishes; ``{"__interrupt__": [...]}`` at a gate |
| ``custom`` | ``custom``: every typed event (text, progress, phase, gate, error, pause) |
| ``messages-tuple`` | ``messages``: ``[AI message, metadata]`` per reply |
| ``messages`` | ``messages/metadata``, ``messages/partial``, ``messages/complete`` per reply |
| ``tasks`` | ``tasks``: a step's start and its result |
| ``checkpoints`` | ``checkpoints``: the thread's state after each step |
| ``debug`` | ``debug``: ``task``, ``task_result`` and ``checkpoint`` entries with step and time |
| ``events`` | ``events``: ``on_chain_start`` / ``on_chain_end`` per step, ``on_custom_event`` per typed event |

Step events (``flows/step_events.py``: duration, outcome, attempt, bytes, calls, cost) ride
on the task results: ``tasks`` results, ``debug`` ``task_result`` payloads and ``events``
``on_chain_end`` data carry the step's record as ``step``. A step that did not finish
normally (it failed, asked a question or was stopped) and each file of a bulk upload have
no graph result: they come as a task and result pair of their own (``error``: the failure
code).

Replies are whole sentences from templates (a language model only reads messages), so a
reply's ``messages/partial`` is its whole text.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langgraph.types import StateSnapshot

from agent.events import Event, GateEvent, NodeEvent, StepEvent, TextEvent
from agent.server.jsonsafe import event_payload, json_safe

MODES = (
    "values",
    "updates",
    "custom",
    "messages-tuple",
    "messages",
    "tasks",
    "checkpoints",
    "debug",
    "events",
)
EVENTS_OF_MODE: dict[str, frozenset[str]] = {
    "messages-tuple": frozenset({"messages"}),
    "messages": frozenset({"messages/metadata", "messages/partial", "messages/complete"}),
}
ALWAYS = frozenset({"metadata", "error", "end"})
_NEED_STATE = frozenset({"checkpoints", "debug"})
_TASK_MODES = frozenset({"tasks", "debug", "events"})
Shaped = list[tuple[str, Any]]


def _chain_events(common: dict[str, Any], end: dict[str, Any]) -> Shaped:
    """A task in the ``events`` mode: its ``on_chain_start`` and ``on_chain_end`` (``end``
    as its data)."""
    return [
        ("events", {"event": "on_chain_start", "data": {}, **common}),
        ("events", {"event": "on_chain_end", "data": end, **common}),
    ]


WithChat = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def event_names(modes: list[str]) -> frozenset[str]:
    """The SSE event names the given stream modes carry (plus metadata, error and end)."""
    names: set[str] = set(ALWAYS)
    for mode in modes:
        names |= EVENTS_OF_MODE.get(mode, frozenset({mode}))
    return frozenset(names)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def checkpoint_payload(snap: StateSnapshot) -> dict[str, Any]:
    """A state snapshot as LangGraph's ``checkpoints`` stream mode shows it."""
    return {
        "config": json_safe(snap.config),
        "parent_config": json_safe(snap.parent_config) if snap.parent_config else None,
        "values": json_safe(dict(snap.values or {})),
        "metadata": json_safe(dict(snap.metadata or {})),
        "next": list(snap.next),
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "interrupts": [{"value": json_safe(i.value), "id": i.id} for i in t.interrupts],
            }
            for t in snap.tasks
        ],
    }


@dataclass
class RunStream:
    """What one run's clients asked for, and its step count."""

    run_id: str
    thread_id: str
    modes: frozenset[str]
    step: int = 0
    names: frozenset[str] = field(init=False)
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)  # a step's record,
    # waiting for its node's result

    def __post_init__(self) -> None:
        self.names = event_names(list(self.modes))

    def wants(self, mode: str) -> bool:
        return mode in self.modes

    async def shape(
        self,
        event: Event,
        message: dict[str, Any] | None,
        snapshot: Callable[[], Awaitable[StateSnapshot]],
        with_chat: WithChat | None = None,
    ) -> Shaped:
        """The (event name, data) pairs to log for ``event``; ``message`` is the AI chat
        message of a reply; ``with_chat`` adds the conversation to a step's values."""
        out: Shaped = []
        if message is not None and isinstance(event, TextEvent | GateEvent):
            meta: dict[str, Any] = {"run_id": self.run_id, "thread_id": self.thread_id}
            if isinstance(event, GateEvent):
                meta.update(kind="gate", gate=event.gate)
            else:
                meta["kind"] = event.kind
            if self.wants("messages-tuple"):
                out.append(("messages", [message, meta]))
            if self.wants("messages"):
                out.append(("messages/metadata", {message["id"]: {"metadata": meta}}))
                out.append(("messages/partial", [message]))
                out.append(("messages/complete", [message]))
        if isinstance(event, NodeEvent):
            out.extend(await self._step(event, snapshot, with_chat))
            return out
        if isinstance(event, GateEvent):
            interrupt = {
                "value": {"gate": event.gate, "text": event.text, "data": json_safe(event.data)},
                "id": event.interrupt_id,
            }
            out.append(("updates", {"__interrupt__": [interrupt]}))
        payload = event_payload(event)
        out.append(("custom", payload))
        if isinstance(event, StepEvent) and self.modes & _TASK_MODES:
            if event.kind == "step" and event.outcome == "ok":  # its node's result follows
                self.measured[event.step] = payload
            else:
                out.extend(self._step_task(event, payload))
        if self.wants("events"):
            out.append(
                (
                    "events",
                    {
                        "event": "on_custom_event",
                        "name": payload["type"],
                        "run_id": self.run_id,
                        "data": payload,
                        "metadata": {"thread_id": self.thread_id},
                        "tags": [],
                        "parent_ids": [],
                    },
                )
            )
        return out

    async def _step(
        self,
        event: NodeEvent,
        snapshot: Callable[[], Awaitable[StateSnapshot]],
        with_chat: WithChat | None,
    ) -> Shaped:
        self.step += 1
        out: Shaped = []
        update = json_safe(event.update)
        task_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.run_id}/{self.step}/{event.node}"))
        started, ended = event.started_at, event.started_at + event.duration_s
        task = {"id": task_id, "name": event.node, "input": None, "triggers": [event.node]}
        result: dict[str, Any] = {
            "id": task_id,
            "name": event.node,
            "result": [[k, v] for k, v in update.items()],
            "error": None,
            "interrupts": [],
            "duration_s": round(event.duration_s, 6),
        }
        measured = self.measured.pop(event.node, None)
        if measured is not None:
            result["step"] = measured
        if self.wants("updates"):
            out.append(("updates", {event.node: update}))
        if self.wants("tasks"):
            out.extend([("tasks", task), ("tasks", result)])
        if self.wants("values") and event.values is not None:
            values = json_safe(dict(event.values))
            out.append(("values", await with_chat(values) if with_chat is not None else values))
        state = await snapshot() if self.modes & _NEED_STATE else None
        if self.wants("checkpoints") and state is not None:
            out.append(("checkpoints", checkpoint_payload(state)))
        if self.wants("debug"):
            out += [self._debug("task", started, task), self._debug("task_result", ended, result)]
            if state is not None:
                out.append(self._debug("checkpoint", ended, checkpoint_payload(state)))
        if self.wants("events"):
            common = {
                "name": event.node,
                "run_id": task_id,
                "metadata": {"langgraph_node": event.node, "langgraph_step": self.step},
                "tags": [f"graph:step:{self.step}"],
                "parent_ids": [self.run_id],
            }
            end: dict[str, Any] = {"output": update}
            if measured is not None:
                end["step"] = measured
            out += _chain_events(common, end)
        return out

    def _debug(self, kind: str, at: float, payload: Any) -> tuple[str, Any]:
        """One ``debug`` mode event of this step: a task, its result or a checkpoint."""
        return (
            "debug",
            {"type": kind, "timestamp": _iso(at), "step": self.step, "payload": payload},
        )

    def _step_task(self, event: StepEvent, payload: dict[str, Any]) -> Shaped:
        """A step with no graph result (failed, waiting, stopped) or a bulk file, as a
        task and its result in the ``tasks``, ``debug`` and ``events`` modes."""
        name = (
            event.step if event.kind == "step" else f"{event.step}:{event.file_name or event.name}"
        )
        task_id = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{self.run_id}/record/{name}/{event.started_at}")
        )
        error = (event.error_code or event.outcome) if event.outcome == "failed" else None
        task = {"id": task_id, "name": name, "input": None, "triggers": [event.step]}
        result: dict[str, Any] = {
            "id": task_id,
            "name": name,
            "result": [],
            "error": error,
            "interrupts": [],
            "duration_s": round(event.duration_s, 6),
            "step": payload,
        }
        out: Shaped = []
        if self.wants("tasks"):
            out.extend([("tasks", task), ("tasks", result)])
        if self.wants("debug"):
            started, ended = event.started_at, event.started_at + event.duration_s
            out += [self._debug("task", started, task), self._debug("task_result", ended, result)]
        if self.wants("events"):
            common = {
                "name": name,
                "run_id": task_id,
                "metadata": {"langgraph_node": event.step, "langgraph_step": self.step},
                "tags": [],
                "parent_ids": [self.run_id],
            }
            out += _chain_events(common, {"output": None, "error": error, "step": payload})
        return out
