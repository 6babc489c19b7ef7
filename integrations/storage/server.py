"""A local Walrus-compatible publisher and aggregator, for tests and demos.

It speaks the reference wire format (``PUT /v1/blobs``, ``GET /v1/blobs/{id}``,
``GET /v1/api``), keeps blobs on disk under ``data_dir``, charges a WAL balance
with the costs of ``integrations.storage.cost``, and can inject faults.

Example::

    app = create_app(data_dir=Path("/tmp/walrus"), max_body_size=10 * 2**20,
                     wal_balance_frost=10**9, faults=ServerFaults(response_delay_s=0.05))
    with BackgroundServer(app) as server:   # integrations.storage.serving
        store = WalrusBlobStore(server.url, server.url)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.storage.ids import decode_blob_id
from integrations.storage.server_store import (
    InsufficientBalance,
    ServerBlobStore,
    StoreRequest,
)

DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
MAX_EPOCHS_AHEAD = 53
WRITE_BATCH = 1024 * 1024  # body bytes written and hashed per worker-thread call
DRAIN_LIMIT = 64 * 1024 * 1024  # a rejected body is read up to this much so the client sees the 413
_SUI_ADDRESS_HEX = 64


@dataclass(slots=True)
class ServerFaults:
    """Faults the server injects (all off by default).

    ``fail_after_requests``: after that many store requests, answer 504;
    ``fail_requests`` of them (None: every one from then on).
    ``drop_after_bytes``: once that many body bytes have arrived in total, drop
    the connection of the request in progress (once).
    ``response_delay_s``: wait before answering each blob request.
    """

    fail_after_requests: int | None = None
    fail_requests: int | None = None
    drop_after_bytes: int | None = None
    response_delay_s: float = 0.0
    store_requests: int = field(default=0, init=False)
    bytes_received: int = field(default=0, init=False)
    failed: int = field(default=0, init=False)
    dropped: bool = field(default=False, init=False)

    def should_fail(self) -> bool:
        """Count a store request; True if it must be answered 504."""
        self.store_requests += 1
        if self.fail_after_requests is None or self.store_requests <= self.fail_after_requests:
            return False
        if self.fail_requests is not None and self.failed >= self.fail_requests:
            return False
        self.failed += 1
        return True

    def should_drop(self, n: int) -> bool:
        """Count ``n`` received bytes; True once when the drop threshold is crossed."""
        self.bytes_received += n
        if self.drop_after_bytes is None or self.dropped:
            return False
        if self.bytes_received >= self.drop_after_bytes:
            self.dropped = True
            return True
        return False


class _ConnectionDropper:
    """ASGI middleware for ``drop_after_bytes``: cut a store request's connection mid-body.

    Once the threshold is crossed, the app is told the client went away and its
    answer is swallowed; a response is then started and aborted, which makes
    the server close the connection, so the client sees it dropped.
    """

    def __init__(self, app: ASGIApp, plan: ServerFaults) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "PUT"
            or self.plan.drop_after_bytes is None
        ):
            await self.app(scope, receive, send)
            return
        dropping = False

        async def counted_receive() -> Message:
            nonlocal dropping
            if dropping:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request" and self.plan.should_drop(
                len(message.get("body", b""))
            ):
                dropping = True
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not dropping:
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not dropping:
                raise
        if dropping:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1024")],
                }
            )
            raise RuntimeError("connection dropped by an injected fault")


def _error(status: int, name: str, message: str, reason: str | None = None) -> JSONResponse:
    details = [{"@type": "ErrorInfo", "reason": reason, "domain": "satya.local"}] if reason else []
    body = {"error": {"status": name, "code": status, "message": message, "details": details}}
    return JSONResponse(body, status_code=status)


def _bad_request(message: str) -> JSONResponse:
    return _error(400, "INVALID_ARGUMENT", message)


def _parse_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValueError(f"{name} must be true or false")


def _store_request(
    epochs: str | None,
    permanent: str | None,
    deletable: str | None,
    force: str | None,
    send_object_to: str | None,
    share: str | None,
    encoding_type: str | None,
) -> StoreRequest:
    """Validate the query of a store request (ValueError with the reason otherwise)."""
    try:
        n_epochs = 1 if epochs is None else int(epochs)
    except ValueError:
        raise ValueError("epochs must be a whole number") from None
    if not 1 <= n_epochs <= MAX_EPOCHS_AHEAD:
        raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS_AHEAD}")
    is_permanent = _parse_bool("permanent", permanent)
    is_deletable = _parse_bool("deletable", deletable)
    if is_permanent is not None and is_deletable is not None:
        raise ValueError("permanent and deletable are mutually exclusive")
    is_shared = bool(_parse_bool("share", share))
    if send_object_to is not None:
        if is_shared:
            raise ValueError("send_object_to and share are mutually exclusive")
        hex_part = send_object_to.removeprefix("0x")
        if (
            not send_object_to.startswith("0x")
            or len(hex_part) != _SUI_ADDRESS_HEX
            or any(c not in "0123456789abcdefABCDEF" for c in hex_part)
        ):
            raise ValueError("send_object_to must be a Sui address (0x and 64 hex digits)")
    if encoding_type is not None and encoding_type != "RS2":
        raise ValueError("encoding_type must be RS2")
    return StoreRequest(
        epochs=n_epochs,
        deletable=not is_permanent if is_permanent is not None else is_deletable is not False,
        force=bool(_parse_bool("force", force)),
        share=is_shared,
    )


def create_app(
    *,
    data_dir: Path,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    exact_blob_ids: bool = False,
    wal_balance_frost: int | None = None,
    faults: ServerFaults | None = None,
) -> FastAPI:
    """The ASGI app of the local publisher + aggregator.

    Example::

        app = create_app(data_dir=tmp, max_body_size=2**20, wal_balance_frost=None,
                         faults=ServerFaults())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app)) as client: ...
    """
    store = ServerBlobStore(
        data_dir, exact_blob_ids=exact_blob_ids, wal_balance_frost=wal_balance_frost
    )
    plan = faults if faults is not None else ServerFaults()
    app = FastAPI(
        title="Satya local Walrus publisher and aggregator",
        version="1",
        openapi_url="/v1/api",
        docs_url=None,
        redoc_url=None,
    )
    app.state.blob_store = store
    app.state.faults = plan
    app.add_middleware(_ConnectionDropper, plan=plan)

    @app.exception_handler(RequestValidationError)
    async def malformed(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _bad_request(f"malformed request: {exc.errors()[0].get('msg', 'invalid')}")

    @app.put("/v1/blobs", response_model=None)
    async def store_blob(
        request: Request,
        epochs: Annotated[str | None, Query()] = None,
        permanent: Annotated[str | None, Query()] = None,
        deletable: Annotated[str | None, Query()] = None,
        force: Annotated[str | None, Query()] = None,
        send_object_to: Annotated[str | None, Query()] = None,
        share: Annotated[str | None, Query()] = None,
        encoding_type: Annotated[str | None, Query()] = None,
    ) -> Response:
        """Store the request body as a blob."""
        if plan.response_delay_s:
            await asyncio.sleep(plan.response_delay_s)
        try:
            options = _store_request(
                epochs, permanent, deletable, force, send_object_to, share, encoding_type
            )
        except ValueError as exc:
            return _bad_request(str(exc))
        if plan.should_fail():
            return _error(504, "DEADLINE_EXCEEDED", "blob not stored on enough nodes (fault)")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_size:
            await _drain(request)
            return _too_large(max_body_size)
        incoming = await asyncio.to_thread(store.begin)
        try:
            # Pieces arrive in socket-read sizes (tens of KiB); writing and hashing them in
            # batches keeps the hand-offs to the worker thread few.
            batch: list[bytes] = []
            batched = received = 0
            async for piece in request.stream():
                received += len(piece)
                if received > max_body_size:
                    await _drain(request)
                    return _too_large(max_body_size)
                batch.append(piece)
                batched += len(piece)
                if batched >= WRITE_BATCH:
                    await asyncio.to_thread(incoming.write_all, batch)
                    batch, batched = [], 0
            if batch:
                await asyncio.to_thread(incoming.write_all, batch)
            answer = await store.commit(incoming, options)
        except InsufficientBalance as exc:
            return _error(500, "INTERNAL", str(exc), reason="INSUFFICIENT_WAL_BALANCE")
        finally:
            await asyncio.to_thread(incoming.discard)
        return JSONResponse(answer.to_wire())

    @app.head("/v1/blobs/{blob_id}", response_model=None, include_in_schema=False)
    @app.get("/v1/blobs/{blob_id}", response_model=None)
    async def read_blob(blob_id: str) -> Response:
        """Return the bytes of a stored blob."""
        if plan.response_delay_s:
            await asyncio.sleep(plan.response_delay_s)
        path = store.blob_path(blob_id) if decode_blob_id(blob_id) is not None else None
        if path is None or not await asyncio.to_thread(path.is_file):
            return _error(404, "NOT_FOUND", f"blob {blob_id} not found")
        return FileResponse(path, media_type="application/octet-stream")

    return app


def _too_large(limit: int) -> JSONResponse:
    return _error(413, "OUT_OF_RANGE", f"the request body exceeds the limit of {limit} bytes")


async def _drain(request: Request) -> None:
    """Read and discard the rest of a rejected body (bounded), so the client reads the answer."""
    seen = 0
    with contextlib.suppress(Exception):
        async for piece in request.stream():
            seen += len(piece)
            if seen > DRAIN_LIMIT:
                return


def run_server(
    *,
    host: str = "127.0.0.1",
    port: int = 31415,
    data_dir: Path,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    exact_blob_ids: bool = False,
    wal_balance_frost: int | None = None,
    faults: ServerFaults | None = None,
) -> None:
    """Run a local Walrus-compatible publisher and aggregator until interrupted.

    Serves PUT /v1/blobs (store; query parameters epochs, permanent, deletable,
    force, send_object_to, share, encoding_type), GET /v1/blobs/{blob_id} (read)
    and GET /v1/api (OpenAPI) on http://HOST:PORT, with the blobs kept under
    DATA_DIR. Bodies over MAX_BODY_SIZE bytes are refused with 413. Each store is
    charged its Walrus cost in FROST against WAL_BALANCE_FROST (unlimited if not
    set); when the balance runs out, stores fail with an insufficient-balance
    error.

    Blob ids: by default a fast content-derived id (blake2b-256 of the bytes,
    the same as the local blob store), which is NOT the id Walrus would assign.
    With exact blob ids the server computes the real Walrus RS2 blob id, which
    takes about 1.4 s per blob plus 0.08 s per MiB.
    """
    import uvicorn

    app = create_app(
        data_dir=data_dir,
        max_body_size=max_body_size,
        exact_blob_ids=exact_blob_ids,
        wal_balance_frost=wal_balance_frost,
        faults=faults,
    )
    mode = "exact Walrus RS2 blob ids" if exact_blob_ids else "fast content-derived blob ids"
    print(f"Local Walrus publisher+aggregator on http://{host}:{port} ({mode}), data in {data_dir}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
