"""Benchmarks run the ordinary way, ``python bench/FILE.py``: no script shadows a module."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "bench").glob("*.py"))


def _installed(name: str) -> bool:
    """Whether ``name`` is installed (importable from outside this checkout)."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if not Path(p or ".").resolve().is_relative_to(ROOT)]
    try:
        return importlib.util.find_spec(name) is not None
    finally:
        sys.path[:] = saved


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_name_shadows_nothing(script: Path) -> None:
    name = script.stem
    assert name not in sys.stdlib_module_names, f"{script.name} shadows the standard library"
    assert not _installed(name), f"{script.name} shadows an installed module"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_runs_as_a_plain_script(script: Path) -> None:
    """``--help`` imports everything the benchmark needs, as a plain script (no ``-P``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
