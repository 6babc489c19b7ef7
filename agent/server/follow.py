"""Following a whole thread (``GET /threads/{id}/stream``): the events of its runs as they
come, one run after the other, each closed by a ``run_done`` event, until the client leaves.

Event ids are ``run_id:seq``, so that a client that reconnects with ``Last-Event-ID`` goes
on in the run it was reading and then the runs after it. The modes are LangGraph's thread
stream modes: ``run_modes`` (each run's events, in the modes that run was started with),
``lifecycle`` (``metadata`` as a run starts, ``run_done`` as it ends) and ``state_update``
(the thread's ``values`` as runs change it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from agent.server.rundb import RunRecord
from agent.server.runs import RunManager
from agent.server.streams import event_names

ThreadStreamMode = Literal["run_modes", "lifecycle", "state_update"]
THREAD_MODES: tuple[ThreadStreamMode, ...] = ("run_modes", "lifecycle", "state_update")
_LIFECYCLE = frozenset({"metadata", "run_done"})


def parse_thread_event_id(value: str | None) -> tuple[str | None, int]:
    """The run and sequence number a reconnecting thread client saw last."""
    if not value or ":" not in value:
        return None, 0
    run_id, _, seq = value.strip().rpartition(":")
    if not run_id or len(run_id) > 64 or not seq.isdigit() or len(seq) > 11:
        return None, 0
    return run_id, int(seq)


def _wanted(record: RunRecord, modes: frozenset[str]) -> frozenset[str]:
    names: set[str] = set()
    if "run_modes" in modes:
        names |= event_names(record.modes) | {"run_done"}
    if "lifecycle" in modes:
        names |= _LIFECYCLE
    if "state_update" in modes:
        names.add("values")
    return frozenset(names - {"end"})


async def thread_events(
    runs: RunManager,
    thread_id: str,
    modes: frozenset[str],
    *,
    last_event_id: str | None,
    still_there: Callable[[], Awaitable[bool]],
    recheck_s: float = 5.0,
) -> AsyncIterator[tuple[str, str, Any]]:
    """``(id, event, data)`` for the thread's runs from now (or from ``last_event_id``) on;
    it ends when the thread is deleted."""
    run_id, after = parse_thread_event_id(last_event_id)
    since = time.time()
    if run_id is not None:
        record = await runs.db.get(run_id)
        if record is not None and record.thread_id == thread_id:
            since = record.created_at
        else:
            run_id, after = None, 0
    seen: set[str] = set()
    checked = time.monotonic()
    while True:
        recent = await runs.db.for_thread(thread_id, limit=100, offset=0)
        waiting = sorted(
            (r for r in recent if r.run_id not in seen and (not r.done or r.created_at >= since)),
            key=lambda r: (r.created_at, r.run_id),
        )
        if not waiting:
            if time.monotonic() - checked > recheck_s:
                if not await still_there():
                    return
                checked = time.monotonic()
            await asyncio.sleep(runs.poll_s)
            continue
        record = waiting[0]
        seen.add(record.run_id)
        since = max(since, record.created_at)
        wanted = _wanted(record, modes)
        start = after if record.run_id == run_id else 0
        async for seq, name, data in runs.events(record, start):
            ident = f"{record.run_id}:{seq}"
            if name == "end":
                if "run_done" in wanted:
                    status = await _final_status(runs, record)
                    yield ident, "run_done", {"run_id": record.run_id, "status": status}
            elif name in wanted:
                yield ident, name, data


async def _final_status(runs: RunManager, record: RunRecord) -> str:
    """The status a run ended with (written before its end event)."""
    return (await runs.join(record)).status
