"""The manifest blob that ties the chunks of one file together.

JSON, stored as an ordinary blob; its blob id names the whole upload. Uploads
write format 3, where the whole file carries its sha256 (what the listing, the
enclave and the attestation name) and each chunk the sha256 of the file's bytes
from its start through the end of that chunk (``prefix_sha256``)::

    {"format": "satya-manifest/3", "file_name": "model.safetensors",
     "size": 25165824, "sha256": "<hex of the whole file>", "chunk_size": 10485760,
     "chunks": [{"index": 0, "offset": 0, "size": 10485760,
                 "prefix_sha256": "<hex of bytes 0..10485759>", "blob_id": "<43 chars>"},
                ...]}

The last chunk's ``prefix_sha256`` is the file's sha256. Both directions run
the file's sha256 over the chunks in file order anyway; a copy of its state
finalised after each chunk is that chunk's digest, so every chunk is checked
(in file order, with sha256's strength) for the price of one hash pass, where
format 2 paid a second pass (BLAKE3) for chunk digests that could be checked out
of order.

Formats 2 (``"blake3"`` per chunk) and 1 (``"sha256"`` of each chunk alone) are
still read and verified: manifests stored before format 3 keep downloading.

Chunks are contiguous, in order, and add up to ``size``.
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal, Protocol, Self

from blake3 import blake3
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from integrations.errors import IntegrityError

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_FORMAT_V1",
    "MANIFEST_FORMAT_V2",
    "ChunkDigest",
    "ChunkHash",
    "ChunkRecord",
    "Manifest",
    "chunk_digest",
    "chunk_hash",
    "parse_manifest",
]

MANIFEST_FORMAT: Final = "satya-manifest/3"
MANIFEST_FORMAT_V2: Final = "satya-manifest/2"
MANIFEST_FORMAT_V1: Final = "satya-manifest/1"
_SHA256_HEX = r"^[0-9a-f]{64}$"
_BLAKE3_HEX = r"^[0-9a-f]{64}$"

ChunkDigest = Literal["prefix_sha256", "blake3", "sha256"]
"""What a chunk's digest is: the sha256 of the file up to the chunk's end (format 3),
the chunk's own BLAKE3 (format 2) or its own sha256 (format 1)."""

_CHUNK_DIGEST: Final[dict[str, ChunkDigest]] = {
    MANIFEST_FORMAT: "prefix_sha256",
    MANIFEST_FORMAT_V2: "blake3",
    MANIFEST_FORMAT_V1: "sha256",
}


class ChunkHash(Protocol):
    """A running hash of one chunk (``hashlib``'s and ``blake3``'s shape)."""

    def update(self, data: bytes | bytearray | memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


def chunk_hash(algorithm: ChunkDigest) -> ChunkHash:
    """A new running hash of one chunk alone with ``algorithm``, ``blake3`` or ``sha256``;
    a ``prefix_sha256`` depends on the chunks before it and comes from the file's running
    sha256 instead."""
    if algorithm == "blake3":
        return blake3()
    if algorithm == "sha256":
        return hashlib.sha256()
    raise ValueError("a prefix_sha256 is not a digest of the chunk alone")


def chunk_digest(algorithm: ChunkDigest, data: bytes | bytearray | memoryview) -> str:
    """The hex digest of the chunk ``data`` alone with ``algorithm`` (see ``chunk_hash``;
    both hashes release the GIL on large data)."""
    digest = chunk_hash(algorithm)
    digest.update(data)
    return digest.hexdigest()


class ChunkRecord(BaseModel):
    """One stored chunk: where it sits in the file, its digest and its blob id.

    Exactly one of ``prefix_sha256`` (format 3), ``blake3`` (format 2) and
    ``sha256`` (format 1) is set; ``algorithm`` and ``digest`` name whichever it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    offset: int = Field(ge=0)
    size: int = Field(ge=0)
    prefix_sha256: str | None = Field(default=None, pattern=_SHA256_HEX)
    blake3: str | None = Field(default=None, pattern=_BLAKE3_HEX)
    sha256: str | None = Field(default=None, pattern=_SHA256_HEX)
    blob_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_digest(self) -> Self:
        if sum(d is not None for d in (self.prefix_sha256, self.blake3, self.sha256)) != 1:
            raise ValueError("a chunk carries exactly one digest: prefix_sha256, blake3 or sha256")
        return self

    @property
    def algorithm(self) -> ChunkDigest:
        """Which digest ``digest`` is."""
        if self.prefix_sha256 is not None:
            return "prefix_sha256"
        return "blake3" if self.blake3 is not None else "sha256"

    @property
    def digest(self) -> str:
        """The chunk's hex digest (``algorithm`` says which)."""
        value = self.prefix_sha256 or self.blake3 or self.sha256
        assert value is not None  # the validator guarantees one
        return value


class Manifest(BaseModel):
    """A file stored as chunks; ``Manifest.model_validate_json`` checks it is consistent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["satya-manifest/3", "satya-manifest/2", "satya-manifest/1"] = MANIFEST_FORMAT
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
        last = self.chunks[-1] if self.chunks else None
        if self.chunk_algorithm == "prefix_sha256" and last and last.digest != self.sha256:
            raise ValueError("the last chunk's prefix_sha256 is not the file's sha256")
        return self

    def to_bytes(self) -> bytes:
        """Compact JSON, the bytes stored as the manifest blob (only the chunks' own digest)."""
        return self.model_dump_json(exclude_none=True).encode("utf-8")


def parse_manifest(data: bytes, blob_id: str) -> Manifest:
    """Parse a manifest blob (format 3, 2 or 1); ``IntegrityError`` if it is not one."""
    try:
        return Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise IntegrityError(
            f"Blob {blob_id} is not a Satya manifest ({MANIFEST_FORMAT}, {MANIFEST_FORMAT_V2} "
            f"or {MANIFEST_FORMAT_V1}; {where}: {first['msg']}).",
            hint="Use the manifest blob id of an upload, not the id of one of its chunks.",
        ) from None
