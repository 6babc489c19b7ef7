"""Byte counts in words people read ("9.5 MiB")."""

from __future__ import annotations

MIB = 1024 * 1024
_UNITS = ("KiB", "MiB", "GiB", "TiB")


def human_size(n: int) -> str:
    """``human_size(10 * MIB) == "10.0 MiB"``; plain bytes below 1 KiB."""
    if n < 1024:
        return f"{n} bytes"
    value = n / 1024
    for unit in _UNITS[:-1]:
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} {_UNITS[-1]}"
