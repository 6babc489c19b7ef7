"""PyTorch checkpoints: the zip archive (``*/data.pkl``) and the legacy pickle stream."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.dtypes import as_floats, is_float
from integrations.tee.inspect.pickle_reader import report_scan
from integrations.tee.inspect.pickle_scan import PickleScan, scan_pickle
from integrations.tee.inspect.zip_guard import open_zip

SLICE_BYTES = 16 * 1024 * 1024
MAX_PICKLE_BYTES = 1024 * 1024 * 1024


def read_pytorch_zip(path: Path, c: Collector) -> None:
    """Scan ``data.pkl`` and read each storage it references from ``data/<key>``."""
    with open_zip(path) as archive:
        pkl = next(
            (
                i
                for i in archive.infolist()
                if i.filename.endswith("data.pkl") and i.filename.count("/") <= 1
            ),
            None,
        )
        if pkl is None:
            raise InvalidModelFormat("The PyTorch archive has no data.pkl.")
        if pkl.file_size > MAX_PICKLE_BYTES:
            raise InvalidModelFormat("The PyTorch archive's data.pkl is over 1 GiB.")
        prefix = pkl.filename[: -len("data.pkl")]
        c.meta("archive_prefix", prefix.rstrip("/"))
        byteorder = prefix + "byteorder"
        if byteorder in archive.namelist():
            order = archive.read(byteorder).decode("ascii", "replace").strip()
            c.meta("byteorder", order)
            if order != "little":
                raise InvalidModelFormat(
                    f"The archive is stored {order}-endian; only little is read."
                )
        with archive.open(pkl) as stream:
            try:
                scan = scan_pickle(stream)
            except ValueError as exc:
                raise InvalidModelFormat(f"data.pkl is not a valid pickle: {exc}.") from exc
        report_scan(scan, c)
        _storages(archive, prefix, scan, c)


def _storages(archive: zipfile.ZipFile, prefix: str, scan: PickleScan, c: Collector) -> None:
    """Check each storage entry's size and feed floating-point ones to the statistics."""
    names = set(archive.namelist())
    c.tensor_count = 0
    c.parameter_count = 0
    c.meta("tensor_count_basis", "storages")
    for key, st in scan.storages.items():
        entry = f"{prefix}data/{key}"
        if entry not in names:
            raise InvalidModelFormat(f"data.pkl references storage {key!r}, which is missing.")
        info = archive.getinfo(entry)
        nbytes = st.numel * st.itemsize
        if info.file_size != nbytes:
            raise InvalidModelFormat(
                f"Storage {key!r} holds {info.file_size} bytes; "
                f"{st.numel} x {st.dtype} needs {nbytes}."
            )
        c.tensor(f"storage/{key}", st.dtype, (st.numel,), nbytes)
        if not is_float(st.dtype) or not nbytes or not c.budget_for(nbytes):
            continue
        with archive.open(info) as data:
            done = 0
            while chunk := data.read(SLICE_BYTES - SLICE_BYTES % 8):
                values = as_floats(np.frombuffer(chunk, dtype=np.uint8), st.dtype)
                if values is None:
                    raise InvalidModelFormat(f"Storage {key!r} has a ragged size.")
                c.values(values, len(chunk))
                done += len(chunk)
    c.layout_verified = bool(scan.storages)


def read_pytorch_legacy(path: Path, c: Collector) -> None:
    """Scan the five leading pickles; check the raw storages that follow add up."""
    size = path.stat().st_size
    with path.open("rb") as f:
        try:
            scan = scan_pickle(f, count=5)
        except ValueError as exc:
            raise InvalidModelFormat(f"The legacy PyTorch pickle is malformed: {exc}.") from exc
    report_scan(scan, c)
    c.tensor_count = 0
    c.parameter_count = 0
    c.meta("tensor_count_basis", "storages")
    expected = 0
    for key, st in scan.storages.items():
        c.tensor(f"storage/{key}", st.dtype, (st.numel,), st.numel * st.itemsize)
        expected += 8 + st.numel * st.itemsize
    remaining = size - scan.end
    if remaining == expected:
        c.layout_verified = True
    else:
        c.finding(
            "warning",
            "legacy_layout",
            f"The raw storages take {remaining} bytes where {expected} were expected.",
        )
    c.finding(
        "info",
        "legacy_values_not_read",
        "Legacy PyTorch storages are counted, not read; re-save with torch.save's zip format.",
    )
