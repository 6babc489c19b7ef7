"""Typed events a turn yields, for the chat, the HTTP server and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class TextEvent:
    """A reply in words, with the typed reply it came from."""

    text: str
    kind: str
    data: dict[str, object] = field(default_factory=dict)
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Progress of a long task (upload, verification, download)."""

    task: str
    fraction: float
    done: int
    total: int
    rate: float | None = None
    eta_s: float | None = None
    message: str = ""
    type: Literal["progress"] = "progress"


@dataclass(frozen=True, slots=True)
class GateEvent:
    """The journey waits for an answer (yes / no / an edit)."""

    gate: str
    text: str
    data: dict[str, object] = field(default_factory=dict)
    interrupt_id: str = ""
    type: Literal["gate"] = "gate"


@dataclass(frozen=True, slots=True)
class PhaseEvent:
    """The journey moved to another phase."""

    phase: str
    progress: float
    type: Literal["phase"] = "phase"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """Something went wrong outside the journey's own recovery (plain words + next step)."""

    code: str
    message: str
    hint: str
    type: Literal["error"] = "error"


@dataclass(frozen=True, slots=True)
class PauseEvent:
    """Debug mode: stopped before the named step(s)."""

    next_nodes: tuple[str, ...]
    type: Literal["pause"] = "pause"


@dataclass(frozen=True, slots=True)
class StepEvent:
    """A journey step or a bulk file ended: how long, how, at what cost.

    ``kind``: ``step`` (a node of the journey; ``calls`` and ``bytes`` sum the calls it
    made to storage, ledger and enclave, each of which is kept as a record of its own)
    or ``file`` (one file of a bulk upload); ``outcome``: ``ok``, ``failed``, ``waiting``
    (a question was asked, or a job goes on in the background), ``stopped`` (Ctrl-C, a
    cancelled run).
    """

    kind: str
    name: str
    step: str
    phase: str
    outcome: str
    duration_s: float
    started_at: float
    error_code: str = ""
    attempt: int = 1
    bytes: int = 0
    cost_frost: int = 0
    cost_mist: int = 0
    estimate_s: float | None = None
    file_name: str = ""
    calls: int = 0
    type: Literal["step"] = "step"


@dataclass(frozen=True, slots=True)
class NodeEvent:
    """A journey step (graph node) finished: its name, what it changed and how long it took.

    Only ``Assistant.send(..., steps=True)`` yields these (the HTTP API's stream modes
    ``values``, ``updates``, ``tasks``, ``debug``, ``events`` and ``checkpoints`` are made
    from them). ``values`` is the journey's whole state after the step."""

    node: str
    update: dict[str, object]
    started_at: float  # Unix time
    duration_s: float
    values: dict[str, object] | None = None
    type: Literal["node"] = "node"


Event = (
    TextEvent
    | ProgressEvent
    | GateEvent
    | PhaseEvent
    | ErrorEvent
    | PauseEvent
    | StepEvent
    | NodeEvent
)


@dataclass(frozen=True, slots=True)
class Notification:
    """An event that happened outside a user's turn (background verification, a sale of
    one of the user's models), for a thread; ``user_id`` names the user it is for when
    it concerns none of their threads in particular."""

    thread_id: str
    event: Event
    user_id: str = ""
