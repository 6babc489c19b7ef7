"""Insights over HTTP: the caller's own journeys, or (with an operator key) the platform's.

``GET /insights`` answers with the figures ``satya insights --json`` prints for the
caller; ``GET /insights/platform`` with every user's (or one user's, ``?user=U``), for
operator keys only (``satya serve keys add USER --operator``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agent.server.deps import ApiError, BackendDep, OperatorDep, UserDep
from agent.server.schemas import ErrorOut
from flows.insights import Insights
from flows.users import USER_ID, valid_user_id

router = APIRouter(prefix="/insights", tags=["insights"])
OPERATOR_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "The key is not an operator key."}
}


@router.get("", response_model=Insights)
async def my_insights(user: UserDep, backend: BackendDep) -> Insights:
    """Where the caller's journeys fail, their slowest steps against the estimates, time
    from upload to listing, retries and money per phase, from the recorded step events."""
    return await backend.assistant.insights(user)


@router.get("/platform", response_model=Insights, responses=OPERATOR_ONLY)
async def platform_insights(
    operator: OperatorDep,
    backend: BackendDep,
    user: str | None = Query(
        default=None,
        max_length=64,
        # in the document, so that it allows only what is taken (the check below words it)
        json_schema_extra={"pattern": f"^{USER_ID.pattern}$"},
        description="One user's journeys instead of every user's.",
    ),
) -> Insights:
    """The same figures over every user's journeys (operator keys only)."""
    if user is not None:
        if not valid_user_id(user):
            raise ApiError(
                422,
                "invalid_request",
                "user is not a valid user id.",
                "Use letters, digits and _.@- (at most 64), as in 'satya serve keys list'.",
            )
        return await backend.assistant.insights(user)
    return await backend.assistant.insights(platform=True)
