"""Optimisation figures computed from real model files, and the commands offered per format."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
from safetensors.numpy import save_file

from agent.journey_files import make_model_file
from agent.replies import render
from flows.optimise import optimisation_plan

MIB = 1024 * 1024


def _u(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _torch_zip(path: Path, values: npt.NDArray[np.float32]) -> Path:
    """A torch.save-style archive of one float32 tensor, written opcode by opcode."""
    numel = int(values.size)
    persid = (
        (b"(" + _u("storage") + b"ctorch\nFloatStorage\n" + _u("0") + _u("cpu") + b"J")
        + struct.pack("<i", numel)
        + b"tQ"
    )
    tensor = (
        b"ctorch._utils\n_rebuild_tensor_v2\n(" + persid + b"K\x00(K\x02K\x03t(K\x03K\x01t\x89"
        b"ccollections\nOrderedDict\n)Rt" + b"R"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}(" + _u("weight") + tensor + b"u.")
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", values.astype(np.float32).tobytes())
        z.writestr("archive/version", "3\n")
    return path


def test_an_fp16_safetensors_file_is_no_smaller_in_fp16_but_is_in_int8(tmp_path: Path) -> None:
    path = tmp_path / "half.safetensors"
    save_file({"w": np.zeros((512, 512), dtype=np.float16)}, str(path))
    plan = optimisation_plan(path, "safetensors", chunk_size=MIB)
    size = path.stat().st_size
    assert plan["float_dtype"] == "float16" and plan["parameter_count"] == 512 * 512
    assert plan["fp16_bytes"] == size  # half precision already: nothing to gain
    assert plan["int8_bytes"] == size - 512 * 512
    text = render("compression_recommendation", {**plan, "threshold": 100_000}, "beginner")
    assert "no smaller in fp16/bf16 (its weights are half precision already)" in text
    assert "in int8 (50% smaller)" in text and "—" not in text
    assert "v.half()" in plan["fp16_command"] and plan["onnx_command"] == ""


def test_an_onnx_file_gets_fp16_and_int8_commands_on_itself(tmp_path: Path) -> None:
    path = make_model_file(tmp_path / "vision.onnx", "onnx", size_mb=2)
    plan = optimisation_plan(path, "onnx", chunk_size=MIB)
    assert plan["float_dtype"] == "float32" and plan["fp16_saving_pct"] == 50
    assert plan["onnx_command"] == ""  # it is ONNX already
    assert "onnx.load('vision.onnx')" in plan["fp16_command"]
    assert "quantize_dynamic('vision.onnx', 'vision-int8.onnx'" in plan["int8_command"]
    assert plan["chunk_count"] == -(-path.stat().st_size // MIB)


def test_a_pytorch_archive_gets_the_onnx_export_command(tmp_path: Path) -> None:
    path = _torch_zip(tmp_path / "classifier.pt", np.arange(6, dtype=np.float32))
    plan = optimisation_plan(path, "pytorch_zip", chunk_size=MIB)
    assert plan["onnx_framework"] == "pytorch" and plan["parameter_count"] == 6
    assert (
        "torch.onnx.export(m, torch.randn(1, 3, 224, 224), 'classifier.onnx'"
        in (plan["onnx_command"])
    )
    assert plan["fp16_bytes"] == path.stat().st_size - 12  # six float32 weights, two bytes each
    steps = render("optimisation_steps", dict(plan), "intermediate")
    assert steps.index("Export to ONNX") < steps.index("Halve it (fp16)")
    assert "onnx.load('classifier.onnx')" in steps and "'upload classifier-fp16.onnx'" in steps
