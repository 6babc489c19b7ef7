"""Reading one tensor's bytes through short-lived memory maps of bounded size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.dtypes import as_floats

SLICE_BYTES = 16 * 1024 * 1024


def feed_tensor(
    path: Path, data_start: int, name: str, dtype: str, begin: int, end: int, c: Collector
) -> None:
    """Feed ``[begin, end)`` of the data area in 16 MiB maps, each unmapped after use,
    so resident memory stays bounded whatever the file size."""
    for start in range(begin, end, SLICE_BYTES):
        stop = min(end, start + SLICE_BYTES)
        mm = np.memmap(
            path, dtype=np.uint8, mode="r", offset=data_start + start, shape=(stop - start,)
        )
        try:
            values = as_floats(np.asarray(mm), dtype)
            if values is None:
                raise InvalidModelFormat(f"Tensor {name!r} has a size that is not whole elements.")
            c.values(values, stop - start)
        finally:
            del mm
