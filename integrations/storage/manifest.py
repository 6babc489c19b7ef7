"""The manifest blob that ties the chunks of one file together.

JSON, stored as an ordinary blob; its blob id names the whole upload. Uploads
write format 2, where each chunk carries its BLAKE3 digest and the whole file
its sha256 (what the listing, the enclave and the attestation name)::

    {"format": "satya-manifest/2", "file_name": "model.safetensors",
     "size": 25165824, "sha256": "<hex of the whole file>", "chunk_size": 10485760,
     "chunks": [{"index": 0, "offset": 0, "size": 10485760,
                 "blake3": "<hex>", "blob_id": "<43 chars>"}, ...]}

Format 1 (``satya-manifest/1``, every chunk with ``"sha256"`` instead of
``"blake3"``) is still read and verified: manifests stored before format 2 keep
downloading. BLAKE3 costs about a fifth of sha256 per byte here, so a transfer
hashes every byte once with sha256 (the file's) and once cheaply (the chunk's),
instead of twice with sha256.

Chunks are contiguous, in order, and add up to ``size``.
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal, Self

from blake3 import blake3
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from integrations.errors import IntegrityError

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_FORMAT_V1",
    "ChunkDigest",
    "ChunkRecord",
    "Manifest",
    "chunk_digest",
    "parse_manifest",
]

MANIFEST_FORMAT: Final = "satya-manifest/2"
MANIFEST_FORMAT_V1: Final = "satya-manifest/1"
_SHA256_HEX = r"^[0-9a-f]{64}$"
_BLAKE3_HEX = r"^[0-9a-f]{64}$"

ChunkDigest = Literal["blake3", "sha256"]
"""The hash of a chunk's digest: ``blake3`` in format 2, ``sha256`` in format 1."""

_CHUNK_DIGEST: Final[dict[str, ChunkDigest]] = {
    MANIFEST_FORMAT: "blake3",
    MANIFEST_FORMAT_V1: "sha256",
}


def chunk_digest(algorithm: ChunkDigest, data: bytes | bytearray | memoryview) -> str:
    """The hex digest of ``data`` with ``algorithm`` (both release the GIL on large data)."""
    if algorithm == "blake3":
        return blake3(data).hexdigest()
    return hashlib.sha256(data).hexdigest()


class ChunkRecord(BaseModel):
    """One stored chunk: where it sits in the file, its digest and its blob id.

    Exactly one of ``blake3`` (format 2) and ``sha256`` (format 1) is set;
    ``algorithm`` and ``digest`` name whichever it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    offset: int = Field(ge=0)
    size: int = Field(ge=0)
    blake3: str | None = Field(default=None, pattern=_BLAKE3_HEX)
    sha256: str | None = Field(default=None, pattern=_SHA256_HEX)
    blob_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_digest(self) -> Self:
        if (self.blake3 is None) == (self.sha256 is None):
            raise ValueError("a chunk carries exactly one digest, blake3 or sha256")
        return self

    @property
    def algorithm(self) -> ChunkDigest:
        """Which hash ``digest`` is."""
        return "blake3" if self.blake3 is not None else "sha256"

    @property
    def digest(self) -> str:
        """The chunk's hex digest (``algorithm`` says which hash)."""
        value = self.blake3 if self.blake3 is not None else self.sha256
        assert value is not None  # the validator guarantees one
        return value


class Manifest(BaseModel):
    """A file stored as chunks; ``Manifest.model_validate_json`` checks it is consistent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["satya-manifest/2", "satya-manifest/1"] = MANIFEST_FORMAT
    file_name: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256_HEX)
    chunk_size: int = Field(gt=0)
    chunks: tuple[ChunkRecord, ...]

    @property
    def chunk_algorithm(self) -> ChunkDigest:
        """The hash of every chunk's digest in this format."""
        return _CHUNK_DIGEST[self.format]

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
            if chunk.algorithm != self.chunk_algorithm:
                raise ValueError(
                    f"chunk {i} has a {chunk.algorithm} digest; {self.format} chunks carry "
                    f"{self.chunk_algorithm}"
                )
            offset += chunk.size
        if offset != self.size:
            raise ValueError(f"chunks add up to {offset} bytes, not {self.size}")
        return self

    def to_bytes(self) -> bytes:
        """Compact JSON, the bytes stored as the manifest blob (only the chunks' own digest)."""
        return self.model_dump_json(exclude_none=True).encode("utf-8")


def parse_manifest(data: bytes, blob_id: str) -> Manifest:
    """Parse a manifest blob (format 2 or 1); ``IntegrityError`` if it is not a Satya manifest."""
    try:
        return Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise IntegrityError(
            f"Blob {blob_id} is not a Satya manifest ({MANIFEST_FORMAT} or "
            f"{MANIFEST_FORMAT_V1}; {where}: {first['msg']}).",
            hint="Use the manifest blob id of an upload, not the id of one of its chunks.",
        ) from None
