"""`satya` on user mistakes: one paragraph (what happened, what to do), exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main

JOURNEYS = Path(__file__).parents[1] / "journeys"


@pytest.mark.parametrize(
    ("argv", "variable", "value"),
    [
        (["journey", "run", str(JOURNEYS / "raw_data.yaml")], "SATYA_EPOCHS", "0"),
        (["enclave", "serve", "--port", "1"], "SATYA_CHUNK_SIZE_MIB", "50"),
        (["walrus", "serve", "--port", "1"], "SATYA_CHUNK_SIZE_MIB", "50"),
        (["chat", "--plain"], "SATYA_EPOCHS", "0"),
    ],
)
def test_a_bad_setting_is_one_paragraph_for_every_command(
    argv: list[str],
    variable: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SATYA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(variable, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"A setting is not valid ({variable}:" in err
    assert "Fix the SATYA_ environment variable" in err
    assert "Traceback" not in err and "pydantic.dev" not in err


def test_bad_journey_files_say_what_is_wrong_and_do_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SATYA_HOME", str(tmp_path / "home"))
    (tmp_path / "bad.yaml").write_text("name: [\n")
    (tmp_path / "unknown.yaml").write_text("name: x\nbogus: 1\nturns: []\n")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00model")
    files = ["bad.yaml", "unknown.yaml", "empty.yaml", "binary.yaml", "missing.yaml"]
    argv = ["journey", "run", *(str(tmp_path / f) for f in files)]
    argv.append(str(JOURNEYS / "raw_data.yaml"))
    assert main(argv) == 2  # a file that is not a journey is a usage error
    out = capsys.readouterr()
    assert "bad.yaml is not valid YAML at line 2" in out.err
    assert "unknown.yaml: bogus: Extra inputs are not permitted." in out.err
    assert "empty.yaml does not hold a journey" in out.err
    assert "binary.yaml is not a text file." in out.err
    assert "Cannot read the journey file" in out.err and "missing.yaml" in out.err
    assert "Say it another way" not in out.err  # the chat's hint means nothing here
    assert out.err.count("Fix the journey file") == 4
    assert "1 journeys passed, 5 failed" in out.out


def test_bare_satya_shows_what_it_can_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out, err = capsys.readouterr()
    for command in ("chat", "journey", "inspect", "walrus", "enclave", "serve"):
        assert command in out
    assert "satya chat" in err and "required" not in err
