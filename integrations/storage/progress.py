"""Progress of a chunked transfer, as reported to ``on_progress`` callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """A snapshot of an upload or download.

    ``bytes_done`` includes ``resumed_bytes`` (chunks an earlier run already
    stored); ``bytes_per_s`` and ``eta_s`` count only this run's traffic, and
    ``eta_s`` is None until a rate is known.
    """

    bytes_done: int
    bytes_total: int
    chunks_done: int
    chunks_total: int
    bytes_per_s: float
    eta_s: float | None
    resumed_bytes: int

    @property
    def fraction(self) -> float:
        """Share of the file done, 0..1."""
        return 1.0 if self.bytes_total == 0 else self.bytes_done / self.bytes_total


UploadProgress = TransferProgress
ProgressCallback = Callable[[TransferProgress], None]


class ProgressMeter:
    """Counts finished chunks and turns them into ``TransferProgress`` snapshots."""

    def __init__(
        self,
        *,
        bytes_total: int,
        chunks_total: int,
        callback: ProgressCallback | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._clock = clock
        self._started = clock()
        self.bytes_total = bytes_total
        self.chunks_total = chunks_total
        self.bytes_moved = 0
        self.resumed_bytes = 0
        self.chunks_done = 0

    def skipped(self, size: int) -> None:
        """A chunk an earlier run already stored (reported too: a resumed upload shows where
        it starts from, and one that fails before sending anything shows how far it got)."""
        self.resumed_bytes += size
        self.chunks_done += 1
        self.report()

    def moved(self, size: int) -> None:
        """A chunk this run transferred."""
        self.bytes_moved += size
        self.chunks_done += 1
        self.report()

    def snapshot(self) -> TransferProgress:
        """The progress so far."""
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.bytes_moved / elapsed
        done = self.bytes_moved + self.resumed_bytes
        eta = (self.bytes_total - done) / rate if rate > 0 else None
        return TransferProgress(
            bytes_done=done,
            bytes_total=self.bytes_total,
            chunks_done=self.chunks_done,
            chunks_total=self.chunks_total,
            bytes_per_s=rate,
            eta_s=eta,
            resumed_bytes=self.resumed_bytes,
        )

    def report(self) -> None:
        """Send a snapshot to the callback, if there is one."""
        if self._callback is not None:
            self._callback(self.snapshot())
