"""GGUF (llama.cpp), parsed by hand with sanity limits on every count and length."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path
from typing import BinaryIO

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.dtypes import is_float

MAX_TENSORS = 1_000_000
MAX_KV = 100_000
MAX_STRING = 16 * 1024 * 1024
MAX_ARRAY = 10_000_000
MAX_DIMS = 8

# ggml type id -> (name, elements per block, bytes per block)
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("float32", 1, 4),
    1: ("float16", 1, 2),
    2: ("q4_0", 32, 18),
    3: ("q4_1", 32, 20),
    6: ("q5_0", 32, 22),
    7: ("q5_1", 32, 24),
    8: ("q8_0", 32, 34),
    9: ("q8_1", 32, 36),
    10: ("q2_k", 256, 84),
    11: ("q3_k", 256, 110),
    12: ("q4_k", 256, 144),
    13: ("q5_k", 256, 176),
    14: ("q6_k", 256, 210),
    15: ("q8_k", 256, 292),
    24: ("int8", 1, 1),
    25: ("int16", 1, 2),
    26: ("int32", 1, 4),
    27: ("int64", 1, 8),
    28: ("float64", 1, 8),
    30: ("bfloat16", 1, 2),
}
# GGUF value type -> struct format for scalars
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


class _Reader:
    """Bounded little-endian reads that fail with a clear message at end of file."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise InvalidModelFormat("The GGUF file ends in the middle of its header.")
        return data

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def u32(self) -> int:
        return int(self.unpack("<I"))

    def u64(self) -> int:
        return int(self.unpack("<Q"))

    def string(self) -> str:
        n = self.u64()
        if n > MAX_STRING:
            raise InvalidModelFormat(f"A GGUF string claims {n} bytes, over the limit.")
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> object:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype, count = self.u32(), self.u64()
            if count > MAX_ARRAY:
                raise InvalidModelFormat(f"A GGUF array claims {count} items, over the limit.")
            if itype in _SCALARS:
                self.take(count * struct.calcsize(_SCALARS[itype]))
            else:
                for _ in range(count):
                    self.value(itype)
            return f"[array of {count}]"
        raise InvalidModelFormat(f"Unknown GGUF value type {vtype}.")


def read_gguf(path: Path, c: Collector) -> None:
    """Parse the header, key-values and tensor infos; check every tensor against the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        r = _Reader(f)
        if r.take(4) != b"GGUF":
            raise InvalidModelFormat("The file does not start with the GGUF magic.")
        version = r.u32()
        if version not in (2, 3):
            raise InvalidModelFormat(f"GGUF version {version} is not supported (2 or 3).")
        n_tensors, n_kv = r.u64(), r.u64()
        if n_tensors > MAX_TENSORS or n_kv > MAX_KV:
            raise InvalidModelFormat(
                f"The GGUF header claims {n_tensors} tensors and {n_kv} keys, over the limits."
            )
        c.meta("gguf.version", version)
        alignment = 32
        for _ in range(n_kv):
            key = r.string()
            value = r.value(r.u32())
            if key == "general.alignment" and isinstance(value, int):
                alignment = value
            c.meta(key, value)
        if alignment <= 0 or alignment & (alignment - 1):
            raise InvalidModelFormat(f"GGUF alignment {alignment} is not a power of two.")
        infos = [_tensor_info(r) for _ in range(n_tensors)]
        header_end = f.tell()
    data_start = -(-header_end // alignment) * alignment
    data_len = size - data_start
    if data_len < 0:
        raise InvalidModelFormat("The GGUF file ends before its tensor data begins.")
    spans = _check(infos, data_len, c)
    c.layout_verified = True
    c.tensor_count = c.tensor_count or 0
    c.parameter_count = c.parameter_count or 0
    if data_len == 0:
        return
    quantized = sum(1 for _, dtype, _, _ in spans if not is_float(dtype))
    if quantized:
        c.finding(
            "info",
            "quantized_tensors",
            f"{quantized} quantized or integer tensors are counted but not in the statistics.",
        )
    for name, dtype, begin, end in spans:
        if is_float(dtype) and end > begin and c.budget_for(end - begin):
            c.plan(name, dtype, data_start + begin, data_start + end)


def _tensor_info(r: _Reader) -> tuple[str, tuple[int, ...], int, int]:
    """One tensor info: name, dims, ggml type, offset."""
    name = r.string()
    n_dims = r.u32()
    if n_dims > MAX_DIMS:
        raise InvalidModelFormat(f"GGUF tensor {name!r} has {n_dims} dimensions, over {MAX_DIMS}.")
    dims = tuple(r.u64() for _ in range(n_dims))
    return name, dims, r.u32(), r.u64()


def _check(
    infos: list[tuple[str, tuple[int, ...], int, int]], data_len: int, c: Collector
) -> list[tuple[str, str, int, int]]:
    """Validate types, sizes and offsets; return (name, dtype, begin, end) sorted by offset."""
    spans: list[tuple[str, str, int, int]] = []
    for name, dims, gtype, offset in infos:
        if gtype not in GGML_TYPES:
            raise InvalidModelFormat(f"GGUF tensor {name!r} has an unknown ggml type {gtype}.")
        dtype, block, block_bytes = GGML_TYPES[gtype]
        numel = 1
        for d in dims:
            numel *= d
            if numel > data_len * 8:
                raise InvalidModelFormat(
                    f"GGUF tensor {name!r} declares shape {list(dims)} — more than the file holds."
                )
        if numel % block:
            raise InvalidModelFormat(f"GGUF tensor {name!r} is not a whole number of blocks.")
        nbytes = numel // block * block_bytes
        if offset + nbytes > data_len:
            raise InvalidModelFormat(
                f"GGUF tensor {name!r} at offset {offset} runs past the end of the file."
            )
        c.tensor(name, dtype, tuple(reversed(dims)), nbytes)
        spans.append((name, dtype, offset, offset + nbytes))
    spans.sort(key=lambda s: s[2])
    for a, b in itertools.pairwise(spans):
        if a[3] > b[2]:
            raise InvalidModelFormat(f"GGUF tensors {a[0]!r} and {b[0]!r} overlap.")
    return spans
