"""Model inspection on real files written by the real libraries, and on crafted bad ones."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

import gguf
import h5py
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file
from torch_files import pickle_str, torch_legacy, torch_pickle, torch_zip

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect import inspect_model, render_report, report_to_json, sniff_format


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- safetensors -------------------------------------------------------------------


def _safetensors(tmp_path: Path) -> tuple[Path, np.ndarray]:
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    w[0, 0] = np.nan
    w[0, 1] = np.inf
    path = tmp_path / "weights.bin"  # the name says nothing: content decides
    save_file(
        {"w": w, "steps": np.array([1, 2], dtype=np.int64), "h": np.ones(5, np.float16)},
        str(path),
        metadata={"format": "np", "author": "test"},
    )
    return path, w


def test_safetensors_figures(tmp_path: Path) -> None:
    path, w = _safetensors(tmp_path)
    report = inspect_model(path)
    assert report.format == "safetensors"
    assert report.tensor_count == 3
    assert report.parameter_count == 12 + 2 + 5
    assert report.dtypes == {"float32": 1, "int64": 1, "float16": 1}
    assert report.nan_count == 1 and report.inf_count == 1
    finite = np.concatenate([w[np.isfinite(w)].astype(np.float64), np.ones(5)])
    assert report.weight_stats is not None
    assert report.weight_stats.count == finite.size
    assert report.weight_stats.mean == pytest.approx(finite.mean())
    assert report.weight_stats.std == pytest.approx(finite.std())
    assert report.weight_stats.max == pytest.approx(1.1)
    assert report.sha256 == _sha(path)
    assert report.metadata["author"] == "test"
    assert report.layout_verified and not report.dangerous
    assert ("w", (3, 4)) in report.shapes


def test_sniff_ignores_the_extension(tmp_path: Path) -> None:
    path, _ = _safetensors(tmp_path)
    renamed = path.rename(tmp_path / "model.onnx")
    assert sniff_format(renamed) == "safetensors"


def test_header_length_that_reads_like_a_pickle_opcode(tmp_path: Path) -> None:
    # 640 = 0x0280: the file starts b"\x80\x02", a pickle's PROTO 2 opcode
    for pad in range(0, 700):
        path = tmp_path / f"m{pad}.safetensors"
        save_file({"w": np.ones(3, np.float32)}, str(path), metadata={"pad": "x" * pad})
        if path.read_bytes()[:2] == b"\x80\x02":
            break
        path.unlink()
    else:
        pytest.fail("no metadata length gave a 0x0280-byte header")
    assert sniff_format(path) == "safetensors"
    assert inspect_model(path).parameter_count == 3


def test_stats_budget_zero_measures_nothing(tmp_path: Path) -> None:
    path, _ = _safetensors(tmp_path)
    report = inspect_model(path, max_tensor_stats_bytes=0)
    assert report.weight_stats is None and report.nan_count is None
    assert any(f.code == "stats_budget" for f in report.findings)
    assert report.parameter_count == 19


def test_truncated_safetensors_is_rejected(tmp_path: Path) -> None:
    path, _ = _safetensors(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(InvalidModelFormat, match=r"outside|more data"):
        inspect_model(path)


def _craft_safetensors(path: Path, header: Mapping[str, object], data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_header_length_beyond_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m"
    path.write_bytes(struct.pack("<Q", 5000) + b'{"a": 1}')
    with pytest.raises(InvalidModelFormat, match="claims 5000 bytes"):
        inspect_model(path)


def test_absurd_shape(tmp_path: Path) -> None:
    spec = {"dtype": "F32", "shape": [10**12, 10**12], "data_offsets": [0, 16]}
    path = _craft_safetensors(tmp_path / "m", {"w": spec}, b"\0" * 16)
    with pytest.raises(InvalidModelFormat, match="shape"):
        inspect_model(path)


def test_overlapping_offsets(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }
    path = _craft_safetensors(tmp_path / "m", header, b"\0" * 12)
    with pytest.raises(InvalidModelFormat, match="overlap"):
        inspect_model(path)


def test_unknown_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(os.urandom(64).replace(b"\x80", b"\x00"))
    assert sniff_format(path) == "unknown"
    with pytest.raises(InvalidModelFormat, match="not a recognized"):
        inspect_model(path)


# --- ONNX, GGUF, Keras ---------------------------------------------------------------


def test_onnx_model(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.full((4, 3), 0.5, np.float32), "W")
    b = numpy_helper.from_array(np.zeros(3, np.float32), "B")
    node = helper.make_node("Gemm", ["x", "W", "B"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.producer_name = "tests"
    path = tmp_path / "m.bin"
    onnx.save(model, str(path))
    assert sniff_format(path) == "onnx"
    report = inspect_model(path)
    assert (report.tensor_count, report.parameter_count) == (2, 15)
    assert report.metadata["opset"] == "ai.onnx:17"
    assert report.metadata["inputs"] == "x" and report.metadata["outputs"] == "y"
    assert report.weight_stats is not None and report.weight_stats.max == 0.5
    assert not report.dangerous


def test_truncated_onnx_is_named_and_rejected(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.full((64, 64), 0.5, np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
        [w],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    path.write_bytes(path.read_bytes()[:-5000])
    assert sniff_format(path) == "onnx"
    with pytest.raises(InvalidModelFormat, match="ONNX"):
        inspect_model(path)


def test_gguf_model(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_tensor("tok_embd", np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8))
    writer.add_tensor("norm", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    report = inspect_model(path)
    assert report.format == "gguf"
    assert (report.tensor_count, report.parameter_count) == (2, 72)
    assert report.metadata["general.architecture"] == "llama"
    assert report.metadata["general.name"] == "tiny"
    assert report.weight_stats is not None and report.weight_stats.min == -1.0
    assert report.layout_verified


def test_gguf_truncated(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + struct.pack("<Q", 10**9))
    with pytest.raises(InvalidModelFormat, match="GGUF"):
        inspect_model(path)


def test_gguf_absurd_counts(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 2**40, 0))
    with pytest.raises(InvalidModelFormat, match="over the limits"):
        inspect_model(path)


def _keras(path: Path, layers: list[dict[str, object]]) -> Path:
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(
            {"class_name": "Sequential", "config": {"layers": layers}}
        )
        g = f.create_group("model_weights/dense")
        g.create_dataset("kernel:0", data=np.full((4, 2), 2.0, np.float32))
        g.create_dataset("bias:0", data=np.zeros(2, np.float32))
    return path


def test_keras_h5(tmp_path: Path) -> None:
    report = inspect_model(_keras(tmp_path / "m.h5", [{"class_name": "Dense", "config": {}}]))
    assert report.format == "keras_h5"
    assert (report.tensor_count, report.parameter_count) == (2, 10)
    assert report.metadata["keras_version"] == "2.15.0"
    assert report.weight_stats is not None and report.weight_stats.max == 2.0
    assert not report.dangerous


def test_keras_lambda_layer_is_dangerous(tmp_path: Path) -> None:
    report = inspect_model(_keras(tmp_path / "m.h5", [{"class_name": "Lambda", "config": {}}]))
    assert report.dangerous
    assert report.critical_findings[0].code == "keras_lambda_layer"


# --- pickles ---------------------------------------------------------------------------


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo hi",))


class _EvalEvil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (eval, ("1+1",))


def test_benign_pickle(tmp_path: Path) -> None:
    path = tmp_path / "p"
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0], "name": "x"}))
    report = inspect_model(path)
    assert report.format == "pickle" and not report.dangerous
    assert report.parameter_count is None  # a bare pickle's tensors are not measured
    assert any(f.code == "pickle_format" for f in report.findings)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_os_system_pickle_is_named(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "p"
    path.write_bytes(pickle.dumps({"model": _Evil()}, protocol=protocol))  # never loaded
    assert sniff_format(path) == "pickle"
    report = inspect_model(path)
    assert report.dangerous
    assert "posix.system" in report.critical_findings[0].message


def test_eval_pickle_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p"
    path.write_bytes(pickle.dumps(_EvalEvil(), protocol=2))
    report = inspect_model(path)
    assert report.dangerous
    assert "builtins.eval" in report.critical_findings[0].message


def test_pytorch_zip(tmp_path: Path) -> None:
    values = np.arange(6, dtype=np.float32)
    path = torch_zip(tmp_path / "m.pt", torch_pickle(6), values.tobytes())
    report = inspect_model(path)
    assert report.format == "pytorch_zip" and not report.dangerous
    assert (report.tensor_count, report.parameter_count) == (1, 6)
    assert report.weight_stats is not None and report.weight_stats.mean == 2.5
    assert "torch._utils._rebuild_tensor_v2" in report.metadata["pickle_imports"]


def test_pytorch_zip_with_a_payload(tmp_path: Path) -> None:
    evil = pickle_str("x") + b"csubprocess\nPopen\n(" + pickle_str("id") + b"tR"
    path = torch_zip(tmp_path / "m.pt", torch_pickle(6, evil), bytes(24))
    report = inspect_model(path)
    assert report.dangerous
    assert "subprocess.Popen" in report.critical_findings[0].message


def test_pytorch_zip_storage_size_mismatch(tmp_path: Path) -> None:
    path = torch_zip(tmp_path / "m.pt", torch_pickle(6), bytes(20))
    with pytest.raises(InvalidModelFormat, match="needs 24"):
        inspect_model(path)


def test_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", torch_pickle(6))
        z.writestr("archive/data/0", bytes(20 * 1024 * 1024))
    assert sniff_format(path) == "pytorch_zip"
    with pytest.raises(InvalidModelFormat, match="zip bomb"):
        inspect_model(path)


def test_pytorch_legacy(tmp_path: Path) -> None:
    values = np.arange(6, dtype=np.float32)
    path = torch_legacy(tmp_path / "legacy.bin", values.tobytes(), 6)
    report = inspect_model(path)
    assert report.format == "pytorch_legacy_pickle"
    assert report.parameter_count == 6 and report.layout_verified and not report.dangerous


# --- SavedModel ----------------------------------------------------------------------


def test_savedmodel_directory(tmp_path: Path) -> None:
    root = tmp_path / "sm"
    (root / "variables").mkdir(parents=True)
    (root / "saved_model.pb").write_bytes(b"\x08\x01" + b"\x12\x06MatMul")
    (root / "variables" / "variables.index").write_bytes(b"idx")
    report = inspect_model(root)
    assert report.format == "tf_savedmodel" and not report.dangerous
    assert report.tensor_count is None
    (root / "saved_model.pb").write_bytes(b"\x12\x06PyFunc")
    assert inspect_model(root).dangerous


# --- rendering -------------------------------------------------------------------------


def test_render_and_json(tmp_path: Path) -> None:
    path, _ = _safetensors(tmp_path)
    report = inspect_model(path)
    text = render_report(report)
    assert "safetensors" in text and report.sha256 in text
    as_json = json.loads(json.dumps(report_to_json(report)))
    assert as_json["parameter_count"] == 19
    assert as_json["shapes"][0]["name"] in {"w", "steps", "h"}
