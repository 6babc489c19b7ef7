"""Runs on a thread: create (background), stream (SSE), wait, get, list, cancel, join."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from agent.assistant import stopped_at
from agent.redaction import scrub_secrets
from agent.server.assistants import mode_for
from agent.server.deps import ApiError, Backend, BackendDep, ThreadDep, UserDep, not_found
from agent.server.files import UploadRefused, path_refused, upload_expired
from agent.server.routes.assistants import named
from agent.server.rundb import RunRecord, ThreadBusy
from agent.server.schemas import ErrorOut, RunCreate, RunOut, StreamModeName
from agent.server.sse import event_source, parse_last_event_id, sse_frames
from agent.server.wire_rules import answer_text, user_text

router = APIRouter(prefix="/threads/{thread_id}/runs", tags=["runs"])
MULTITASK_TRIES = 5
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: metadata, values, updates, custom, messages "
        "(stream_mode messages-tuple: [AI message, metadata] per reply), error, end; "
        "each with an id to resume from (Last-Event-ID).",
        "content": {"text/event-stream": {}},
    }
}


def run_out(record: RunRecord) -> RunOut:
    return RunOut(
        run_id=record.run_id,
        thread_id=record.thread_id,
        created_at=datetime.fromtimestamp(record.created_at, UTC),
        updated_at=datetime.fromtimestamp(record.updated_at, UTC),
        status=record.status,  # type: ignore[arg-type]
        metadata=record.metadata,
        assistant_id=record.assistant_id,
        multitask_strategy=record.multitask_strategy,  # type: ignore[arg-type]
        kind="background" if record.kind == "background" else "user",
    )


def _resume_text(value: Any) -> str:
    text = answer_text(value)
    if text:
        return text
    raise ApiError(
        400,
        "bad_resume",
        'command.resume must be the answer: text, true/false, or {"answer": ...}.',
        "For a yes/no gate send true or 'yes'; to change a value send the words, e.g. 'make it 2 SUI'.",
    )


async def _text_for(backend: Backend, user: str, thread_id: str, body: RunCreate) -> str:
    """The user text the Assistant gets for this run (gate answers included)."""
    if body.command is not None and body.command.resume is not None and body.fork_from:
        text = _resume_text(body.command.resume)  # the question is the named checkpoint's
    elif body.command is not None and body.command.resume is not None:
        snap = await backend.assistant.snapshot(thread_id)
        if stopped_at(snap):  # a stopped step, not a question
            raise ApiError(
                409,
                "no_pending_gate",
                "No question waits on this thread: a step was stopped before it asked one.",
                'Send {"input": {"message": "resume"}} to continue it up to its next question, '
                'or {"input": {"message": "cancel"}} to abandon it.',
            )
        if not snap.interrupts:
            raise ApiError(
                409,
                "no_pending_gate",
                "Nothing on this thread is waiting for an answer.",
                "Send a message with 'input' instead of 'command'.",
            )
        text = _resume_text(body.command.resume)
        await backend.runs.keep_uploads(user, snap.values)
    elif body.input is not None:
        text = (body.input.message or "").strip()
        if not text and body.input.messages:
            text = user_text(body.input.messages)
        file_path = None
        if body.input.upload_id:
            try:
                file_path = backend.access.upload_path(user, body.input.upload_id)
            except UploadRefused as refused:
                raise ApiError(
                    refused.status, refused.code, refused.message, refused.hint
                ) from None
            if file_path is None:
                raise not_found("upload")
        elif body.input.path:
            file_path = backend.access.resolve(user, body.input.path)
            if file_path is None:
                gone = backend.access.expired_named(user, body.input.path)
                problem = (
                    upload_expired(gone)
                    if gone is not None
                    else path_refused(body.input.path, backend.access.files_root is not None)
                )
                raise ApiError(problem.status, problem.code, problem.message, problem.hint)
        if file_path is not None:
            text = f"{text or 'upload'} {file_path}"
    else:
        raise ApiError(
            400,
            "empty_run",
            "A run needs 'input' (a message) or 'command' (an answer to a gate).",
            'Send {"input": {"message": "hello"}} or {"command": {"resume": "yes"}}.',
        )
    if not text:
        raise ApiError(400, "empty_message", "The message is empty.", "Say something, e.g. 'help'.")
    text = scrub_secrets(text)
    try:
        backend.access.check_text(user, text)
    except UploadRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message, refused.hint) from None
    return text


async def _start(backend: Backend, user: str, thread_id: str, body: RunCreate) -> RunRecord:
    assistant = named(body.assistant_id)
    mode = mode_for(assistant, body.config)
    text = await _text_for(backend, user, thread_id, body)
    modes: list[str] = (
        [body.stream_mode] if isinstance(body.stream_mode, str) else list(body.stream_mode)
    )
    for _ in range(MULTITASK_TRIES):
        try:
            return await backend.runs.start(
                user=user,
                thread_id=thread_id,
                text=text,
                metadata=body.metadata,
                modes=modes,
                mode=mode,
                checkpoint_id=body.fork_from,
                # enqueue: pending at once, run after the thread's current and queued runs
                queue=body.multitask_strategy == "enqueue",
                multitask_strategy=body.multitask_strategy,
                assistant_id=assistant.assistant_id,
            )
        except ThreadBusy:
            active = await backend.runs.live_run(thread_id)
            if active is None:
                continue  # it ended meanwhile
            if body.multitask_strategy == "reject":
                run = f"/threads/{thread_id}/runs/{active.run_id}"
                raise ApiError(
                    409,
                    "thread_busy",
                    "This thread is already running a turn.",
                    f"Wait for it (GET {run}/join) or cancel it (POST {run}/cancel), then "
                    "send again; or send with multitask_strategy enqueue, interrupt or rollback.",
                ) from None
            await settle_active(backend, thread_id, active, body.multitask_strategy)
    raise ApiError(
        409,
        "thread_busy",
        "This thread kept starting other runs while this one waited.",
        "Send it again.",
    )


async def settle_active(backend: Backend, thread_id: str, active: RunRecord, strategy: str) -> None:
    """Make way for a new run: stop the active one (interrupt: its finished steps are
    kept), or roll it back (rollback)."""
    await stop_run(backend, active, rollback=strategy == "rollback")


async def stop_run(backend: Backend, record: RunRecord, *, rollback: bool) -> None:
    """Cancel a run and wait until it has stopped. ``rollback``, as LangGraph: the thread
    goes back to its state from before the run (if it had started) and the run is deleted
    (no longer listed or found)."""
    await backend.runs.cancel(record)
    final = await backend.runs.join(record)
    if rollback:
        if final.kind != "queued":  # a queued run changed nothing
            await backend.assistant.rollback(record.thread_id, record.created_at)
        await backend.runs.db.delete_run(record.run_id)


async def _run_of(backend: Backend, thread_id: str, run_id: str) -> RunRecord:
    record = await backend.runs.db.get(run_id) if len(run_id) <= 64 else None
    if record is None or record.thread_id != thread_id:
        raise not_found("run")
    return await backend.runs.settle(record)


def _stream_response(
    backend: Backend, request: Request, record: RunRecord, after: int, *, cancel_on_disconnect: bool
) -> EventSourceResponse:
    base = f"{request.scope.get('root_path', '')}/threads/{record.thread_id}/runs/{record.run_id}"

    async def body() -> AsyncIterator[bytes]:
        finished = False
        try:
            async for chunk in sse_frames(backend.runs.events(record, after), record.modes):
                yield chunk
            finished = True
        finally:
            if cancel_on_disconnect and not finished:
                # this task is being cancelled: nothing may be awaited here any more
                backend.runs.cancel_soon(record)

    return event_source(
        body(),
        keepalive_s=backend.config.keepalive_s,
        headers={"Location": f"{base}/stream", "Content-Location": base},
    )


StreamModesQuery = Annotated[
    # the modes by name (an unknown one is a 422, as in a run's body); empty: all
    list[StreamModeName | Literal[""]] | None,
    Query(
        description="A subset of the run's stream modes: values, updates, custom, "
        "messages-tuple (default, or empty: all of them)."
    ),
]


def rejoin_stream(
    backend: Backend,
    request: Request,
    record: RunRecord,
    last_event_id: str | None,
    stream_mode: list[StreamModeName | Literal[""]] | None,
    *,
    cancel_on_disconnect: bool,
) -> EventSourceResponse:
    """A joined run's stream: only the modes asked for (none named: all of the run's), after
    ``Last-Event-ID`` when one is given."""
    wanted = [m for m in stream_mode or [] if m]
    if wanted:
        record.modes = [m for m in record.modes if m in wanted]
    return _stream_response(
        backend,
        request,
        record,
        parse_last_event_id(last_event_id),
        cancel_on_disconnect=cancel_on_disconnect,
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "No message, a bad answer, or a path not allowed."},
    409: {"model": ErrorOut, "description": "The thread is busy, or nothing waits for an answer."},
    410: {"model": ErrorOut, "description": "The upload named has expired: upload it again."},
}


@router.post("", response_model=RunOut, responses=ERRORS)
async def create_run(
    thread_id: ThreadDep, body: RunCreate, user: UserDep, backend: BackendDep
) -> RunOut:
    """Start a run in the background; follow it with …/stream or …/join."""
    return run_out(await _start(backend, user, thread_id, body))


@router.post("/stream", response_class=EventSourceResponse, responses={**SSE_RESPONSE, **ERRORS})
async def stream_run(
    thread_id: ThreadDep, body: RunCreate, user: UserDep, backend: BackendDep, request: Request
) -> EventSourceResponse:
    """Start a run and stream its events over SSE."""
    record = await _start(backend, user, thread_id, body)
    return _stream_response(
        backend, request, record, 0, cancel_on_disconnect=body.on_disconnect == "cancel"
    )


def values_response(values: dict[str, Any]) -> Response:
    """A thread's values as JSON, encoded once (they are plain JSON already: no validation)."""
    return Response(orjson.dumps(values), media_type="application/json")


