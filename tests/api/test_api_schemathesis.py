"""schemathesis against the served OpenAPI document: no server error, responses as documented."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread

from agent.server import ServerSettings
from agent.server.auth import add_key

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    config = ServerSettings(rate_per_minute=1e6, rate_burst=1_000_000)
    srv = ServerThread(tmp_path_factory.mktemp("fuzz-home"), config).start()
    yield srv
    srv.stop()


def test_schemathesis_finds_no_server_error(fuzz_server: ServerThread, tmp_path: Path) -> None:
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is a dev dependency: pip install -e '.[dev]'"
    # an operator key: user rights, and the platform's insights too
    key = fuzz_server.call(
        add_key(fuzz_server.app.state.satya.assistant.store, "fuzzer", role="operator")
    )
    result = subprocess.run(
        [
            exe,
            "run",
            f"{fuzz_server.url}/openapi.json",
            "--checks",
            CHECKS,
            "--phases",
            "examples,fuzzing,stateful",
            "--max-examples",
            "8",
            "--generation-deterministic",
            "--suppress-health-check",
            "all",
            "--request-timeout",
            "20",
            "--header",
            f"Authorization: Bearer {key}",
            "--report-dir",
            str(tmp_path),
            # an open notification stream never ends by itself: tested in test_api_insights
            "--exclude-path",
            "/notifications/stream",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    doc = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    operations = sum(len(methods) for methods in doc["paths"].values())
    assert operations >= 30  # assistants, threads, runs, uploads, system, insights
    selected = f"Selected: {operations - 1}/{operations}"  # all but the notification stream
    assert " passed" in result.stdout and selected in result.stdout, result.stdout[-3000:]
