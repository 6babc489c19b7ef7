"""ONNX via ``onnx.load`` without external data; initializers counted and read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector

# Protobuf cannot hold more than 2 GiB; larger ONNX files must use external data.
MAX_PROTOBUF_BYTES = 2 * 1024 * 1024 * 1024 - 1


def read_onnx(path: Path, c: Collector) -> None:
    """Load the graph (never its external data) and record initializers, opsets and I/O."""
    size = path.stat().st_size
    if size > MAX_PROTOBUF_BYTES:
        raise InvalidModelFormat("The ONNX file is over the 2 GiB protobuf limit.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise InvalidModelFormat(
            f"The ONNX protobuf does not parse ({type(exc).__name__})."
        ) from exc
    graph = model.graph
    if not graph.node and not graph.initializer:
        raise InvalidModelFormat("The ONNX model has an empty graph.")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # the checker raises ValidationError
        c.finding("warning", "onnx_checker", f"The ONNX checker objects: {str(exc)[:200]}")
    c.meta("ir_version", model.ir_version)
    c.meta("producer_name", model.producer_name)
    c.meta("producer_version", model.producer_version)
    c.meta("opset", ", ".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in model.opset_import))
    c.meta("inputs", ", ".join(i.name for i in graph.input))
    c.meta("outputs", ", ".join(o.name for o in graph.output))
    c.meta("nodes", len(graph.node))
    for prop in model.metadata_props:
        c.meta(f"meta.{prop.key}", prop.value)
    custom = sorted({n.domain for n in graph.node if n.domain not in ("", "ai.onnx", "ai.onnx.ml")})
    if custom:
        c.finding(
            "warning",
            "onnx_custom_domain",
            f"The graph uses custom operator domains: {', '.join(custom)}.",
        )
    external = 0
    c.tensor_count = 0
    c.parameter_count = 0
    for init in graph.initializer:
        dtype = (
            onnx.helper.tensor_dtype_to_np_dtype(init.data_type).name
            if init.data_type != onnx.TensorProto.BFLOAT16
            else "bfloat16"
        )
        numel = int(np.prod(init.dims, dtype=np.int64))
        itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        c.tensor(init.name, dtype, init.dims, numel * itemsize)
        if init.data_location == onnx.TensorProto.EXTERNAL:
            external += 1
            continue
        if dtype in ("float16", "float32", "float64") and c.budget_for(numel * itemsize):
            array = numpy_helper.to_array(init)
            c.values(np.ascontiguousarray(array).reshape(-1), numel * itemsize)
    if external:
        c.finding(
            "info",
            "onnx_external_data",
            f"{external} initializers live in external files and were not read.",
        )
    c.layout_verified = external == 0
