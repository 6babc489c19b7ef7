"""schemathesis against the served OpenAPI document, every check: no server error, responses
as documented, and the document allows exactly what the server takes.

Each test run tries 8 examples per operation (deterministic). The full campaign:
``SATYA_FUZZ_HTTP=100 SATYA_FUZZ_SEED=20261130 pytest tests/api/test_api_schemathesis.py``
(figures in README "Hardening").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread

from agent.server import ServerSettings

EXAMPLES = int(os.environ.get("SATYA_FUZZ_HTTP", "8"))
SEED = os.environ.get("SATYA_FUZZ_SEED")


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
    key = fuzz_server.key("fuzzer", role="operator")
    seeding = ["--seed", SEED] if SEED else ["--generation-deterministic"]
    result = subprocess.run(
        [
            exe,
            "run",
            f"{fuzz_server.url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(EXAMPLES),
            "--workers",
            "1",
            *seeding,
            "--suppress-health-check",
            "all",
            "--request-timeout",
            "60",  # a slow answer on a loaded machine is not a failure; a hang is
            "--header",
            f"Authorization: Bearer {key}",
            "--report-dir",
            str(tmp_path),
            # open streams never end by themselves: the notifications (tested in
            # test_api_insights) and a thread's stream (test_api_sdk_calls)
            "--exclude-path",
            "/notifications/stream",
            "--exclude-path",
            "/threads/{thread_id}/stream",
        ],
        capture_output=True,
        text=True,
        timeout=300 + 30 * EXAMPLES,
    )
    print(result.stdout[-3000:])  # the summary: cases generated, failures, time
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    doc = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    operations = sum(len(methods) for methods in doc["paths"].values())
    assert operations >= 30  # assistants, threads, runs, uploads, system, insights
    selected = f"Selected: {operations - 2}/{operations}"  # all but the two open streams
    assert " passed" in result.stdout and selected in result.stdout, result.stdout[-3000:]
