"""SATYA_HOME is private (0700 folders, 0600 files), and one that cannot be used is named."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent import Assistant, Settings
from agent.journey_files import make_model_file

SATYA = str(Path(sys.executable).parent / "satya")


def _satya(
    home: str, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_"))}
    return subprocess.run(
        [SATYA, *args],
        env={**clean, "SATYA_HOME": home},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def _open_to_others(home: Path) -> list[str]:
    found = []
    for path in [home, *home.rglob("*")]:
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
            found.append(f"{oct(stat.S_IMODE(info.st_mode))} {path.relative_to(home)}")
    return found


def test_a_chat_that_uploads_leaves_nothing_readable_by_others(tmp_path: Path) -> None:
    make_model_file(tmp_path / "tiny.safetensors", "safetensors", size_mb=0.2)
    home = tmp_path / "home"
    done = _satya(
        str(home), "chat", "--plain", stdin="upload tiny.safetensors\nyes\nno\n", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Verified" in done.stdout
    assert any((home / "blobs").rglob("*")) and (home / "checkpoints.sqlite").is_file()
    assert _open_to_others(home) == []


async def test_an_existing_open_home_is_made_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    old = home / "checkpoints.sqlite"
    old.write_bytes(b"")
    old.chmod(0o644)
    (home / "blobs").mkdir()
    (home / "blobs").chmod(0o755)
    settings = Settings(_env_file=None, home=home)  # type: ignore[call-arg]
    async with Assistant.open(settings):
        pass
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "blobs").stat().st_mode) == 0o700


@pytest.mark.parametrize("command", [["chat", "--plain"], ["serve", "--port", "0"]])
@pytest.mark.parametrize("where", ["/dev/null", "a regular file", "/proc/nope"])
def test_a_home_that_is_no_folder_is_named(tmp_path: Path, where: str, command: list[str]) -> None:
    if where == "a regular file":
        (tmp_path / "file").write_text("x")
        where = str(tmp_path / "file")
    done = _satya(where, *command, stdin="hi\n")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"SATYA_HOME ({where}) cannot be used" in done.stderr
    assert "Traceback" not in done.stderr and "internal problem" not in done.stderr


def test_a_port_out_of_range_is_one_line(tmp_path: Path) -> None:
    done = _satya(str(tmp_path / "home"), "serve", "--port", "80000")
    assert done.returncode == 2
    assert "80000 is not a port number" in done.stderr and "Traceback" not in done.stderr
