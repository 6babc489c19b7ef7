"""Dialogue context: what the agent just asked, so that a short answer is read as its answer.

Example::

    >>> Dialogue(gate="listing", price_mist=2_000_000_000).expects_gate_answer
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

GateName = Literal["upload", "listing", "purchase"]
Expecting = Literal["path", "title", "tour"]


@dataclass(frozen=True, slots=True)
class Dialogue:
    """The conversation around a message: the pending gate, the slot asked for, the drafts."""

    gate: GateName | None = None  # a gate waits for an answer
    expecting: Expecting | None = None  # the slot the agent just asked for ("tour": a tour step)
    question: str | None = None  # a checkpoint question waits ("model_type", "task", …)
    paused: bool = False  # a step was stopped (Ctrl-C, a lost worker) and waits for resume/cancel
    phase: str = "idle"
    price_mist: int | None = None  # the draft price at a listing gate (relative changes)
    title: str | None = None  # the draft title
    last_price_mist: int | None = None  # the price of the user's last listing
    file_name: str | None = None  # the model the journey is about
    listing_id: str | None = None  # the listing the journey is about (bought, listed, shown)
    base_dir: Path | None = None  # where relative paths are looked up
    recent: tuple[str, ...] = field(default=())  # the user's last messages, newest last
    shown: tuple[str, ...] = field(default=())  # listing ids shown last, in order ("the second")
    # what the waiting gate shows: the model's names, and amounts as (value, unit) pairs
    gate_names: tuple[str, ...] = field(default=())
    gate_amounts: tuple[tuple[float, str], ...] = field(default=())

    @property
    def expects_gate_answer(self) -> bool:
        return self.gate is not None
