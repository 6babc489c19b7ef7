"""The classifier scores a message with the fitted model's own arithmetic: the same margins
as scikit-learn's ``decision_function``, for a fraction of its CPU."""

from __future__ import annotations

import time

import numpy as np
import pytest

from agent.understanding import classifier
from agent.understanding.classifier import IntentClassifier, corpus, normalise

ODD = [
    "",
    "???",
    "👍",
    "   ",
    "zzzz qqqq",
    "lsit it for 3 sui pls",
    "¿puedo vender mi modelo?",
    "Wie viel kostet das Hochladen?",
    "upload ./models/bert-tiny.safetensors and list it at 2.5 SUI",
    "x" * 600,
]


@pytest.fixture(scope="module")
def clf() -> IntentClassifier:
    return IntentClassifier.load(None)


def _texts() -> list[str]:
    return [normalise(t) for t, _ in corpus()] + [normalise(t) for t in ODD]


def test_the_margins_are_scikit_learns(clf: IntentClassifier) -> None:
    texts = _texts()
    expected = np.asarray(clf.pipeline.decision_function(texts))
    ours = np.array([clf.scorer.margins(t) for t in texts])
    assert ours.shape == expected.shape == (len(texts), len(clf.classes))
    assert np.abs(ours - expected).max() < 1e-9
    assert (ours.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_a_text_of_unknown_ngrams_scores_the_intercepts(clf: IntentClassifier) -> None:
    expected = np.asarray(clf.pipeline.decision_function(["\u0800\u0801"])[0])
    assert np.array_equal(clf.scorer.margins("\u0800\u0801"), expected)
    assert np.array_equal(expected, clf.pipeline.named_steps["clf"].intercept_)


def test_the_ranking_is_unchanged(clf: IntentClassifier) -> None:
    for text in [t for t, _ in corpus()][::7] + ODD:
        margins = np.asarray(clf.pipeline.decision_function([normalise(text)])[0])
        exp = np.exp((margins - margins.max()) * classifier._SHARPNESS)
        probs = exp / exp.sum()
        ranked = sorted(zip(clf.pipeline.classes_, probs, strict=True), key=lambda p: -p[1])
        got = clf.predict(text, top=3)
        assert [k for k, _ in got] == [str(k) for k, _ in ranked[:3]]
        assert [p for _, p in got] == pytest.approx([float(p) for _, p in ranked[:3]], abs=1e-12)


def test_a_prediction_costs_a_fraction_of_scikit_learns(clf: IntentClassifier) -> None:
    """CPU time, measured side by side (the machine's load falls on both alike)."""
    texts = [normalise(t) for t, _ in corpus()][:200]
    clf.predict(texts[0])
    started = time.process_time()
    for text in texts:
        clf.pipeline.decision_function([text])
    theirs = time.process_time() - started
    started = time.process_time()
    for text in texts:
        clf.predict(text)
    ours = time.process_time() - started
    assert ours < theirs / 3, f"predict: {ours * 5:.2f} ms, scikit-learn {theirs * 5:.2f} ms"
