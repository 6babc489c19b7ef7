"""LangGraph's JavaScript client (``@langchain/langgraph-sdk`` from npm, run by node)
against ``satya serve`` over loopback: a whole author journey with its gates, and a
dropped stream picked up again with ``Last-Event-ID``, and a stateless run joined by its id."""

from __future__ import annotations

import json
from pathlib import Path

from node_harness import node_modules, run_node, satya_serve

from agent.journey_files import make_model_file


def test_js_sdk_runs_an_author_journey_and_reconnects(tmp_path: Path) -> None:
    modules = node_modules()
    model = make_model_file(tmp_path / "tiny.safetensors", "safetensors", size_mb=0.2)
    with satya_serve(tmp_path / "home") as served:
        key = served.key("js-author")
        out = run_node(
            "journey.cjs",
            modules,
            {"SATYA_URL": served.url, "SATYA_KEY": key, "MODEL_PATH": str(model)},
        )
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["listing_id"].startswith("0x") and seen["runs"] == 4
    assert seen["reconnected_after"] == "3" and seen["replayed"] > 0
    assert seen["stateless_joined"] > 2  # metadata, its events, end
