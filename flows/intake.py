"""The entry node: who is speaking, what they asked, and where that goes next."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from flows.events import say
from flows.intents import Expertise, Intent
from flows.onboarding import load_profile, save_profile
from flows.recovery import retry_target
from flows.services import Services
from flows.state import JourneyState, Phase, WorkflowStatus

Route = Literal[
    "onboarding",
    "sample",
    "answer",
    "assess",
    "status",
    "raw_data",
    "market",
    "dashboard",
    "insights",
    "settings",
    "listing_prep",
    "browse",
    "purchase_prep",
    "recovery",
    "upload",
    "register",
    "verify_submit",
    "verify_monitor",
    "list_model",
    "bulk_plan",
    "bulk_retry",
    "bulk_verify",
    "bulk_listing_prep",
    "abandon",
    "verify_restart",
    "bulk_restart",
    "tx_wait",
    "keep_waiting",
    "listing_change_gate",
]

# Nodes that a 'retry' may go back to (the ones that record errors).
RETRYABLE_NODES: frozenset[str] = frozenset(
    {"assess", "upload", "register", "verify_submit", "verify_monitor", "list_model"}
)


def _infer_expertise(intent: Intent) -> Expertise | None:
    if "self_description" in intent:
        return intent["self_description"]
    if intent["kind"] == "quick_upload":
        return "expert"
    return None


async def intake(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Fill defaults on a new thread, recognise returning users, learn expertise."""
    user_id = state.get("user_id") or "local"
    profile = await load_profile(runtime, user_id)
    update: dict[str, object] = {}
    if not state.get("current_phase"):
        update |= {
            "current_phase": Phase.IDLE,
            "status": WorkflowStatus.ACTIVE,
            "completed_steps": [],
            "pending_steps": [],
            "context": {},
            "mode": state.get("mode") or "supervised",
            "returning": profile is not None,
        }
    expertise: Expertise = (
        state.get("expertise") or (profile or {}).get("expertise") or "intermediate"
    )
    inferred = _infer_expertise(state["intent"])
    shortcut = False  # a shortcut moved the level: said once, with how to undo it
    if inferred and (profile is None or inferred != expertise):
        shortcut = "self_description" not in state["intent"] and expertise != inferred
        expertise = inferred
    update["expertise"] = expertise
    if state["intent"]["kind"] in ("upload", "quick_upload", "bulk_upload") and state.get("error"):
        update["error"] = None  # a new request starts a new escalation, not the old one's next step
    new_profile = dict(profile or {"published": 0, "threads": 0})
    announced = list(new_profile.get("announced") or [])
    if shortcut and "shortcuts" not in announced:
        say(runtime, "graduated", expertise=expertise, why="shortcuts")
        new_profile["announced"] = [*announced, "shortcuts"]
    if profile is None or profile.get("expertise") != expertise or new_profile != profile:
        new_profile["expertise"] = expertise
        await save_profile(runtime, user_id, new_profile)
    return update


def route(state: JourneyState) -> Route:
    """Pick the node for the current intent."""
    intent = state["intent"]
    kind = intent["kind"]
    ctx = state.get("context") or {}
    if kind == "verification_update":  # the monitor's completion event
        if any(f.get("status") == "verifying" for f in ctx.get("bulk", [])):
            return "bulk_verify"
        verifying = ctx.get("job_id") and not ctx.get("verification_id")
        return "verify_monitor" if verifying else "status"
    if kind == "abandon":  # a stopped step the user cancelled
        return "abandon"
    error = state.get("error")
    status = state.get("status")
    if kind == "decline" and error and status == WorkflowStatus.FAILED:
        return "abandon"  # 'cancel' after a failure: stop here, say what exists
    if (
        kind == "wait"
        and error
        and error["code"] == "chain_slow"
        and status == WorkflowStatus.FAILED
    ):
        return "tx_wait"  # a late ledger transaction: give it more time
    if status == WorkflowStatus.VERIFYING:  # the choices offered for a late verification
        if kind == "decline":
            return "abandon"
        if kind == "wait":
            return "keep_waiting"
        if kind == "retry":
            return "bulk_restart" if ctx.get("bulk") else "verify_restart"
    if kind in ("greet", "tour"):
        return "onboarding"
    if kind == "try_sample":
        return "sample"
    if kind in ("upload", "quick_upload"):
        return "assess" if intent.get("paths") else "answer"
    if kind == "bulk_upload":
        return "bulk_plan"
    if kind == "status":
        return "status"
    if kind == "raw_data":
        return "raw_data"
    if kind == "market_analysis":
        return "market"
    if kind == "dashboard":
        return "dashboard"
    if kind == "insights":
        return "insights"
    if kind in ("set_expertise", "set_mode", "verbosity"):
        return "settings"
    listed = ctx.get("listing_id") and not ctx.get("bulk")
    if kind == "delist" or (kind == "set_price" and listed and intent.get("price_mist")):
        return "listing_change_gate" if listed else "answer"  # after listing: change it
    if kind in ("list", "set_price", "edit_listing"):
        if ctx.get("bulk"):  # "list them" after a bulk upload
            return "bulk_listing_prep"
        return (
            "listing_prep" if ctx.get("verification_id") and not ctx.get("listing_id") else "answer"
        )
    if kind == "browse":
        return "browse"
    if kind in ("purchase", "download"):
        return "purchase_prep"
    if kind == "retry":
        if error and error["node"] in RETRYABLE_NODES:
            return retry_target(error["node"])
        if ctx.get("bulk"):  # the failed files of the last bulk upload
            return "bulk_retry"
        return "answer"
    if kind == "support_bundle":
        return "recovery"
    if kind == "help" and intent.get("topic") == "onboarding":
        return "onboarding"
    return "answer"
