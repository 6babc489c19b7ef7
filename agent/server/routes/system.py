"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from agent.server.deps import ApiError, BackendDep
from agent.server.schemas import ErrorOut, Health, Ready

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
    return Ready(status="ready", storage=backend.storage)  # type: ignore[arg-type]
