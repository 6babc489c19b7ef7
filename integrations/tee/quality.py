"""The quality rubric: a 0-100 score from what was measured, and only from that.

Components and their maximum points:

==================  ===  ==========================================================
security            gate  any critical finding -> score 0, never passes
format_validity      25  parsed cleanly: 25, minus 5 per warning (floor 10)
integrity            20  every tensor byte range checked: 20; parsed but layout not
                         checkable (pickles, SavedModel): 10
numeric_health       30  measured only when tensor values were read: no NaN/Inf: 30;
                         up to 1e-6 of values non-finite: 15; more: 0; all weights
                         identical (std 0): at most 10
metadata             10  share of the format's expected metadata keys present
accuracy             15  measured only with a dataset: F1 x 15
==================  ===  ==========================================================

The score is ``100 x points / (sum of the maxima of measured components)``:
an unmeasured component is listed in ``not_measured`` and neither helps nor
hurts — no default is ever filled in. A model passes at ``PASS_SCORE`` or more.

Example::

    quality = score_quality(inspect_model(path), None)
    print(quality.score, quality.not_measured)   # 97 ('accuracy',)
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.tee.inspect import InspectionReport

PASS_SCORE = 50
MAXIMA: dict[str, int] = {
    "format_validity": 25,
    "integrity": 20,
    "numeric_health": 30,
    "metadata": 10,
    "accuracy": 15,
}
EXPECTED_METADATA: dict[str, tuple[str, ...]] = {
    "safetensors": ("format",),
    "onnx": ("producer_name", "opset", "inputs", "outputs"),
    "gguf": ("general.architecture", "general.name"),
    "keras_h5": ("keras_version", "backend", "model_class"),
    "pytorch_zip": ("byteorder",),
    "pytorch_legacy_pickle": (),
    "tf_savedmodel": ("files",),
    "pickle": (),
    "numpy": (),
    "numpy_npz": (),
}


@dataclass(frozen=True, slots=True)
class AccuracyMetrics:
    """Measured accuracy figures, each scaled by 10**4 (``None`` = not measured)."""

    precision: int | None = None
    recall: int | None = None
    f1_score: int | None = None
    auc: int | None = None
    rmse: int | None = None
    mae: int | None = None
    samples: int = 0

    def as_signed(self) -> dict[str, object]:
        """The ``accuracy_metrics`` struct of the signed response."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1_score": self.f1_score,
            "auc": self.auc,
            "rmse": self.rmse,
            "mae": self.mae,
        }


@dataclass(frozen=True, slots=True)
class QualityScore:
    """The rubric's verdict; ``components`` holds points of measured components only."""

    score: int
    components: dict[str, int]
    not_measured: tuple[str, ...]
    explanation: str
    passed: bool
    # What cost points, in words, each saying what to do; the largest loss first.
    findings: tuple[str, ...] = ()


def score_quality(report: InspectionReport, accuracy: AccuracyMetrics | None) -> QualityScore:
    """Score an inspection (and optional accuracy) with the rubric of this module.

    Example::

        q = score_quality(report, AccuracyMetrics(f1_score=9100))
        assert 0 <= q.score <= 100
    """
    if report.dangerous:
        reasons = "; ".join(f.message for f in report.critical_findings)
        return QualityScore(0, {"security": 0}, tuple(MAXIMA), f"Unsafe: {reasons}", False)
    components: dict[str, int] = {}
    notes: list[str] = []
    warnings = sum(1 for f in report.findings if f.severity == "warning")
    components["format_validity"] = max(10, 25 - 5 * warnings)
    notes.append(f"{report.format} parsed with {warnings} warning(s)")
    components["integrity"] = 20 if report.layout_verified else 10
    notes.append(
        "every tensor byte range checked" if report.layout_verified else "layout not checkable"
    )
    health = _numeric_health(report)
    if health is not None:
        components["numeric_health"] = health
        notes.append(f"{report.nan_count} NaN, {report.inf_count} Inf")
    expected = EXPECTED_METADATA.get(report.format, ())
    if expected:
        present = sum(1 for k in expected if report.metadata.get(k))
        components["metadata"] = round(10 * present / len(expected))
        notes.append(f"{present}/{len(expected)} expected metadata keys")
    if accuracy is not None and accuracy.f1_score is not None:
        components["accuracy"] = round(15 * accuracy.f1_score / 10**4)
        notes.append(f"F1 {accuracy.f1_score / 100:.2f}% on {accuracy.samples} samples")
    not_measured = tuple(k for k in MAXIMA if k not in components)
    possible = sum(MAXIMA[k] for k in components)
    score = round(100 * sum(components.values()) / possible)
    if not_measured:
        notes.append("not measured: " + ", ".join(not_measured))
    passed = score >= PASS_SCORE
    explanation = "; ".join(notes) + "."
    found = _findings(report, components, expected)
    return QualityScore(score, components, not_measured, explanation, passed, found)


