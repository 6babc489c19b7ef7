"""Optimisation advice as a real choice: figures computed from the file, and the commands.

For a file over the size threshold the plan offers to optimise first or to upload
as is. The figures come from the file's own tensor declarations
(``tensor_footprint``): its size with the floating-point weights in fp16/bf16 and
in int8, the chunks it is uploaded in (each under the publisher's body limit),
and for Keras, TensorFlow and PyTorch files the ONNX export, with the command to run.
When the user comes back with the optimised file, its assessment says what changed.

Example::

    plan = optimisation_plan(Path("big.h5"), "keras_h5", chunk_size=8 << 20)
    plan["fp16_bytes"], plan["onnx_command"]
"""

from __future__ import annotations

import math
from pathlib import Path

from flows.state import OptimisationPlan
from integrations.errors import SatyaError
from integrations.storage.walrus import DEFAULT_MAX_BLOB_SIZE
from integrations.tee.inspect.footprint import tensor_footprint
from integrations.tee.inspect.report import ModelFormat

# Public Walrus publishers take at most this much per request (DESIGN.md §4).
PUBLISHER_BODY_LIMIT = DEFAULT_MAX_BLOB_SIZE
_ONNX_EXPORTABLE = {
    "keras_h5": "keras",
    "tf_savedmodel": "tensorflow",
    "pytorch_zip": "pytorch",
    "pytorch_legacy_pickle": "pytorch",
}


def _stem(name: str) -> str:
    return Path(name).stem or "model"


def _commands(name: str, fmt: str) -> tuple[str, str, str, str]:
    """(ONNX export, fp16, int8 commands, the optimised file's name) for this format."""
    stem = _stem(name)
    onnx = ""
    if fmt == "keras_h5":
        onnx = (
            f"pip install tf2onnx && python -m tf2onnx.convert --keras {name} "
            f"--output {stem}.onnx --opset 17"
        )
    elif fmt == "tf_savedmodel":
        onnx = (
            f"pip install tf2onnx && python -m tf2onnx.convert --saved-model {name} "
            f"--output {stem}.onnx --opset 17"
        )
    elif fmt in ("pytorch_zip", "pytorch_legacy_pickle"):
        onnx = (
            f"python -c \"import torch; m = torch.load('{name}', weights_only=False).eval(); "
            f"torch.onnx.export(m, torch.randn(1, 3, 224, 224), '{stem}.onnx', opset_version=17)\""
            "  (use an example input of your model's shape)"
        )
    if fmt == "safetensors":
        fp16 = (
            f'python -c "from safetensors.torch import load_file, save_file; '
            f"t = load_file('{name}'); save_file({{k: v.half() if v.is_floating_point() else v "
            f"for k, v in t.items()}}, '{stem}-fp16.safetensors')\""
        )
        return onnx, fp16, "", f"{stem}-fp16.safetensors"
    if fmt == "gguf":
        return onnx, "", f"llama-quantize {name} {stem}-q8_0.gguf Q8_0", f"{stem}-q8_0.gguf"
    if fmt not in ("onnx", *_ONNX_EXPORTABLE):
        return onnx, "", "", ""
    source = name if fmt == "onnx" else f"{stem}.onnx"  # the exported file, for the others
    fp16 = (
        'pip install onnxconverter-common && python -c "import onnx; '
        "from onnxconverter_common import float16; "
        f"onnx.save(float16.convert_float_to_float16(onnx.load('{source}')), "
        f"'{stem}-fp16.onnx')\""
    )
    int8 = (
        'pip install onnxruntime && python -c "from onnxruntime.quantization import '
        f"quantize_dynamic, QuantType; quantize_dynamic('{source}', '{stem}-int8.onnx', "
        'weight_type=QuantType.QInt8)"'
    )
    return onnx, fp16, int8, f"{stem}-fp16.onnx"


def _saving(size: int, smaller: int) -> int:
    return round(100 * (size - smaller) / size) if size else 0


def optimisation_plan(path: Path, fmt: ModelFormat, *, chunk_size: int) -> OptimisationPlan:
    """What optimising ``path`` would give (see the module docstring)."""
    size = path.stat().st_size
    name = path.name
    onnx, fp16_cmd, int8_cmd, optimised = _commands(name, str(fmt))
    plan: OptimisationPlan = {
        "file_name": name,
        "format": str(fmt),
        "size_bytes": size,
        "chunk_count": max(1, math.ceil(size / chunk_size)),
        "chunk_size_bytes": chunk_size,
        "body_limit_bytes": PUBLISHER_BODY_LIMIT,
        "onnx_framework": _ONNX_EXPORTABLE.get(str(fmt), ""),
        "onnx_command": onnx,
        "fp16_command": fp16_cmd,
        "int8_command": int8_cmd,
        "optimised_name": optimised,
    }
    try:
        fp = tensor_footprint(path, fmt)
    except (SatyaError, KeyError, ValueError):  # declarations unreadable: no figures, say so
        plan["float_dtype"] = ""
        return plan
    widest = fp.widest or ""
    plan["float_dtype"] = widest
    plan["parameter_count"] = sum(fp.float_elements.values())
    if widest:
        plan["fp16_bytes"] = fp.size_at(2)
        plan["int8_bytes"] = fp.size_at(1)
        plan["fp16_saving_pct"] = _saving(size, plan["fp16_bytes"])
        plan["int8_saving_pct"] = _saving(size, plan["int8_bytes"])
    return plan
