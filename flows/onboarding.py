"""Onboarding: progressive introduction for new users, a short hello for returning ones."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.events import say
from flows.intents import Expertise
from flows.services import Services
from flows.state import ONBOARDING_STEPS, JourneyState, Phase

PROFILE_KEY = "profile"


def profile_namespace(user_id: str) -> tuple[str, ...]:
    """Where a user's profile lives in the LangGraph store."""
    return ("users", user_id)


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


async def onboarding(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Welcome a user; beginners get every explanation step, experts one line."""
    expertise: Expertise = state["expertise"]
    if state.get("returning"):
        profile = await load_profile(runtime, state["user_id"]) or {}
        say(
            runtime,
            "welcome_back",
            expertise=expertise,
            published=int(profile.get("published", 0)),
        )
        return {"current_phase": Phase.ONBOARDING}
    steps = [str(s) for s in ONBOARDING_STEPS]
    shown = steps if expertise == "beginner" else steps[:1]
    for step in shown:
        say(runtime, f"onboarding_{step}", expertise=expertise)
    say(runtime, "onboarding_next", expertise=expertise)
    completed = list(state.get("completed_steps") or [])
    completed += [s for s in steps if s not in completed]
    return {"current_phase": Phase.ONBOARDING, "completed_steps": completed}
