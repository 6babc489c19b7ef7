"""Plain pickles: scanned for imports, never loaded."""

from __future__ import annotations

from pathlib import Path

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.compressed import compression_of, open_pickle
from integrations.tee.inspect.pickle_scan import PickleScan, scan_pickle


def read_pickle(path: Path, c: Collector) -> None:
    """Scan one pickle (decompressed as read when joblib compressed it); its tensors
    cannot be known without running it."""
    with open_pickle(path) as f:
        try:
            scan = scan_pickle(f)
        except ValueError as exc:
            raise InvalidModelFormat(f"The pickle cannot be read: {exc}.") from exc
    with path.open("rb") as f:
        kind = compression_of(f.read(8))
    if kind is not None:
        c.meta("pickle_compression", kind)
    report_scan(scan, c)
    c.finding(
        "warning",
        "pickle_format",
        "Pickle files can run code when loaded; publish safetensors or ONNX instead.",
    )


def report_scan(scan: PickleScan, c: Collector) -> None:
    """Turn a scan into metadata and one critical finding per unsafe import."""
    if scan.protocol is not None:
        c.meta("pickle_protocol", scan.protocol)
    if scan.containers:
        c.meta("pickle_container", ", ".join(scan.containers))
    c.meta("pickle_imports", ", ".join(scan.imports) or "none")
    for ref, why in scan.unsafe:
        c.finding(
            "critical",
            "pickle_unsafe_import",
            f"The pickle imports {ref}, which {why}; loading it would run that code.",
        )
