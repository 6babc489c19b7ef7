"""``satya serve keys …`` and the guard against several workers on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.cli import main
from agent.keys import KEYS_NAMESPACE, ApiKeys, Caller, digest
from agent.persistence import open_persistence
from agent.settings import Settings


def test_keys_are_printed_once_and_stored_hashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "serve", "keys", "add", "ana", "--label", "laptop"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("sk-satya-") and len(key) > 40

    async def check() -> None:
        async with open_persistence(Settings(home=home)) as p:
            assert await ApiKeys(p.store).caller_for(key) == Caller("ana")
            items = await p.store.asearch(KEYS_NAMESPACE)
            assert [i.key for i in items] == [digest(key)]
            assert key not in str([i.value for i in items])

    asyncio.run(check())
    assert main(["--home", str(home), "serve", "keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ana" in listed and "laptop" in listed and key not in listed
    assert main(["--home", str(home), "serve", "keys", "revoke", "ana"]) == 0
    assert main(["--home", str(home), "serve", "keys", "revoke", "ana"]) == 1
    assert main(["--home", str(home), "serve", "keys", "add", "../etc"]) == 2
    assert "not a valid user id" in capsys.readouterr().err


def test_several_workers_need_postgres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path), "serve", "--workers", "2"]) == 2
    assert "DATABASE_URL" in capsys.readouterr().err
