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
