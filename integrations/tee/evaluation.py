"""Accuracy of an ONNX classifier on a ``.npz`` dataset (arrays ``x`` and ``y``)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from integrations.errors import InvalidModelFormat
from integrations.tee.quality import AccuracyMetrics

MAX_SAMPLES = 100_000


def evaluate_onnx(model: Path, dataset: Path) -> AccuracyMetrics:
    """Run the model on ``x`` and compare with ``y``: macro precision, recall, F1 (x10**4).

    Outputs with one column (or 1-D) are thresholded at 0.5; wider ones use argmax.
    Raises ``InvalidModelFormat`` if the dataset or the model cannot be used.

    Example::

        metrics = evaluate_onnx(Path("clf.onnx"), Path("test.npz"))
        print(metrics.f1_score / 100, "%")
    """
    import onnxruntime as ort  # optional dependency: only needed with a dataset

    x, y = _load(dataset)
    try:
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x}
        out = np.asarray(session.run(None, feed)[0])
    except Exception as exc:  # onnxruntime raises its own exception types
        reason = str(exc).splitlines()[0][-160:]
        raise InvalidModelFormat(f"The model could not run on the dataset ({reason}).") from exc
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        pred = (out.reshape(-1) >= 0.5).astype(np.int64)
    else:
        pred = out.reshape(out.shape[0], -1).argmax(axis=1)
    if pred.shape[0] != y.shape[0]:
        raise InvalidModelFormat("The model returned a different number of rows than y.")
    return _metrics(pred, y.astype(np.int64).reshape(-1))


def _load(dataset: Path) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.generic]]:
    """Read ``x`` and ``y`` without allowing pickled objects."""
    try:
        with np.load(dataset, allow_pickle=False) as data:
            x, y = np.asarray(data["x"], dtype=np.float32), np.asarray(data["y"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidModelFormat(f"The dataset is not an .npz with x and y ({exc}).") from exc
    if x.shape[0] != y.shape[0] or x.shape[0] == 0 or x.shape[0] > MAX_SAMPLES:
        raise InvalidModelFormat("The dataset's x and y must have the same 1..100000 rows.")
    return x, y


def _metrics(pred: npt.NDArray[np.int64], y: npt.NDArray[np.int64]) -> AccuracyMetrics:
    """Macro-averaged precision, recall and F1 over the classes present."""
    classes = np.union1d(pred, y)
    precisions, recalls, f1s = [], [], []
    for k in classes:
        tp = float(np.sum((pred == k) & (y == k)))
        fp = float(np.sum((pred == k) & (y != k)))
        fn = float(np.sum((pred != k) & (y == k)))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        precisions.append(p)
        recalls.append(r)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)

    def scaled(values: list[float]) -> int:
        return round(10**4 * sum(values) / len(values))

    return AccuracyMetrics(
        precision=scaled(precisions),
        recall=scaled(recalls),
        f1_score=scaled(f1s),
        samples=int(y.shape[0]),
    )
