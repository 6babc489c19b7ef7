"""The embedding page: ``GET /ui/`` (a chat page on LangGraph's JavaScript client), same origin.

The page holds no key: it asks the person for theirs and keeps it in memory only.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from agent.server.deps import ApiError
from agent.server.web import BUNDLE, PAGE_DIR

router = APIRouter(prefix="/ui", tags=["page"], include_in_schema=False)
NO_STORE = {"Cache-Control": "no-cache"}


@router.get("")
async def page_redirect() -> RedirectResponse:
    return RedirectResponse("ui/", status_code=307)


@router.get("/")
async def page() -> FileResponse:
    """The chat page."""
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=NO_STORE)


@router.get("/langgraph-sdk.js")
async def sdk_bundle() -> FileResponse:
    """LangGraph's JavaScript client, bundled for the browser by ``satya serve build-page``."""
    if not BUNDLE.is_file():
        raise ApiError(
            404,
            "page_not_built",
            "The page's JavaScript client has not been built on this server.",
            "Run 'satya serve build-page' once (needs node and npm), then reload the page.",
        )
    return FileResponse(BUNDLE, media_type="text/javascript", headers=NO_STORE)
