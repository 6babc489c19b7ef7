"""Weights that are NaN, infinite or at the edge of their type: counted and said in words,
never a NumPy RuntimeWarning (which a chat would print between its lines)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from integrations.tee.inspect import inspect_model, render_report


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_nan_inf_and_huge_weights_are_reported_in_words(tmp_path: Path, dtype: type) -> None:
    top = np.finfo(dtype).max
    weights: np.ndarray = np.array(
        [np.nan, np.nan, np.inf, -np.inf, 1.0, top, top, -top], dtype=dtype
    )
    path = tmp_path / "m.safetensors"
    save_file({"w": weights}, str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        report = inspect_model(path)
    assert (report.nan_count, report.inf_count) == (2, 2)
    words = [f.message for f in report.findings if f.code == "nan_weights"]
    assert words == [
        "2 weights are NaN (not a number) and 2 are infinite: the model gives NaN wherever "
        "they are used. Retrain it, or fix those weights, before publishing."
    ]
    assert "NaN (not a number)" in render_report(report)


def test_a_clean_model_has_no_nan_finding(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"w": np.ones(8, np.float32)}, str(path))
    assert not [f for f in inspect_model(path).findings if f.code == "nan_weights"]
