"""``satya inspect`` on real files and ``satya enclave serve`` as a real process on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import gguf
import h5py
import httpx
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

from agent.cli import main
from integrations.errors import ResultRejected
from integrations.storage.chunked import upload_file
from integrations.storage.local import LocalBlobStore
from integrations.tee.attestation import TrustedEnclaves, verify_result
from integrations.tee.enclave import ATTESTATION_KIND, DEBUG_PCR
from integrations.tee.nautilus import NautilusVerifier
from integrations.tee.port import SignedResult
from integrations.tee.wire import result_of


def _satya(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real ``satya`` entry point in a fresh interpreter, with no SATYA_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_", "SUI_"))}
    env["SATYA_HOME"] = str(cwd / "home")
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _inspect_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["inspect", str(path), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


# --- satya inspect -----------------------------------------------------------------


def test_inspect_safetensors_text_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.safetensors"
    save_file({"w": np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8)}, str(path))
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert "format        safetensors" in text and "parameters    64" in text
    assert "no critical findings" in text
    code, report = _inspect_json(path, capsys)
    assert code == 0
    assert report["format"] == "safetensors" and report["parameter_count"] == 64
    assert report["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report["nan_count"] == 0 and report["dangerous"] is False


def test_inspect_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = numpy_helper.from_array(np.full((4, 3), 0.5, np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [w],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    code, report = _inspect_json(path, capsys)
    assert code == 0 and report["format"] == "onnx" and report["parameter_count"] == 12


def test_inspect_gguf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("tok_embd", np.ones((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    code, report = _inspect_json(path, capsys)
    assert code == 0 and report["format"] == "gguf" and report["tensor_count"] == 1
    assert isinstance(report["metadata"], dict)
    assert report["metadata"]["general.architecture"] == "llama"


def test_inspect_keras_h5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["model_config"] = json.dumps(
            {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}
        )
        f.create_group("model_weights/dense").create_dataset("kernel:0", data=np.ones((3, 2)))
    code, report = _inspect_json(path, capsys)
    assert code == 0 and report["format"] == "keras_h5" and report["parameter_count"] == 6


def test_inspect_savedmodel_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "saved"
    (root / "variables").mkdir(parents=True)
    (root / "saved_model.pb").write_bytes(b"\x08\x01\x12\x06MatMul")
    (root / "variables" / "variables.index").write_bytes(b"index")
    code, report = _inspect_json(root, capsys)
    assert code == 0 and report["format"] == "tf_savedmodel"
    assert report["tensor_count"] is None  # not measured, not zero


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_inspect_malicious_pickle_exits_nonzero_naming_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(pickle.dumps({"state": _Evil()}, protocol=4))  # never loaded
    done = _satya("inspect", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert "posix.system" in done.stdout and "DANGEROUS" in done.stdout
    assert "pwned" not in done.stdout + done.stderr  # the payload did not run


def test_inspect_malformed_file_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.safetensors"
    save_file({"w": np.ones(64, np.float32)}, str(path))
    path.write_bytes(path.read_bytes()[:-16])  # truncated
    assert main(["inspect", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Tensor 'w'" in captured.err


def test_inspect_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    done = _satya("inspect", str(tmp_path / "nope.safetensors"), cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.safetensors does not exist" in done.stderr
    assert "Check the path" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_inspect_an_empty_file_or_a_plain_directory_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "models").mkdir()
    done = _satya("inspect", "empty.onnx", cwd=tmp_path)
    assert done.returncode == 2 and "empty.onnx is empty (0 bytes)" in done.stderr
    done = _satya("inspect", "models", cwd=tmp_path)
    assert done.returncode == 2 and "without a TensorFlow SavedModel" in done.stderr
    assert "convert" not in done.stderr.lower()  # not the conversion advice for a format


# --- satya enclave serve -------------------------------------------------------------


@dataclass(frozen=True)
class _Served:
    url: str
    blob_id: str
    model: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:
    """``satya enclave serve`` on a free loopback port, one model in its blob store."""
    root = tmp_path_factory.mktemp("enclave-serve")
    home = root / "home"
    model = root / "model.safetensors"
    save_file({"w": np.linspace(-2, 2, 4096, dtype=np.float32)}, str(model), {"name": "tiny"})
    uploaded = asyncio.run(
        upload_file(
            LocalBlobStore(home / "blobs"),
            model,
            journal_dir=root / "journal",
            session_key="e2e",
            chunk_size=4096,
        )
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_", "SUI_"))}
    log = root / "serve.log"
    command = [sys.executable, "-m", "agent.cli", "--home", str(home), "enclave", "serve"]
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], cwd=root, env=env, stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"satya enclave serve exited: {log.read_text()}")
            try:
                if httpx.get(url + "/health_check", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("satya enclave serve did not answer /health_check")
            time.sleep(0.1)
        yield _Served(url, uploaded.manifest_blob_id, model)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_ping_and_health(served: _Served) -> None:
    assert httpx.get(served.url + "/").text == "Pong!"
    health = httpx.get(served.url + "/health_check").json()
    assert len(bytes.fromhex(health["pk"])) == 32
    assert health["endpoints_status"] == {"model-inspection": True}


def test_attestation_is_marked_local_debug_with_zero_pcrs(served: _Served) -> None:
    body = httpx.get(served.url + "/get_attestation").json()
    doc = json.loads(bytes.fromhex(body["attestation"]))
    assert doc["kind"] == ATTESTATION_KIND and doc["debug"] is True
    assert "NOT a Nitro attestation" in doc["warning"]
    assert doc["pcrs"] == {"pcr0": DEBUG_PCR, "pcr1": DEBUG_PCR, "pcr2": DEBUG_PCR}
    assert set(DEBUG_PCR) == {"0"} and len(bytes.fromhex(DEBUG_PCR)) == 48
    assert doc["public_key"] == httpx.get(served.url + "/health_check").json()["pk"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"payload": {}},
        {"payload": {"model_blob_id": ""}},
        {"payload": {"model_blob_id": "x", "assessment_type": "Nope"}},
        {"payload": {"model_blob_id": "x", "unexpected": 1}},
    ],
)
def test_bad_input_is_400_with_an_error(served: _Served, body: dict[str, object]) -> None:
    response = httpx.post(served.url + "/process_data", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str) and response.json()["error"]


def test_unknown_blob_is_400_with_an_error(served: _Served) -> None:
    response = httpx.post(
        served.url + "/process_data", json={"payload": {"model_blob_id": "no-such-blob"}}
    )
    assert response.status_code == 400 and response.json()["error"]


async def test_a_stored_model_comes_back_signed_and_verifies(served: _Served) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            served.url + "/process_data", json={"payload": {"model_blob_id": served.blob_id}}
        )
        assert response.status_code == 200, response.text
        verifier = NautilusVerifier(served.url, client=client)
        info = await verifier.info()
    assert info.debug and info.pcrs == (DEBUG_PCR,) * 3
    signed = result_of(response.json(), info.public_key)
    digest = hashlib.sha256(served.model.read_bytes()).hexdigest()
    trusted = TrustedEnclaves.of(info)

    def check(result: SignedResult) -> int:
        return verify_result(
            result,
            trusted=trusted,
            expected_model_digest=digest,
            expected_blob_id=served.blob_id,
            max_age_s=60.0,
            now_ms=time.time_ns() // 1_000_000,
        ).quality_score

    score = check(signed)
    assert signed.data["model_hash"] == digest and signed.data["model_type"] == "safetensors"
    metrics = signed.data["performance_metrics"]
    assert isinstance(metrics, dict)
    assert metrics["file_size_bytes"] == served.model.stat().st_size
    assert (metrics["parameter_count"], metrics["tensor_count"]) == (4096, 1)
    tampered = replace(signed, data={**signed.data, "quality_score": (score + 1) % 101})
    with pytest.raises(ResultRejected, match="tampered"):
        check(tampered)
