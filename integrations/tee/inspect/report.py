"""The inspection report: what was found in a model file, as plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ModelFormat = Literal[
    "safetensors",
    "onnx",
    "pytorch_zip",
    "pytorch_legacy_pickle",
    "keras_h5",
    "gguf",
    "tf_savedmodel",
    "pickle",
    "numpy",
    "numpy_npz",
    "unknown",
]
Severity = Literal["info", "warning", "critical"]

MAX_SHAPES = 20


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation; ``critical`` ones make the model dangerous."""

    severity: Severity
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class WeightStats:
    """Statistics over the finite values of the floating-point tensors that were read."""

    mean: float
    std: float
    min: float
    max: float
    count: int


@dataclass(frozen=True, slots=True)
class InspectionReport:
    """Everything ``inspect_model`` learned about one file.

    ``None`` means "not measured" (e.g. ``parameter_count`` of a bare pickle, or
    ``nan_count`` when no tensor values could be read) — never zero by default.
    ``layout_verified`` is true when every tensor's byte range was checked
    against the file. ``stats_bytes`` is how many tensor bytes fed the numeric
    figures (bounded by ``max_tensor_stats_bytes``); ``tensor_bytes`` the total.

    Example::

        report = inspect_model(Path("model.safetensors"))
        if report.dangerous:
            print([f.message for f in report.findings if f.severity == "critical"])
    """

    format: ModelFormat
    file_size: int
    sha256: str
    tensor_count: int | None
    parameter_count: int | None
    dtypes: dict[str, int]
    shapes: tuple[tuple[str, tuple[int, ...]], ...]
    nan_count: int | None
    inf_count: int | None
    weight_stats: WeightStats | None
    metadata: dict[str, str]
    findings: tuple[Finding, ...]
    dangerous: bool
    elapsed_s: float
    layout_verified: bool = False
    tensor_bytes: int | None = None
    stats_bytes: int = 0

    @property
    def critical_findings(self) -> tuple[Finding, ...]:
        """The findings that make the model dangerous."""
        return tuple(f for f in self.findings if f.severity == "critical")
