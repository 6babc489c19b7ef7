"""Format detection by content (magic bytes and structure), never by file name."""

from __future__ import annotations

import pickletools
import struct
import zipfile
from pathlib import Path

from integrations.tee.inspect.compressed import starts_a_pickle
from integrations.tee.inspect.report import ModelFormat

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GGUF_MAGIC = b"GGUF"
ZIP_MAGIC = b"PK\x03\x04"
# torch.save's legacy format starts with the pickled LONG 0x1950a86a20f9469cfc6c.
TORCH_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
MAX_TEXT_PICKLE = 16 * 1024 * 1024
_ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}


def sniff_format(path: Path) -> ModelFormat:
    """Name the model format of ``path`` from its first bytes and structure.

    Reads at most a few KiB (plus a zip's central directory). A directory is
    a TensorFlow SavedModel when it holds ``saved_model.pb``.

    Example::

        >>> sniff_format(Path("weights.bin"))   # a safetensors file, whatever its name
        'safetensors'
    """
    if path.is_dir():
        return "tf_savedmodel" if (path / "saved_model.pb").is_file() else "unknown"
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"\x93NUMPY"):
        return "numpy"
    if head.startswith(GGUF_MAGIC):
        return "gguf"
    if any(head[o : o + 8] == HDF5_MAGIC for o in (0, 512, 1024, 2048)):
        return "keras_h5"
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(path)
    # Before the pickle check: a header length such as 0x0280 starts with b"\x80\x02".
    if _looks_like_safetensors(path, head, size):
        return "safetensors"
    if len(head) >= 2 and head[0] == 0x80 and 1 <= head[1] <= 5:
        return "pytorch_legacy_pickle" if head[2:14] == TORCH_LEGACY_MAGIC else "pickle"
    if _looks_like_onnx(head, size):
        return "onnx"
    if starts_a_pickle(path, head):  # joblib.dump(..., compress=...)
        return "pickle"
    if size <= MAX_TEXT_PICKLE and _is_text_pickle(path):
        return "pickle"
    return "unknown"


def _is_text_pickle(path: Path) -> bool:
    """A protocol-0/1 pickle has no magic: it is one if it disassembles to its STOP."""
    data = path.read_bytes()
    if not data.endswith(b"."):
        return False
    try:
        last = ""
        for op, _, _ in pickletools.genops(data):
            last = op.name
    except Exception:  # pickletools raises ValueError and friends on junk
        return False
    return last == "STOP"


def _sniff_zip(path: Path) -> ModelFormat:
    """A zip is a PyTorch archive (``*/data.pkl``) or a zipped SavedModel."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return "unknown"  # NotImplementedError: a damaged header naming an unknown zip version
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return "pytorch_zip"
    if any(n == "saved_model.pb" or n.endswith("/saved_model.pb") for n in names):
        return "tf_savedmodel"
    if names and all(n.endswith(".npy") for n in names):
        return "numpy_npz"
    return "unknown"


def _looks_like_safetensors(path: Path, head: bytes, size: int) -> bool:
    """An 8-byte little-endian header length, then a JSON object (``{`` ... ``}``,
    optionally space-padded) that fits in the file. A header length past the end
    of the file still counts, so the reader can say what is wrong with it."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if not (2 <= n <= MAX_SAFETENSORS_HEADER and head[8:9] == b"{"):
        return False
    if n > size - 8:
        return True
    with path.open("rb") as f:
        f.seek(max(8, 8 + n - 64))
        tail = f.read(8 + n - f.tell())
    return tail.rstrip(b" ").endswith(b"}")


def _looks_like_onnx(head: bytes, size: int) -> bool:
    """A protobuf ``ModelProto``: ir_version first, then only known top-level fields."""
    if len(head) < 4 or head[0] != 0x08 or not 1 <= head[1] <= 30:
        return False
    pos, seen = 0, 0
    while pos < len(head):
        try:
            key, pos = _varint(head, pos)
        except IndexError:
            return seen >= 2
        field, wire = key >> 3, key & 7
        if _ONNX_FIELDS.get(field) != wire:
            return False
        seen += 1
        try:
            value, pos = _varint(head, pos)
        except IndexError:
            return seen >= 2
        if wire == 2:
            if pos + value > size:  # a field past the end: a truncated model, if it began as one
                return seen >= 2
            pos += value
    return seen >= 2


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a protobuf varint at ``pos``; ``IndexError`` if it runs off the buffer."""
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")
