"""Optimisation figures computed from real model files, and the commands offered per format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from torch_files import torch_pickle, torch_zip

from agent.journey_files import make_model_file
from agent.replies import render
from flows.optimise import optimisation_plan

MIB = 1024 * 1024


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
    values = np.arange(6, dtype=np.float32)
    path = torch_zip(tmp_path / "classifier.pt", torch_pickle(6), values.tobytes())
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
