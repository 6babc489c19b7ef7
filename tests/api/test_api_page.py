"""The embedding page served by ``satya serve`` (``/ui/``), in headless Chromium: a
person types their key, uploads a model, answers the gates and sees the model listed.
The screenshot is kept in ``tests/artifacts/`` (or ``$SATYA_TEST_ARTIFACTS``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread
from node_harness import ROOT, chromium, node_modules, run_node, satya_serve

import agent.server.routes.page as page_routes
from agent.journey_files import make_model_file
from agent.server.web import build_bundle


def artifacts() -> Path:
    where = Path(os.environ.get("SATYA_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    where.mkdir(parents=True, exist_ok=True)
    return where


def test_page_lists_a_model_in_a_browser(tmp_path: Path) -> None:
    modules = node_modules()
    browser = chromium()
    build_bundle(modules.parent)
    model = make_model_file(tmp_path / "tiny.safetensors", "safetensors", size_mb=0.2)
    shot = artifacts() / "page-listed.png"
    shot.unlink(missing_ok=True)
    with satya_serve(tmp_path / "home") as served:
        key = served.key("page-author")
        page = httpx.get(f"{served.url}/ui/")
        assert page.status_code == 200 and key not in page.text and "apiKey" in page.text
        bundle = httpx.get(f"{served.url}/ui/langgraph-sdk.js")
        assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
        out = run_node(
            "page.cjs",
            modules,
            {
                "SATYA_URL": served.url,
                "SATYA_KEY": key,
                "MODEL_PATH": str(model),
                "CHROMIUM": browser,
                "SCREENSHOT": str(shot),
            },
        )
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["listed"].startswith("Listed: ") and "Listing id 0x" in seen["listed"]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_without_its_built_client_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's script is missing until built: 404 with the command, not a blank page."""
    monkeypatch.setattr(page_routes, "BUNDLE", tmp_path / "not-built.js")
    srv = ServerThread(tmp_path / "home").start()
    try:
        r = httpx.get(f"{srv.url}/ui/langgraph-sdk.js")
        assert r.status_code == 404
        assert r.json()["code"] == "page_not_built" and "build-page" in r.json()["hint"]
        page = httpx.get(f"{srv.url}/ui", follow_redirects=True)
        assert page.status_code == 200 and page.url.path == "/ui/"
    finally:
        srv.stop()
