"""The embedding page served by ``satya serve`` at ``/ui/``, and how its JavaScript is built.

The page (``index.html``) is plain HTML and a module script; it talks to the API with
LangGraph's JavaScript client (``@langchain/langgraph-sdk``), bundled for the browser by
esbuild into ``dist/langgraph-sdk.js``. Building needs node and npm once::

    satya serve build-page          # npm packages go to ~/.cache/satya/node (SATYA_NODE_CACHE)

The packages are pinned below; a second build reuses the cache and takes about a second.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.settings import Settings

__all__ = [
    "BUNDLE",
    "NODE_PACKAGES",
    "PAGE_DIR",
    "SDK",
    "NodeMissing",
    "build_bundle",
    "install_node_packages",
    "node_cache",
    "node_tools",
]

PAGE_DIR = Path(__file__).resolve().parent
BUNDLE = PAGE_DIR / "dist" / "langgraph-sdk.js"
SDK = "@langchain/langgraph-sdk"
# what the page, the JavaScript client test and the browser test install (pinned)
NODE_PACKAGES = {SDK: "1.15.0", "esbuild": "0.28.2", "playwright-core": "1.65.1"}


class NodeMissing(RuntimeError):
    """node or npm is not installed: the page's bundle cannot be built here."""


def node_cache(settings: Settings) -> Path:
    """Where npm packages are installed once and reused (outside the repository):
    ``settings.node_cache`` (SATYA_NODE_CACHE), else satya/node in the user's cache folder
    (XDG_CACHE_HOME, else ~/.cache)."""
    if settings.node_cache is not None:
        return settings.node_cache
    return (settings.xdg_cache_home or Path.home() / ".cache") / "satya" / "node"


def node_tools() -> tuple[str, str]:
    """The paths of node and npm, or NodeMissing saying what to install."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeMissing(
            "node and npm are needed to build the page's JavaScript: install Node.js 18 or "
            "newer (e.g. 'apt-get install nodejs npm'), then run 'satya serve build-page'."
        )
    return node, npm


def _installed(cache: Path, name: str) -> str | None:
    manifest = cache / "node_modules" / name / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def install_node_packages(cache: Path) -> Path:
    """The pinned npm packages in ``cache`` (installed when missing); its node_modules."""
    _, npm = node_tools()
    cache.mkdir(parents=True, exist_ok=True)
    missing = [f"{n}@{v}" for n, v in NODE_PACKAGES.items() if _installed(cache, n) != v]
    if missing:
        manifest = cache / "package.json"
        if not manifest.exists():
            manifest.write_text('{"private": true, "name": "satya-node-cache"}\n')
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *missing],
            cwd=cache,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"npm could not install {', '.join(missing)} into {cache}: "
                f"{done.stderr.strip()[-800:]}\nCheck the npm registry is reachable, then retry."
            )
    return cache / "node_modules"


def build_bundle(cache: Path, out: Path = BUNDLE) -> Path:
    """Bundle LangGraph's JavaScript client for the browser (one ES module) into ``out``,
    with the npm packages in ``cache`` (see ``node_cache``)."""
    modules = install_node_packages(cache)
    esbuild = modules / ".bin" / "esbuild"
    out.parent.mkdir(parents=True, exist_ok=True)
    entry = f'export {{ Client }} from "{SDK}";\n'
    done = subprocess.run(
        [
            str(esbuild),
            "--bundle",
            "--format=esm",
            "--platform=browser",
            "--target=es2020",
            "--minify",
            "--log-level=error",
            f"--outfile={out}",
        ],
        input=entry,
        cwd=modules.parent,  # stdin resolves its imports from here
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"esbuild could not bundle {SDK}: {done.stderr.strip()[-800:]}")
    return out
