"""Consent read through the whole interpreter on probe sets written from the gates'
descriptions alone (never from the code): tricky messages that look like a yes and are
not one (a question, a condition, a hedge, sarcasm, a yes to something else, a change,
reported speech, a typo'd word…), plain yeses, and yeses and refusals in many more words
and languages. Not one message that is not a yes may approve; floors hold what is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.evaluate import GateAnswers, load_gate_answers, score_gate_answers
from agent.understanding.pipeline import Understanding
from flows.intents import Intent

PROBE = Path(__file__).parents[1] / "consent_probe"


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.load(None))


async def _read(understanding: Understanding, name: str) -> GateAnswers:
    async def interpret(text: str, d: Dialogue) -> Intent:
        return await understanding.interpret(text, context=d)

    return await score_gate_answers(interpret, load_gate_answers(PROBE / name))


def test_every_probe_set_names_real_gates_and_readings() -> None:
    for path in sorted(PROBE.glob("*.yaml")):
        cases = load_gate_answers(path)
        assert len(cases) >= 140, path.name
        assert {c["dialogue"].gate for c in cases} == {"upload", "listing", "purchase"}
        assert {c["want"] for c in cases} <= {"approve", "decline", "other"}, path.name


async def test_no_tricky_message_approves_a_gate(understanding: Understanding) -> None:
    got = await _read(understanding, "not_approvals.yaml")
    assert got.total["other"] >= 300
    assert got.misses == []


async def test_plain_yeses_in_many_ways_approve(understanding: Understanding) -> None:
    got = await _read(understanding, "approvals.yaml")
    assert got.share("approve") >= 0.95, got.summary()


async def test_yeses_and_refusals_in_many_more_words_and_languages(
    understanding: Understanding,
) -> None:
    got = await _read(understanding, "dev_answers.yaml")
    assert got.approved_without_consent == 0, got.misses
    assert got.share("approve") >= 0.8, got.summary()
    assert got.share("decline") >= 0.95, got.summary()


async def test_the_held_out_answers_approve_nothing_that_is_no_yes(
    understanding: Understanding,
) -> None:
    """Kept held out: only its totals are read (a failure says the counts, not the words)."""
    got = await _read(understanding, "heldout_answers.yaml")
    assert got.approved_without_consent == 0, got.summary()
    assert got.share("approve") >= 0.65 and got.share("decline") >= 0.85, got.summary()
