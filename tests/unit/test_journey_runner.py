"""The journey runner fails loudly and clearly when an expectation is false."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

JOURNEYS = Path(__file__).parents[1] / "journeys"


def test_cli_exits_non_zero_with_what_was_expected_and_what_happened(tmp_path: Path) -> None:
    text = (
        (JOURNEYS / "returning_user.yaml")
        .read_text()
        .replace(
            "expertise: expert\n      reply_kinds: [welcome_back]",
            "expertise: beginner\n      reply_kinds: [welcome_back]",
        )
    )
    edited = tmp_path / "edited.yaml"
    edited.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "journey", "run", str(edited)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "[FAIL] turn 3: hello" in done.stdout
    assert "expertise: expected 'beginner', got 'expert'" in done.stdout
    assert "passed, 1 failed" in done.stdout


def test_cli_passes_a_true_journey(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "journey",
            "run",
            str(JOURNEYS / "returning_user.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 0 failed" in done.stdout


def test_a_malformed_journey_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nturns:\n  - sya: hello\n")
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "journey", "run", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "turns.0.sya" in done.stderr and "Traceback" not in done.stderr
