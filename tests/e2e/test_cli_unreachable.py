"""`satya chat` with a configured service that is not there: one clear paragraph or a quiet
fallback, never a traceback, never a secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from agent.journey_files import make_model_file

ROOT = Path(__file__).parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chat(tmp_path: Path, lines: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "chat", "--plain"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**clean, "SATYA_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), **env},
    )


def test_an_unreachable_nautilus_enclave_says_how_to_start_one(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    done = _chat(
        tmp_path, "check status\n", SATYA_VERIFIER_BACKEND="nautilus", SATYA_NAUTILUS_URL=url
    )
    assert done.returncode == 2
    assert f"The enclave at {url} did not answer /health_check" in done.stderr
    assert "satya enclave serve" in done.stderr  # not "it is retried automatically": nothing is
    assert "retried automatically" not in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_language_model_falls_back_to_the_rules_quietly(tmp_path: Path) -> None:
    make_model_file(tmp_path / "m.onnx", "onnx", size_mb=0.2)
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    done = _chat(
        tmp_path,
        "upload ./m.onnx\nno\n",
        OPENAI_API_KEY="sk-test-123",
        OPENAI_BASE_URL=url,
        SATYA_LLM_TIMEOUT_S="2",
    )
    assert done.returncode == 0, done.stderr
    assert "nothing was uploaded" in done.stdout  # the rules understood both turns
    everything = done.stdout + done.stderr
    assert "WARNING" not in everything and "Traceback" not in everything
    assert "sk-test-123" not in everything
