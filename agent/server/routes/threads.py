"""Threads: create, get, search, count, update, copy, delete, prune, state, history and the
thread's stream (Agent Protocol shapes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot
from sse_starlette import EventSourceResponse

from agent.assistant import ThreadRecord
from agent.server.deps import ApiError, Backend, BackendDep, ThreadDep, UserDep
from agent.server.follow import THREAD_MODES, ThreadStreamMode, thread_events
from agent.server.jsonsafe import json_safe
from agent.server.schemas import (
    Checkpoint,
    ErrorOut,
    HistoryQuery,
    Interrupt,
    JourneyView,
    PruneOut,
    ThreadCount,
    ThreadCreate,
    ThreadOut,
    ThreadPrune,
    ThreadSearch,
    ThreadStateOut,
    ThreadTask,
    ThreadUpdate,
)
from agent.server.sse import event_source, frame
from flows.state import WorkflowStatus

CANCEL_WAIT_S = 15.0  # a run on another worker sees a cancel at its next beat (about 0.5 s)

router = APIRouter(prefix="/threads", tags=["threads"])


async def _with_messages(
    backend: Backend, thread_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Values with the thread's conversation as ``messages`` (none before its first run,
    as LangGraph shows a fresh thread)."""
    messages = await backend.runs.conversation(thread_id)
    return {**values, "messages": messages} if messages else values


async def thread_out(
    backend: Backend, user: str, thread_id: str, record: ThreadRecord | None = None
) -> ThreadOut:
    """A thread as the protocol shows it: status, values and interrupts."""
    if record is None:
        record = await backend.assistant.thread_record(user, thread_id)
    snap = await backend.assistant.snapshot(thread_id)
    values = await _with_messages(backend, thread_id, json_safe(dict(snap.values or {})))
    interrupts: dict[str, list[Interrupt]] = {}
    for task in snap.tasks:
        if task.interrupts:
            interrupts[task.id] = [
                Interrupt(value=json_safe(i.value), id=i.id) for i in task.interrupts
            ]
    if await backend.runs.busy(thread_id):  # a turn running, or one queued (enqueue)
        status = "busy"
    elif interrupts:
        status = "interrupted"
    elif values.get("error") and values.get("status") == WorkflowStatus.FAILED:
        status = "error"
    else:
        status = "idle"
    now = datetime.now(UTC)
    metadata = dict(record.metadata) if record is not None else {}
    created = record.created_at if record is not None else now
    updated = record.updated_at if record is not None else now
    checkpoint_ts = (snap.created_at or "") if snap.values else ""
    if checkpoint_ts:
        updated = max(updated, datetime.fromisoformat(checkpoint_ts))
    return ThreadOut(
        thread_id=thread_id,
        created_at=created,
        updated_at=updated,
        metadata=metadata,
        status=status,  # type: ignore[arg-type]
        values=values,
        interrupts=interrupts,
    )


@router.post(
    "",
    response_model=ThreadOut,
    responses={400: {"model": ErrorOut, "description": "A thread_id was given."}},
)
async def create_thread(body: ThreadCreate, user: UserDep, backend: BackendDep) -> ThreadOut:
    """Create a thread owned by the caller (the server picks its id)."""
    if body.thread_id:
        raise ApiError(
            400,
            "thread_id_not_supported",
            "This server picks thread ids; a thread cannot be created under a given id.",
            "Leave out thread_id and keep your own id in metadata, e.g. "
            '{"metadata": {"conversation": "c-42"}}; find it again with POST /threads/search.',
        )
    thread_id = await backend.assistant.new_thread(user)
    if body.metadata:
        await backend.assistant.set_metadata(user, thread_id, json_safe(body.metadata))
    return await thread_out(backend, user, thread_id)


@router.post("/search", response_model=list[ThreadOut])
async def search_threads(body: ThreadSearch, user: UserDep, backend: BackendDep) -> list[ThreadOut]:
    """The caller's threads, most recently updated first, filtered by metadata and status."""
    records = await backend.assistant.thread_records(user, limit=10_000)
    wanted = body.metadata
    out: list[ThreadOut] = []
    skipped = 0
    for record in records:
        if any(record.metadata.get(k) != v for k, v in wanted.items()):
            continue
        if body.status is None and skipped < body.offset:
            skipped += 1
            continue
        thread = await thread_out(backend, user, record.thread_id, record)
        if body.status is not None and thread.status != body.status:
            continue
        if body.status is not None and skipped < body.offset:
            skipped += 1
            continue
        out.append(thread)
        if len(out) >= body.limit:
            break
    return out


@router.get("/{thread_id}", response_model=ThreadOut)
async def get_thread(thread_id: ThreadDep, user: UserDep, backend: BackendDep) -> ThreadOut:
    """One thread of the caller; ``values.messages`` is its conversation (the last 200 messages)."""
    return await thread_out(backend, user, thread_id)


