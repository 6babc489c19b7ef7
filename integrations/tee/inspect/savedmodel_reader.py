"""TensorFlow SavedModel (a directory or a zip of one): files listed, graph ops scanned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.zip_guard import open_zip

CHUNK = 8 * 1024 * 1024
# NodeDef.op is protobuf field 2: tag 0x12, a one-byte length, then the name.
CRITICAL_OPS = (b"PyFunc", b"EagerPyFunc", b"PyFuncStateless")
WARNING_OPS = (b"WriteFile", b"ReadFile", b"MatchingFiles", b"ShellCommand")


def read_savedmodel(path: Path, c: Collector) -> None:
    """Scan ``saved_model.pb`` for ops that run Python or touch files."""
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        c.meta("files", len(files))
        c.meta("variables_bytes", sum(p.stat().st_size for p in files if "variables" in p.parts))
        with (path / "saved_model.pb").open("rb") as pb:
            _scan_ops(_chunks(pb), c)
    else:
        with open_zip(path) as archive:
            pb_name = next((n for n in archive.namelist() if n.endswith("saved_model.pb")), None)
            if pb_name is None:
                raise InvalidModelFormat("The zip holds no saved_model.pb.")
            c.meta("files", len(archive.namelist()))
            with archive.open(pb_name) as pb:
                _scan_ops(_chunks(pb), c)
    c.finding(
        "info",
        "savedmodel_not_parsed",
        "SavedModel variables are not parsed; tensor figures are not measured.",
    )


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    """Bounded reads with a small overlap so a name split across chunks is still seen."""
    tail = b""
    while block := f.read(CHUNK):
        yield tail + block
        tail = block[-64:]


def _scan_ops(chunks: Iterator[bytes], c: Collector) -> None:
    """Flag ops by their NodeDef encoding."""
    seen: set[bytes] = set()
    for chunk in chunks:
        for op in CRITICAL_OPS + WARNING_OPS:
            if op not in seen and b"\x12" + bytes([len(op)]) + op in chunk:
                seen.add(op)
    for op in sorted(seen):
        name = op.decode()
        if op in CRITICAL_OPS:
            c.finding(
                "critical",
                "savedmodel_python_op",
                f"The graph contains {name}, which runs embedded Python when executed.",
            )
        else:
            c.finding(
                "warning",
                "savedmodel_file_op",
                f"The graph contains {name}, which touches the file system.",
            )
