"""Binary Canonical Serialization (BCS), the subset Nautilus payloads use.

u8 is one byte, u64 eight bytes little-endian, a string is its ULEB128 length
and UTF-8 bytes, a vector its ULEB128 length and items, an option a 0/1 tag
then the value, a struct its fields in declaration order.

A ``Schema`` describes a struct as ``(name, type)`` pairs where a type is
``"u8" | "u64" | "bool" | "string" | "bytes"``, ``("option", T)``,
``("vector", T)`` or a nested ``Schema`` (a tuple of pairs).

Example::

    >>> encode_struct({"location": "SF", "temperature": 13},
    ...               (("location", "string"), ("temperature", "u64"))).hex()
    '0253460d00000000000000'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

ScalarType = str
FieldType = Union[ScalarType, tuple[str, "FieldType"], "Schema"]
Schema = tuple[tuple[str, FieldType], ...]

_U64_MAX = (1 << 64) - 1


def uleb128(n: int) -> bytes:
    """Unsigned LEB128, as BCS uses for lengths."""
    if n < 0:
        raise ValueError("ULEB128 of a negative number")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _is_schema(t: object) -> bool:
    return isinstance(t, tuple) and bool(t) and all(isinstance(p, tuple) and len(p) == 2 for p in t)


def encode_value(value: object, t: FieldType) -> bytes:
    """Encode one value of type ``t``."""
    if isinstance(t, str):
        if t == "u8":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
                raise ValueError(f"u8 out of range: {value!r}")
            return bytes([value])
        if t == "u64":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _U64_MAX:
                raise ValueError(f"u64 out of range: {value!r}")
            return value.to_bytes(8, "little")
        if t == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"bool expected: {value!r}")
            return b"\x01" if value else b"\x00"
        if t == "string":
            if not isinstance(value, str):
                raise ValueError(f"string expected: {value!r}")
            raw = value.encode("utf-8")
            return uleb128(len(raw)) + raw
        if t == "bytes":
            if not isinstance(value, bytes | bytearray):
                raise ValueError(f"bytes expected: {type(value).__name__}")
            return uleb128(len(value)) + bytes(value)
        raise ValueError(f"unknown BCS type {t!r}")
    if _is_schema(t):
        if not isinstance(value, Mapping):
            raise ValueError(f"struct expected: {type(value).__name__}")
        return encode_struct(value, t)  # type: ignore[arg-type]
    kind, inner = t
    if kind == "option":
        return b"\x00" if value is None else b"\x01" + encode_value(value, inner)
    if kind == "vector":
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            raise ValueError(f"sequence expected: {type(value).__name__}")
        return uleb128(len(value)) + b"".join(encode_value(v, inner) for v in value)
    raise ValueError(f"unknown BCS type {t!r}")


def encode_struct(value: Mapping[str, object], schema: Schema) -> bytes:
    """Encode a mapping as a struct; every schema field must be present, no extra ones."""
    extra = set(value) - {name for name, _ in schema}
    if extra:
        raise ValueError(f"fields not in the schema: {sorted(extra)}")
    parts = []
    for name, t in schema:
        if name not in value:
            raise ValueError(f"missing field {name!r}")
        parts.append(encode_value(value[name], t))
    return b"".join(parts)
