"""joblib and NumPy (.npy/.npz) files are recognised, and the pickles inside them scanned."""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from integrations.tee.inspect import inspect_model


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def _model() -> LogisticRegression:
    x = np.random.RandomState(0).rand(40, 4)
    return LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int))


def _critical(path: Path) -> list[str]:
    report = inspect_model(path)
    return [f.message for f in report.findings if f.severity == "critical"]


def test_a_real_joblib_model_is_parsed_and_its_imports_named(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(_model(), path)
    report = inspect_model(path)
    assert report.format == "pickle" and report.metadata.get("pickle_container") == "joblib"
    imports = str(report.metadata.get("pickle_imports"))
    assert "LogisticRegression" in imports and "posix.system" not in imports


def test_a_malicious_joblib_file_names_posix_system(tmp_path: Path) -> None:
    path = tmp_path / "evil.joblib"
    joblib.dump({"model": _model(), "x": _Evil()}, path)
    assert any("posix.system" in m for m in _critical(path))


def test_npy_and_npz_arrays_are_tensors(tmp_path: Path) -> None:
    np.save(tmp_path / "ok.npy", np.arange(12.0).reshape(3, 4))
    np.savez(tmp_path / "ok.npz", a=np.arange(5), b=np.ones((2, 2), dtype=np.float32))
    one = inspect_model(tmp_path / "ok.npy")
    assert one.format == "numpy" and not one.dangerous
    assert one.tensor_count == 1 and one.parameter_count == 12
    assert [shape for _, shape in one.shapes] == [(3, 4)] and one.dtypes == {"float64": 1}
    many = inspect_model(tmp_path / "ok.npz")
    assert many.format == "numpy_npz" and not many.dangerous and many.tensor_count == 2


def test_an_object_array_carrying_a_malicious_pickle_names_the_import(tmp_path: Path) -> None:
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = _Evil(), 1
    np.save(tmp_path / "evil.npy", arr, allow_pickle=True)
    np.savez(tmp_path / "evil.npz", ok=np.arange(3), bad=arr)
    for name in ("evil.npy", "evil.npz"):
        assert any("posix.system" in m for m in _critical(tmp_path / name)), name
