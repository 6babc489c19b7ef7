"""Safetensors, parsed by hand: 8-byte header length, JSON header, checked offsets."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.dtypes import is_float
from integrations.tee.inspect.sniff import MAX_SAFETENSORS_HEADER

# safetensors dtype -> (our dtype name, bytes per element)
DTYPES: dict[str, tuple[str, int]] = {
    "F64": ("float64", 8),
    "F32": ("float32", 4),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "F8_E4M3": ("float8_e4m3", 1),
    "F8_E5M2": ("float8_e5m2", 1),
    "I64": ("int64", 8),
    "I32": ("int32", 4),
    "I16": ("int16", 2),
    "I8": ("int8", 1),
    "U64": ("uint64", 8),
    "U32": ("uint32", 4),
    "U16": ("uint16", 2),
    "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}
MAX_TENSORS = 1_000_000


def read_safetensors(path: Path, c: Collector) -> None:
    """Validate the header against the file and plan the floating-point tensors' values."""
    size = path.stat().st_size
    if size < 8:
        raise InvalidModelFormat("The safetensors file is shorter than its 8-byte header length.")
    with path.open("rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > size - 8:
            raise InvalidModelFormat(
                f"The safetensors header claims {n} bytes "
                f"but the file has only {size - 8} after it."
            )
        if n > MAX_SAFETENSORS_HEADER:
            raise InvalidModelFormat(
                f"The safetensors header ({n} bytes) is over the 100 MB limit."
            )
        raw_header = f.read(n)
    try:
        header = json.loads(raw_header)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidModelFormat(f"The safetensors header is not valid JSON ({exc}).") from exc
    if not isinstance(header, dict):
        raise InvalidModelFormat("The safetensors header is not a JSON object.")
    meta = header.pop("__metadata__", None)
    if meta is not None:
        if not isinstance(meta, dict):
            raise InvalidModelFormat("The safetensors __metadata__ is not an object.")
        for k, v in meta.items():
            c.meta(str(k), v)
    if len(header) > MAX_TENSORS:
        raise InvalidModelFormat(f"The safetensors header lists {len(header)} tensors, too many.")
    data_start = 8 + n
    data_len = size - data_start
    spans = [_tensor(name, spec, data_len, c) for name, spec in header.items()]
    _check_spans(spans, data_len, c)
    c.layout_verified = True
    c.tensor_count = c.tensor_count or 0
    c.parameter_count = c.parameter_count or 0
    if data_len == 0:
        return
    for name, dtype, begin, end in sorted(spans, key=lambda s: s[2]):
        if is_float(dtype) and end > begin and c.budget_for(end - begin):
            c.plan(name, dtype, data_start + begin, data_start + end)


def _tensor(name: str, spec: object, data_len: int, c: Collector) -> tuple[str, str, int, int]:
    """Check one header entry; return (name, dtype, begin, end)."""
    if not isinstance(spec, dict):
        raise InvalidModelFormat(f"Tensor {name!r} has no dtype/shape/offsets object.")
    st_dtype, shape, offsets = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets")
    if st_dtype not in DTYPES:
        raise InvalidModelFormat(f"Tensor {name!r} has an unknown dtype {st_dtype!r}.")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidModelFormat(f"Tensor {name!r} has an invalid shape {shape!r}.")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise InvalidModelFormat(f"Tensor {name!r} has invalid data_offsets {offsets!r}.")
    dtype, itemsize = DTYPES[str(st_dtype)]
    begin, end = offsets
    numel = 1
    for d in shape:
        numel *= d
        if numel * itemsize > data_len:
            raise InvalidModelFormat(
                f"Tensor {name!r} declares shape {shape} — more data than the file holds."
            )
    if not 0 <= begin <= end <= data_len:
        raise InvalidModelFormat(
            f"Tensor {name!r} has data_offsets {offsets} outside the {data_len}-byte data area."
        )
    if end - begin != numel * itemsize:
        raise InvalidModelFormat(
            f"Tensor {name!r} spans {end - begin} bytes but shape {shape} of {st_dtype} "
            f"needs {numel * itemsize}."
        )
    c.tensor(name, dtype, shape, end - begin)
    return name, dtype, begin, end


def _check_spans(spans: list[tuple[str, str, int, int]], data_len: int, c: Collector) -> None:
    """Tensors must not overlap; unreferenced bytes are only a warning."""
    covered = 0
    prev_end, prev_name = 0, ""
    for name, _, begin, end in sorted(spans, key=lambda s: (s[2], s[3])):
        if begin < prev_end:
            raise InvalidModelFormat(f"Tensors {prev_name!r} and {name!r} overlap in the file.")
        covered += end - begin
        prev_end, prev_name = max(prev_end, end), name
    if covered != data_len:
        c.finding(
            "warning",
            "unreferenced_bytes",
            f"{data_len - covered} bytes of the data area belong to no tensor.",
        )
