"""The journey graph's topology is a reviewed artefact: changes show up as a snapshot diff."""

from __future__ import annotations

import os
from pathlib import Path

from flows.graph import build_graph

SNAPSHOT = Path(__file__).parent / "snapshots" / "journey_graph.mmd"


def test_graph_matches_the_mermaid_snapshot() -> None:
    mermaid = build_graph().get_graph().draw_mermaid()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(mermaid)
    assert mermaid == SNAPSHOT.read_text(), "graph changed: review, then UPDATE_SNAPSHOTS=1"


def test_every_phase_node_and_branch_is_in_the_graph() -> None:
    graph = build_graph().get_graph()
    nodes = set(graph.nodes)
    for node in (
        "intake",
        "onboarding",
        "assess",
        "compression_recommendation",
        "optimization_guidance",
        "upload_gate",
        "upload",
        "register",
        "verify_submit",
        "verify_monitor",
        "listing_prep",
        "listing_gate",
        "list_model",
        "recovery",
        "purchase_gate",
        "download_verify",
    ):
        assert node in nodes
    edges = {(e.source, e.target) for e in graph.edges}
    assert ("assess", "compression_recommendation") in edges
    assert ("assess", "upload_gate") in edges
    assert ("upload", "recovery") in edges
    assert ("recovery", "upload") in edges
