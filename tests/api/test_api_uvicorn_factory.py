"""``uvicorn --factory agent.server.app:app_from_env``: the app run by hand, in its own process.

Its settings come from the one ``Settings`` (environment and ``.env``), as ``satya serve``
reads them: the home named by ``SATYA_HOME`` holds the keys it accepts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_harness import free_port

from agent.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "DATABASE_URL"))}
    env.update({"SATYA_HOME": str(home), "PYTHONPATH": str(ROOT), **extra})
    return env


def _uvicorn(port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "uvicorn", "--factory", "agent.server.app:app_from_env"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_uvicorn_factory_starts_and_answers_over_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "serve", "keys", "add", "ana"]) == 0
    key = capsys.readouterr().out.strip()
    port = free_port()
    proc = _uvicorn(port, _env(home), cwd=tmp_path)  # no .env in tmp_path
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.communicate()[0]
                raise AssertionError(f"uvicorn did not answer /health:\n{out[-3000:]}")
            time.sleep(0.1)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        # the home SATYA_HOME names: the key made there is accepted, a wrong one is not
        found = httpx.post(
            f"{url}/threads/search", json={}, headers={"Authorization": f"Bearer {key}"}
        )
        assert found.status_code == 200 and found.json() == []
        refused = httpx.post(
            f"{url}/threads/search", json={}, headers={"Authorization": f"Bearer {key}x"}
        )
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_key"
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=30)


def test_uvicorn_factory_names_a_bad_setting(tmp_path: Path) -> None:
    env = _env(tmp_path / "home", SATYA_SERVER_RATE_PER_MINUTE="lots")
    proc = _uvicorn(free_port(), env, cwd=tmp_path)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0
    assert "SATYA_SERVER_RATE_PER_MINUTE" in out and "Fix the SATYA_ environment variable" in out
    assert "Traceback" not in out
