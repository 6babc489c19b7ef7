"""Uploads expire: each file is kept for a lifetime after its last use, then swept away.

One upload is a folder ``SATYA_HOME/uploads/received/<user>/<upload id>/`` holding::

    <name>        the file (mode 0600)
    <name>.part   the file while it arrives; a request cut off leaves it behind
    .expired      left when the file was removed for age (its name and the lifetime, as
                  JSON), kept a week so that whoever names the upload hears it expired,
                  not that it never existed

**Last use** is the upload folder's modification time. It is set when the file is
complete and set again whenever a run uses the upload: by ``upload_id``, by its name
or path in a message, when a gate answer resumes a thread whose state refers to the
file, and at the end of every run on such a thread (a journey waiting at a gate keeps
its file for a whole lifetime from the moment it stopped there). An upload is removed
once ``last use + lifetime`` has passed: the server does not try to tell whether a
journey will still read the file. A journey needs it only until the upload step has
sent it to storage (a resumed upload re-reads it); verification and listing work from
the stored blob (the enclave fetches the model by its manifest blob id), never from
this copy. Lifetime 0 (``never``) keeps uploads for ever.

**Sweeps** run at start-up and then every quarter of the lifetime (at most hourly).
Several workers may sweep the same home at once: each step tolerates what another
sweeper already removed, and files are only ever unlinked, never rewritten, so nothing
half-written is left. A run that names an upload in the very instant a sweep removes
it may still find it gone, but only if it was left unused for its whole lifetime. A
``.part`` file nobody has written to for an hour (or the lifetime, if shorter) is
removed too, whatever the lifetime: a live upload writes to it continuously.

Example::

    report = sweep(home / "uploads" / "received", ttl_s=24 * 3600)
    report.files, report.bytes     # what this sweep removed
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("satya.server.uploads")

MARKER = ".expired"
PART = ".part"
PARTIAL_AFTER_S = 3600.0  # a cut-off upload's temporary file, at the latest
MARKER_KEPT_S = 7 * 24 * 3600.0
SWEEP_EVERY_AT_MOST_S = 3600.0


@dataclass(slots=True)
class SweepReport:
    """What one sweep removed."""

    expired: int = 0  # uploads removed for age
    files: int = 0  # files removed: expired uploads and stale temporary files
    bytes: int = 0
    partial: int = 0  # of those files, temporary ones of uploads that never completed

    def __str__(self) -> str:
        return (
            f"{self.files} file(s), {self.bytes} bytes: {self.expired} expired upload(s), "
            f"{self.partial} unfinished upload(s)"
        )


@dataclass(frozen=True, slots=True)
class Expired:
    """What the marker of an expired upload says."""

    filename: str
    ttl_h: float | None
    expired_at: float


def hours(ttl_h: float | None) -> str:
    """A lifetime in words: '24 hours', '1 hour', '0.5 hours'."""
    if ttl_h is None:
        return "its lifetime"
    return f"{ttl_h:g} hour" + ("" if ttl_h == 1 else "s")


def sweep_interval(ttl_s: float, every_s: float | None = None) -> float:
    """How often to sweep: ``every_s`` when set, else a quarter of the lifetime, capped."""
    if every_s is not None:
        return every_s
    return min(max(ttl_s / 4, 1.0), SWEEP_EVERY_AT_MOST_S)


def last_use(folder: Path) -> float | None:
    """When the upload in ``folder`` was completed or last used (None: no such folder)."""
    try:
        return folder.stat().st_mtime
    except OSError:
        return None


def touch(folder: Path) -> None:
    """Restart the upload's clock (a folder already swept away stays away)."""
    with contextlib.suppress(OSError):
        os.utime(folder)


def touch_all(folders: Iterable[Path]) -> None:
    for folder in folders:
        touch(folder)


def expired(folder: Path) -> Expired | None:
    """The marker of an upload removed for age, or None if ``folder`` holds none."""
    marker = folder / MARKER
    try:
        raw = marker.read_text(encoding="utf-8")
        stamp = marker.stat().st_mtime
    except OSError:
        return None
    try:  # another sweeper may be writing it this instant: then it says less
        data = json.loads(raw)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    ttl_h = data.get("ttl_h")
    return Expired(
        filename=str(data.get("filename", "")),
        ttl_h=float(ttl_h) if isinstance(ttl_h, int | float) else None,
        expired_at=stamp,
    )


def sweep(root: Path, *, ttl_s: float | None, now: float | None = None) -> SweepReport:
    """Remove uploads under ``root`` (``<user>/<upload id>/``) unused for ``ttl_s``
    (None: keep them), temporary files of uploads that never completed, and markers
    older than a week."""
    report = SweepReport()
    if not root.is_dir():
        return report
    now = time.time() if now is None else now
    partial_after = PARTIAL_AFTER_S if ttl_s is None else min(ttl_s, PARTIAL_AFTER_S)
    for folder in root.glob("*/*"):
        with contextlib.suppress(OSError):  # gone already: another sweeper was quicker
            _sweep_one(folder, ttl_s, now, partial_after, report)
    return report


def _sweep_one(
    folder: Path, ttl_s: float | None, now: float, partial_after: float, report: SweepReport
) -> None:
    if not folder.is_dir() or folder.is_symlink():
        return
    used = folder.stat().st_mtime  # before anything below changes it
    entries = [e for e in folder.iterdir() if e.name != MARKER]
    marker = folder / MARKER
    if marker.exists():  # expired: finish a removal another sweep may have begun
        _remove(entries, report)
        if marker.stat().st_mtime < now - MARKER_KEPT_S:
            marker.unlink(missing_ok=True)
            folder.rmdir()
        return
    finished = [e for e in entries if not e.name.endswith(PART) and not e.name.startswith(".")]
    if finished:
        if ttl_s is None or used >= now - ttl_s:
            return
        if _write_marker(marker, finished[0].name, ttl_s):  # else another sweeper's
            report.expired += 1
        _remove(entries, report)
        return
    stale = [e for e in entries if e.name.endswith(PART) and _mtime(e) < now - partial_after]
    report.partial += _remove(stale, report)
    # an empty folder may be an upload that is about to open its file: only an old one goes
    if (stale and len(stale) == len(entries)) or (not entries and used < now - partial_after):
        with contextlib.suppress(OSError):  # an upload may have just begun writing into it
            folder.rmdir()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # gone: nothing to remove


def _write_marker(marker: Path, filename: str, ttl_s: float) -> bool:
    """The marker goes first: a run naming the upload meanwhile hears it expired.
    False when another sweeper wrote it first."""
    body = json.dumps({"filename": filename, "ttl_h": round(ttl_s / 3600, 6)}).encode()
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    return True


def _remove(paths: list[Path], report: SweepReport) -> int:
    removed = 0
    for path in paths:
        try:
            size = path.lstat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
        report.files += 1
        report.bytes += size
    return removed


def logged_sweep(root: Path, ttl_s: float | None) -> SweepReport:
    """``sweep``, logging what it removed (counts and sizes only, never names)."""
    report = sweep(root, ttl_s=ttl_s)
    if report.files:
        log.info("upload sweep removed %s", report)
    else:
        log.debug("upload sweep removed nothing")
    return report


async def sweep_forever(run_sweep: Callable[[], object], every_s: float) -> None:
    """Call ``run_sweep`` in a thread every ``every_s`` seconds until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await asyncio.to_thread(run_sweep)
        except Exception:  # the next sweep tries again
            log.warning("upload sweep failed", exc_info=True)
