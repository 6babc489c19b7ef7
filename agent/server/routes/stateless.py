"""Stateless runs (``POST /runs``, ``/runs/stream``, ``/runs/wait``): a run on a temporary
thread of the caller, deleted when the run ends unless ``on_completion`` is ``keep``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from agent.server.deps import Backend, BackendDep, UserDep
from agent.server.routes.runs import (
    ERRORS,
    SSE_RESPONSE,
    _start,
    _stream_response,
    run_out,
    values_response,
)
from agent.server.routes.threads import forget_thread
from agent.server.rundb import RunRecord
from agent.server.schemas import RunCreate, RunOut

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


@router.post("/stream", response_class=StreamingResponse, responses={**SSE_RESPONSE, **ERRORS})
async def stream_stateless_run(
    body: RunCreate, user: UserDep, backend: BackendDep, request: Request
) -> StreamingResponse:
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
