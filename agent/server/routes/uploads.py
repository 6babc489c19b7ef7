"""Model file uploads: one multipart field, streamed to disk, never held in memory;
kept for the server's upload lifetime after their last use (``agent.server.expiry``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from agent.server.deps import ApiError, BackendDep, UserDep, not_found
from agent.server.files import UploadRefused, receive_upload
from agent.server.schemas import ErrorOut, UploadInfo, UploadOut

router = APIRouter(tags=["uploads"])


@router.post(
    "/uploads",
    response_model=UploadOut,
    status_code=201,
    responses={
        400: {
            "model": ErrorOut,
            "description": "Not a well-formed multipart form, no file in it, a file cut "
            "short (the body ended inside it), or a file named *.part.",
        },
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
        upload_id=stored.upload_id,
        filename=stored.filename,
        size=stored.size,
        sha256=stored.sha256,
        expires_at=_when(backend.access.expires_at(time.time())),
    )


@router.get(
    "/uploads/{upload_id}",
    response_model=UploadInfo,
    responses={410: {"model": ErrorOut, "description": "The upload has expired."}},
)
async def get_upload(upload_id: str, user: UserDep, backend: BackendDep) -> UploadInfo:
    """One of your uploads and when it expires (looking does not restart its clock)."""
    try:
        found = backend.access.upload_info(user, upload_id)
    except UploadRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message, refused.hint) from None
    if found is None:
        raise not_found("upload")
    path, used = found
    try:
        size = path.stat().st_size
    except OSError:  # swept away this instant
        raise not_found("upload") from None
    return UploadInfo(
        upload_id=upload_id,
        filename=path.name,
        size=size,
        last_used_at=datetime.fromtimestamp(used, UTC),
        expires_at=_when(backend.access.expires_at(used)),
    )


def _when(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)
