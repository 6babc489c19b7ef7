"""Typed replies and progress that nodes send to the user while they run.

Nodes never phrase text: they emit a reply ``kind`` and its data, and
``agent.replies`` turns it into words for the user's expertise level.
Everything travels on LangGraph's ``custom`` stream.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from langgraph.runtime import Runtime

# "upload", "verification", "download"; "upload:<file name>" for one file of a bulk upload.
ProgressTask = str


class ReplyEvent(TypedDict):
    event: Literal["reply"]
    kind: str
    data: dict[str, object]


class ProgressEvent(TypedDict):
    event: Literal["progress"]
    task: ProgressTask
    fraction: float
    done: int
    total: int
    rate: float | None
    eta_s: float | None
    message: str


def say(runtime: Runtime[Any], kind: str, **data: object) -> None:
    """Send a typed reply to whoever is streaming this run."""
    runtime.stream_writer(ReplyEvent(event="reply", kind=kind, data=data))


def report_progress(
    runtime: Runtime[Any],
    task: ProgressTask,
    *,
    done: int,
    total: int,
    rate: float | None = None,
    eta_s: float | None = None,
    message: str = "",
) -> None:
    """Send a progress update (bytes or percent) for a long task."""
    fraction = (done / total) if total else 0.0
    runtime.stream_writer(
        ProgressEvent(
            event="progress",
            task=task,
            fraction=round(min(max(fraction, 0.0), 1.0), 4),
            done=done,
            total=total,
            rate=rate,
            eta_s=eta_s,
            message=message,
        )
    )
