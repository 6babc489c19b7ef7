"""Streaming weight statistics: NaN/Inf counts and mean/std/min/max over slices."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from integrations.tee.inspect.report import WeightStats

# Elements per chunk converted to float64 at a time: bounds the temporary memory.
_CHUNK_ELEMS = 1 << 20


class StatsAccumulator:
    """Merges per-chunk moments (Chan et al.) so any number of slices can be fed."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.nan = 0
        self.inf = 0

    def feed(self, values: npt.NDArray[np.floating]) -> None:
        """Add a 1-D floating array (any float dtype)."""
        flat = values.reshape(-1)
        for start in range(0, flat.size, _CHUNK_ELEMS):
            self._feed_chunk(flat[start : start + _CHUNK_ELEMS])

    def _feed_chunk(self, chunk: npt.NDArray[np.floating]) -> None:
        """Fold one bounded chunk into the running moments."""
        x = chunk.astype(np.float64)
        total_sum = float(x.sum())
        narrow = chunk  # min/max are exact in the source dtype and cheaper there
        if not math.isfinite(total_sum):  # only then is a NaN/Inf scan worth its cost
            finite = np.isfinite(x)
            nans = int(np.count_nonzero(np.isnan(x)))
            self.nan += nans
            self.inf += x.size - int(np.count_nonzero(finite)) - nans
            x = x[finite]
            narrow = x
            total_sum = float(x.sum())
        n = int(x.size)
        if n == 0:
            return
        mean_b = total_sum / n
        # sum of squares about the chunk mean, without a second temporary array
        m2_b = max(0.0, float(np.dot(x, x)) - total_sum * mean_b)
        self.min = min(self.min, float(narrow.min()))
        self.max = max(self.max, float(narrow.max()))
        merged = self.count + n
        delta = mean_b - self.mean
        self.mean += delta * n / merged
        self.m2 += m2_b + delta * delta * self.count * n / merged
        self.count = merged

    def result(self) -> WeightStats | None:
        """The statistics, or ``None`` when no finite value was seen."""
        if self.count == 0:
            return None
        return WeightStats(
            mean=self.mean,
            std=math.sqrt(self.m2 / self.count),
            min=self.min,
            max=self.max,
            count=self.count,
        )
