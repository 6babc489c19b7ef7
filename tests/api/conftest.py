"""Servers for the API tests: one shared per module, real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import ServerThread

from agent.journey_files import make_model_file


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = ServerThread(tmp_path_factory.mktemp("api-home")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_file(
        tmp_path_factory.mktemp("models") / "tiny.safetensors", "safetensors", size_mb=0.2
    )


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite unless a test points at PostgreSQL itself."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
