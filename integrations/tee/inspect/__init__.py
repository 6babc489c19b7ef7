"""Safe model inspection: format sniffing, parsing that never unpickles, statistics.

Example::

    from integrations.tee.inspect import inspect_model, render_report
    report = inspect_model(Path("model.safetensors"))
    print(render_report(report))
"""

from integrations.tee.inspect.inspector import (
    DEFAULT_MAX_TENSOR_STATS_BYTES,
    check_layout,
    inspect_model,
)
from integrations.tee.inspect.render import render_report, report_to_json
from integrations.tee.inspect.report import (
    Finding,
    InspectionReport,
    ModelFormat,
    Severity,
    WeightStats,
)
from integrations.tee.inspect.sniff import sniff_format

__all__ = [
    "DEFAULT_MAX_TENSOR_STATS_BYTES",
    "Finding",
    "InspectionReport",
    "ModelFormat",
    "Severity",
    "WeightStats",
    "check_layout",
    "inspect_model",
    "render_report",
    "report_to_json",
    "sniff_format",
]