@router.delete(
    "/{thread_id}",
    status_code=204,
    response_class=Response,
    responses={409: {"model": ErrorOut, "description": "A run is still stopping."}},
)
async def delete_thread(thread_id: ThreadDep, user: UserDep, backend: BackendDep) -> Response:
    """Delete a thread, its checkpoints, runs and messages (a run in progress is cancelled
    first, and waited for, so that it writes nothing after the delete; queued runs are
    cancelled)."""
    await stop_and_forget(backend, user, thread_id)
    return Response(status_code=204)


async def stop_and_forget(backend: Backend, user: str, thread_id: str) -> None:
    """Cancel the thread's queued and running runs, wait for them, then delete it."""
    await backend.runs.cancel_waiting(thread_id)
    active = await backend.runs.live_run(thread_id)
    if active is not None:
        await backend.runs.cancel(active)
        try:
            await asyncio.wait_for(backend.runs.join(active), CANCEL_WAIT_S)
        except TimeoutError:
            raise ApiError(
                409,
                "thread_busy",
                "This thread's turn is still stopping on another server process.",
                "Send the delete again in a few seconds.",
            ) from None
    await forget_thread(backend, user, thread_id)


@router.post(
    "/prune",
    response_model=PruneOut,
    responses={
        400: {"model": ErrorOut, "description": "strategy keep_latest is not offered."},
        409: {"model": ErrorOut, "description": "A run is still stopping."},
    },
)
async def prune_threads(body: ThreadPrune, user: UserDep, backend: BackendDep) -> PruneOut:
    """Delete several of the caller's threads at once, as DELETE /threads/{id} does each
    (ids that are not the caller's threads are skipped); how many were deleted."""
    if body.strategy != "delete":
        raise ApiError(
            400,
            "prune_strategy_not_supported",
            "Pruning old checkpoints while keeping the latest is not offered: a journey's "
            "earlier questions are what 'undo' and runs with checkpoint_id go back to.",
            'Send strategy "delete" to delete whole threads, or DELETE /threads/{thread_id}.',
        )
    pruned = 0
    for thread_id in dict.fromkeys(body.thread_ids):
        if await backend.assistant.owns(user, thread_id):
            await stop_and_forget(backend, user, thread_id)
            pruned += 1
    return PruneOut(pruned_count=pruned)


async def forget_thread(backend: Backend, user: str, thread_id: str) -> None:
    """Delete a thread that runs nothing: checkpoints, metadata, runs and messages."""
    await backend.assistant.delete_thread(thread_id, user)
    await backend.runs.db.delete_thread(thread_id)


def _checkpoint(config: RunnableConfig | None, thread_id: str) -> Checkpoint | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    return Checkpoint(
        thread_id=str(conf.get("thread_id", thread_id)),
        checkpoint_ns=str(conf.get("checkpoint_ns", "")),
        checkpoint_id=conf.get("checkpoint_id"),
    )


def state_out(
    snap: StateSnapshot, thread_id: str, journey: JourneyView | None = None
) -> ThreadStateOut:
    """A StateSnapshot in the protocol's shape."""
    return ThreadStateOut(
        values=json_safe(dict(snap.values or {})),
        next=list(snap.next),
        checkpoint=_checkpoint(snap.config, thread_id) or Checkpoint(thread_id=thread_id),
        metadata=json_safe(dict(snap.metadata or {})),
        created_at=snap.created_at,
        parent_checkpoint=_checkpoint(snap.parent_config, thread_id),
        tasks=[
            ThreadTask(
                id=t.id,
                name=t.name,
                interrupts=[Interrupt(value=json_safe(i.value), id=i.id) for i in t.interrupts],
            )
            for t in snap.tasks
        ],
        interrupts=[Interrupt(value=json_safe(i.value), id=i.id) for i in snap.interrupts],
        journey=journey,
    )


@router.get("/{thread_id}/state", response_model=ThreadStateOut)
async def get_state(thread_id: ThreadDep, backend: BackendDep) -> ThreadStateOut:
    """The thread's current state, its conversation (``values.messages``, the last 200) and
    Satya's journey summary (phase, progress, gate)."""
    snap = await backend.assistant.snapshot(thread_id)
    view = await backend.assistant.state(thread_id)
    journey = JourneyView(
        phase=view.phase,
        status=view.status,
        progress=view.progress,
        mode=view.mode,
        expertise=view.expertise,
        completed_steps=view.completed_steps,
        pending_steps=view.pending_steps,
        gate=json_safe(view.gate) if view.gate else None,
    )
    state = state_out(snap, thread_id, journey)
    state.values = await _with_messages(backend, thread_id, state.values)
    return state


async def _history(
    backend: Backend, thread_id: str, limit: int, before: Checkpoint | None
) -> list[ThreadStateOut]:
    at = None
    if before is not None and before.checkpoint_id:
        at = (before.checkpoint_ns, before.checkpoint_id)
    out = []
    async for snap in backend.assistant.history(thread_id, limit=limit, before=at):
        out.append(state_out(snap, thread_id))
    if out and at is None:  # the newest is the current state: it has the conversation
        out[0].values = await _with_messages(backend, thread_id, out[0].values)
    return out


