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
    key = fuzz_server.key("fuzzer")
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
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    doc = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    operations = sum(len(methods) for methods in doc["paths"].values())
    assert operations >= 30  # assistants, threads, runs, uploads, system
    assert " passed" in result.stdout and f"{operations}/{operations}" in result.stdout
