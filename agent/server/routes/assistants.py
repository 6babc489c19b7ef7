"""Assistants: search, count, get, schemas, graph (LangGraph's shapes). They are fixed
by the server (``agent/server/assistants.py``); create, update and delete answer 403."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from agent.server.assistants import (
    ASSISTANTS,
    CONFIG_SCHEMA,
    GRAPH_ID,
    INPUT_SCHEMA,
    STATE_SCHEMA,
    NamedAssistant,
    find,
)
from agent.server.deps import ApiError, BackendDep, UserDep
from agent.server.schemas import Count, ErrorOut, Json

router = APIRouter(prefix="/assistants", tags=["assistants"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No assistant has this id."}
}
FIXED: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "Assistants are fixed by the server."}
}


class AssistantSearch(BaseModel):
    """Filter the assistants by metadata (exact match), graph id or name."""

    model_config = ConfigDict(extra="ignore")
    metadata: Json = Field(default_factory=dict)
    graph_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    limit: Count = Field(default=10, ge=1, le=1000)
    offset: Count = Field(default=0, ge=0, le=100_000)


def assistant_not_found(assistant_id: str) -> ApiError:
    known = ", ".join(ASSISTANTS)
    return ApiError(
        404,
        "assistant_not_found",
        "There is no assistant with this id.",
        f"Use one of: {known} (POST /assistants/search lists them).",
    )


def named(assistant_id: str) -> NamedAssistant:
    """The assistant, or 404 ``assistant_not_found``."""
    assistant = find(assistant_id) if len(assistant_id) <= 200 else None
    if assistant is None:
        raise assistant_not_found(assistant_id)
    return assistant


def _matches(a: NamedAssistant, query: AssistantSearch) -> bool:
    out = a.out()
    if query.graph_id not in (None, GRAPH_ID):
        return False
    if query.name is not None and query.name.lower() not in a.name.lower():
        return False
    return all(out["metadata"].get(k) == v for k, v in query.metadata.items())


@router.post("/search", response_model=list[dict[str, Any]])
async def search_assistants(body: AssistantSearch, user: UserDep) -> list[dict[str, Any]]:
    """The assistants a run may name, filtered."""
    found = [a.out() for a in ASSISTANTS.values() if _matches(a, body)]
    return found[body.offset : body.offset + body.limit]


@router.post("/count", response_model=int)
async def count_assistants(body: AssistantSearch, user: UserDep) -> int:
    """How many assistants match."""
    return sum(1 for a in ASSISTANTS.values() if _matches(a, body))


@router.get("/{assistant_id}", response_model=dict[str, Any], responses=NOT_FOUND)
async def get_assistant(assistant_id: str, user: UserDep) -> dict[str, Any]:
    """One assistant."""
    return named(assistant_id).out()


@router.get("/{assistant_id}/schemas", response_model=dict[str, Any], responses=NOT_FOUND)
async def get_schemas(assistant_id: str, user: UserDep) -> dict[str, Any]:
    """What a run's input, the thread's state and the run's config look like."""
    named(assistant_id)
    return {
        "graph_id": GRAPH_ID,
        "input_schema": INPUT_SCHEMA,
        "output_schema": STATE_SCHEMA,
        "state_schema": STATE_SCHEMA,
        "config_schema": CONFIG_SCHEMA,
        "context_schema": CONFIG_SCHEMA,
    }


@router.get("/{assistant_id}/graph", response_model=dict[str, Any], responses=NOT_FOUND)
async def get_graph(
    assistant_id: str, user: UserDep, backend: BackendDep, xray: bool | int = Query(default=False)
) -> dict[str, Any]:
    """The journey's nodes and edges."""
    named(assistant_id)
    return backend.assistant.drawing(xray=xray)


@router.get("/{assistant_id}/subgraphs", response_model=dict[str, Any], responses=NOT_FOUND)
async def get_subgraphs(assistant_id: str, user: UserDep) -> dict[str, Any]:
    """The journey has no subgraphs."""
    named(assistant_id)
    return {}


@router.post("/{assistant_id}/versions", response_model=list[dict[str, Any]], responses=NOT_FOUND)
async def get_versions(assistant_id: str, user: UserDep) -> list[dict[str, Any]]:
    """Each assistant has one version."""
    return [named(assistant_id).out()]


def _fixed() -> ApiError:
    return ApiError(
        403,
        "assistants_fixed",
        "Assistants are fixed by this server: they cannot be created, changed or deleted.",
        "Name one of them in a run (POST /assistants/search lists them); choose the mode "
        'per run with {"config": {"configurable": {"mode": "auto"}}}.',
    )


@router.post("", responses=FIXED)
async def create_assistant(user: UserDep) -> None:
    """Not supported: 403 ``assistants_fixed``."""
    raise _fixed()


@router.patch("/{assistant_id}", responses=FIXED)
async def update_assistant(assistant_id: str, user: UserDep) -> None:
    """Not supported: 403 ``assistants_fixed``."""
    raise _fixed()


@router.delete("/{assistant_id}", responses=FIXED)
async def delete_assistant(assistant_id: str, user: UserDep) -> None:
    """Not supported: 403 ``assistants_fixed``."""
    raise _fixed()


@router.post("/{assistant_id}/latest", responses=FIXED)
async def set_latest(assistant_id: str, user: UserDep) -> None:
    """Not supported: 403 ``assistants_fixed``."""
    raise _fixed()
