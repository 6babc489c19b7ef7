"""The single pass that hashes a file and reads its tensors: blocks never split a value."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect import inspect_model
from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.safetensors_reader import read_safetensors
from integrations.tee.inspect.scan import scan_file


def _reference(arrays: list[np.ndarray]) -> np.ndarray:
    values = np.concatenate([a.astype(np.float64).reshape(-1) for a in arrays])
    finite: np.ndarray = values[np.isfinite(values)]
    return finite


def _unaligned_safetensors(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """A valid safetensors file whose data area starts at an odd offset (no padding)."""
    header: dict[str, object] = {"__metadata__": {"k": "v"}}
    offset = 0
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.float64): "F64"}
    names[np.dtype(np.int64)] = "I64"
    for name, a in arrays.items():
        header[name] = {
            "dtype": names[a.dtype],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    raw = json.dumps(header).encode()
    if len(raw) % 2 == 0:
        raw += b" "
    path.write_bytes(
        struct.pack("<Q", len(raw)) + raw + b"".join(a.tobytes() for a in arrays.values())
    )
    return path


@pytest.mark.parametrize("block", [8, 24, 4096, 8 * 1024 * 1024])
@pytest.mark.parametrize("writer", ["safetensors", "unaligned"])
def test_any_block_size_gives_the_same_figures(tmp_path: Path, block: int, writer: str) -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal(1001).astype(np.float32)
    a[5] = np.nan
    b = rng.standard_normal(333).astype(np.float16)
    b[0] = np.inf
    c64 = rng.standard_normal(77) * 3 + 1
    arrays: dict[str, np.ndarray] = {"b": b, "a": a, "i": np.arange(9), "c": c64}
    path = tmp_path / "m.safetensors"
    if writer == "safetensors":
        save_file(arrays, str(path), metadata={"k": "v"})
    else:
        _unaligned_safetensors(path, arrays)
        assert (8 + struct.unpack("<Q", path.read_bytes()[:8])[0]) % 2 == 1
    with safe_open(str(path), framework="np") as f:  # the library reads what we scan
        assert np.array_equal(f.get_tensor("c"), c64)
    collector = Collector(max_stats_bytes=1 << 40)
    read_safetensors(path, collector)
    digest = scan_file(path, collector, block=block)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    finite = _reference([a, b, c64])
    stats = collector.acc.result()
    assert stats is not None and stats.count == finite.size
    assert stats.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert stats.std == pytest.approx(finite.std(), rel=1e-12)
    assert (stats.min, stats.max) == (finite.min(), finite.max())
    assert (collector.acc.nan, collector.acc.inf) == (1, 1)


def test_bfloat16_values_are_widened(tmp_path: Path) -> None:
    values = np.array([1.5, -2.0, 0.25, 3.0], dtype=np.float32)
    raw_bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path = tmp_path / "m"
    path.write_bytes(struct.pack("<Q", len(header)) + header + raw_bf16)
    report = inspect_model(path)
    assert report.weight_stats is not None
    assert report.weight_stats.mean == pytest.approx(values.mean())
    assert (report.weight_stats.min, report.weight_stats.max) == (-2.0, 3.0)


def test_progress_reaches_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"w": np.ones(50_000, np.float32)}, str(path))
    seen: list[float] = []
    inspect_model(path, on_progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_a_file_that_shrinks_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"w": np.ones(1000, np.float32)}, str(path))
    collector = Collector(max_stats_bytes=1 << 40)
    read_safetensors(path, collector)
    path.write_bytes(path.read_bytes()[:-100])  # cut after the header was parsed
    with pytest.raises(InvalidModelFormat, match=r"cannot hold|shrank"):
        scan_file(path, collector)
