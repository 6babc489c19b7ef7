"""The journey graph.

``build_graph(services=..., checkpointer=..., store=...)`` returns a compiled
LangGraph graph whose input per turn is ``{"intent": Intent, "user_id": str,
"workflow_id": str}`` and whose runs must be given ``context=services``.

Example::

    graph = build_graph(checkpointer=InMemorySaver(), store=InMemoryStore())
    cfg = {"configurable": {"thread_id": "t1"}}
    await graph.ainvoke({"intent": intent("greet", "hi"), "user_id": "ana",
                         "workflow_id": "t1"}, cfg, context=services)
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from flows import (
    assessment,
    bulk,
    bulk_listing,
    checkpoints,
    compensation,
    conversation,
    dashboard,
    file_journeys,
    listing,
    listing_changes,
    onboarding,
    purchase,
    recovery,
    sample,
    upload,
    verification,
)
from flows import insights as insights_mod
from flows import intake as intake_mod
from flows.services import Services
from flows.state import JourneyState
from flows.step_events import RecordingGraph

# Nodes after which the turn simply ends.
_TERMINAL = (
    "onboarding",
    "answer",
    "status",
    "raw_data",
    "market",
    "dashboard",
    "insights",
    "settings",
    "browse",
    "download_verify",
    "bulk_list",
    "keep_waiting",
    "cleanup",
    "listing_change",
)


def build_graph(
    *,
    services: Services | None = None,
    checkpointer: BaseCheckpointSaver[str] | None = None,
    store: BaseStore | None = None,
) -> CompiledStateGraph[JourneyState, Services, JourneyState, JourneyState]:
    """Compile the journey graph. ``services`` is accepted for symmetry; pass it per run as ``context``."""
    del services  # nodes receive services through Runtime[Services], per run
    # journey steps record their duration and outcome when the run carries a recorder
    g = RecordingGraph(JourneyState, context_schema=Services)
    g.add_node("intake", intake_mod.intake)
    g.add_node("onboarding", onboarding.onboarding)
    g.add_node("sample", sample.sample)
    g.add_node("answer", conversation.answer)
    g.add_node("status", conversation.status)
    g.add_node("raw_data", conversation.raw_data)
    g.add_node("settings", conversation.settings)
    g.add_node("market", dashboard.market)
    g.add_node("dashboard", dashboard.dashboard)
    g.add_node("browse", dashboard.browse)
    g.add_node("insights", insights_mod.insights)
    g.add_node("assess", assessment.assess)
    g.add_node("compression_recommendation", assessment.compression_recommendation)
    g.add_node("optimization_guidance", assessment.optimization_guidance)
    g.add_node("upload_gate", upload.upload_gate)
    g.add_node("upload", upload.upload)
    g.add_node("register", upload.register)
    g.add_node("verify_submit", verification.verify_submit)
    g.add_node("verify_monitor", verification.verify_monitor)
    g.add_node("verify_restart", verification.verify_restart)
    g.add_node("keep_waiting", verification.keep_waiting)
    g.add_node("listing_prep", listing.listing_prep)
    g.add_node("checkpoint", checkpoints.checkpoint)
    g.add_node("listing_gate", listing.listing_gate)
    g.add_node("list_model", listing.list_model)
    g.add_node("recovery", recovery.recovery)
    g.add_node("abandon", recovery.abandon)
    g.add_node("tx_wait", recovery.tx_wait)
    g.add_node("listing_change_gate", listing_changes.listing_change_gate)
    g.add_node("listing_change", listing_changes.listing_change)
    g.add_node("what_exists", compensation.what_exists)
    g.add_node("cleanup_gate", compensation.cleanup_gate)
    g.add_node("cleanup", compensation.cleanup)
    g.add_node("purchase_prep", purchase.purchase_prep)
    g.add_node("purchase_gate", purchase.purchase_gate)
    g.add_node("purchase_execute", purchase.purchase_execute)
    g.add_node("download_verify", purchase.download_verify)
    g.add_node("bulk_plan", bulk.bulk_plan)
    g.add_node("bulk_gate", bulk.bulk_gate)
    g.add_node("bulk_upload", bulk.bulk_upload)
    g.add_node("bulk_verify", bulk.bulk_verify)
    g.add_node("bulk_restart", bulk.bulk_restart)
    g.add_node("bulk_file", file_journeys.bulk_file)  # one file's sub-journey (a Send each)
    g.add_node("bulk_join", bulk.bulk_join)
    g.add_node("bulk_retry", bulk.bulk_retry)
    g.add_node("bulk_listing_prep", bulk_listing.bulk_listing_prep)
    g.add_node("bulk_listing_gate", bulk_listing.bulk_listing_gate)
    g.add_node("bulk_list", bulk_listing.bulk_list)

    g.add_edge(START, "intake")
    g.add_conditional_edges("intake", intake_mod.route)
    g.add_edge("compression_recommendation", "optimization_guidance")
    g.add_edge("optimization_guidance", "upload_gate")
    for name in _TERMINAL:
        g.add_edge(name, END)
    return g.compile(checkpointer=checkpointer, store=store)
