"""Inspection of files written by PyTorch itself (runs where ``torch`` is installed;
``tests/unit/test_inspect.py`` covers the same formats with hand-built archives)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from integrations.tee.inspect import inspect_model

torch = pytest.importorskip("torch")


def _state_dict() -> dict[str, object]:
    return {
        "w": torch.linspace(-1, 1, 12).reshape(3, 4),
        "b": torch.zeros(3, dtype=torch.float16),
        "h": torch.ones(4, dtype=torch.bfloat16),
        "steps": torch.arange(5),
    }


def test_torch_save_zip_archive(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(_state_dict(), path)
    report = inspect_model(path)
    assert report.format == "pytorch_zip" and not report.dangerous
    assert (report.tensor_count, report.parameter_count) == (4, 12 + 3 + 4 + 5)
    assert report.dtypes == {"float32": 1, "float16": 1, "bfloat16": 1, "int64": 1}
    floats = np.concatenate([np.linspace(-1, 1, 12), np.zeros(3), np.ones(4)])
    assert report.weight_stats is not None and report.weight_stats.count == 19
    assert report.weight_stats.mean == pytest.approx(floats.mean(), rel=1e-6)
    assert report.weight_stats.std == pytest.approx(floats.std(), rel=1e-6)
    assert (report.nan_count, report.inf_count) == (0, 0)
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_torch_save_legacy_format(tmp_path: Path) -> None:
    path = tmp_path / "legacy.bin"
    torch.save(_state_dict(), path, _use_new_zipfile_serialization=False)
    report = inspect_model(path)
    assert report.format == "pytorch_legacy_pickle" and not report.dangerous
    assert report.parameter_count == 24 and report.layout_verified


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_torch_save_with_a_payload_is_dangerous(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2), "extra": _Payload()}, path)
    report = inspect_model(path)
    assert report.format == "pytorch_zip" and report.dangerous
    assert "posix.system" in report.critical_findings[0].message


def test_a_whole_pickled_module_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(4, 2), path)  # loading it imports and builds the class
    report = inspect_model(path)
    assert report.dangerous and report.parameter_count == 10
    assert "torch.nn.modules.linear.Linear" in report.critical_findings[0].message
