"""``satya serve`` as a user starts it (its own process), and the npm packages the
JavaScript tests use (LangGraph's JS client, esbuild, playwright-core), from a cache.

Without node the JavaScript tests skip with one line saying so, except in CI (``CI`` set),
where a missing tool fails the test: CI must install it (``.ci/run`` does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from api_harness import free_port

from agent.server.web import NodeMissing, install_node_packages, node_cache
from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = Path(__file__).resolve().parent / "js"


def missing(what: str) -> None:
    """Skip with one line, or fail in CI, where every tool must be present."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it: see .ci/run)")
    pytest.skip(what)


def node_modules() -> Path:
    """The pinned npm packages, installed into the cache when missing."""
    try:
        return install_node_packages(node_cache(Settings()))
    except NodeMissing as error:
        missing(str(error).split(":")[0])
    raise AssertionError("unreachable")


def chromium() -> str:
    """Debian's chromium (or $CHROMIUM)."""
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path is None:
        missing("chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


@dataclass
class Served:
    url: str
    home: Path
    env: dict[str, str]

    def key(self, user: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "serve", "keys", "add", user],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]


@contextmanager
def satya_serve(home: Path) -> Iterator[Served]:
    """``satya serve --port P`` on loopback with its own SATYA_HOME; stopped after."""
    port = free_port()
    env = {**os.environ, "SATYA_HOME": str(home), "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "SATYA_DATABASE_URL"):
        env.pop(name, None)
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    f"satya serve did not start: {(home / 'serve.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield Served(url, home, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def run_node(script: str, modules: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run ``tests/api/js/<script>`` with the cached packages; its stdout (fails on rc != 0)."""
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(JS_DIR / script)],
        env={**os.environ, **env, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout
