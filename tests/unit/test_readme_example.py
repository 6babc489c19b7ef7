"""The README's Python API example, run as written: it runs as the user it names."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from agent import Assistant, Settings
from agent.journey_files import make_model_file

README = Path(__file__).parents[2] / "README.md"


def _example() -> str:
    section = README.read_text().split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    return code.group(1)


async def test_the_python_api_example_runs_as_ana(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SATYA_HOME", str(tmp_path / "home"))
    make_model_file(tmp_path / "model.safetensors", "safetensors", size_mb=0.2)
    source = "async def example():\n" + textwrap.indent(_example(), "    ")
    scope: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), scope)
    await scope["example"]()  # type: ignore[operator]
    assert "Upload model.safetensors" in capsys.readouterr().out  # the gate's question
    async with Assistant.open(Settings(_env_file=None, home=tmp_path / "home")) as assistant:  # type: ignore[call-arg]
        (thread,) = await assistant.threads("ana")
        assert (await assistant.state(thread)).user_id == "ana"
        assert await assistant.threads("local") == []
