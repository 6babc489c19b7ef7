"""Command words typed one slip off ("uplaod", "verfy", "delsit") are read as meant; real
words, other languages, paths, titles and answers at a gate are read as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.pipeline import Understanding
from agent.understanding.spelling import _table, _words, refresh_real_words, respelled, slips

SUI = 1_000_000_000


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.load(None))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("uplaod models/bert.safetensors", "upload models/bert.safetensors"),
        ("whats the progres on my uplaod", "whats the progress on my upload"),
        ("pls verfy it", "pls verify it"),
        ("delsit my old model", "delist my old model"),
        ("show my dashbord", "show my dashboard"),
        ("retyr", "retry"),
        ("stauts?", "status?"),
        ("Purchse the second one", "Purchase the second one"),
        ("ok. Dashbord please", "ok. Dashboard please"),
        ("what's the histroy, it's been slow", "what's the history, it's been slow"),
        ("buy the thrid one", "buy the third one"),
        ("download the secodn one", "download the second one"),
    ],
)
def test_command_words_one_slip_off_are_read_as_meant(typed: str, meant: str) -> None:
    assert respelled(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "my model is marked as verified",  # 'marked' is a word ('market' one slip away)
        "the cancer screening model",  # not 'cancel'
        "unload it from the remote box",  # not 'upload', 'remove'
        "which modes are there",  # not 'models'
        "zeig mir den markt",  # German
        "sube el modelo por favor",  # Spanish
        "uplaod.onnx is the file",  # a file name
        "upload ./verfy/model.onnx",  # a path
        "call it 'Uplaod Helper'",  # a quoted title
        "call it Pirce Tool",  # a name, capitalised inside the sentence
        "lsit it",  # shorter words are not guessed at
    ],
)
def test_real_words_names_and_paths_are_left_as_typed(typed: str) -> None:
    assert respelled(typed) == typed


def test_a_slip_of_two_command_words_goes_to_the_one_of_its_length() -> None:
    """'stauts' is a slip of 'status' (two letters swapped) and of 'stats' (one added)."""
    assert {"status", "stats"} <= {c for c in ("status", "stats") if "stauts" in slips(c)}
    assert _table()["stauts"] == "status"


def test_the_real_words_list_is_current() -> None:
    """``real_words`` is what the dictionaries give for the command words now (refresh it
    after changing the commands: see prompts/nlu/spelling.yaml)."""
    assert sorted(_words("real_words")) == refresh_real_words()


@pytest.mark.parametrize(
    ("text", "kind", "slots"),
    [
        ("delsit my old model pls", "delist", {}),
        ("switch to supervsied mode", "set_mode", {"mode": "supervised"}),
        ("brwose models under 2 sui", "browse", {"price_mist": 2 * SUI}),
        ("im an expret", "set_expertise", {"expertise": "expert"}),
    ],
)
def test_messages_with_slips_are_understood(
    understanding: Understanding, tmp_path: Path, text: str, kind: str, slots: dict[str, object]
) -> None:
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == kind, got
    assert got["text"] == text  # what the user typed, as typed
    for name, value in slots.items():
        assert got.get(name) == value, got
    assert "query" not in got  # no misspelt word left over as a search term


def test_an_answer_at_a_gate_is_read_as_typed(understanding: Understanding, tmp_path: Path) -> None:
    """At a gate nothing is respelled: a slip is not made into a word that answers it."""
    d = Dialogue(base_dir=tmp_path, gate="listing", price_mist=SUI)
    assert understanding.read("publsih", d).intent["kind"] != "approve"
