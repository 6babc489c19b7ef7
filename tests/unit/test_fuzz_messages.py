"""Seeded fuzzing of the interpreters: random and adversarial messages never raise, and each
is read in bounded time. CI size by default; the full campaign:
``SATYA_FUZZ_MESSAGES=20000 SATYA_FUZZ_SEED=1 pytest tests/unit/test_fuzz_messages.py``."""

from __future__ import annotations

import os
import random
import string
import time
from pathlib import Path

import pytest

from agent.redaction import scrub_secrets
from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.pipeline import Understanding
from agent.understanding.rules import RuleInterpreter

COUNT = int(os.environ.get("SATYA_FUZZ_MESSAGES", "300"))
SEED = int(os.environ.get("SATYA_FUZZ_SEED", "20261130"))
WORDS = (
    "upload list it for sui mist 1.5 0.8 model.safetensors ./a/b.onnx ~/m.gguf ~nobody/x.pt "
    "title: description tag tags add remove cheaper % by yes no wait actually but , ; : … — "
    "buy download 0x" + "ab" * 32 + " bulk these models status retry cancel help set price to "
    "rename as \"quoted name.pt\" 'single' http://x suiprivkey1qq Bearer sk-abc123 \n \t"
).split(" ")


def _message(rnd: random.Random) -> str:
    shape = rnd.randrange(4)
    if shape == 0:  # words of the product's own vocabulary
        return " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(1, 60)))
    if shape == 1:  # printable noise
        return "".join(rnd.choice(string.printable) for _ in range(rnd.randrange(1, 3000)))
    if shape == 2:  # one character or pair repeated (what made patterns quadratic)
        unit = rnd.choice(["a", "1", ".", "1.", " ", "/", "a/", '"', "~a", "-", "\n", "x "])
        return unit * rnd.randrange(1, 20_000 // len(unit))
    return "".join(chr(rnd.randrange(0x20, 0x2FFF)) for _ in range(rnd.randrange(1, 500)))


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.train())


def test_random_messages_are_read_without_error_in_bounded_time(
    understanding: Understanding, tmp_path: Path
) -> None:
    rnd = random.Random(SEED)
    dialogues = [
        Dialogue(base_dir=tmp_path),
        Dialogue(gate="listing", price_mist=2_000_000_000, title="T", base_dir=tmp_path),
        Dialogue(gate="purchase", base_dir=tmp_path),
        Dialogue(expecting="path", base_dir=tmp_path),
    ]
    rules = RuleInterpreter()
    slowest = 0.0
    for i in range(COUNT):
        text = _message(rnd)
        d = dialogues[i % len(dialogues)]
        started = time.perf_counter()
        clean = scrub_secrets(text)
        reading = understanding.read(clean, d)
        ruled = rules.interpret(clean, gate=d.gate)
        slowest = max(slowest, time.perf_counter() - started)
        assert reading.intent["kind"] and ruled["kind"], (SEED, i)
    # generous for a loaded machine; the quadratic patterns took seconds
    assert slowest < 1.0, f"slowest message took {slowest:.2f} s (seed {SEED})"
