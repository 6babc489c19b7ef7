"""Streaming weight statistics: NaN/Inf counts and mean/std/min/max over slices."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from integrations.tee.inspect.report import WeightStats

# Elements widened to float64 at a time. 64 Ki float64 (512 KiB) stay in a core's
# L2 cache, so the sum and the sum of squares read the widened copy from cache.
_CHUNK_ELEMS = 1 << 16


class StatsAccumulator:
    """Merges per-chunk moments (Chan et al.) so any number of slices can be fed.

    Sums are taken in float64 over every value (no sampling). The sum of squares
    uses ``einsum``, not ``dot``: a BLAS ``dot`` may start its own threads, which
    then spin against the hashing thread that runs beside the statistics.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.nan = 0
        self.inf = 0
        self._scratch = np.empty(_CHUNK_ELEMS, dtype=np.float64)

    def feed(self, values: npt.NDArray[np.floating]) -> None:
        """Add a 1-D floating array (any float dtype)."""
        flat = values.reshape(-1)
        for start in range(0, flat.size, _CHUNK_ELEMS):
            self._feed_chunk(flat[start : start + _CHUNK_ELEMS])

    def _feed_chunk(self, chunk: npt.NDArray[np.floating]) -> None:
        """Fold one bounded chunk into the running moments."""
        if chunk.dtype == np.float64:
            x: npt.NDArray[np.floating] = chunk
        else:
            x = self._scratch[: chunk.size]
            np.copyto(x, chunk)
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
        m2_b = max(0.0, float(np.einsum("i,i->", x, x)) - total_sum * mean_b)
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
