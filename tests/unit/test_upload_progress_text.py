"""Upload progress rows say how many chunks are done and how many go in parallel."""

from __future__ import annotations

from agent.events import ProgressEvent
from agent.screens import progress_line
from flows.upload import chunks_text
from integrations.storage.progress import TransferProgress


def _p(done: int, total: int) -> TransferProgress:
    return TransferProgress(
        bytes_done=done * 10,
        bytes_total=total * 10,
        chunks_done=done,
        chunks_total=total,
        bytes_per_s=5.0,
        eta_s=2.0,
        resumed_bytes=0,
    )


def test_chunks_in_parallel_until_the_last_ones() -> None:
    assert chunks_text(_p(12, 40), 4) == "chunk 12/40, 4 in parallel"
    assert chunks_text(_p(38, 40), 4) == "chunk 38/40, 2 in parallel"
    assert chunks_text(_p(39, 40), 4) == "chunk 39/40"
    assert chunks_text(_p(3, 10), 1) == "chunk 3/10"


def test_the_plain_progress_line_carries_them() -> None:
    event = ProgressEvent(
        "upload", 0.3, 3_000_000, 10_000_000, 1e6, 7.0, "chunk 3/10, 4 in parallel"
    )
    assert progress_line(event).endswith("(chunk 3/10, 4 in parallel)")
