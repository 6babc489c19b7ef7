"""``inspect_model``: sniff, digest and parse one model file into an ``InspectionReport``."""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np

from integrations.errors import FileProblem, InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.digest import sha256_file, sha256_tree, tree_size
from integrations.tee.inspect.gguf_reader import read_gguf
from integrations.tee.inspect.keras_reader import read_keras_h5
from integrations.tee.inspect.numpy_reader import read_npy, read_npz
from integrations.tee.inspect.onnx_reader import read_onnx
from integrations.tee.inspect.pickle_reader import read_pickle
from integrations.tee.inspect.pytorch_reader import read_pytorch_legacy, read_pytorch_zip
from integrations.tee.inspect.report import InspectionReport, ModelFormat
from integrations.tee.inspect.safetensors_reader import read_safetensors
from integrations.tee.inspect.savedmodel_reader import read_savedmodel
from integrations.tee.inspect.scan import scan_file
from integrations.tee.inspect.sniff import sniff_format

DEFAULT_MAX_TENSOR_STATS_BYTES = 2 * 1024 * 1024 * 1024

_READERS: dict[ModelFormat, Callable[[Path, Collector], None]] = {
    "safetensors": read_safetensors,
    "onnx": read_onnx,
    "pytorch_zip": read_pytorch_zip,
    "pytorch_legacy_pickle": read_pytorch_legacy,
    "keras_h5": read_keras_h5,
    "gguf": read_gguf,
    "tf_savedmodel": read_savedmodel,
    "pickle": read_pickle,
    "numpy": read_npy,
    "numpy_npz": read_npz,
}
# Readers that only parse a header and plan tensor byte ranges for ``scan_file``.
_SCANNED: frozenset[ModelFormat] = frozenset({"safetensors", "gguf"})


def inspect_model(
    path: Path,
    *,
    max_tensor_stats_bytes: int = DEFAULT_MAX_TENSOR_STATS_BYTES,
    on_progress: Callable[[float], None] | None = None,
) -> InspectionReport:
    """Inspect a model file without executing any of it.

    The whole inspection costs about one pass over the bytes: for safetensors
    and GGUF each block is read once, hashed in a worker thread and fed to the
    statistics beside it (``scan.scan_file``); for other formats the SHA-256 is
    streamed in a worker thread while the format reader parses the file.
    Tensor statistics cover at most ``max_tensor_stats_bytes`` of tensor data
    (tensors past the budget are counted, not read; a finding says so).
    ``on_progress`` receives the hashed fraction (0..1), from the worker thread.

    Raises ``FileProblem`` when the path is missing and ``InvalidModelFormat``
    (one-sentence reason) when the file is not a well-formed model.

    Example::

        report = inspect_model(Path("model.safetensors"))
        print(report.format, report.parameter_count, report.dangerous)
    """
    started = time.perf_counter()
    if not path.exists():
        raise FileProblem(f"{path.name} does not exist.")
    if not (path.is_file() or path.is_dir()):
        raise FileProblem(f"{path.name} is not a regular file or directory.")
    if path.is_file() and path.stat().st_size == 0:
        raise FileProblem(
            f"{path.name} is empty (0 bytes).",
            hint="Export or copy the model again; an interrupted copy often leaves an empty file.",
        )
    fmt = sniff_format(path)
    if fmt == "unknown" and path.is_dir():
        raise FileProblem(
            f"{path.name} is a directory without a TensorFlow SavedModel (saved_model.pb) in it.",
            hint="Name the model file inside it, or the SavedModel directory itself.",
        )
    if fmt == "unknown":
        raise InvalidModelFormat(
            f"{path.name} is not a recognized model format "
            "(safetensors, ONNX, PyTorch, Keras HDF5, GGUF, SavedModel)."
        )
    total = tree_size(path) if path.is_dir() else path.stat().st_size

    def progress(done: int) -> None:
        if on_progress is not None and total:
            on_progress(min(1.0, done / total))

    collector = Collector(max_stats_bytes=max_tensor_stats_bytes)
    # NaN and Inf weights are counted and reported in words, never warned about on stderr
    with np.errstate(all="ignore"):
        if fmt in _SCANNED and path.is_file():
            # Parse the header (cheap), then one pass hashes and reads the planned tensors.
            _parse(fmt, path, collector)
            sha256 = _guarded(fmt, path, lambda: scan_file(path, collector, on_bytes=progress))
        else:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as pool:
                hasher = sha256_tree if path.is_dir() else sha256_file
                digest = pool.submit(hasher, path, on_bytes=progress)
                _parse(fmt, path, collector)
                sha256 = digest.result()
    return _finish(collector, fmt, total, sha256, time.perf_counter() - started)


