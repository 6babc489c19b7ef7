"""Per-user rate limits (token buckets) and request body limits (413)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RateLimiter:
    """A token bucket per user: ``burst`` at once, refilled at ``per_minute``."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, user: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        tokens, last = self._buckets.get(user, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[user] = (tokens - 1.0, now)
            return 0.0
        self._buckets[user] = (tokens, now)
        return (1.0 - tokens) / self.rate


class BodyTooLarge(HTTPException):
    """The request body went over its limit (an HTTPException, so that FastAPI lets it
    through while reading a JSON body instead of turning it into a 400)."""

    def __init__(self) -> None:
        super().__init__(413, "The request body is larger than this server accepts.")


MULTIPART_SLACK = 64 * 1024  # form headers and boundaries around an uploaded file


def _error_body(limit: int) -> bytes:
    return json.dumps(
        {
            "detail": f"The request body is larger than this server accepts ({limit} bytes).",
            "code": "request_too_large",
            "hint": "Send a smaller body; upload model files with POST /uploads.",
        }
    ).encode()


def _upload_error_body(max_file: int) -> bytes:
    return json.dumps(
        {
            "detail": f"The file is larger than this server accepts ({max_file} bytes).",
            "code": "upload_too_large",
            "hint": "Compress or quantize the model, or ask the operator to raise "
            "SATYA_SERVER_MAX_UPLOAD_BYTES.",
        }
    ).encode()


class BodyLimit:
    """ASGI middleware: 413 when a body (declared or streamed) exceeds its path's limit.

    ``uploads`` is the largest file ``POST /uploads`` takes; its body may be that
    plus the multipart framing, and its 413 speaks of the file, not of JSON bodies.
    """

    def __init__(self, app: ASGIApp, *, default: int, uploads: int) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads

    def is_upload(self, path: str) -> bool:
        return path.rstrip("/").endswith("/uploads")

    def limit_for(self, path: str) -> int:
        return self.uploads + MULTIPART_SLACK if self.is_upload(path) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.limit_for(path)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(send, self._refusal(path, limit))
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_413(send, self._refusal(path, limit))

    def _refusal(self, path: str, limit: int) -> bytes:
        return _upload_error_body(self.uploads) if self.is_upload(path) else _error_body(limit)


async def _send_413(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
