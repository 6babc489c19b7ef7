"""One run of the journey graph, as typed events.

``GraphRun._run`` streams the graph (custom and update chunks) with the run's services,
records its steps, turns chunks into events (replies, progress, gates, phases, steps),
marks a run that may reach a verification as followed in the foreground (so that it
goes on by itself after a crash), and turns a failure into an ``ErrorEvent``: a bug never
kills the conversation and the thread stays resumable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    NodeEvent,
    PauseEvent,
    PhaseEvent,
    ProgressEvent,
    StepEvent,
    TextEvent,
)
from agent.notifications import Notifications
from agent.replies import render
from flows.state import WorkflowStatus, progress
from flows.step_events import recording_services
from integrations.errors import DiskFull, SatyaError
from integrations.storage.atomic import disk_full, is_disk_full

log = logging.getLogger("satya.assistant")

FOREGROUND_NAMESPACE = ("verifying_foreground",)  # thread id -> a job this turn follows
# Requests that answer without moving a journey towards verification.
_ASKS_ONLY = frozenset(
    {
        "status", "raw_data", "help", "greet", "unknown", "clarify", "market_analysis",
        "dashboard", "insights", "browse", "set_expertise", "set_mode", "support_bundle",
        "conversion_guide", "abandon", "tour", "verbosity", "optimise",
    }
)  # fmt: skip
# Reply kinds that ask the user for one slot: the next message is read as its value.


@dataclass(slots=True)
class TurnOutcome:
    verifying: bool = False
    status: str | None = None  # the last status the turn set
    kinds: list[str] = field(default_factory=list)


def running_jobs(ctx: dict[str, Any]) -> dict[str, str]:
    """The enclave jobs a journey waits for -> the progress task each is shown as."""
    bulk = [f for f in ctx.get("bulk") or [] if f.get("status") == "verifying"]
    if bulk:
        return {str(f["job_id"]): f"verification:{f.get('file_name', '')}" for f in bulk}
    if ctx.get("job_id") and not ctx.get("verification_id"):
        return {str(ctx["job_id"]): "verification"}
    return {}


def job_deadlines(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
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


def turn_kind(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("intent"), dict):
        return str(payload["intent"].get("kind", "message"))
    return "resume" if isinstance(payload, Command) else "continue"


def custom_event(chunk: Any, expertise: str) -> Event | None:
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


def gate_event(item: Any, expertise: str) -> GateEvent:
    value = getattr(item, "value", {}) or {}
    data = dict(value.get("data") or {})
    kind = str(value.get("kind", "gate"))
    return GateEvent(
        gate=str(value.get("gate", "")),
        text=render(kind, data, expertise),
        data=data,
        interrupt_id=str(getattr(item, "id", "")),
    )


FREE_SPACE = "Free space on that disk (or set SATYA_HOME to a disk with room)"
AFTER_FULL = (
    "then say 'resume' to go on from the last step saved (if nothing waits, say your "
    "message again)."
)


def full_disk_of(error: BaseException, home: Path) -> DiskFull | None:
    """``DiskFull`` naming the disk of ``home`` when ``error`` (or what caused it) says the
    disk is full: SQLite's "database or disk is full" as a checkpoint is written, or ENOSPC.
    SQLite rolls the failed write back, so the thread keeps its last checkpoint."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DiskFull):
            return seen
        if is_disk_full(seen) or (
            isinstance(seen, sqlite3.OperationalError) and "disk is full" in str(seen)
        ):
            return DiskFull(
                disk_full(home, None).message,
                hint=f"{FREE_SPACE}; what was saved before it filled up is kept.",
            )
        seen = seen.__cause__ or seen.__context__
    return None


class GraphRun(Notifications):
    """Runs the journey graph for one turn (a part of ``Assistant``)."""

    async def _follow_in_foreground(
        self, payload: Any, cfg: RunnableConfig, values: dict[str, Any]
    ) -> str | None:
        """The thread whose verification this run follows in the foreground (None for a run
        that only asks), recorded before the run starts: after a crash at any instant it
        goes on by itself."""
        if isinstance(payload, dict) and payload["intent"]["kind"] in _ASKS_ONLY:
            return None
        foreground = str((cfg.get("configurable") or {})["thread_id"])
        speaker = payload.get("user_id") if isinstance(payload, dict) else None
        owner = values.get("user_id") or speaker or self.settings.user
        await self.store.aput(FOREGROUND_NAMESPACE, foreground, {"user_id": owner})
        return foreground

    async def _failed(self, error: Exception) -> ErrorEvent:
        """What an unexpected error in a run tells the user: a full disk (the failed
        database transactions rolled back, nothing of them kept), else an internal error."""
        full = full_disk_of(error, self.settings.home)
        if full is not None:  # a checkpoint (or another database write) found no room
            for db in (self.graph.checkpointer, self.store):  # SQLite: end the failed
                conn = getattr(db, "conn", None)  # transaction, keep none of its writes
                if getattr(conn, "in_transaction", False):
                    with contextlib.suppress(Exception):
                        await conn.rollback()  # type: ignore[union-attr]
            return ErrorEvent(full.code, full.message, f"{FREE_SPACE}, {AFTER_FULL}")
        log.error("internal error during a turn", exc_info=error)
        return ErrorEvent(
            "internal_error",
            "Something went wrong inside Satya Agent; nothing was lost.",
            "Say 'retry' to continue, or 'support bundle' to report it (run with --verbose for details).",
        )

    async def _run(
        self,
        payload: Any,
        cfg: RunnableConfig,
        values: dict[str, Any],
        *,
        debug_ok: bool = True,
        outcome: TurnOutcome | None = None,
        steps: bool = False,
    ) -> AsyncIterator[Event]:
        expertise = str(values.get("expertise") or "intermediate")
        phase = values.get("current_phase")
        mode = values.get("mode") or self.settings.mode
        if isinstance(payload, dict) and "mode" in payload:
            mode = payload["mode"]
        interrupt_before: Literal["*"] | Sequence[str] | None = (
            "*" if mode == "debug" and debug_ok else None
        )
        foreground = await self._follow_in_foreground(payload, cfg, values)
        recorder = self._recorder(payload, cfg, values)
        services = (
            self.services if recorder is None else recording_services(self.services, recorder)
        )
        turn_span = (
            self.tracer.turn(recorder, kind=turn_kind(payload))
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
                    event = custom_event(chunk, expertise)
                    if event is not None:
                        yield event
                    continue
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        for item in update:
                            yield gate_event(item, expertise)
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
        except Exception as error:  # a bug must not kill the conversation; it stays resumable
            turn_outcome = "failed"
            yield await self._failed(error)
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
