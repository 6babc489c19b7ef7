"""The upload journal: what an interrupted chunked upload already stored.

One JSON file per session key, rewritten atomically after every finished
chunk, so a crash or ``kill -9`` loses at most the chunks still in flight.
It also pins the file's size and modification time: resuming against a file
that changed since is refused.

Format 3 records each chunk's ``prefix_sha256`` (as manifest format 3 does).
Journals of format 2 (chunks with BLAKE3) and 1 (chunks with their own sha256)
are still resumed: those chunks are checked against the file with the digest
they carry and re-recorded with their ``prefix_sha256``, and the journal is
written back as format 3.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from integrations.errors import FileProblem
from integrations.storage.atomic import write_atomic
from integrations.storage.manifest import ChunkRecord

JOURNAL_FORMAT: Final = "satya-upload-journal/3"
JOURNAL_FORMAT_V2: Final = "satya-upload-journal/2"
JOURNAL_FORMAT_V1: Final = "satya-upload-journal/1"


class JournalChunk(ChunkRecord):
    """A stored chunk, plus what the store charged for it (None if it did not say)."""

    cost_frost: int | None = None


class JournalState(BaseModel):
    """The journal file's content."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[
        "satya-upload-journal/3", "satya-upload-journal/2", "satya-upload-journal/1"
    ] = JOURNAL_FORMAT
    session_key: str
    file_name: str
    file_size: int = Field(ge=0)
    file_mtime_ns: int
    chunk_size: int = Field(gt=0)
    chunks: dict[int, JournalChunk] = Field(default_factory=dict)
    manifest_blob_id: str | None = None


def journal_path(journal_dir: Path, session_key: str) -> Path:
    """Where the journal of ``session_key`` lives (readable name plus a short hash)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", session_key)[:64]
    digest = hashlib.sha256(session_key.encode("utf-8")).hexdigest()[:12]
    return Path(journal_dir) / f"{safe}-{digest}.json"


class UploadJournal:
    """In-memory journal state with ordered, atomic, off-loop flushes to disk."""

    def __init__(self, path: Path, state: JournalState) -> None:
        self.path = path
        self.state = state
        self._version = 0
        self._written_version = 0
        self._write_lock = threading.Lock()
        self._writing: asyncio.Future[None] | None = None

    @classmethod
    def open(
        cls,
        journal_dir: Path,
        session_key: str,
        *,
        file: Path,
        size: int,
        mtime_ns: int,
        chunk_size: int,
    ) -> UploadJournal:
        """Load the session's journal, or start one; ``FileProblem`` if the file changed."""
        path = journal_path(journal_dir, session_key)
        fresh = JournalState(
            session_key=session_key,
            file_name=file.name,
            file_size=size,
            file_mtime_ns=mtime_ns,
            chunk_size=chunk_size,
        )
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path, fresh)
        try:
            state = JournalState.model_validate_json(raw)
        except (ValidationError, json.JSONDecodeError):
            raise FileProblem(
                f"The upload journal {path.name} is unreadable.",
                hint="Start the upload under a new session, or delete the journal file.",
            ) from None
        if (state.file_size, state.file_mtime_ns) != (size, mtime_ns):
            raise FileProblem(
                f"{file.name} changed since upload session {session_key!r} started "
                f"(was {state.file_size} bytes, now {size}; or modified since); "
                "it cannot be resumed.",
                hint="Start a new upload of the file as it is now.",
            )
        if state.chunk_size != chunk_size:
            raise FileProblem(
                f"Upload session {session_key!r} was started with chunks of "
                f"{state.chunk_size} bytes, not {chunk_size}.",
                hint="Resume with the original chunk size, or start a new upload.",
            )
        # Written back as format 3: its older chunks stay readable until re-recorded.
        state.format = JOURNAL_FORMAT
        return cls(path, state)

    def record(self, chunk: JournalChunk) -> None:
        """Note a finished chunk in memory; ``flush`` persists it."""
        self.state.chunks[chunk.index] = chunk
        self._version += 1

    def record_manifest(self, blob_id: str) -> None:
        """Note the stored manifest."""
        self.state.manifest_blob_id = blob_id
        self._version += 1

    async def flush(self) -> None:
        """Return once what was recorded so far is on disk; survives cancellation of the
        caller (the write finishes).

        Callers share writes: one is in progress at a time, and the next one takes
        everything recorded meanwhile (with ``concurrency`` chunks finishing at once, one
        write each cost as much time waiting on the disk as sending a chunk).
        """
        target = self._version
        while self._written_version < target:
            writing = self._writing
            if writing is None or writing.done():
                data = self.state.model_dump_json().encode("utf-8")
                writing = asyncio.ensure_future(asyncio.to_thread(self._write, data, self._version))
                writing.add_done_callback(self._write_done)
                self._writing = writing
            await asyncio.shield(writing)

    def _write_done(self, writing: asyncio.Future[None]) -> None:
        if self._writing is writing:
            self._writing = None
        if not writing.cancelled():
            writing.exception()  # a failed write is raised to the callers waiting on it

    def _write(self, data: bytes, version: int) -> None:
        # Writers can finish out of order; never let an older snapshot overwrite a newer one.
        with self._write_lock:
            if version <= self._written_version:
                return
            # An older journal that comes back after a power failure is still true (it
            # lists fewer chunks, which are sent again), so the rename is not fsynced.
            write_atomic(self.path, data, sync_dir=False)
            self._written_version = version
