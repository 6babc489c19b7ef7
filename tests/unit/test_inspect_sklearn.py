"""Real scikit-learn models saved with joblib (plain and compressed) pass the pickle scan;
a malicious one is still refused naming its import; the safe list holds only classes
that cannot run code when a pickle builds them."""

from __future__ import annotations

import bz2
import importlib
import inspect
import io
import os
import pickle
import time
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect import inspect_model
from integrations.tee.inspect.safe_classes import SKLEARN_CLASSES

# modules whose classes are fitted parts of estimators (see safe_classes' docstring)
HELPER_MODULES = (
    "sklearn._loss.loss",
    "sklearn._loss._loss",
    "sklearn._loss.link",
    "sklearn.tree._tree",
    "sklearn.ensemble._hist_gradient_boosting.binning",
    "sklearn.ensemble._hist_gradient_boosting.predictor",
    "sklearn.neighbors._kd_tree",
    "sklearn.neighbors._ball_tree",
    "sklearn.metrics._dist_metrics",
    "sklearn.linear_model._sgd_fast",
    "sklearn.neural_network._stochastic_optimizers",
    "sklearn.gaussian_process.kernels",
)
COMPRESSIONS = ("zlib", "gzip", "bz2", "lzma", "xz")


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def _models() -> list[Any]:
    rng = np.random.RandomState(0)
    x = rng.rand(60, 4)
    y = (x[:, 0] > 0.5).astype(int)
    texts = ["a b c", "b c d", "spam eggs", "ham"] * 15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations only: convergence warnings
        return [
            make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
            RandomForestClassifier(3, random_state=np.random.RandomState(1)).fit(x, y),
            GradientBoostingClassifier(n_estimators=3).fit(x, y),
            HistGradientBoostingRegressor(max_iter=3).fit(x, y),
            IsolationForest(n_estimators=3).fit(x),
            make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(texts, [0, 1, 0, 1] * 15),
            SVC().fit(x, y),
            KMeans(2, n_init=1).fit(x),
            KNeighborsClassifier().fit(x, y),
            MLPClassifier(max_iter=5).fit(x, y),
            PCA(2).fit(x),
            OneHotEncoder().fit([["a"], ["b"]]),
            SGDClassifier().fit(x, y),
            Ridge().fit(x, y),
        ]


def _critical(path: Path) -> list[str]:
    return [f.message for f in inspect_model(path).findings if f.severity == "critical"]


@pytest.fixture(scope="module")
def models() -> list[Any]:
    return _models()


def test_real_scikit_learn_models_are_not_called_dangerous(
    models: list[Any], tmp_path: Path
) -> None:
    for i, model in enumerate(models):
        path = tmp_path / f"m{i}.joblib"
        joblib.dump(model, path)
        report = inspect_model(path)
        assert report.format == "pickle", type(model).__name__
        assert not report.dangerous, (type(model).__name__, _critical(path))
        assert type(model).__name__ in str(report.metadata.get("pickle_imports"))


@pytest.mark.parametrize("method", COMPRESSIONS)
def test_compressed_joblib_is_recognised_and_scanned(
    models: list[Any], method: str, tmp_path: Path
) -> None:
    good, evil = tmp_path / f"good.{method}.joblib", tmp_path / f"evil.{method}.joblib"
    joblib.dump(models[1], good, compress=(method, 3))
    report = inspect_model(good)
    assert report.format == "pickle" and not report.dangerous, _critical(good)
    assert report.metadata.get("pickle_compression") in (method, "zlib" if method == "gzip" else "")
    assert report.metadata.get("pickle_container") == "joblib"
    joblib.dump({"model": models[0], "x": _Evil()}, evil, compress=(method, 3))
    assert any("posix.system" in m for m in _critical(evil)), method


def test_a_compressed_bomb_is_refused_in_bounded_time(tmp_path: Path) -> None:
    """bz2 of a pickle padded with 200 MB of zeros: a few hundred bytes on disk."""
    engine = bz2.BZ2Compressor()
    head = pickle.dumps(b"", protocol=4)[:-1]  # PROTO, FRAME, … without the STOP
    data = engine.compress(head + b"\x8e" + (200 << 20).to_bytes(8, "little"))
    zeros = bytes(1 << 20)
    for _ in range(200):
        data += engine.compress(zeros)
    path = tmp_path / "bomb.joblib"
    path.write_bytes(data + engine.flush())
    assert path.stat().st_size < 100_000
    started = time.monotonic()
    with pytest.raises(InvalidModelFormat, match="1000 times its size"):
        inspect_model(path)
    assert time.monotonic() - started < 30


def test_the_safe_list_is_only_estimators_and_their_parts() -> None:
    for name in sorted(SKLEARN_CLASSES):
        module, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        assert inspect.isclass(obj), name
        assert issubclass(obj, BaseEstimator) or module in HELPER_MODULES, name


def test_the_malicious_names_stay_critical(tmp_path: Path) -> None:
    buf = io.BytesIO()
    joblib.dump({"model": LogisticRegression(), "x": _Evil()}, buf)
    path = tmp_path / "evil.joblib"
    path.write_bytes(buf.getvalue())
    assert any("posix.system" in m and "operating-system" in m for m in _critical(path))
