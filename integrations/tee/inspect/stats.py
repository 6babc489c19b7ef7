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
        x = chunk.astype(np.float64, copy=False)
        finite = np.isfinite(x)
        n_finite = int(np.count_nonzero(finite))
        if n_finite != x.size:
            nans = int(np.count_nonzero(np.isnan(x)))
            self.nan += nans
            self.inf += x.size - n_finite - nans
            x = x[finite]
        n = int(x.size)
        if n == 0:
            return
        mean_b = float(x.sum()) / n
        d = x - mean_b
        m2_b = float(np.dot(d, d))
        self.min = min(self.min, float(x.min()))
        self.max = max(self.max, float(x.max()))
        total = self.count + n
        delta = mean_b - self.mean
        self.mean += delta * n / total
        self.m2 += m2_b + delta * delta * self.count * n / total
        self.count = total

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
