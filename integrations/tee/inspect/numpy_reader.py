"""NumPy containers: ``.npy`` (one array) and ``.npz`` (a zip of them), parsed, never loaded.

An array of numbers is a tensor (dtype, shape, size). An array of Python objects is stored
as a pickle after the header: it is scanned like any pickle, so a dangerous import in it
is named (``numpy.load(allow_pickle=True)`` would run it).
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path
from typing import IO

import numpy as np

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.pickle_reader import report_scan
from integrations.tee.inspect.pickle_scan import PickleScan, scan_pickle
from integrations.tee.inspect.zip_guard import check_zip, open_zip

NPY_MAGIC = b"\x93NUMPY"
MAX_HEADER = 1024 * 1024


def read_npy(path: Path, c: Collector) -> None:
    """One ``.npy`` array."""
    scan = PickleScan()
    with path.open("rb") as f:
        _read_array(f, path.name, path.stat().st_size, c, scan)
    _report(scan, c)


def read_npz(path: Path, c: Collector) -> None:
    """Every ``.npy`` member of an ``.npz`` archive."""
    scan = PickleScan()
    with open_zip(path) as archive:
        check_zip(archive, path.stat().st_size)
        members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
        if not members:
            raise InvalidModelFormat(f"{path.name} is a zip without .npy arrays in it.")
        for info in members:
            with archive.open(info) as f:
                _read_array(f, info.filename[:-4], info.file_size, c, scan)
    _report(scan, c)


def _report(scan: PickleScan, c: Collector) -> None:
    if scan.imports or scan.unsafe:
        report_scan(scan, c)
        c.finding(
            "warning",
            "pickle_format",
            "Arrays of Python objects are pickles and can run code when loaded; "
            "store numbers only (or safetensors).",
        )


def _read_array(f: IO[bytes], name: str, size: int, c: Collector, scan: PickleScan) -> None:
    head = f.read(8)
    if len(head) < 8 or not head.startswith(NPY_MAGIC):
        raise InvalidModelFormat(f"{name} is not a NumPy array (.npy).")
    major = head[6]
    width = 2 if major == 1 else 4
    raw_len = f.read(width)
    if len(raw_len) != width:
        raise InvalidModelFormat(f"{name}: the NumPy header is cut short.")
    header_len = struct.unpack("<H" if width == 2 else "<I", raw_len)[0]
    if header_len > MAX_HEADER:
        raise InvalidModelFormat(f"{name}: the NumPy header is too large ({header_len} bytes).")
    text = f.read(header_len)
    try:
        header = ast.literal_eval(text.decode("latin-1" if major < 3 else "utf-8"))
        dtype = np.dtype(header["descr"]) if isinstance(header["descr"], str) else None
        shape = tuple(int(n) for n in header["shape"])
    except (ValueError, SyntaxError, TypeError, KeyError, MemoryError, RecursionError):
        raise InvalidModelFormat(f"{name}: the NumPy header cannot be read.") from None
    if dtype is None:
        raise InvalidModelFormat(f"{name}: structured NumPy arrays are not supported.")
    if dtype.hasobject:  # a pickle follows: scanned, never loaded
        try:
            scan_pickle(f, scan=scan)
        except ValueError as exc:
            raise InvalidModelFormat(f"{name}: the pickled objects are malformed: {exc}.") from exc
        c.tensor(name, "object", shape, None)
        return
    count = 1
    for n in shape:
        if n < 0:
            raise InvalidModelFormat(f"{name}: the NumPy shape has a negative dimension.")
        count *= n
    nbytes = count * dtype.itemsize
    if nbytes > size:
        raise InvalidModelFormat(f"{name}: the array needs {nbytes} bytes; the file is smaller.")
    c.tensor(name, str(dtype), shape, nbytes)
