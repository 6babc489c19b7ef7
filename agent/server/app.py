"""The FastAPI app of ``satya serve``, and how a platform mounts it.

Example::

    from agent.server import create_app
    app = create_app()                      # uvicorn app; opens storage on startup

    # inside a platform's own FastAPI app (sub-app lifespans do not run by themselves):
    satya = create_app()
    platform = FastAPI(lifespan=lambda _: satya.router.lifespan_context(satya))
    platform.mount("/satya", satya)
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.assistant import Assistant, Interpreter
from agent.persistence import database_url, postgres_pool
from agent.server.auth import KeyRing
from agent.server.config import ServerSettings
from agent.server.deps import ApiError, Backend
from agent.server.expiry import sweep_forever, sweep_interval
from agent.server.files import FileAccess, GuardedInterpreter
from agent.server.limits import BodyLimit, BodyTooLarge, RateLimiter
from agent.server.rundb import PostgresSql, RunDb, Sql, SqliteSql
from agent.server.runs import RunManager
from agent.server.schemas import ErrorOut
from agent.server.wire_rules import add_json_components, allowed_methods
from agent.settings import Settings, settings_problem
from integrations.errors import DiskFull, SatyaError
from integrations.storage.atomic import disk_full, is_disk_full

AssistantFactory = Callable[[Settings, Interpreter], AbstractAsyncContextManager[Assistant]]
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A body that is not valid JSON, or a refused request."},
    401: {"model": ErrorOut, "description": "Missing or invalid API key."},
    403: {"model": ErrorOut, "description": "A file this user may not use, or a fixed resource."},
    404: {"model": ErrorOut, "description": "No such resource for this user."},
    413: {"model": ErrorOut, "description": "Request body too large."},
    422: {"model": ErrorOut, "description": "A body or parameter that does not fit the schema."},
    429: {"model": ErrorOut, "description": "Rate limit; see Retry-After."},
    507: {
        "model": ErrorOut,
        "description": "The server's disk is full (code disk_full): the disk and the room "
        "needed are named; nothing was kept; retry once space is freed.",
    },
}


def _default_factory(
    settings: Settings, interpreter: Interpreter
) -> AbstractAsyncContextManager[Assistant]:
    return Assistant.open(settings, interpreter=interpreter)


@contextlib.asynccontextmanager
async def open_backend(
    settings: Settings,
    config: ServerSettings,
    *,
    assistant_factory: AssistantFactory | None = None,
) -> AsyncIterator[Backend]:
    """The Assistant, run log, keys and limits for one worker; closed after."""
    from agent.wiring import build_interpreter

    access = FileAccess(settings.home, config.files_root, ttl_s=config.upload_ttl_s)
    await asyncio.to_thread(access.sweep)
    interpreter = GuardedInterpreter(build_interpreter(settings), access)
    factory = assistant_factory or _default_factory
    url = database_url(settings)
    async with contextlib.AsyncExitStack() as stack:
        assistant = await stack.enter_async_context(factory(settings, interpreter))
        if url is None:
            sql: Sql = await stack.enter_async_context(
                SqliteSql.open(settings.home / "server.sqlite")
            )
        else:
            sql = PostgresSql(await stack.enter_async_context(postgres_pool(url, max_size=10)))
        db = RunDb(sql)
        await db.setup()
        runs = RunManager(assistant, db, poll_s=config.run_poll_s, access=access)
        await runs.start_background()
        stack.push_async_callback(runs.close)
        if access.ttl_s is not None:
            every_s = sweep_interval(access.ttl_s, config.upload_sweep_s)
            sweeper = asyncio.create_task(sweep_forever(access.sweep, every_s))
            stack.push_async_callback(_stop, sweeper)
        yield Backend(
            assistant=assistant,
            runs=runs,
            keys=KeyRing(assistant.keys),
            limiter=RateLimiter(config.rate_per_minute, config.rate_burst),
            access=access,
            config=config,
            storage="sqlite" if url is None else "postgres",
        )


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(
    settings: Settings | None = None,
    config: ServerSettings | None = None,
    *,
    assistant_factory: AssistantFactory | None = None,
) -> FastAPI:
    """The HTTP API as an ASGI app; storage opens in its lifespan. ``config`` replaces
    ``settings.server`` when given."""
    from agent.server.routes import (
        assistants,
        insights,
        notifications,
        page,
        runs,
        stateless,
        system,
        threads,
        uploads,
    )

    settings = settings or Settings()
    config = config or settings.server

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_backend(settings, config, assistant_factory=assistant_factory) as backend:
            app.state.satya = backend
            try:
                yield
            finally:
                app.state.satya = None

    app = FastAPI(
        title="Satya Agent",
        version="0.1.0",
        description="The assistant backend of Satya Agent: threads and runs shaped after the "
        "Agent Protocol, streamed over SSE, answered gates, model file uploads.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, default=config.max_body_bytes, uploads=config.max_upload_bytes)
    app.include_router(system.router)
    app.include_router(page.router)
    for module in (assistants, threads, runs, stateless, uploads, insights, notifications):
        app.include_router(module.router, responses=COMMON_ERRORS)

    _add_error_handlers(app, settings.home)
    add_json_components(app)
    return app


def _add_error_handlers(app: FastAPI, home: Path) -> None:
    """Every error as one JSON body ``{detail, code, hint}``: the API's own, validation,
    HTTP (a 405 with every method of the path), a body too large, a full disk under
    ``home`` (507), and the adapters' errors (503 when retrying may help, else 400)."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            {"detail": error.detail, "code": error.code, "hint": error.hint},
            status_code=error.status,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_error(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        headers = getattr(error, "headers", None)
        if error.status_code == 405:  # every method of the path, not one route's
            headers = {**(headers or {}), "Allow": allowed_methods(app, request)}
        return JSONResponse(
            {
                "detail": str(error.detail),
                "code": codes.get(error.status_code, f"http_{error.status_code}"),
                "hint": "See the API description at /docs.",
            },
            status_code=error.status_code,
            headers=headers,
        )

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        return JSONResponse(
            {
                "detail": "The request body is larger than this server accepts.",
                "code": "request_too_large",
                "hint": "Send a smaller body; upload model files with POST /uploads.",
            },
            status_code=413,
        )

    @app.exception_handler(OSError)
    async def _os_error(request: Request, error: OSError) -> JSONResponse:
        if not is_disk_full(error):
            raise error
        return await _satya_error(request, disk_full(home, None))

    @app.exception_handler(sqlite3.OperationalError)
    async def _sqlite_error(request: Request, error: sqlite3.OperationalError) -> JSONResponse:
        if "full" not in str(error):
            raise error
        return await _satya_error(request, disk_full(home, None))

    @app.exception_handler(SatyaError)
    async def _satya_error(request: Request, error: SatyaError) -> JSONResponse:
        status = 507 if isinstance(error, DiskFull) else 503 if error.retryable else 400
        return JSONResponse(
            {"detail": error.message, "code": error.code, "hint": error.hint}, status_code=status
        )


def validation_error(error: RequestValidationError) -> JSONResponse:
    """400 for a body that is not JSON, 422 for one that does not fit; never echoes the input."""
    problems = list(error.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        return JSONResponse(
            {
                "detail": "The request body is not valid JSON.",
                "code": "bad_json",
                "hint": "Send a JSON object with 'content-type: application/json', "
                'e.g. {"input": {"message": "hello"}}.',
            },
            status_code=400,
        )
    where = "; ".join(
        f"{'.'.join(str(part) for part in p.get('loc', ())) or 'body'}: {p.get('msg', 'invalid')}"
        for p in problems[:5]
    )
    return JSONResponse(
        {
            "detail": f"The request does not fit the API: {where}.",
            "code": "invalid_request",
            "hint": "See the request's schema at /docs; "
            'a run\'s input is {"input": {"message": "..."}} or {"command": {"resume": "yes"}}.',
        },
        status_code=422,
    )


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory agent.server.app:app_from_env`` (uvicorn run by hand).

    Its settings are the one ``Settings`` read once here, as ``satya serve`` reads them:
    the environment (``SATYA_*``, ``SATYA_SERVER_*``, ``DATABASE_URL``) and ``.env``. A
    bad value stops it with one paragraph naming the variable, not a traceback."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise SystemExit(settings_problem(error)) from None
    return create_app(settings)
