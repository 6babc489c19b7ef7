"""The enclave signs real inspections in the Nautilus format and refuses bad models."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

from integrations.errors import VerificationFailed
from integrations.tee.enclave import Enclave
from integrations.tee.failures import ModelRejected
from integrations.tee.inspect import inspect_model
from integrations.tee.port import VerificationRequest
from integrations.tee.quality import AccuracyMetrics, score_quality
from integrations.tee.signing import ML_QUALITY_RESPONSE, intent_message_bytes
from integrations.tee.signing import verify_intent_signature as verify


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo hi",))


def _enclave(tmp_path: Path, blobs: dict[str, Path]) -> Enclave:
    async def fetch(blob_id: str, dest: Path) -> None:
        shutil.copyfile(blobs[blob_id], dest)

    return Enclave(fetch, workdir=tmp_path / "work", clock_ms=lambda: 1_744_041_600_000)


def _model(tmp_path: Path) -> Path:
    path = tmp_path / "m.safetensors"
    save_file({"w": np.linspace(-1, 1, 100, dtype=np.float32)}, str(path), {"format": "np"})
    return path


async def test_process_signs_a_checkable_result(tmp_path: Path) -> None:
    model = _model(tmp_path)
    enclave = _enclave(tmp_path, {"b1": model})
    seen: list[float] = []
    signed = await enclave.process(
        VerificationRequest(model_blob_id="b1"), on_progress=lambda f, _m: seen.append(f)
    )
    msg = intent_message_bytes(0, signed.timestamp_ms, signed.data, ML_QUALITY_RESPONSE)
    assert verify(enclave.public_key, msg, signed.signature)
    assert signed.data["model_hash"] == inspect_model(model).sha256
    assert signed.data["security_assessment"] == "passed"
    assert signed.data["accuracy_metrics"] == dict.fromkeys(
        ("precision", "recall", "f1_score", "auc", "rmse", "mae")
    )
    assert signed.data["quality_score"] == 100
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert not list((tmp_path / "work").iterdir())  # fetched files are removed


async def test_dangerous_model_is_rejected_with_findings(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_Evil(), protocol=4))
    enclave = _enclave(tmp_path, {"bad": evil})
    with pytest.raises(ModelRejected) as caught:
        await enclave.process(VerificationRequest(model_blob_id="bad"))
    assert isinstance(caught.value, VerificationFailed)
    assert "posix.system" in caught.value.findings[0]


async def test_invalid_model_is_rejected(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello world, not a model")
    with pytest.raises(ModelRejected, match="not a recognized"):
        await _enclave(tmp_path, {"j": junk}).process(VerificationRequest(model_blob_id="j"))


def test_debug_info(tmp_path: Path) -> None:
    info = _enclave(tmp_path, {}).info()
    assert info.debug and info.pcrs == ("00" * 48,) * 3
    assert b"satya-local-debug-attestation" in bytes.fromhex(info.attestation)


def test_rubric_never_fills_unmeasured(tmp_path: Path) -> None:
    report = inspect_model(_model(tmp_path), max_tensor_stats_bytes=0)
    quality = score_quality(report, None)
    assert set(quality.not_measured) == {"numeric_health", "accuracy"}
    assert "numeric_health" not in quality.components
    with_acc = score_quality(report, AccuracyMetrics(f1_score=5000, samples=10))
    assert with_acc.components["accuracy"] == 8 and with_acc.score < quality.score


def test_nan_weights_lose_points(tmp_path: Path) -> None:
    path = tmp_path / "nan.safetensors"
    save_file({"w": np.full(10, np.nan, np.float32)}, str(path))
    quality = score_quality(inspect_model(path), None)
    assert quality.components["numeric_health"] == 0


async def test_onnx_accuracy_on_a_dataset(tmp_path: Path) -> None:
    # y = argmax(x @ I): a perfect two-class classifier
    w = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        [w],
    )
    model = tmp_path / "clf.onnx"
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(proto, str(model))
    data = tmp_path / "d.npz"
    x = np.array([[1, 0], [0, 1], [2, 0], [0, 3]], np.float32)
    np.savez(data, x=x, y=np.array([0, 1, 0, 1]))
    enclave = _enclave(tmp_path, {"m": model, "d": data})
    signed = await enclave.process(VerificationRequest(model_blob_id="m", dataset_blob_id="d"))
    acc = signed.data["accuracy_metrics"]
    assert isinstance(acc, dict) and acc["f1_score"] == 10_000
    assert signed.data["dataset_format"] == "npz" and len(str(signed.data["dataset_hash"])) == 64


async def test_onnx_accuracy_with_mistakes_is_scaled_by_ten_thousand(tmp_path: Path) -> None:
    # argmax(x @ I) over five rows; predictions [0, 1, 0, 1, 1] against labels [0, 1, 1, 1, 0]:
    # class 0: precision 1/2, recall 1/2; class 1: precision 2/3, recall 2/3 -> macro 7/12
    w = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        [w],
    )
    model = tmp_path / "clf.onnx"
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(proto, str(model))
    data = tmp_path / "d.npz"
    x = np.array([[1, 0], [0, 1], [2, 0], [0, 3], [0, 1]], np.float32)
    np.savez(data, x=x, y=np.array([0, 1, 1, 1, 0]))
    enclave = _enclave(tmp_path, {"m": model, "d": data})
    signed = await enclave.process(VerificationRequest(model_blob_id="m", dataset_blob_id="d"))
    acc = signed.data["accuracy_metrics"]
    assert isinstance(acc, dict)
    assert (acc["precision"], acc["recall"], acc["f1_score"]) == (5833, 5833, 5833)
    assert acc["auc"] is None and acc["rmse"] is None  # not measured, not zero


async def test_accuracy_is_not_measured_without_a_dataset(tmp_path: Path) -> None:
    model = tmp_path / "m.safetensors"
    save_file({"w": np.ones(8, np.float32)}, str(model))
    signed = await _enclave(tmp_path, {"m": model}).process(VerificationRequest("m"))
    acc = signed.data["accuracy_metrics"]
    assert isinstance(acc, dict) and set(acc.values()) == {None}
    assert signed.data["dataset_hash"] == "" and signed.data["dataset_format"] == ""
