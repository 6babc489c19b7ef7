"""Model file uploads: one multipart field, streamed to disk, never held in memory."""

from __future__ import annotations

from fastapi import APIRouter, Request

from agent.server.deps import ApiError, BackendDep, UserDep
from agent.server.files import UploadRefused, receive_upload
from agent.server.schemas import ErrorOut, UploadOut

router = APIRouter(tags=["uploads"])


@router.post(
    "/uploads",
    response_model=UploadOut,
    status_code=201,
    responses={
        400: {"model": ErrorOut, "description": "Not a well-formed multipart form."},
        413: {"model": ErrorOut, "description": "The file is over the limit."},
        415: {"model": ErrorOut, "description": "Not multipart/form-data."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def upload(request: Request, user: UserDep, backend: BackendDep) -> UploadOut:
    """Receive a model file; then say 'upload NAME' or pass ``upload_id`` in a run's input."""
    try:
        stored = await receive_upload(
            request.stream(),
            request.headers.get("content-type", ""),
            backend.access.user_uploads(user),
            max_bytes=backend.config.max_upload_bytes,
        )
    except UploadRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message, refused.hint) from None
    return UploadOut(
        upload_id=stored.upload_id, filename=stored.filename, size=stored.size, sha256=stored.sha256
    )
