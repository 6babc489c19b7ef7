"""What a route needs, as FastAPI dependencies: the backend, the caller, their thread."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agent.assistant import Assistant
from agent.keys import Caller
from agent.server.auth import KeyRing
from agent.server.config import ServerSettings
from agent.server.files import FileAccess
from agent.server.limits import RateLimiter
from agent.server.runs import RunManager


class ApiError(Exception):
    """An error response: status, machine code, plain message and what to do next."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        hint: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.hint = status, code, detail, hint
        self.headers = headers


def not_found(what: str = "thread") -> ApiError:
    """The same answer whether it does not exist or belongs to someone else."""
    hints = {
        "thread": "List yours with POST /threads/search.",
        "run": "List the thread's runs with GET /threads/{thread_id}/runs.",
        "upload": "Send the file with POST /uploads and use the upload_id it returns.",
    }
    return ApiError(404, "not_found", f"There is no such {what}.", hints.get(what, hints["thread"]))


@dataclass(slots=True)
class Backend:
    """Everything the routes share for the life of the app."""

    assistant: Assistant
    runs: RunManager
    keys: KeyRing
    limiter: RateLimiter
    access: FileAccess
    config: ServerSettings
    storage: str


async def get_backend(request: Request) -> Backend:
    # async: FastAPI runs a plain ``def`` dependency on its thread pool, a hop per request
    backend: Backend | None = getattr(request.app.state, "satya", None)
    if backend is None:
        raise ApiError(503, "not_ready", "The server is starting.", "Try again in a moment.")
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]
_bearer = HTTPBearer(auto_error=False, description="An API key from `satya serve keys add USER`.")
_api_key = APIKeyHeader(
    name="x-api-key", auto_error=False, description="The same key, as LangGraph clients send it."
)


async def get_caller(
    backend: BackendDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The caller's user id and role from their key; 401 without a valid key, 429 over
    the rate."""
    key = bearer.credentials if bearer is not None else api_key
    if not key:
        raise ApiError(
            401,
            "unauthenticated",
            "This API needs an API key.",
            "Send 'Authorization: Bearer <key>'; create one with 'satya serve keys add USER'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = await backend.keys.caller_for(key)
    if caller is None:
        raise ApiError(
            401,
            "invalid_key",
            "This API key is not valid.",
            "Check the key, or create a new one with 'satya serve keys add USER'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    wait = backend.limiter.check(caller.user_id)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            "Too many requests for this user.",
            f"Wait {max(1, math.ceil(wait))} s and try again.",  # never "wait 0.0 s"
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_user(caller: CallerDep) -> str:
    """The caller's user id."""
    return caller.user_id


async def get_operator(caller: CallerDep) -> Caller:
    """The caller, if their key is an operator key; 403 otherwise."""
    if not caller.operator:
        raise ApiError(
            403,
            "operator_only",
            "This needs an operator key: it shows every user's figures.",
            "Ask the platform's operator, who makes one with "
            "'satya serve keys add USER --operator'; GET /insights shows your own.",
        )
    return caller


OperatorDep = Annotated[Caller, Depends(get_operator)]
UserDep = Annotated[str, Depends(get_user)]


async def owned_thread(thread_id: str, user: UserDep, backend: BackendDep) -> str:
    """The thread id if it belongs to the caller; 404 otherwise (never 403)."""
    if len(thread_id) > 64:
        raise not_found()
    if not await backend.assistant.owns(user, thread_id):
        raise not_found()
    return thread_id


ThreadDep = Annotated[str, Depends(owned_thread)]
