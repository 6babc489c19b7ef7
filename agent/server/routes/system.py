"""Liveness and readiness."""

from __future__ import annotations

import shutil

from fastapi import APIRouter

from agent.server.deps import ApiError, BackendDep
from agent.server.schemas import ErrorOut, Health, Ready
from integrations.storage.atomic import disk_full

MIN_FREE_BYTES = 1024 * 1024  # less than this under SATYA_HOME: not ready

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"model": ErrorOut, "description": "Not ready."}},
)
async def ready(backend: BackendDep) -> Ready:
    """Storage answers: the thread store and the run log can be read."""
    try:
        await backend.assistant.check_storage()
        await backend.runs.db.get("probe")
    except Exception:
        raise ApiError(
            503, "not_ready", "The thread storage does not answer.", "Check the database."
        ) from None
    home = backend.assistant.settings.home
    try:
        free = shutil.disk_usage(home).free
    except OSError:
        free = 0
    if free < MIN_FREE_BYTES:  # a turn would fail to save: send the work elsewhere
        full = disk_full(home, None)
        raise ApiError(503, "not_ready", full.message, full.hint)
    return Ready(status="ready", storage=backend.storage)  # type: ignore[arg-type]
