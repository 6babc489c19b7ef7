"""Runs by id, without their thread in the path: stateless runs (``POST /runs``,
``/runs/stream``, ``/runs/wait``, ``/runs/batch``) on a temporary thread of the caller,
deleted when the run ends unless ``on_completion`` is ``keep``; joining a run's stream
(``GET /runs/{id}/stream``); cancelling several runs (``POST /runs/cancel``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from agent.server.deps import ApiError, Backend, BackendDep, UserDep, not_found
from agent.server.routes.runs import (
    ERRORS,
    SSE_RESPONSE,
    StreamModesQuery,
    _start,
    _stream_response,
    rejoin_stream,
    run_out,
    stop_run,
    values_response,
)
from agent.server.routes.threads import forget_thread
from agent.server.rundb import RunRecord
from agent.server.schemas import ErrorOut, RunCreate, RunOut, RunsCancel

router = APIRouter(prefix="/runs", tags=["stateless runs"])
log = logging.getLogger("satya.server.runs")
_cleanups: set[asyncio.Task[None]] = set()


async def _temporary_run(backend: Backend, user: str, body: RunCreate) -> RunRecord:
    thread_id = await backend.assistant.new_thread(user)
    try:
        return await _start(backend, user, thread_id, body)
    except BaseException:
        try:  # the run's own error is the answer; a failed clean-up is only logged
            await forget_thread(backend, user, thread_id)
        except Exception:
            log.warning("temporary thread %s not deleted", thread_id, exc_info=True)
        raise


def _forget_after(backend: Backend, record: RunRecord, *, until: asyncio.Event | None) -> None:
    """Delete the temporary thread once its run has ended (and its stream was sent)."""

    async def cleanup() -> None:
        try:
            await backend.runs.join(record)
            if until is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(until.wait(), backend.config.keepalive_s * 4)
            await forget_thread(backend, record.user_id, record.thread_id)
        except Exception:  # the thread stays; it is the caller's and can be deleted
            log.warning("temporary thread %s not deleted", record.thread_id, exc_info=True)

    task = asyncio.create_task(cleanup())
    _cleanups.add(task)
    task.add_done_callback(_cleanups.discard)


@router.post("", response_model=RunOut, responses=ERRORS)
async def create_stateless_run(body: RunCreate, user: UserDep, backend: BackendDep) -> RunOut:
    """Start a run on a temporary thread, in the background."""
    record = await _temporary_run(backend, user, body)
    if body.on_completion == "delete":
        _forget_after(backend, record, until=None)
    return run_out(record)


@router.post("/wait", response_model=dict[str, Any], responses=ERRORS)
async def wait_stateless_run(body: RunCreate, user: UserDep, backend: BackendDep) -> Response:
    """Run on a temporary thread and return its values."""
    record = await _temporary_run(backend, user, body)
    try:
        values = await backend.runs.wait_values(record)
    finally:
        if body.on_completion == "delete":
            _forget_after(backend, record, until=None)
    return values_response(values)


@router.post("/stream", response_class=EventSourceResponse, responses={**SSE_RESPONSE, **ERRORS})
async def stream_stateless_run(
    body: RunCreate, user: UserDep, backend: BackendDep, request: Request
) -> EventSourceResponse:
    """Run on a temporary thread and stream its events over SSE."""
    record = await _temporary_run(backend, user, body)
    response = _stream_response(
        backend, request, record, 0, cancel_on_disconnect=body.on_disconnect == "cancel"
    )
    if body.on_completion == "delete":
        sent = asyncio.Event()
        inner = response.body_iterator

        async def then_forget() -> AsyncIterator[Any]:
            try:
                async for chunk in inner:
                    yield chunk
            finally:
                sent.set()

        response.body_iterator = then_forget()
        _forget_after(backend, record, until=sent)
    return response


BATCH_LIMIT = 100


@router.post(
    "/batch",
    response_model=list[RunOut],
    responses={
        **ERRORS,
        422: {"model": ErrorOut, "description": f"Not a list of 1 to {BATCH_LIMIT} runs."},
    },
)
async def create_stateless_batch(
    body: Annotated[list[RunCreate], Body(min_length=1, max_length=BATCH_LIMIT)],
    user: UserDep,
    backend: BackendDep,
) -> list[RunOut]:
    """Start several stateless runs at once, each on its own temporary thread, in the
    background; one refused (its 4xx) starts none of those after it."""
    return [await create_stateless_run(run, user, backend) for run in body]


async def _owned_run(backend: Backend, user: str, run_id: str) -> RunRecord:
    record = await backend.runs.db.get(run_id) if len(run_id) <= 64 else None
    if record is None or record.user_id != user:
        raise ApiError(
            404,
            "not_found",
            "There is no such run.",
            "Use the run_id that POST /runs or /threads/{thread_id}/runs returned.",
        )
    return await backend.runs.settle(record)


@router.get("/{run_id}/stream", response_class=EventSourceResponse, responses=SSE_RESPONSE)
async def join_stateless_stream(
    run_id: str,
    user: UserDep,
    backend: BackendDep,
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    stream_mode: StreamModesQuery = None,
    cancel_on_disconnect: bool = Query(default=False),
) -> EventSourceResponse:
    """Stream a run's events (again), found by its id alone (a stateless run's thread is
    temporary): from the start, or after ``Last-Event-ID``."""
    record = await _owned_run(backend, user, run_id)
    return rejoin_stream(
        backend,
        request,
        record,
        last_event_id,
        stream_mode,
        cancel_on_disconnect=cancel_on_disconnect,
    )


_STATUSES: dict[str, tuple[str, ...]] = {
    "pending": ("pending",),
    "running": ("running",),
    "all": ("pending", "running"),
}


@router.post(
    "/cancel",
    status_code=204,
    response_class=Response,
    responses={
        400: {"model": ErrorOut, "description": "Neither run_ids, thread_id nor status."},
        404: {"model": ErrorOut, "description": "A run or the thread named is not yours."},
    },
)
async def cancel_runs(
    body: RunsCancel,
    user: UserDep,
    backend: BackendDep,
    action: Literal["interrupt", "rollback"] = Query(
        default="interrupt",
        description="interrupt: stopped runs keep their finished steps; rollback: each "
        "thread goes back to before its stopped run, which is deleted.",
    ),
) -> Response:
    """Cancel the runs named (``run_ids``, of ``thread_id`` if given), every active run of
    ``thread_id``, or every run of the caller in ``status`` (pending, running or all);
    each has stopped when this answers. Runs that have already ended are left as they are."""
    if body.run_ids:
        records = [await _owned_run(backend, user, run_id) for run_id in body.run_ids]
        if body.thread_id is not None and any(r.thread_id != body.thread_id for r in records):
            raise not_found("run")
    elif body.thread_id is not None:
        if not await backend.assistant.owns(user, body.thread_id):
            raise not_found("thread")
        records = await backend.runs.db.unfinished(body.thread_id)
    elif body.status is not None:
        records = await backend.runs.db.for_user(user, _STATUSES[body.status])
    else:
        raise ApiError(
            400,
            "nothing_to_cancel",
            "Say which runs to cancel.",
            'Send {"run_ids": [...]}, {"thread_id": "..."} or {"status": "pending" | '
            '"running" | "all"}.',
        )
    # the newest first: a queued run never starts because the one before it stopped
    for record in sorted(records, key=lambda r: r.created_at, reverse=True):
        if not record.done and record.kind != "background":  # not verification outside a turn
            await stop_run(backend, record, rollback=action == "rollback")
    return Response(status_code=204)
