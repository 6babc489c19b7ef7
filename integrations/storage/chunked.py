"""Large files as chunks plus a manifest, on top of any ``BlobStore``.

``upload_file`` reads a file in ``chunk_size`` chunks on one reading thread,
which runs the whole file's sha256 over each 256 KiB piece as soon as it is read
(while it is still in the CPU's cache; the hash releases the GIL) as earlier
chunks are being sent, each chunk's digest being that hash's state finalised at
the chunk's end (manifest format 3). A store that sends from a file
(``PutsFromFile``: the Walrus adapter over plain http, with ``sendfile``) gets
each chunk as a part of the file, read through one small buffer for the hash and
sent by the kernel from the page cache; the file's size and modification time
are checked before and after every send, so a file written to meanwhile is
refused rather than stored with bytes other than the ones hashed. Any other
store gets the chunks read into a fixed pool of ``concurrency + 2`` reused
buffers. Either way memory stays the same whatever the file size. It keeps
``concurrency`` chunk PUTs in flight, retries timeouts and unavailable services with jittered exponential
backoff (never refusals such as ``BlobTooLarge`` or ``InsufficientStorage``),
and records every finished chunk in a journal (``integrations.storage.journal``).
Running it again with the same ``session_key`` sends only the missing chunks.
Last, it stores the manifest (``integrations.storage.manifest``), whose blob id
names the upload. On a store that deletes (``DeletableBlobStore``) every put
names ``session_key`` as the upload holding the blob, so that releasing this
upload's blobs later never deletes bytes another upload stored too.

``download_file`` reads the manifest, fetches ``concurrency`` chunks at a time
into a fixed pool of reused buffers (straight from the socket when the store
offers ``get_blob_into``), writes each chunk at its offset while the whole
file's sha256 runs over the same buffer in file order, checks each chunk's
digest (format 3: that hash's state at the chunk's end, as each chunk is hashed;
formats 2 and 1: the chunk's own BLAKE3 or sha256, as it arrives), and moves the
result into place only when all of it checks out. Both directions hash every
byte once, with sha256, which is most of their CPU.

Example::

    result = await upload_file(
        store, Path("model.safetensors"), journal_dir=home / "journals",
        session_key="wf-42", chunk_size=8 * 2**20, on_progress=print,
    )
    await download_file(store, result.manifest_blob_id, Path("copy.safetensors"))

Over 500 lines: upload and verified download of one chunked format share its
buffers, manifest, journal and retry rule.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import mmap
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from integrations.errors import (
    BlobNotFound,
    BlobTooLarge,
    FileProblem,
    IntegrityError,
    SatyaError,
    StorageError,
)
from integrations.storage.atomic import fsync_dir, temp_path_for
from integrations.storage.chunk_file import ChunkFile, aligned_buffer
from integrations.storage.cost import chunk_sizes
from integrations.storage.journal import JournalChunk, UploadJournal
from integrations.storage.manifest import (
    ChunkDigest,
    ChunkRecord,
    Manifest,
    chunk_digest,
    chunk_hash,
    parse_manifest,
)
from integrations.storage.port import (
    BlobData,
    BlobStore,
    DeletableBlobStore,
    FilePart,
    PutsFromFile,
    ReadsIntoBuffer,
    StoredBlob,
)
from integrations.storage.progress import ProgressCallback, ProgressMeter, TransferProgress
from integrations.storage.retry import RetryNotice, with_retries
from integrations.storage.sizes import human_size

__all__ = [
    "DownloadResult",
    "UploadResult",
    "download_file",
    "read_manifest",
    "upload_file",
]


# Chunks fetched at once by a download: while the file's hash and the writes go in file
# order, the next chunks keep arriving (4 left the 1 GiB download at 0.88 of curl's rate
# from a local server; 8 at 1.0, with 72 MiB of buffers).
DOWNLOAD_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class UploadResult:
    """A finished upload. ``cost_frost`` is what the store reported (None if it did not)."""

    manifest_blob_id: str
    sha256: str
    size: int
    chunks: tuple[ChunkRecord, ...]
    bytes_sent: int
    bytes_skipped: int
    cost_frost: int | None


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """A finished, verified download."""

    path: Path
    manifest_blob_id: str
    size: int
    sha256: str
    chunks: int


@dataclass(slots=True)
class _Chunk:
    index: int
    offset: int
    size: int
    data: memoryview | FilePart  # a buffer read from the file, or the part sent from it
    buffer: bytearray | None
    prefix_sha256: str


_PIECE = 256 * 1024  # read, then hashed while still in the CPU's cache


class _FileReader:
    """Chunk reads (into reused buffers, or pieces of one small one) hashed as read: the
    whole file's sha256.

    Every read runs on ``thread``, one thread, so the hash sees the file in order and
    nothing touches the file or a buffer once ``thread`` has been shut down.
    """

    def __init__(self, fh: io.FileIO) -> None:
        self._fh = fh
        self._scratch = memoryview(bytearray(_PIECE))
        self.whole = hashlib.sha256()
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="satya-read")

    def read_chunk(
        self, size: int, into: memoryview | None, also: ChunkDigest | None
    ) -> tuple[int, str, str | None]:
        """Read the next ``size`` bytes (fewer only at the file's end) into ``into``, or
        piece by piece through a small buffer when ``into`` is None (the chunk is sent
        from the file), and hash them. Returns the bytes read, the file's sha256 up to
        there, and the chunk's ``also`` digest when an older journal recorded the chunk
        with its own BLAKE3 or sha256."""
        other = None if also is None else chunk_hash(also)
        filled = 0
        while filled < size:
            want = min(_PIECE, size - filled)
            piece = self._scratch[:want] if into is None else into[filled : filled + want]
            n = self._fh.readinto(piece)
            if not n:
                break
            self.whole.update(piece[:n])
            if other is not None:
                other.update(piece[:n])
            filled += n
        return filled, self.whole.copy().hexdigest(), None if other is None else other.hexdigest()

    def at_end(self) -> bool:
        return self._fh.read(1) == b""


async def upload_file(
    store: BlobStore,
    path: Path,
    *,
    journal_dir: Path,
    session_key: str,
    chunk_size: int,
    concurrency: int = 4,
    epochs: int = 1,
    retries: int = 3,
    backoff_s: float = 0.2,
    on_progress: Callable[[TransferProgress], None] | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> UploadResult:
    """Upload ``path`` as chunks plus a manifest; resumable under ``session_key``.

    ``on_retry`` hears of every retried chunk (``RetryNotice``) before its backoff.

    Raises ``FileProblem`` if the file is missing or changed since the session
    started, ``BlobTooLarge`` if ``chunk_size`` exceeds what the store takes, and
    otherwise the last ``StorageError`` once retries are exhausted (the journal
    keeps the finished chunks for the next run).

    Example::

        result = await upload_file(store, path, journal_dir=jdir, session_key="wf-1",
                                   chunk_size=4 * 2**20, concurrency=4)
        print(result.manifest_blob_id, result.bytes_sent, result.bytes_skipped)
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if chunk_size > store.max_blob_size:
        raise BlobTooLarge(
            f"Chunks of {human_size(chunk_size)} exceed the store's limit of "
            f"{human_size(store.max_blob_size)} per blob."
        )
    path = Path(path)
    size, mtime_ns = await asyncio.to_thread(_stat_file, path)
    journal = await asyncio.to_thread(
        UploadJournal.open,
        Path(journal_dir),
        session_key,
        file=path,
        size=size,
        mtime_ns=mtime_ns,
        chunk_size=chunk_size,
    )
    sizes = chunk_sizes(size, chunk_size)
    meter = ProgressMeter(bytes_total=size, chunks_total=len(sizes), callback=on_progress)
    queue: asyncio.Queue[_Chunk | None] = asyncio.Queue(maxsize=1)
    holding = store if isinstance(store, DeletableBlobStore) else None
    # A store that sends from the file gets parts of it (the bytes never enter Python);
    # any other gets buffers: concurrency being sent, one in the queue, one being read.
    sender = store if isinstance(store, PutsFromFile) and holding is None else None
    free: asyncio.Queue[bytearray] = asyncio.Queue()
    for _ in range(0 if sender else min(concurrency + 2, len(sizes))):
        free.put_nowait(bytearray(chunk_size))
    loop = asyncio.get_running_loop()

    def check_unchanged() -> None:
        # What is sent from the file must be what was hashed: a write changes its mtime.
        st = os.fstat(fh.fileno())
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            raise _changed(path, "it was written to while being sent")

    async def put_once(data: BlobData | FilePart) -> StoredBlob:
        if isinstance(data, FilePart):
            assert sender is not None
            check_unchanged()
            try:
                stored = await sender.put_file_part(data, epochs=epochs)
            except StorageError:
                check_unchanged()  # a file cut short is not a network failure to retry
                raise
            check_unchanged()
            return stored
        if holding is not None:  # the store deletes by hold: say this upload holds it
            return await holding.put_blob(data, epochs=epochs, upload=session_key)
        return await store.put_blob(data, epochs=epochs)

    async def put(data: BlobData | FilePart, label: str) -> StoredBlob:
        return await with_retries(
            lambda: put_once(data),
            retries=retries,
            backoff_s=backoff_s,
            on_retry=on_retry,
            label=label,
        )

    async def produce(reader: _FileReader) -> None:
        offset = 0
        for index, expected in enumerate(sizes):
            buffer = None if sender else await free.get()
            view = None if buffer is None else memoryview(buffer)[:expected]
            done = journal.state.chunks.get(index)
            # A chunk an older journal recorded is checked with the digest it carries.
            old = done.algorithm if done and done.algorithm != "prefix_sha256" else None
            got, prefix, old_digest = await loop.run_in_executor(
                reader.thread, reader.read_chunk, expected, view, old
            )
            if got != expected:
                raise _changed(path, "it is shorter than when the upload started")
            if done is not None:
                if done.digest != (prefix if old is None else old_digest) or done.offset != offset:
                    raise _changed(path, f"chunk {index} differs from the one already stored")
                if old is not None:  # the manifest names every chunk by its prefix_sha256
                    journal.record(_journal_chunk(done, prefix))
                meter.skipped(expected)
                if buffer is not None:
                    free.put_nowait(buffer)
            else:
                data = FilePart(fh.fileno(), offset, expected) if view is None else view
                await queue.put(_Chunk(index, offset, expected, data, buffer, prefix))
            offset += expected
        if not await loop.run_in_executor(reader.thread, reader.at_end):
            raise _changed(path, "it is longer than when the upload started")
        meter.report()
        for _ in range(concurrency):
            await queue.put(None)

    async def work() -> None:
        while (chunk := await queue.get()) is not None:
            stored = await put(chunk.data, f"chunk {chunk.index + 1}/{len(sizes)}")
            if stored.size != chunk.size:
                raise IntegrityError(
                    f"The store reports {stored.size} bytes for chunk {chunk.index} "
                    f"of {chunk.size} bytes."
                )
            if chunk.buffer is not None:
                free.put_nowait(chunk.buffer)
            journal.record(
                JournalChunk(
                    index=chunk.index,
                    offset=chunk.offset,
                    size=chunk.size,
                    prefix_sha256=chunk.prefix_sha256,
                    blob_id=stored.blob_id,
                    cost_frost=stored.cost_frost,
                )
            )
            meter.moved(chunk.size)
            await journal.flush()

    fh = await asyncio.to_thread(open, path, "rb", buffering=0)
    reader = _FileReader(fh)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(produce(reader))
            for _ in range(concurrency):
                group.create_task(work())
    except BaseExceptionGroup as failures:
        raise _first_error(failures) from None
    finally:
        # Wait for the reading thread to let go of the file and the buffers.
        await asyncio.to_thread(reader.thread.shutdown, True)
        await asyncio.to_thread(fh.close)
        await journal.flush()

    records = tuple(
        ChunkRecord.model_validate(journal.state.chunks[i].model_dump(exclude={"cost_frost"}))
        for i in range(len(sizes))
    )
    manifest = Manifest(
        file_name=path.name,
        size=size,
        sha256=reader.whole.hexdigest(),
        chunk_size=chunk_size,
        chunks=records,
    )
    stored_manifest = await put(manifest.to_bytes(), "manifest")
    journal.record_manifest(stored_manifest.blob_id)
    await journal.flush()
    costs = [journal.state.chunks[i].cost_frost for i in range(len(sizes))]
    costs.append(stored_manifest.cost_frost)
    return UploadResult(
        manifest_blob_id=stored_manifest.blob_id,
        sha256=manifest.sha256,
        size=size,
        chunks=records,
        bytes_sent=meter.bytes_moved,
        bytes_skipped=meter.resumed_bytes,
        cost_frost=None if any(c is None for c in costs) else sum(c for c in costs if c),
    )


async def read_manifest(
    store: BlobStore,
    manifest_blob_id: str,
    *,
    not_found_retries: int = 0,
    retries: int = 3,
    backoff_s: float = 0.2,
) -> Manifest:
    """Fetch and parse a manifest blob; ``IntegrityError`` if the blob is not a manifest.

    Example::

        manifest = await read_manifest(store, result.manifest_blob_id)
        print(manifest.file_name, manifest.size, len(manifest.chunks))
    """
    data = await _get(store, manifest_blob_id, not_found_retries, retries, backoff_s)
    return parse_manifest(data, manifest_blob_id)


async def download_file(
    store: BlobStore,
    manifest_blob_id: str,
    dest: Path,
    *,
    concurrency: int = DOWNLOAD_CONCURRENCY,
    not_found_retries: int = 3,
    retries: int = 3,
    backoff_s: float = 0.2,
    on_progress: ProgressCallback | None = None,
) -> DownloadResult:
    """Download the file a manifest describes to ``dest``, verified, replacing it atomically.

    ``BlobNotFound`` is retried ``not_found_retries`` times with backoff (a
    CDN-fronted aggregator can return a cached 404 just after certification).
    A chunk whose digest does not match raises ``IntegrityError`` naming its
    index; ``dest`` is then left as it was.
    ``concurrency`` chunks are fetched at once (memory: one chunk more than that).

    Example::

        result = await download_file(store, manifest_id, Path("model.safetensors"))
        print(result.sha256)
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    manifest = await read_manifest(
        store,
        manifest_blob_id,
        not_found_retries=not_found_retries,
        retries=retries,
        backoff_s=backoff_s,
    )
    dest = Path(dest)
    meter = ProgressMeter(
        bytes_total=manifest.size, chunks_total=len(manifest.chunks), callback=on_progress
    )
    reads_into = isinstance(store, ReadsIntoBuffer)
    # One buffer per chunk in flight plus the one being hashed and written: memory stays
    # ``(concurrency + 1) * chunk size`` whatever the file size.
    largest = max((chunk.size for chunk in manifest.chunks), default=0)
    # Page-aligned, so the file can be written from them directly (``ChunkFile``).
    free = [aligned_buffer(largest) for _ in range(min(concurrency + 1, len(manifest.chunks)))]

    async def fetch(chunk: ChunkRecord, buffer: mmap.mmap) -> memoryview:
        if reads_into:
            assert isinstance(store, ReadsIntoBuffer)
            length = await _get_into(
                store, chunk.blob_id, memoryview(buffer), not_found_retries, retries, backoff_s
            )
            data = memoryview(buffer)[: min(length, len(buffer))]
        else:
            length, data = (
                None,
                memoryview(await _get(store, chunk.blob_id, not_found_retries, retries, backoff_s)),
            )
        size = len(data) if length is None else length
        if chunk.algorithm == "prefix_sha256":  # checked as the whole-file hash reaches it
            if size != chunk.size:
                raise _corrupted(manifest, chunk, None, size)
            return data
        digest = await asyncio.to_thread(chunk_digest, chunk.algorithm, data)
        if size != chunk.size or digest != chunk.digest:
            raise _corrupted(manifest, chunk, digest, size)
        return data

    await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
    tmp = temp_path_for(dest)
    out = await asyncio.to_thread(ChunkFile.create, tmp)
    whole = hashlib.sha256()
    # One thread for the whole-file hash, so it sees the chunks in file order.
    whole_hasher = ThreadPoolExecutor(1, thread_name_prefix="satya-sha256")
    loop = asyncio.get_running_loop()
    pending: deque[tuple[asyncio.Task[memoryview], mmap.mmap, ChunkRecord]] = deque()
    chunks = iter(manifest.chunks)

    def refill() -> None:
        while len(pending) < concurrency and free:
            chunk = next(chunks, None)
            if chunk is None:
                return
            buffer = free.pop()
            pending.append((asyncio.ensure_future(fetch(chunk, buffer)), buffer, chunk))

    try:
        refill()
        while pending:
            task, buffer, chunk = pending.popleft()
            data = await task
            refill()
            # The whole-file hash and the write read the same verified buffer at once.
            hashed = loop.run_in_executor(whole_hasher, _advance, whole, data)
            try:
                await asyncio.to_thread(out.write_at, data, chunk.offset, aligned=reads_into)
            finally:
                prefix = await hashed
            if chunk.algorithm == "prefix_sha256" and prefix != chunk.digest:
                raise _corrupted(manifest, chunk, prefix, len(data))
            free.append(buffer)
            refill()
            meter.moved(len(data))
        await asyncio.to_thread(out.finish)
        if whole.hexdigest() != manifest.sha256:
            raise IntegrityError(
                f"The reassembled {manifest.file_name} does not match the sha256 in its manifest "
                f"(expected {manifest.sha256[:12]}…, got {whole.hexdigest()[:12]}…). "
                "Nothing was written at the destination."
            )
        await asyncio.to_thread(os.replace, tmp, dest)
        await asyncio.to_thread(fsync_dir, dest.parent)
    except BaseException:
        for task, _, _ in pending:
            task.cancel()
        await asyncio.gather(*(task for task, _, _ in pending), return_exceptions=True)
        await asyncio.to_thread(out.discard)
        raise
    finally:
        await asyncio.to_thread(whole_hasher.shutdown, True)
    return DownloadResult(
        path=dest,
        manifest_blob_id=manifest_blob_id,
        size=manifest.size,
        sha256=manifest.sha256,
        chunks=len(manifest.chunks),
    )


async def _get_into(
    store: ReadsIntoBuffer,
    blob_id: str,
    buffer: memoryview,
    not_found_retries: int,
    retries: int,
    backoff_s: float,
) -> int:
    """``get_blob_into`` retrying as ``_get`` does."""
    return await with_retries(
        lambda: store.get_blob_into(blob_id, buffer),
        retries=max(retries, not_found_retries),
        backoff_s=backoff_s,
        should_retry=_retry_policy(not_found_retries),
    )


def _retry_policy(not_found_retries: int) -> Callable[[StorageError], bool]:
    """Transient errors, and up to ``not_found_retries`` times ``BlobNotFound``."""
    not_found_seen = 0

    def should_retry(error: StorageError) -> bool:
        nonlocal not_found_seen
        if isinstance(error, BlobNotFound):
            not_found_seen += 1
            return not_found_seen <= not_found_retries
        return error.retryable

    return should_retry


async def _get(
    store: BlobStore, blob_id: str, not_found_retries: int, retries: int, backoff_s: float
) -> bytes:
    """``get_blob`` retrying transient errors and, a few times, ``BlobNotFound``."""
    return await with_retries(
        lambda: store.get_blob(blob_id),
        retries=max(retries, not_found_retries),
        backoff_s=backoff_s,
        should_retry=_retry_policy(not_found_retries),
    )


def _stat_file(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileProblem(f"{path.name} does not exist.") from None
    except OSError as exc:
        raise FileProblem(f"{path.name} cannot be read ({exc.strerror}).") from None
    if not path.is_file():
        raise FileProblem(f"{path.name} is not a regular file.")
    return st.st_size, st.st_mtime_ns


def _changed(path: Path, detail: str) -> FileProblem:
    return FileProblem(
        f"{path.name} changed since this upload started ({detail}); it cannot be resumed.",
        hint="Start a new upload of the file as it is now.",
    )


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to surface from a failed task group: a Satya error first, then any other."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for exc in leaves:
        if isinstance(exc, SatyaError):
            return exc
    for exc in leaves:
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return leaves[0] if leaves else group


def _advance(whole: hashlib._Hash, data: memoryview) -> str:
    """Feed ``data`` to the whole-file sha256; the hex digest of everything fed so far."""
    whole.update(data)
    return whole.copy().hexdigest()


def _corrupted(
    manifest: Manifest, chunk: ChunkRecord, got: str | None, size: int
) -> IntegrityError:
    """A downloaded chunk that is not what the manifest says."""
    found = f"{got[:12]}… ({size} bytes)" if got is not None else f"{size} bytes"
    return IntegrityError(
        f"Chunk {chunk.index} of {len(manifest.chunks)} of {manifest.file_name} "
        f"(blob {chunk.blob_id}) is corrupted: expected {chunk.algorithm} "
        f"{chunk.digest[:12]}… ({chunk.size} bytes), got {found}. "
        "Nothing was written at the destination.",
        hint="The storage node served damaged data; download again, or point "
        "SATYA_WALRUS_AGGREGATOR_URL at another aggregator.",
    )


def _journal_chunk(done: JournalChunk, prefix_hex: str) -> JournalChunk:
    """A chunk an older journal recorded with its own digest, recorded again with its
    prefix_sha256."""
    return JournalChunk(
        index=done.index,
        offset=done.offset,
        size=done.size,
        prefix_sha256=prefix_hex,
        blob_id=done.blob_id,
        cost_frost=done.cost_frost,
    )
