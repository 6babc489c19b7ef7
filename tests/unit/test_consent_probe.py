"""Consent read through the whole interpreter on two probe sets written from the gates'
descriptions alone (never from the code): tricky messages that look like a yes and are
not one (a question, a condition, a hedge, sarcasm, a yes to something else, a change,
reported speech, a typo'd word…), and plain yeses said in many ways. Not one of the first
may approve; most of the second must."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.pipeline import Understanding

PROBE = Path(__file__).parents[1] / "consent_probe"
DRAFT_SUI = 2  # the price a listing gate shows when a case does not say


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.load(None))


def _approved(understanding: Understanding, name: str) -> tuple[list[str], int]:
    cases = yaml.safe_load((PROBE / name).read_text())["cases"]
    approved = []
    for case in cases:
        shown = case.get("price_sui", DRAFT_SUI if case["gate"] == "listing" else None)
        d = Dialogue(
            gate=case["gate"],
            price_mist=int(shown * 10**9)
            if shown is not None and case["gate"] == "listing"
            else None,
            gate_amounts=((float(shown), "sui"),) if shown is not None else (),
        )
        if understanding.read(str(case["text"]), d).intent["kind"] == "approve":
            approved.append(f"{case['gate']}: {case['text']}")
    return approved, len(cases)


def test_no_tricky_message_approves_a_gate(understanding: Understanding) -> None:
    approved, total = _approved(understanding, "not_approvals.yaml")
    assert total >= 300
    assert approved == []


def test_plain_yeses_in_many_ways_approve(understanding: Understanding) -> None:
    approved, total = _approved(understanding, "approvals.yaml")
    assert total >= 140
    assert len(approved) / total >= 0.95, f"{len(approved)}/{total}"