@router.post("/wait", response_model=dict[str, Any], responses=ERRORS)
async def wait_run(
    thread_id: ThreadDep, body: RunCreate, user: UserDep, backend: BackendDep
) -> Response:
    """Start a run, wait for it, and return the thread's values (``__interrupt__`` at a gate)."""
    record = await _start(backend, user, thread_id, body)
    return values_response(await backend.runs.wait_values(record))


@router.get("", response_model=list[RunOut])
async def list_runs(
    thread_id: ThreadDep,
    backend: BackendDep,
    limit: int = Query(default=10, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=100_000),
) -> list[RunOut]:
    """The thread's runs, newest first (background verification runs included)."""
    return [
        run_out(r) for r in await backend.runs.db.for_thread(thread_id, limit=limit, offset=offset)
    ]


@router.get("/{run_id}", response_model=RunOut)
async def get_run(thread_id: ThreadDep, run_id: str, backend: BackendDep) -> RunOut:
    """One run."""
    return run_out(await _run_of(backend, thread_id, run_id))


@router.post("/{run_id}/cancel", response_model=RunOut)
async def cancel_run(
    thread_id: ThreadDep,
    run_id: str,
    backend: BackendDep,
    wait: bool = Query(default=True, description="Wait until the run has stopped."),
) -> RunOut:
    """Stop a run; the thread keeps every finished step and can continue."""
    record = await _run_of(backend, thread_id, run_id)
    if not record.done:
        await backend.runs.cancel(record)
        if wait:
            record = await backend.runs.join(record)
        else:
            record = await backend.runs.db.get(run_id) or record
    return run_out(record)


@router.get("/{run_id}/join", response_model=dict[str, Any])
async def join_run(thread_id: ThreadDep, run_id: str, backend: BackendDep) -> Response:
    """Wait for a run to end; the thread's values then."""
    record = await _run_of(backend, thread_id, run_id)
    return values_response(await backend.runs.wait_values(record))


@router.get("/{run_id}/stream", response_class=EventSourceResponse, responses=SSE_RESPONSE)
async def join_stream(
    thread_id: ThreadDep,
    run_id: str,
    backend: BackendDep,
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    stream_mode: StreamModesQuery = None,
    cancel_on_disconnect: bool = Query(default=False),
) -> EventSourceResponse:
    """Stream a run's events (again): from the start, or after ``Last-Event-ID``."""
    record = await _run_of(backend, thread_id, run_id)
    return rejoin_stream(
        backend,
        request,
        record,
        last_event_id,
        stream_mode,
        cancel_on_disconnect=cancel_on_disconnect,
    )
