"""One pass over a file: SHA-256 in a worker thread, tensor statistics beside it.

Each block is read once into a reused buffer. The worker hashes it while the
calling thread feeds the planned tensor bytes of the same buffer to the
statistics; hashlib and numpy both release the GIL on large buffers, so the two
run on two cores. Blocks end on element boundaries inside a planned span, so no
value is ever split between two blocks. Memory: ``BUFFERS`` x ``BLOCK`` bytes
plus the statistics' fixed scratch, whatever the file size.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from io import FileIO
from pathlib import Path

import numpy as np

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector, PlannedSpan
from integrations.tee.inspect.dtypes import FLOAT_DTYPES, as_floats

BLOCK = 8 * 1024 * 1024
BUFFERS = 3  # one being filled, up to two queued for or in the hasher


def scan_file(
    path: Path,
    c: Collector,
    *,
    on_bytes: Callable[[int], None] | None = None,
    block: int = BLOCK,
) -> str:
    """Hash the whole file and feed ``c.planned`` spans to ``c``; return the hex digest.

    ``on_bytes`` receives the running count of hashed bytes, from the worker thread.
    ``block`` (a multiple of 8) is the read size.
    Raises ``InvalidModelFormat`` if the planned spans overlap or the file
    shrinks while it is read.
    """
    size = path.stat().st_size
    spans = sorted(c.planned, key=lambda s: s.begin)
    _check_spans(spans, size)
    h = hashlib.sha256()
    if block <= 0 or block % 8:
        raise ValueError("block must be a positive multiple of 8")
    bufs = [bytearray(block) for _ in range(BUFFERS)]
    queued: deque[Future[None]] = deque()
    hashed = 0

    def update(view: memoryview) -> None:
        nonlocal hashed
        h.update(view)
        hashed += len(view)
        if on_bytes is not None:
            on_bytes(hashed)

    with (
        path.open("rb", buffering=0) as f,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as pool,
    ):
        pos, first, k = 0, 0, 0
        while pos < size:
            if len(queued) == BUFFERS:
                queued.popleft().result()  # the buffer about to be refilled is hashed
            buf = bufs[k % BUFFERS]
            k += 1
            while first < len(spans) and spans[first].end <= pos:
                first += 1
            end = _block_end(pos, min(size, pos + block), spans, first)
            view = memoryview(buf)[: end - pos]
            _read_exactly(f, view, path)
            queued.append(pool.submit(update, view))
            _feed_block(buf, pos, end, spans, first, c)
            pos = end
        while queued:
            queued.popleft().result()
        if f.read(1):
            raise InvalidModelFormat(f"{path.name} grew while it was being inspected.")
    c.planned.clear()
    c.planned_bytes = 0
    return h.hexdigest()


def _itemsize(dtype: str) -> int:
    """Bytes per element of a planned (floating-point) dtype."""
    return 2 if dtype == "bfloat16" else FLOAT_DTYPES[dtype].itemsize


def _check_spans(spans: Sequence[PlannedSpan], size: int) -> None:
    """Spans must be ordered, disjoint, inside the file and whole elements."""
    prev_end = 0
    for s in spans:
        if s.begin < prev_end or s.end > size or (s.end - s.begin) % _itemsize(s.dtype):
            raise InvalidModelFormat(f"Tensor {s.name!r} has a byte range the file cannot hold.")
        prev_end = s.end


def _block_end(pos: int, end: int, spans: Sequence[PlannedSpan], first: int) -> int:
    """End of the block ``[pos, end)``, pulled back to an element boundary when it
    falls inside a span (``pos`` itself always is one)."""
    for i in range(first, len(spans)):  # indices, not a slice: no copy per block
        s = spans[i]
        if s.begin >= end:
            break
        if s.begin < end < s.end:
            item = _itemsize(s.dtype)
            end = s.begin + (end - s.begin) // item * item
            break
    return end


def _feed_block(
    buf: bytearray, pos: int, end: int, spans: Sequence[PlannedSpan], first: int, c: Collector
) -> None:
    """Feed the parts of the spans that fall inside ``[pos, end)`` of the file.

    The statistics pool every tensor's values, so back-to-back spans of one dtype
    are fed as one slice (thousands of small tensors cost a few calls, not thousands).
    """
    run: tuple[int, int, PlannedSpan] | None = None  # (lo, hi, first span of the run)
    for i in range(first, len(spans)):
        s = spans[i]
        if s.begin >= end:
            break
        lo, hi = max(s.begin, pos), min(s.end, end)
        if hi <= lo:
            continue
        if run is not None and run[1] == lo and run[2].dtype == s.dtype:
            run = (run[0], hi, run[2])
            continue
        if run is not None:
            _feed(buf, pos, *run, c)
        run = (lo, hi, s)
    if run is not None:
        _feed(buf, pos, *run, c)


def _feed(buf: bytearray, pos: int, lo: int, hi: int, span: PlannedSpan, c: Collector) -> None:
    """Feed file bytes ``[lo, hi)`` (held in ``buf`` from file offset ``pos``) as floats."""
    raw = np.frombuffer(buf, dtype=np.uint8, count=hi - lo, offset=lo - pos)
    values = as_floats(raw, span.dtype)
    if values is None:  # unreachable after _check_spans and element-aligned blocks
        raise InvalidModelFormat(f"Tensor {span.name!r} has a size that is not whole elements.")
    c.values(values, hi - lo)


def _read_exactly(f: FileIO, view: memoryview, path: Path) -> None:
    """Fill ``view`` from ``f`` or fail: the file ended before its recorded size."""
    done = 0
    while done < len(view):
        n = f.readinto(view[done:])
        if not n:
            raise InvalidModelFormat(f"{path.name} shrank while it was being inspected.")
        done += n
