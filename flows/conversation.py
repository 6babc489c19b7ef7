"""Turns that answer without moving the journey: help, status, raw data, settings."""

from __future__ import annotations

import json
from typing import Literal

from langgraph.runtime import Runtime

from flows.events import say
from flows.expertise import graduate, graduation, shifted
from flows.intents import Intent
from flows.onboarding import load_profile, save_profile
from flows.services import Services
from flows.state import JourneyState, progress
from integrations.errors import SatyaError

# Context keys that may be shown as raw data; everything else stays internal.
_PUBLIC_CONTEXT = (
    "file_name",
    "size_bytes",
    "format",
    "category",
    "sha256",
    "manifest_blob_id",
    "model_id",
    "verification_id",
    "quality_score",
    "price_mist",
    "listing_id",
)


async def emit_status(state: JourneyState, runtime: Runtime[Services]) -> None:
    """Say where the journey stands, with the live verification progress if any."""
    ctx = state.get("context") or {}
    job: dict[str, object] | None = None
    if ctx.get("job_id") and not ctx.get("verification_id"):
        try:
            st = await runtime.context.verifier.status(ctx["job_id"])
            job = {"state": st.state, "fraction": st.fraction, "eta_s": st.eta_s}
        except SatyaError as exc:
            job = {"state": "unknown", "error": exc.message}
    error = state.get("error")
    say(
        runtime,
        "status",
        expertise=state.get("expertise", "intermediate"),
        phase=state.get("current_phase", "idle"),
        status=state.get("status", "active"),
        progress=progress(state),
        completed_steps=list(state.get("completed_steps") or []),
        pending_steps=list(state.get("pending_steps") or []),
        context={k: ctx[k] for k in _PUBLIC_CONTEXT if k in ctx},  # type: ignore[literal-required]
        job=job,
        error=dict(error) if error else None,
    )


async def emit_raw(state: JourneyState, runtime: Runtime[Services]) -> None:
    """The model object as the chain shows it (objectId, type, content.fields)."""
    ctx = state.get("context") or {}
    ref = state["intent"].get("model_ref") or ctx.get("listing_id") or ctx.get("model_id")
    if not ref:
        say(runtime, "raw_none")
        return
    try:
        obj = await runtime.context.ledger.get_object(ref)
    except SatyaError as error:
        say(runtime, "error", code=error.code, message=error.message, hint=error.hint)
        return
    payload = obj.as_sui_json()
    say(runtime, "raw_data", json=json.dumps(payload, indent=2, sort_keys=True, default=str))


async def emit_answer(intent: Intent, state: JourneyState, runtime: Runtime[Services]) -> None:
    """Help, FAQ and anything not understood: a useful answer, never a shrug."""
    kind = intent["kind"]
    expertise = state.get("expertise", "intermediate")
    if kind in ("upload", "quick_upload") and not intent.get("paths"):
        say(runtime, "ask_for_path", expertise=expertise)
    elif kind in ("approve", "decline"):
        say(runtime, "nothing_to_approve", phase=state.get("current_phase", "idle"))
    elif kind in ("list", "set_price", "edit_listing"):
        say(runtime, "nothing_to_list", phase=state.get("current_phase", "idle"))
    elif kind == "retry":
        say(runtime, "nothing_to_retry")
    elif kind == "clarify" or (kind == "unknown" and intent.get("choices")):
        # unsure, or nothing fits: the likeliest readings, to pick by number
        say(runtime, "clarify", choices=list(intent.get("choices") or []))
    elif kind == "conversion_guide":
        say(runtime, "conversion_guide", expertise=expertise, **_conversion_data(state))
    elif kind == "optimise":
        ctx = state.get("context") or {}
        if ctx.get("optimisation"):
            say(runtime, "optimisation_steps", expertise=expertise, **ctx["optimisation"])
        else:
            say(runtime, "optimise_what", expertise=expertise)
    elif kind == "answer":
        say(runtime, "not_understood", text=intent.get("text", ""), expertise=expertise)
    elif kind == "help":
        say(runtime, "faq", topic=intent.get("topic", "overview"), expertise=expertise)
    else:
        say(runtime, "not_understood", text=intent.get("text", ""), expertise=expertise)


async def answer_aside(intent: Intent, state: JourneyState, runtime: Runtime[Services]) -> None:
    """Answer a message that came while a gate waits."""
    if intent["kind"] == "status":
        await emit_status(state, runtime)
    elif intent["kind"] == "raw_data":
        await emit_raw({**state, "intent": intent}, runtime)
    elif intent["kind"] in ("upload", "quick_upload", "bulk_upload") and intent.get("paths"):
        say(runtime, "finish_gate_first", paths=", ".join(intent["paths"]))
    else:
        await emit_answer(intent, state, runtime)
        say(runtime, "gate_reminder")


def _conversion_data(state: JourneyState) -> dict[str, object]:
    """The conversion guide for the file of this conversation, if there is one."""
    ctx = state.get("context") or {}
    plan = ctx.get("optimisation") or {}
    return {
        "file_name": ctx.get("file_name", "model.h5"),
        "format": ctx.get("format", ""),
        "onnx_command": plan.get("onnx_command", ""),
    }


async def answer(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Node: answer a question or an unclear message; an expert who keeps asking gets more detail."""
    await emit_answer(state["intent"], state, runtime)
    if state["intent"]["kind"] not in ("help", "conversion_guide"):
        return {}
    profile = await load_profile(runtime, state["user_id"]) or {"published": 0}
    profile = {**profile, "questions": int(profile.get("questions", 0)) + 1}
    level = state.get("expertise", "intermediate")
    update: dict[str, object] = {}
    if graduation(profile, level) is not None:
        profile, level, why = graduate(profile, level)
        say(runtime, "graduated", expertise=level, why=why, questions=profile["questions"])
        update["expertise"] = level
    await save_profile(runtime, state["user_id"], profile)
    return update


async def status(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Node: 'check status'."""
    await emit_status(state, runtime)
    return {}


async def raw_data(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Node: 'show raw data'."""
    await emit_raw(state, runtime)
    return {}


async def settings(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Node: change expertise (stored per user) or mode (per thread)."""
    intent = state["intent"]
    if intent["kind"] == "set_expertise" and "expertise" in intent:
        level = intent["expertise"]
        profile = await load_profile(runtime, state["user_id"]) or {"published": 0}
        await save_profile(
            runtime, state["user_id"], {**profile, "expertise": level, "questions": 0}
        )
        say(runtime, "expertise_set", expertise=level)
        return {"expertise": level}
    if intent["kind"] == "verbosity":
        direction = intent.get("direction", "more")
        current = state.get("expertise", "intermediate")
        level = shifted(current, direction)
        profile = await load_profile(runtime, state["user_id"]) or {"published": 0}
        await save_profile(runtime, state["user_id"], {**profile, "expertise": level})
        kind = "verbosity_set" if level != current else "verbosity_limit"
        say(runtime, kind, expertise=level, direction=direction)
        return {"expertise": level}
    if intent["kind"] == "set_mode" and "mode" in intent:
        mode: Literal["supervised", "auto", "debug"] = intent["mode"]
        say(
            runtime,
            "mode_set",
            mode=mode,
            cap_frost=runtime.context.config.auto_cap_frost,
            cap_mist=runtime.context.config.auto_cap_mist,
        )
        return {"mode": mode}
    say(runtime, "not_understood", text=intent.get("text", ""), expertise=state.get("expertise"))
    return {}