def _findings(
    report: InspectionReport, components: dict[str, int], expected: tuple[str, ...]
) -> tuple[str, ...]:
    """What cost points, one sentence each with what to do, the largest loss first."""
    lost: list[tuple[int, str]] = []
    warnings = [f for f in report.findings if f.severity == "warning"]
    numeric = [f.message for f in warnings if f.code == "nan_weights"]
    others = [f.message for f in warnings if f.code != "nan_weights"]
    health = components.get("numeric_health")
    if health is not None and health < MAXIMA["numeric_health"]:
        stats = report.weight_stats
        if numeric:
            lost.append((MAXIMA["numeric_health"] - health, numeric[0]))
        elif stats is not None and stats.std == 0.0:
            lost.append(
                (
                    MAXIMA["numeric_health"] - health,
                    f"All {stats.count:,} weights read have the same value: the file holds no "
                    "trained weights. Save the weights after training, not the initial ones.",
                )
            )
    if others:
        lost.append(
            (
                MAXIMA["format_validity"] - components["format_validity"],
                "The file has format problems: " + " ".join(others),
            )
        )
    if components["integrity"] < MAXIMA["integrity"]:
        lost.append(
            (
                MAXIMA["integrity"] - components["integrity"],
                f"The byte layout of a {report.format} file cannot be checked. Export the "
                "weights to safetensors or ONNX, whose layout can.",
            )
        )
    if "metadata" in components and components["metadata"] < MAXIMA["metadata"]:
        missing = [k for k in expected if not report.metadata.get(k)]
        lost.append(
            (
                MAXIMA["metadata"] - components["metadata"],
                f"Metadata the {report.format} format expects is missing "
                f"({', '.join(missing)}). Add it when saving the file"
                + (
                    " (save_file(..., metadata={'format': 'pt'}))."
                    if report.format == "safetensors"
                    else "."
                ),
            )
        )
    accuracy = components.get("accuracy")
    if accuracy is not None and accuracy < MAXIMA["accuracy"]:
        lost.append(
            (
                MAXIMA["accuracy"] - accuracy,
                "The model got some of the dataset's samples wrong (accuracy "
                f"{accuracy}/{MAXIMA['accuracy']} points). Check it on your data.",
            )
        )
    lost.sort(key=lambda pair: -pair[0])
    return tuple(words for _, words in lost)


def _numeric_health(report: InspectionReport) -> int | None:
    """Points for NaN/Inf and degenerate weights, or ``None`` when no value was read."""
    if report.nan_count is None or report.inf_count is None:
        return None
    stats = report.weight_stats
    total = (stats.count if stats else 0) + report.nan_count + report.inf_count
    bad = report.nan_count + report.inf_count
    if bad == 0:
        points = 30
    elif total and bad / total <= 1e-6:
        points = 15
    else:
        points = 0
    if stats is not None and stats.count > 1 and stats.std == 0.0:
        points = min(points, 10)
    return points
