"""The mutable scratchpad format readers fill while ``inspect_model`` runs."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from integrations.tee.inspect.report import MAX_SHAPES, Finding, Severity
from integrations.tee.inspect.stats import StatsAccumulator


@dataclass(frozen=True, slots=True)
class PlannedSpan:
    """A floating-point tensor's bytes at ``[begin, end)`` of the file, read in the scan."""

    name: str
    dtype: str
    begin: int
    end: int


class Collector:
    """Collects tensors, findings and metadata; enforces the stats byte budget."""

    def __init__(self, *, max_stats_bytes: int) -> None:
        self.max_stats_bytes = max_stats_bytes
        self.stats_bytes = 0
        self.tensor_count: int | None = None
        self.parameter_count: int | None = None
        self.tensor_bytes: int | None = None
        self.dtypes: Counter[str] = Counter()
        self.shapes: list[tuple[str, tuple[int, ...]]] = []
        self.findings: list[Finding] = []
        self.metadata: dict[str, str] = {}
        self.layout_verified = False
        self.values_read = False
        self.skipped_for_budget = 0
        self.acc = StatsAccumulator()
        self.planned: list[PlannedSpan] = []
        self.planned_bytes = 0

    def tensor(self, name: str, dtype: str, shape: Iterable[int], nbytes: int | None) -> None:
        """Record one tensor's declaration (not its values)."""
        dims = tuple(int(d) for d in shape)
        self.tensor_count = (self.tensor_count or 0) + 1
        self.parameter_count = (self.parameter_count or 0) + math.prod(dims)
        if nbytes is not None:
            self.tensor_bytes = (self.tensor_bytes or 0) + nbytes
        self.dtypes[dtype] += 1
        if len(self.shapes) < MAX_SHAPES:
            self.shapes.append((name, dims))

    def budget_for(self, nbytes: int) -> bool:
        """True if ``nbytes`` more tensor bytes may still be read for statistics."""
        if self.stats_bytes + self.planned_bytes + nbytes > self.max_stats_bytes:
            self.skipped_for_budget += 1
            return False
        return True

    def plan(self, name: str, dtype: str, begin: int, end: int) -> None:
        """Ask for the values at file offsets ``[begin, end)``; the single pass that
        also hashes the file reads them (see ``scan.scan_file``)."""
        self.planned.append(PlannedSpan(name, dtype, begin, end))
        self.planned_bytes += end - begin

    def values(self, array: npt.NDArray[np.floating], nbytes: int) -> None:
        """Feed the values of (part of) a floating-point tensor."""
        self.acc.feed(array)
        self.stats_bytes += nbytes
        self.values_read = True

    def finding(self, severity: Severity, code: str, message: str) -> None:
        """Add a finding."""
        self.findings.append(Finding(severity, code, message))

    def meta(self, key: str, value: object, *, limit: int = 200) -> None:
        """Record a metadata entry as text, shortened to ``limit`` characters."""
        text = str(value)
        self.metadata[key] = text if len(text) <= limit else text[: limit - 1] + "…"
