"""An ``InspectionReport`` as human text or as JSON-ready values."""

from __future__ import annotations

from dataclasses import asdict

from integrations.tee.inspect.report import InspectionReport

_MARK = {"info": "·", "warning": "!", "critical": "✗"}


def report_to_json(report: InspectionReport) -> dict[str, object]:
    """The report as JSON-ready values (tuples become lists, ``None`` stays ``null``).

    Example::

        json.dumps(report_to_json(inspect_model(Path("m.onnx"))))
    """
    out = asdict(report)
    out["shapes"] = [{"name": n, "shape": list(s)} for n, s in report.shapes]
    out["findings"] = [asdict(f) for f in report.findings]
    return out


def render_report(report: InspectionReport) -> str:
    """The report as a few lines of plain text for a terminal.

    Example::

        print(render_report(inspect_model(Path("model.gguf"))))
    """

    def figure(value: int | None) -> str:
        return "not measured" if value is None else f"{value:,}"

    lines = [
        f"format        {report.format}",
        f"size          {report.file_size:,} bytes",
        f"sha256        {report.sha256}",
        f"tensors       {figure(report.tensor_count)}",
        f"parameters    {figure(report.parameter_count)}",
    ]
    if report.dtypes:
        lines.append(
            "dtypes        " + ", ".join(f"{k} x{v}" for k, v in sorted(report.dtypes.items()))
        )
    lines.append(f"NaN / Inf     {figure(report.nan_count)} / {figure(report.inf_count)}")
    s = report.weight_stats
    if s is not None:
        lines.append(
            f"weights       mean {s.mean:.4g}  std {s.std:.4g}  min {s.min:.4g}  max {s.max:.4g}"
            f"  ({s.count:,} values)"
        )
    else:
        lines.append("weights       not measured")
    for name, shape in report.shapes[:5]:
        lines.append(f"  {name}: {list(shape)}")
    for key, value in list(report.metadata.items())[:12]:
        lines.append(f"meta  {key} = {value}")
    for f in report.findings:
        lines.append(f"{_MARK[f.severity]} {f.severity:<8} {f.code}: {f.message}")
    verdict = "DANGEROUS — do not load this file" if report.dangerous else "no critical findings"
    lines.append(f"verdict       {verdict}  ({report.elapsed_s:.2f} s)")
    return "\n".join(lines)
