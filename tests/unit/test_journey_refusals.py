"""Journey files that would write outside their work directory, or nest without end, are
refused with a clear error; nothing outside is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.journeys import load_journey, run_journey
from integrations.errors import UserInputError


@pytest.mark.parametrize("name", ["../../victim.txt", "/tmp/victim.txt", "a/../../victim.txt"])
def test_a_file_outside_the_work_directory_is_refused(tmp_path: Path, name: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    journey = tmp_path / "j" / "escape.yaml"
    journey.parent.mkdir()
    journey.write_text(
        f"name: escape\nfiles: [{{name: {name!r}, kind: safetensors, size_mb: 0.01}}]\n"
        "turns: [{say: hi}]\n"
    )
    with pytest.raises(UserInputError, match="inside the journey's work directory"):
        load_journey(journey)
    assert victim.read_text() == "keep me"


async def test_a_symlinked_folder_cannot_lead_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(outside)
    journey = tmp_path / "link.yaml"
    journey.write_text(
        "name: link\nfiles: [{name: link/m.safetensors, kind: safetensors, size_mb: 0.01}]\n"
        "turns: [{say: hi}]\n"
    )
    with pytest.raises(UserInputError, match="outside its work directory"):
        await run_journey(load_journey(journey), workdir=work)
    assert not any(outside.iterdir())


def test_a_journey_nested_10000_levels_is_refused_plainly(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: deep\nsettings: " + "[" * 10_000 + "]" * 10_000 + "\nturns: []\n")
    with pytest.raises(UserInputError, match=r"nested too deeply|not valid"):
        load_journey(deep)
