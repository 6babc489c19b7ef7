"""Tab completion in the chat puts a name with spaces in quotes, so that the message names
one file (it inserted 'My Models/model v2.safetensors' bare, read as several words)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from agent.repl import _completer


def _complete(text: str) -> list[str]:
    """The line as it reads after each completion offered."""
    completer = _completer(lambda: None)
    out = []
    for c in completer.get_completions(Document(text, len(text)), CompleteEvent()):
        out.append(text[: len(text) + c.start_position] + c.text)
    return sorted(out)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "My Models").mkdir()
    (tmp_path / "My Models" / "model v2.safetensors").write_bytes(b"x")
    (tmp_path / "My Models" / "plain.onnx").write_bytes(b"x")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.onnx").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_folder_with_a_space_is_quoted(files: Path) -> None:
    assert _complete("upload My") == ['upload "My Models/']


def test_a_file_with_a_space_inside_quotes_is_closed(files: Path) -> None:
    assert _complete('upload "My Models/mo') == ['upload "My Models/model v2.safetensors"']
    assert _complete('upload "My Models/pl') == ['upload "My Models/plain.onnx"']


def test_a_name_without_spaces_stays_bare(files: Path) -> None:
    assert _complete("upload models/ti") == ["upload models/tiny.onnx"]
    assert _complete("upload ./models/ti") == ["upload ./models/tiny.onnx"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("upload ./My Models/model v2.safetensors", "./My Models/model v2.safetensors"),
        ("upload My Models/model v2.safetensors please", "My Models/model v2.safetensors"),
        ("upload My Models/plain.onnx", "My Models/plain.onnx"),
    ],
)
def test_an_unquoted_path_with_spaces_is_one_file_when_it_exists(
    files: Path, text: str, named: str
) -> None:
    """What completion would have inserted bare is still read as one file."""
    from agent.understanding.files import find_files

    assert find_files(text, files) == [named]
