"""PyTorch checkpoints for the inspection tests, written opcode by opcode (torch is not
needed): ``torch.save``'s zip archive and its legacy single-stream format, each holding one
float32 tensor named ``weight``."""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path


def pickle_str(s: str) -> bytes:
    """A pickle BINUNICODE opcode pushing ``s``."""
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def torch_pickle(numel: int, extra_global: bytes = b"") -> bytes:
    """``torch.save``'s data.pkl: ``{"weight": <float tensor of numel values>}``, with
    ``extra_global`` (opcodes pushing one more key and value) added to the dict."""
    persid = (
        b"("
        + pickle_str("storage")
        + b"ctorch\nFloatStorage\n"
        + pickle_str("0")
        + pickle_str("cpu")
        + b"J"
        + struct.pack("<i", numel)
        + b"tQ"
    )
    tensor = (
        b"ctorch._utils\n_rebuild_tensor_v2\n(" + persid + b"K\x00(K\x02K\x03t(K\x03K\x01t\x89"
        b"ccollections\nOrderedDict\n)Rt" + b"R"
    )
    return b"\x80\x02}(" + pickle_str("weight") + tensor + extra_global + b"u."


def torch_zip(path: Path, pkl: bytes, data: bytes) -> Path:
    """A ``torch.save`` zip archive with ``pkl`` as its data.pkl and ``data`` as storage 0."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", data)
        z.writestr("archive/version", "3\n")
    return path


def torch_legacy(path: Path, data: bytes, numel: int) -> Path:
    """A legacy (pre-zip) ``torch.save`` file: magic, protocol, sys info, data.pkl, then the
    storage keys and storage 0 (``numel`` values, ``data``)."""
    path.write_bytes(
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
        + pickle.dumps(1001, protocol=2)
        + pickle.dumps({"little_endian": True}, protocol=2)
        + torch_pickle(numel)
        + pickle.dumps(["0"], protocol=2)
        + struct.pack("<q", numel)
        + data
    )
    return path
