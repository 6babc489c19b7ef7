"""A long message is read in bounded time, off the event loop; an over-long one is refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.understanding.bounds import MAX_MESSAGE_CHARS
from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.pipeline import Reading, Understanding
from agent.understanding.rules import RuleInterpreter, extract_paths
from agent.wiring import AsyncRules
from flows.intents import Intent

N = 20_000
# Shapes that made a pattern quadratic (a run that each start position scanned again) and
# ordinary words repeated; each exactly N characters.
SHAPES: dict[str, str] = {
    "upload + one long word": "upload " + "a" * (N - 7),
    "digits": "1" * N,
    "digits and dots": "1." * (N // 2),
    "dots": "." * N,
    "spaces": " " * N,
    "newlines": "\n" * N,
    "slashes": "a/" * (N // 2),
    "quotes": '"' * N,
    "names": ("abcdefghij.pt " * N)[:N],
    "tilde": "~a" * (N // 2),
    "words": ("upload the model to sui for 2.5 sui, tag it nlp and title it X " * N)[:N],
    "description": ("set description to " + "lorem ipsum " * N)[:N],
    "prices": ("1 " * N)[: N - 3] + "sui",
}
DIALOGUES: dict[str, Dialogue] = {
    "idle": Dialogue(),
    "listing gate": Dialogue(gate="listing", price_mist=2_000_000_000, title="T"),
    "purchase gate": Dialogue(gate="purchase"),
    "asked for a file": Dialogue(expecting="path"),
}


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.train())


def _best_of_3(read: Callable[..., object], *args: object) -> float:
    """CPU seconds of the calling thread (other processes on a loaded machine do not count)."""
    best = float("inf")
    for _ in range(3):
        start = time.thread_time()
        read(*args)
        best = min(best, time.thread_time() - start)
    return best


@pytest.mark.parametrize("shape", SHAPES)
def test_20000_characters_are_read_in_under_50_ms(
    understanding: Understanding, shape: str, tmp_path: Path
) -> None:
    text = SHAPES[shape]
    assert len(text) == N
    for name, d in DIALOGUES.items():
        took = _best_of_3(understanding.read, text, replace(d, base_dir=tmp_path))
        assert took < 0.050, f"{shape} at {name}: {took * 1000:.0f} ms"
        took = _best_of_3(RuleInterpreter().interpret, text)
        assert took < 0.050, f"{shape} by the rules: {took * 1000:.0f} ms"


@pytest.mark.parametrize("shape", ["dots", "digits and dots", "slashes", "names", "quotes"])
def test_path_extraction_is_linear_over_the_whole_text(shape: str) -> None:
    # extract_paths also sees whole texts (the HTTP API's path mapping): 20 k in < 50 ms
    assert _best_of_3(extract_paths, SHAPES[shape]) < 0.050


def test_a_long_description_is_kept_whole(understanding: Understanding) -> None:
    words = "a careful description " * 200
    found = understanding.read(f"set description to {words}", Dialogue(gate="listing"))
    assert found.intent["kind"] == "edit_listing"
    assert found.intent.get("description") == words.strip()


def test_a_path_naming_no_user_or_too_long_for_a_file_system_is_no_crash(
    understanding: Understanding, tmp_path: Path
) -> None:
    d = Dialogue(expecting="path", base_dir=tmp_path)
    for text in ("upload ~nosuchuser1234/model.pt", "upload /" + "a" * 5000 + ".pt", "x\0.pt"):
        assert understanding.read(text, d).intent["kind"]


class _Recording(Understanding):
    """The embedded interpreter, noting which thread read each message."""

    threads: list[int]

    def read(self, text: str, d: Dialogue, *, at_gate: bool = False) -> Reading:
        self.threads.append(threading.get_ident())
        return super().read(text, d, at_gate=at_gate)


class _RecordingRules(AsyncRules):
    """The rules behind the async interface, noting which thread read each message."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []
        inner = self.rules.interpret

        def interpret(text: str, *, at_gate: bool = False, gate: str | None = None) -> Intent:
            self.threads.append(threading.get_ident())
            return inner(text, at_gate=at_gate, gate=gate)

        self.rules.interpret = interpret  # type: ignore[method-assign]


async def test_messages_are_read_off_the_event_loop(understanding: Understanding) -> None:
    recording = _Recording(understanding.classifier)
    recording.threads = []
    loop_thread = threading.get_ident()
    found = await recording.interpret("upload " + "a" * (N - 7))
    assert found["kind"] and recording.threads and loop_thread not in recording.threads
    rules = _RecordingRules()
    await rules.interpret("1." * (N // 2))
    assert rules.threads and loop_thread not in rules.threads


async def test_an_over_long_message_is_refused_and_nothing_of_it_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(_env_file=None, home=home)  # type: ignore[call-arg]
    text = "upload " + "q" * MAX_MESSAGE_CHARS
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        started = time.perf_counter()
        events = [e async for e in assistant.send(thread, text)]
        assert time.perf_counter() - started < 5
        replies = [e for e in events if isinstance(e, TextEvent)]
        assert [e.kind for e in replies] == ["message_too_long"]
        assert "20,007 characters" in replies[0].text and "20,000" in replies[0].text
        state = repr(await assistant.state(thread))
        assert "q" * 100 not in state
        # the thread works on: a normal message next
        after = [e async for e in assistant.send(thread, "check status")]
        assert any(isinstance(e, TextEvent) for e in after)
