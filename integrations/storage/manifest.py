"""The manifest blob that ties the chunks of one file together.

JSON, stored as an ordinary blob; its blob id names the whole upload::

    {"format": "satya-manifest/1", "file_name": "model.safetensors",
     "size": 25165824, "sha256": "<hex of the whole file>", "chunk_size": 10485760,
     "chunks": [{"index": 0, "offset": 0, "size": 10485760,
                 "sha256": "<hex>", "blob_id": "<43 chars>"}, ...]}

Chunks are contiguous, in order, and add up to ``size``.
"""

from __future__ import annotations

from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from integrations.errors import IntegrityError

MANIFEST_FORMAT: Final = "satya-manifest/1"
_SHA256_HEX = r"^[0-9a-f]{64}$"


class ChunkRecord(BaseModel):
    """One stored chunk: where it sits in the file, its digest and its blob id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    offset: int = Field(ge=0)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256_HEX)
    blob_id: str = Field(min_length=1)


class Manifest(BaseModel):
    """A file stored as chunks; ``Manifest.model_validate_json`` checks it is consistent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["satya-manifest/1"] = MANIFEST_FORMAT
    file_name: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256_HEX)
    chunk_size: int = Field(gt=0)
    chunks: tuple[ChunkRecord, ...]

    @model_validator(mode="after")
    def _chunks_tile_the_file(self) -> Self:
        offset = 0
        for i, chunk in enumerate(self.chunks):
            if chunk.index != i or chunk.offset != offset:
                raise ValueError(
                    f"chunk {i} is out of place (index {chunk.index}, offset {chunk.offset})"
                )
            if chunk.size > self.chunk_size:
                raise ValueError(f"chunk {i} is larger than chunk_size")
            offset += chunk.size
        if offset != self.size:
            raise ValueError(f"chunks add up to {offset} bytes, not {self.size}")
        return self

    def to_bytes(self) -> bytes:
        """Compact JSON, the bytes stored as the manifest blob."""
        return self.model_dump_json().encode("utf-8")


def parse_manifest(data: bytes, blob_id: str) -> Manifest:
    """Parse a manifest blob; ``IntegrityError`` if ``data`` is not a Satya manifest."""
    try:
        return Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise IntegrityError(
            f"Blob {blob_id} is not a {MANIFEST_FORMAT} manifest ({where}: {first['msg']}).",
            hint="Use the manifest blob id of an upload, not the id of one of its chunks.",
        ) from None
