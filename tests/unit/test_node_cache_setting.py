"""Where 'satya serve build-page' keeps its npm packages is read through Settings, like
every other setting: SATYA_NODE_CACHE, a .env file, or the user's cache folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.server.web import node_cache
from agent.settings import Settings


def test_satya_node_cache_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATYA_NODE_CACHE", str(tmp_path / "npm"))
    assert node_cache(Settings(_env_file=None)) == tmp_path / "npm"  # type: ignore[call-arg]


def test_a_dotenv_file_names_the_folder_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SATYA_NODE_CACHE", raising=False)
    env = tmp_path / ".env"
    env.write_text(f"SATYA_NODE_CACHE={tmp_path / 'from-dotenv'}\n")
    assert node_cache(Settings(_env_file=env)) == tmp_path / "from-dotenv"  # type: ignore[call-arg]


def test_unset_it_is_under_the_users_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SATYA_NODE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert node_cache(Settings(_env_file=None)) == tmp_path / "cache" / "satya" / "node"  # type: ignore[call-arg]
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert node_cache(Settings(_env_file=None)) == tmp_path / ".cache" / "satya" / "node"  # type: ignore[call-arg]