@router.get("/{thread_id}/history", response_model=list[ThreadStateOut])
async def get_history(
    thread_id: ThreadDep,
    backend: BackendDep,
    limit: int = Query(default=10, ge=1, le=1000),
) -> list[ThreadStateOut]:
    """Past states of the thread, newest first; only the newest (the current state) has the
    conversation in ``values.messages``, older ones have no ``messages``."""
    return await _history(backend, thread_id, limit, None)


@router.post("/{thread_id}/history", response_model=list[ThreadStateOut])
async def post_history(
    thread_id: ThreadDep, body: HistoryQuery, backend: BackendDep
) -> list[ThreadStateOut]:
    """Past states of the thread, newest first, before a checkpoint if given; only the newest
    (the current state, when no ``before``) has the conversation in ``values.messages``."""
    return await _history(backend, thread_id, body.limit, body.before)


async def _metadata(backend: Backend, user: str, thread_id: str) -> dict[str, Any]:
    record = await backend.assistant.thread_record(user, thread_id)
    return dict(record.metadata) if record is not None else {}


@router.patch("/{thread_id}", response_model=ThreadOut)
async def update_thread(
    thread_id: ThreadDep, body: ThreadUpdate, user: UserDep, backend: BackendDep
) -> ThreadOut:
    """Merge new metadata into the thread's (a key set to null is removed)."""
    merged = {**await _metadata(backend, user, thread_id), **json_safe(body.metadata)}
    merged = {k: v for k, v in merged.items() if v is not None}
    await backend.assistant.set_metadata(user, thread_id, merged)
    return await thread_out(backend, user, thread_id)


@router.post("/count", response_model=int)
async def count_threads(body: ThreadCount, user: UserDep, backend: BackendDep) -> int:
    """How many of the caller's threads match the metadata and status."""
    found = await search_threads(
        ThreadSearch(metadata=body.metadata, status=body.status, limit=1000), user, backend
    )
    return len(found)


@router.post(
    "/{thread_id}/copy",
    response_model=ThreadOut,
    responses={409: {"model": ErrorOut, "description": "A run is going on the thread."}},
)
async def copy_thread(thread_id: ThreadDep, user: UserDep, backend: BackendDep) -> ThreadOut:
    """A new thread of the caller with this one's history, conversation and metadata; the
    copy goes on independently (a pending question can be answered on either)."""
    if await backend.runs.live_run(thread_id) is not None:
        raise ApiError(
            409,
            "thread_busy",
            "This thread is running a turn: a copy taken now would miss its end.",
            f"Wait for it (GET /threads/{thread_id}/runs), then copy it.",
        )
    copy = await backend.assistant.copy_thread(thread_id, user)
    await backend.runs.db.copy_messages(thread_id, copy)
    metadata = await _metadata(backend, user, thread_id)
    if metadata:
        await backend.assistant.set_metadata(user, copy, metadata)
    return await thread_out(backend, user, copy)


@router.post(
    "/{thread_id}/state",
    responses={
        403: {"model": ErrorOut, "description": "A thread's state is not written directly."}
    },
)
async def update_state(thread_id: ThreadDep) -> None:
    """Writing a thread's state directly is refused: the journey keeps prices, approvals and
    on-chain receipts there, and only its own steps (after your answers) may change them."""
    raise ApiError(
        403,
        "state_read_only",
        "A thread's state is changed only by its journey: it holds the approvals, prices and "
        "receipts that decide what is paid and listed.",
        'Send a message as a run (POST /threads/{thread_id}/runs with {"input": {"message": '
        '"make it 2 SUI"}}); switch to auto mode with assistant satya-auto; go back to an '
        "earlier question with a run that names its checkpoint_id.",
    )


@router.get(
    "/{thread_id}/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-sent events of the thread's runs as they come, each run "
            "closed by run_done {run_id, status}; ids are run_id:seq (send the last one as "
            "Last-Event-ID to resume).",
            "content": {"text/event-stream": {}},
        }
    },
)
async def join_thread_stream(
    thread_id: ThreadDep,
    user: UserDep,
    backend: BackendDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    stream_mode: Annotated[
        list[ThreadStreamMode] | None,
        Query(
            description="run_modes (default: each run's events in its own modes, and "
            "run_done), lifecycle (metadata as a run starts, run_done as it ends), "
            "state_update (the thread's values)."
        ),
    ] = None,
) -> EventSourceResponse:
    """Follow the thread: the events of its runs from now on (or after Last-Event-ID), one
    run after the other, until the client leaves or the thread is deleted."""
    modes = frozenset(stream_mode or [THREAD_MODES[0]])

    async def still_there() -> bool:
        return await backend.assistant.owns(user, thread_id)

    async def body() -> Any:
        async for ident, name, data in thread_events(
            backend.runs, thread_id, modes, last_event_id=last_event_id, still_there=still_there
        ):
            yield frame(ident, name, data)

    return event_source(body(), keepalive_s=backend.config.keepalive_s)
