"""Real model files for scripted journeys, written by the real libraries.

Example::

    make_model_file(tmp / "m.safetensors", "safetensors", size_mb=2)
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Literal

import numpy as np

FileKind = Literal[
    "safetensors",
    "nan_safetensors",
    "nan_safetensors_no_metadata",
    "onnx",
    "keras_h5",
    "malicious_pickle",
    "garbage",
    "truncated_safetensors",
]
_KERAS_CONFIG = (
    '{"class_name": "Sequential", "config": {"name": "sequential", "layers": ['
    '{"class_name": "Dense", "config": {"name": "dense", "units": %d, "activation": "relu"}}]}}'
)


class _Exploit:
    """A pickle payload that would run a shell command if anyone unpickled it (nobody does)."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def make_model_file(path: Path, kind: FileKind, *, size_mb: float = 1.0, seed: int = 0) -> Path:
    """Write a model file of about ``size_mb`` megabytes (10^6 bytes) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = max(16, int(size_mb * 1_000_000 / 4))
    if kind in (
        "safetensors",
        "nan_safetensors",
        "nan_safetensors_no_metadata",
        "truncated_safetensors",
    ):
        from safetensors.numpy import save_file

        side = max(4, int(n**0.5))
        tensors = {
            "encoder.weight": rng.standard_normal((side, side), dtype=np.float32) * 0.02,
            "encoder.bias": np.zeros(side, dtype=np.float32),
            "head.weight": rng.standard_normal((side, 8), dtype=np.float32) * 0.02,
        }
        metadata: dict[str, str] | None = {"format": "pt", "framework": "satya-journey"}
        if kind.startswith("nan_"):  # a training run that diverged: every weight is NaN
            tensors = {k: np.full_like(v, np.nan) for k, v in tensors.items()}
        if kind == "nan_safetensors_no_metadata":
            metadata = None
        save_file(tensors, str(path), metadata=metadata)
        if kind == "truncated_safetensors":
            with path.open("r+b") as fh:
                fh.truncate(path.stat().st_size // 2)
    elif kind == "onnx":
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        side = max(4, int((n // 2) ** 0.5))
        weight = numpy_helper.from_array(rng.standard_normal((side, side)).astype(np.float32), "W")
        node = helper.make_node("MatMul", ["x", "W"], ["y"])
        graph = helper.make_graph(
            [node],
            "journey",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, side])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, side])],
            initializer=[weight],
        )
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    elif kind == "keras_h5":
        _write_keras_h5(path, n)
    elif kind == "malicious_pickle":
        weights = {"w": rng.standard_normal(min(n, 4096)).tolist()}
        with path.open("wb") as fh:
            pickle.dump({"weights": weights, "hook": _Exploit()}, fh)
    elif kind == "garbage":
        path.write_bytes(b"This is not a model, just notes.\n" * max(1, n // 8))
    else:  # pragma: no cover - Literal exhausts the kinds
        raise ValueError(f"unknown file kind {kind!r}")
    return path


def _write_keras_h5(path: Path, elements: int) -> None:
    """A Keras HDF5 model file (Sequential, one Dense layer) written by h5py: attributes and
    groups as Keras writes them, the kernel filled with zeros in slices (memory stays small)."""
    import h5py

    cols = max(4, int(elements**0.5))
    rows = max(4, elements // cols)
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = _KERAS_CONFIG % cols
        layer = f.create_group("model_weights/dense/dense")
        kernel = layer.create_dataset("kernel:0", shape=(rows, cols), dtype="float32")
        step = max(1, (4 * 1024 * 1024) // cols)
        block = np.zeros((step, cols), dtype=np.float32)
        for start in range(0, rows, step):
            stop = min(rows, start + step)
            kernel[start:stop] = block[: stop - start]
        layer.create_dataset("bias:0", data=np.zeros(cols, dtype=np.float32))
