"""Run the real implementations (Move test runner, @mysten/sui, @mysten/walrus-wasm) from tests.

The npm packages are installed once into a cache keyed by their exact
versions (``$XDG_CACHE_HOME/satya-agent/conformance-npm-<hash>``, or
``SATYA_CONFORMANCE_NPM_DIR``), under a file lock so parallel workers share
one install. The first install takes about 20 s on a fast network (about
100 MB); later runs reuse it.

A test that needs node or the reference folder (``../shared/reference`` seen
from the repository, or ``SATYA_REFERENCE_DIR``) skips with a one-line reason
when it is missing; the reason is printed in the run's summary (``-ra``). In CI
(``CI`` set; ``.ci/run`` installs node) a missing node fails, as for the other
JavaScript tests; ``SATYA_REQUIRE_CONFORMANCE=1`` makes a missing reference folder
fail too. A failed npm install always fails.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "js"
PACKAGES = {
    "@mysten/walrus-wasm": "0.3.0",
    "@mysten/sui": "2.33.1",
    "@zktx.io/sui-move-builder": "0.5.1",
}
REQUIRED = os.environ.get("SATYA_REQUIRE_CONFORMANCE") == "1"
IN_CI = bool(os.environ.get("CI"))
_REFERENCE_ENV = os.environ.get("SATYA_REFERENCE_DIR")
_NPM_ENV = os.environ.get("SATYA_CONFORMANCE_NPM_DIR")


def _missing(reason: str, *, required: bool) -> None:
    if required:
        pytest.fail(f"{reason} (required here: CI or SATYA_REQUIRE_CONFORMANCE=1)", pytrace=False)
    pytest.skip(reason)


def _local_origin() -> list[Path]:
    """The repository this checkout was cloned from, when it is a folder on this machine
    (a fresh clone in a temporary folder finds the reference folder next to its origin)."""
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return []
    path = Path(url.removeprefix("file://"))
    return [path.resolve()] if url and path.is_absolute() and path.is_dir() else []


def reference_dir() -> Path:
    """The reference folder with ``move/`` (Satya, Nautilus, Sui framework, move.mjs)."""
    candidates = [Path(_REFERENCE_ENV)] if _REFERENCE_ENV else []
    candidates += [
        REPO.parent / "shared" / "reference",
        REPO.parent.parent / "shared" / "reference",
        *(origin.parent / "shared" / "reference" for origin in _local_origin()),
    ]
    for path in candidates:
        if (path / "move" / "tools" / "move.mjs").is_file():
            return path.resolve()
    _missing(
        "no reference folder ../shared/reference/move (set SATYA_REFERENCE_DIR)", required=REQUIRED
    )
    raise AssertionError("unreachable")


def node() -> str:
    """The ``node`` executable (version 20 or later)."""
    found = shutil.which("node")
    if found is None or shutil.which("npm") is None:
        _missing("node/npm not installed", required=REQUIRED or IN_CI)
        raise AssertionError("unreachable")
    return found


def _cache_root() -> Path:
    if _NPM_ENV:
        return Path(_NPM_ENV)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(json.dumps(PACKAGES, sort_keys=True).encode()).hexdigest()[:12]
    return base / "satya-agent" / f"conformance-npm-{key}"


def npm_prefix() -> Path:
    """A folder whose node_modules holds ``PACKAGES`` at their exact versions."""
    node()
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    done = root / ".installed"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            (root / "package.json").write_text(
                json.dumps({"name": "satya-conformance", "private": True, "type": "module"})
            )
            specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
            result = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *specs],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if result.returncode != 0:
                pytest.fail(
                    f"npm install {' '.join(specs)} failed in {root}: {result.stderr[-2000:]}",
                    pytrace=False,
                )
            done.write_text(json.dumps(PACKAGES))
    return root


def run_node(script: str, *args: str, stdin: str | None = None, timeout: float = 300) -> Any:
    """Run ``js/<script>`` from the npm folder (so its imports resolve); its stdout is JSON."""
    prefix = npm_prefix()
    target = prefix / "scripts" / script
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(SCRIPTS / script, target)
    result = subprocess.run(
        [node(), str(target), *args],
        cwd=prefix,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"node {script} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return json.loads(result.stdout)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def move_test(package_dir: Path, *, timeout: float = 600) -> tuple[bool, str]:
    """Unit-test a Move package with the real Sui Move test runner (``move.mjs test``).

    Returns (every test passed, the runner's output without colour codes). The
    runner's own summary decides: ``move.mjs`` exits 1 on a coloured "OK".
    """
    tool = reference_dir() / "move" / "tools" / "move.mjs"
    done = subprocess.run(
        [node(), str(tool), "test", str(package_dir)],
        cwd=npm_prefix(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = _ANSI.sub("", done.stdout + done.stderr)
    passed = bool(
        re.search(r"Test result: OK\. Total tests: [1-9]\d*; passed: \d+; failed: 0", output)
    )
    return passed, output
