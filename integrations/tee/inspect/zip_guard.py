"""Zip archives opened only after their central directory passes bomb checks."""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path

from integrations.errors import InvalidModelFormat

MAX_ENTRIES = 100_000
MAX_ENTRY_RATIO = 100  # uncompressed / compressed, for entries over 1 MiB
MAX_TOTAL_RATIO = 20  # total uncompressed / archive size
_SLACK = 16 * 1024 * 1024


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open ``path`` as a zip, or raise ``InvalidModelFormat`` if it is broken or a bomb.

    Checks, before any member is read: entry count, per-entry and total
    compression ratios, and that no two entries share (overlap) their data.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidModelFormat(f"The zip archive is unreadable ({exc}).") from exc
    try:
        check_zip(archive, path.stat().st_size)
    except InvalidModelFormat:
        archive.close()
        raise
    return archive


def check_zip(archive: zipfile.ZipFile, archive_size: int) -> None:
    """Raise ``InvalidModelFormat`` if the archive's declared sizes look like a zip bomb."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise InvalidModelFormat(f"The zip archive has {len(infos)} entries, over {MAX_ENTRIES}.")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > MAX_ENTRY_RATIO:
            raise InvalidModelFormat(
                f"Zip entry {info.filename!r} expands {ratio}-fold, which looks like a zip bomb."
            )
        if info.header_offset + info.compress_size > archive_size:
            raise InvalidModelFormat(
                f"Zip entry {info.filename!r} points past the end of the file."
            )
    if total > MAX_TOTAL_RATIO * archive_size + _SLACK:
        raise InvalidModelFormat(
            f"The zip archive would expand to {total} bytes from {archive_size}, "
            "which looks like a zip bomb."
        )
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for a, b in itertools.pairwise(ordered):
        if a.header_offset + a.compress_size > b.header_offset:
            raise InvalidModelFormat(
                f"Zip entries {a.filename!r} and {b.filename!r} overlap, "
                "which looks like a zip bomb."
            )