def check_layout(path: Path, fmt: ModelFormat) -> None:
    """Cheap structural check before an upload: the header's declared layout must fit the file.

    For safetensors and GGUF only the header is read (a truncated or padded file,
    a header longer than the file, absurd sizes fail here with one-sentence
    reasons, as ``InvalidModelFormat``). Other formats are checked in full by the
    enclave; nothing is done for them here.
    """
    if fmt in _SCANNED and path.is_file():
        _parse(fmt, path, Collector(max_stats_bytes=0))


T = TypeVar("T")
# zip and zlib (PyTorch, npz, SavedModel zips), h5py (RuntimeError, KeyError, ValueError on a
# broken object header), struct and EOF errors from short reads, recursion on nesting
_DAMAGED = (
    OSError,
    MemoryError,
    OverflowError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    RuntimeError,
    KeyError,
    ValueError,
    IndexError,
)


def _parse(fmt: ModelFormat, path: Path, c: Collector) -> None:
    """Run the format's reader, turning low-level failures into a clear reason."""
    _guarded(fmt, path, lambda: _READERS[fmt](path, c))


def _guarded(fmt: ModelFormat, path: Path, work: Callable[[], T]) -> T:
    """``work()``, a damaged file's library error turned into ``InvalidModelFormat``."""
    try:
        return work()
    except InvalidModelFormat:
        raise
    except _DAMAGED as exc:  # what the libraries raise on a damaged file (found by fuzzing)
        raise InvalidModelFormat(
            f"{path.name} could not be parsed as {fmt}: it is damaged or cut short "
            f"({type(exc).__name__})."
        ) from exc


def nan_words(nan: int, inf: int) -> str:
    """'69 weights are NaN (not a number) and 1 is infinite: …' in plain words."""
    parts = []
    if nan:
        parts.append(f"{nan:,} weight{'s are' if nan != 1 else ' is'} NaN (not a number)")
    if inf:
        what = "" if nan else f" weight{'s' if inf != 1 else ''}"
        parts.append(f"{inf:,}{what} {'are' if inf != 1 else 'is'} infinite")
    return (
        " and ".join(parts) + ": the model gives NaN wherever they are used. "
        "Retrain it, or fix those weights, before publishing."
    )


def _finish(
    c: Collector, fmt: ModelFormat, size: int, sha256: str, elapsed: float
) -> InspectionReport:
    """Freeze the collector into a report, adding the budget and NaN/Inf findings if needed."""
    if c.values_read and (c.acc.nan or c.acc.inf):
        c.finding("warning", "nan_weights", nan_words(c.acc.nan, c.acc.inf))
    if c.skipped_for_budget:
        c.finding(
            "info",
            "stats_budget",
            f"{c.skipped_for_budget} tensors were past the statistics budget and not read.",
        )
    return InspectionReport(
        format=fmt,
        file_size=size,
        sha256=sha256,
        tensor_count=c.tensor_count,
        parameter_count=c.parameter_count,
        dtypes=dict(c.dtypes),
        shapes=tuple(c.shapes),
        nan_count=c.acc.nan if c.values_read else None,
        inf_count=c.acc.inf if c.values_read else None,
        weight_stats=c.acc.result(),
        metadata=dict(c.metadata),
        findings=tuple(c.findings),
        dangerous=any(f.severity == "critical" for f in c.findings),
        elapsed_s=elapsed,
        layout_verified=c.layout_verified,
        tensor_bytes=c.tensor_bytes,
        stats_bytes=c.stats_bytes,
    )
