"""Turning raw little-endian bytes of a declared dtype into floats for statistics."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# numpy dtypes whose values feed the weight statistics.
FLOAT_DTYPES: dict[str, np.dtype[np.floating]] = {
    "float64": np.dtype("<f8"),
    "float32": np.dtype("<f4"),
    "float16": np.dtype("<f2"),
}


def as_floats(raw: npt.NDArray[np.uint8], dtype: str) -> npt.NDArray[np.floating] | None:
    """View raw bytes as floats (``bfloat16`` widened to float32); ``None`` if not a float."""
    if dtype == "bfloat16":
        if raw.size % 2:
            return None
        wide = raw.view("<u2").astype(np.uint32) << 16
        return wide.view(np.float32)
    np_dtype = FLOAT_DTYPES.get(dtype)
    if np_dtype is None or raw.size % np_dtype.itemsize:
        return None
    return raw.view(np_dtype)


def is_float(dtype: str) -> bool:
    """True for the dtypes whose values are read for statistics."""
    return dtype == "bfloat16" or dtype in FLOAT_DTYPES
