"""How much the agent explains, following what the user does as well as what they say.

A user's level (beginner, intermediate, expert) is kept in their profile. It
changes when they say so ("I'm an expert", "more detail", "shorter"), and by
itself when their behaviour shows it: a beginner who has published three models
graduates to intermediate; an expert who keeps asking questions gets more detail.
Each change made by itself is announced once, with how to undo it.
"""

from __future__ import annotations

from typing import Any

from flows.intents import Direction, Expertise

LEVELS: tuple[Expertise, ...] = ("beginner", "intermediate", "expert")
GRADUATE_AFTER_PUBLISHED = 3  # a beginner after this many successful publications
MORE_DETAIL_AFTER_QUESTIONS = 3  # an expert after this many questions


def shifted(level: Expertise, direction: Direction) -> Expertise:
    """One level towards more detail (beginner) or shorter replies (expert)."""
    i = LEVELS.index(level) + (-1 if direction == "more" else 1)
    return LEVELS[min(max(i, 0), len(LEVELS) - 1)]


def graduation(profile: dict[str, Any], level: Expertise) -> tuple[Expertise, str] | None:
    """The level the user's behaviour earns and why ('published' or 'questions'), once."""
    announced = set(profile.get("announced") or [])
    published = int(profile.get("published", 0))
    if (
        level == "beginner"
        and published >= GRADUATE_AFTER_PUBLISHED
        and "published" not in announced
    ):
        return "intermediate", "published"
    questions = int(profile.get("questions", 0))
    if (
        level == "expert"
        and questions >= MORE_DETAIL_AFTER_QUESTIONS
        and "questions" not in announced
    ):
        return "intermediate", "questions"
    return None


def graduate(profile: dict[str, Any], level: Expertise) -> tuple[dict[str, Any], Expertise, str]:
    """The profile with the earned level recorded and announced; the level and the reason.

    Call only when ``graduation`` found one.
    """
    found = graduation(profile, level)
    assert found is not None
    new, why = found
    announced = sorted({*(profile.get("announced") or []), why})
    return {**profile, "expertise": new, "announced": announced}, new, why
