"""Onboarding: a tour one step per turn for new users, a short hello for returning ones.

The tour has five steps (``ONBOARDING_STEPS``). Each turn shows one; ``next``,
``back`` and ``skip`` move through it, and ``tour`` comes back to it where it was
left, in any later conversation: the position is kept in the user's profile. A
user who has published a model is never shown it again on a greeting (they get
a one-line welcome back), and an expert starts without it unless they ask.

Progress follows the tour: after the first step 1 of 5 steps is done (20%), not
100% of anything.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.events import say
from flows.intents import Expertise
from flows.services import Services
from flows.state import ONBOARDING_STEPS, JourneyState, Phase
from flows.users import user_label

PROFILE_KEY = "profile"
TOUR_KEY = "tour"  # profile key: {"step": index shown last, "done": bool, "skipped": bool}
_TITLES = {
    "welcome": "the welcome",
    "platform_overview": "how Satya works",
    "first_upload_guide": "your first upload",
    "verification_explanation": "how verification works",
    "marketplace_introduction": "listing and selling",
}


def profile_namespace(user_id: str) -> tuple[str, ...]:
    """Where a user's profile lives in the LangGraph store."""
    return ("users", user_label(user_id))


async def load_profile(runtime: Runtime[Services], user_id: str) -> dict[str, Any] | None:
    """The stored profile of a user, or None for a first-time user."""
    if runtime.store is None:
        return None
    item = await runtime.store.aget(profile_namespace(user_id), PROFILE_KEY)
    return dict(item.value) if item else None


async def save_profile(runtime: Runtime[Services], user_id: str, profile: dict[str, Any]) -> None:
    """Persist a user's profile (expertise, counters)."""
    if runtime.store is not None:
        await runtime.store.aput(profile_namespace(user_id), PROFILE_KEY, profile)


def _steps() -> list[str]:
    return [str(s) for s in ONBOARDING_STEPS]


def tour_state(profile: dict[str, Any] | None) -> dict[str, Any]:
    """Where the user's tour stands: ``step`` (last shown, -1: none), ``done``, ``skipped``."""
    tour = dict((profile or {}).get(TOUR_KEY) or {})
    return {
        "step": int(tour.get("step", -1)),
        "done": bool(tour.get("done")),
        "skipped": bool(tour.get("skipped")),
    }


def _show(
    runtime: Runtime[Services], state: JourneyState, index: int, expertise: Expertise
) -> dict[str, object]:
    """Show tour step ``index``; the state update that records it."""
    steps = _steps()
    step = steps[index]
    n, of = index + 1, len(steps)
    say(runtime, f"onboarding_{step}", expertise=expertise, step=n, of=of)
    last = index == len(steps) - 1
    if last:
        say(runtime, "onboarding_next", expertise=expertise)
    else:
        say(
            runtime,
            "tour_nav",
            expertise=expertise,
            step=n,
            of=of,
            next_title=_TITLES[steps[index + 1]],
            first=index == 0,
        )
    return {
        "current_phase": Phase.ONBOARDING,
        "completed_steps": steps[: index + 1],
        "pending_steps": steps[index + 1 :],
    }


async def _save_tour(
    runtime: Runtime[Services], user_id: str, profile: dict[str, Any], **tour: object
) -> None:
    await save_profile(runtime, user_id, {**profile, TOUR_KEY: {**tour_state(profile), **tour}})


def _is_planning(state: JourneyState) -> bool:
    """A publication or purchase is under way on this thread: a greeting must not reset it."""
    return bool(state.get("pending_steps")) and state.get("current_phase") != Phase.ONBOARDING


async def onboarding(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """A greeting or a tour move: one tour step per turn, or a welcome back."""
    expertise: Expertise = state["expertise"]
    user_id = state["user_id"]
    profile = await load_profile(runtime, user_id) or {"published": 0}
    tour = tour_state(profile)
    intent = state["intent"]
    move = intent.get("move") if intent["kind"] == "tour" else None
    if intent["kind"] == "greet" and intent.get("topic") == "tour":  # "give me the tour"
        move = "resume"
    asked_for_tour = move is not None or (
        intent["kind"] == "help" and intent.get("topic") == "onboarding"
    )
    published = int(profile.get("published", 0))
    last = len(_steps()) - 1
    if not asked_for_tour:  # a greeting
        if published or tour["done"] or tour["skipped"]:
            say(runtime, "welcome_back", expertise=expertise, published=published)
            return {} if _is_planning(state) else {"current_phase": Phase.IDLE}
        if expertise == "expert" and tour["step"] < 0:  # offered ('tour'), not given
            await _save_tour(runtime, user_id, profile, skipped=True)
            say(runtime, "onboarding_welcome", expertise=expertise, step=1, of=last + 1)
            say(runtime, "onboarding_next", expertise=expertise)
            return {"current_phase": Phase.IDLE}
        if tour["step"] >= 0 and not tour["done"]:  # left half-way: go on where it stopped
            say(runtime, "tour_resumed", expertise=expertise, step=tour["step"] + 1, of=last + 1)
            return _show(runtime, state, tour["step"], expertise)
        await _save_tour(runtime, user_id, profile, step=0)
        return _show(runtime, state, 0, expertise)
    if move == "skip":
        await _save_tour(runtime, user_id, profile, skipped=True)
        say(runtime, "tour_skipped", expertise=expertise)
        return {"current_phase": Phase.IDLE, "completed_steps": [], "pending_steps": []}
    if move == "next":
        index = min(tour["step"] + 1, last)
    elif move == "back":
        index = max(tour["step"] - 1, 0)
    else:  # "tour", "show me the tour again": where it was left, or from the start
        index = 0 if tour["done"] or tour["step"] < 0 else tour["step"]
    await _save_tour(runtime, user_id, profile, step=index, done=index == last, skipped=False)
    return _show(runtime, state, index, expertise)
