"""Every shipped journey file runs as one test, exactly as `satya journey run` runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.journeys import load_journey, run_journey

JOURNEYS = sorted(Path(__file__).parent.glob("*.yaml"))


def test_the_required_journeys_are_shipped() -> None:
    names = {p.stem for p in JOURNEYS}
    assert {
        "beginner_happy_path",
        "expert_quick_upload",
        "large_file_compression",
        "network_timeout_resume",
        "invalid_format",
        "insufficient_storage",
        "check_status_midway",
        "raw_data",
        "returning_user",
    } <= names


@pytest.mark.parametrize("path", JOURNEYS, ids=[p.stem for p in JOURNEYS])
async def test_journey(path: Path, tmp_path: Path) -> None:
    report = await run_journey(load_journey(path), workdir=tmp_path)
    assert report.ok, report.summary()
    assert report.turns, "a journey must have turns"
