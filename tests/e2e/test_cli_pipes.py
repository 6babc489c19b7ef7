"""`satya inspect FILE | head`: a reader that stops early gets no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent.journey_files import make_model_file

SATYA = str(Path(sys.executable).parent / "satya")


def test_inspect_into_a_pipe_closed_early_is_quiet(tmp_path: Path) -> None:
    model = make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.2)
    proc = subprocess.Popen(
        [SATYA, "inspect", str(model)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SATYA_HOME": str(tmp_path / "home")},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)
    proc.stdout.close()  # as `head -1` does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err


def _chat(tmp_path: Path, lines: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_"))}
    return subprocess.run(
        [SATYA, "chat", "--plain"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**clean, "SATYA_HOME": str(tmp_path / "home")},
    )


def test_chat_in_a_pipe_exits_1_when_a_turn_failed(tmp_path: Path) -> None:
    """A script reading the exit status learns that a step failed (it was 0 after every turn
    failed); turns that went well leave it 0."""
    (tmp_path / "junk.bin").write_bytes(os.urandom(5000))
    failed = _chat(tmp_path, "upload ./junk.bin\nhelp\n")
    assert "not a model format" in failed.stdout
    assert failed.returncode == 1, failed.stderr
    assert "1 turn ended in an error (shown above)" in failed.stderr
    assert "Traceback" not in failed.stderr
    fine = _chat(tmp_path, "help\n")
    assert fine.returncode == 0, fine.stderr


def test_a_model_with_nan_weights_prints_no_numpy_warning_into_the_chat(tmp_path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    top = np.finfo(np.float64).max
    save_file({"w": np.array([np.nan, 1.0, top, top])}, str(tmp_path / "nan.safetensors"))
    done = _chat(tmp_path, "upload ./nan.safetensors\nyes\n")
    assert "verification:  100%" in done.stdout, done.stdout + done.stderr  # it was inspected
    assert "RuntimeWarning" not in done.stdout + done.stderr
    assert "Warning" not in done.stderr
