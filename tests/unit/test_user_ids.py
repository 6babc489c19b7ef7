"""Every accepted user id works everywhere (a dot, an @); any other is refused where it enters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent import Assistant, Settings, TextEvent
from agent.journeys import load_journey
from flows.users import check_user_id, user_label, valid_user_id
from integrations.errors import UserInputError

DOTTED = "ana.smith@example.com"
REFUSED = ["../../etc", "", ".hidden", "a b", "a/b", "x" * 65, "ana%2Esmith", "ünï"]


def test_the_rule() -> None:
    for ok in (DOTTED, "ana", "a-b_c.d@e", "0", "x" * 64):
        assert valid_user_id(ok) and check_user_id(ok) == ok
    for bad in REFUSED:
        assert not valid_user_id(bad)
        with pytest.raises(UserInputError, match="not a valid user id"):
            check_user_id(bad)
    # two ids never share a label, and an id without a dot keeps its old one
    assert user_label("ana") == "ana" and "." not in user_label(DOTTED)
    assert user_label("a.b") != user_label("a%2Eb")


async def test_a_dotted_user_id_works_through_the_assistant(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home", user=DOTTED)  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread(DOTTED)
        events = [e async for e in assistant.send(thread, "hi, I'm new here", user_id=DOTTED)]
        assert any(isinstance(e, TextEvent) for e in events)
        events = [e async for e in assistant.send(thread, "check status", user_id=DOTTED)]
        assert [e for e in events if isinstance(e, TextEvent)]
        assert thread in await assistant.threads(DOTTED)
        assert (await assistant.state(thread)) is not None
        second = await assistant.new_thread()  # the settings' user
        assert second in await assistant.threads(DOTTED)


async def test_the_assistant_refuses_an_invalid_user_id(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        with pytest.raises(UserInputError, match="not a valid user id"):
            await assistant.new_thread("../../etc")


def test_settings_refuse_an_invalid_user(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a valid user id"):
        Settings(_env_file=None, home=tmp_path, user="../../etc")  # type: ignore[call-arg]


def test_a_journey_with_an_invalid_user_is_refused_on_loading(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: bad\nuser: "../../etc"\nturns: [{say: hi}]\n')
    with pytest.raises((ValidationError, UserInputError), match="not a valid user id"):
        load_journey(bad)
    turn = tmp_path / "turn.yaml"
    turn.write_text('name: bad\nturns: [{say: hi, user: "a/b"}]\n')
    with pytest.raises((ValidationError, UserInputError), match="not a valid user id"):
        load_journey(turn)


def test_the_cli_names_the_bad_user_id(tmp_path: Path) -> None:
    env = {"SATYA_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "chat", "--user", "../../etc"],
        input="",
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(Path.cwd())},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "not a valid user id" in done.stderr and "Traceback" not in done.stderr
