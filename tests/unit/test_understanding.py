"""The embedded interpreter on natural messages: context, entities, the classifier,
clarification, and its figures on the held-out labelled set."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.evaluate import load_cases, make_files, score
from agent.understanding.pipeline import Understanding
from agent.wiring import AsyncRules
from flows.intents import Intent

LABELLED = Path(__file__).parents[1] / "nlu" / "labelled.yaml"
BLIND = Path(__file__).parents[1] / "nlu_blind" / "blind.yaml"
SUI = 1_000_000_000


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.load(None))


@pytest.fixture
def models(tmp_path: Path) -> Path:
    make_files(
        tmp_path,
        [
            "models/sentiment-bert.safetensors",
            "sentiment-tiny.safetensors",
            "exports/classifier.h5",
            "resnet50_v2.pt",
        ],
    )
    return tmp_path


async def test_the_held_out_set_is_understood_and_no_consent_is_invented(
    understanding: Understanding, tmp_path: Path
) -> None:
    files, cases = load_cases(LABELLED)
    assert len(cases) >= 400
    make_files(tmp_path, files)

    async def embedded(text: str, d: Dialogue) -> Intent:
        return await understanding.interpret(text, context=d)

    rules = AsyncRules()

    async def by_rules(text: str, d: Dialogue) -> Intent:
        return await rules.interpret(text, at_gate=d.gate is not None, context=d)

    default = await score(embedded, cases, tmp_path)
    baseline = await score(by_rules, cases, tmp_path)
    assert default.consent_errors == 0 and baseline.consent_errors == 0
    assert default.accuracy >= 0.89, default.misses  # the floor; bench/nlu.py prints the figure
    assert default.accuracy >= baseline.accuracy * 1.8
    # its speed is measured by bench/nlu.py (p95_ms), not asserted here: a loaded machine


async def test_the_blind_set_invents_no_consent(
    understanding: Understanding, tmp_path: Path
) -> None:
    """Messages written without seeing the interpreter: no gate is approved by anything but
    an approval. (Its accuracy is a figure of bench/nlu.py, not tuned against here.)"""
    files, cases = load_cases(BLIND)
    assert len(cases) >= 200
    make_files(tmp_path, files)

    async def embedded(text: str, d: Dialogue) -> Intent:
        return await understanding.interpret(text, context=d)

    result = await score(embedded, cases, tmp_path)
    assert result.consent_errors == 0
    assert result.accuracy >= 0.75  # a floor far under the measured figure: nothing broke


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        ("it's in sentiment-tiny.safetensors", {"expecting": "path"}, "upload",
         {"paths": ["sentiment-tiny.safetensors"]}),
        ("I'd like to put models/sentiment-bert.safetensors on the marketplace", {}, "upload",
         {"paths": ["models/sentiment-bert.safetensors"]}),
        ("publish the sentiment bert model", {}, "upload",
         {"paths": ["models/sentiment-bert.safetensors"]}),
        ("hmm can we make it a bit cheaper, like 0.8", {"gate": "listing"}, "set_price",
         {"price_mist": 8 * SUI // 10}),
        ("I'd like 3.25 SUI for it", {"gate": "listing"}, "set_price", {"price_mist": 3_250_000_000}),
        ("charge 3.25 SUI instead", {"gate": "listing"}, "set_price", {"price_mist": 3_250_000_000}),
        ("list it for 3.25 SUI", {"gate": "listing"}, "set_price", {"price_mist": 3_250_000_000}),
        ("10% cheaper", {"gate": "listing"}, "set_price", {"price_mist": 9 * SUI // 10}),
        ("two and a half SUI", {"gate": "listing"}, "set_price", {"price_mist": 5 * SUI // 2}),
        ("set it to 1.25 SUI please", {"gate": "listing"}, "set_price", {"price_mist": 1_250_000_000}),
        ("call it Sentiment Classifier Tiny and add tag nlp", {"gate": "listing"}, "edit_listing",
         {"title": "Sentiment Classifier Tiny", "add_tags": ["nlp"]}),
        ("refresh my stats", {}, "dashboard", {}),
        ("whats the progres on my upload", {}, "status", {}),
        ("I've done this loads of times", {}, "set_expertise", {"expertise": "expert"}),
        ("not a total beginner but no expert either", {}, "set_expertise",
         {"expertise": "intermediate"}),
        # files named by what they are, not by their names
        ("can u put the tiny sentiment model up", {}, "upload",
         {"paths": ["sentiment-tiny.safetensors"]}),
        ("the keras one in exports, can you get it out there?", {}, "upload",
         {"paths": ["exports/classifier.h5"]}),
        ("hey, I trained a classifier, it's in exports/classifier.h5, can you sell it?", {},
         "upload", {"paths": ["exports/classifier.h5"]}),
        ("put the bert one, the tiny one and the resnet up", {}, "bulk_upload",
         {"paths": ["models/sentiment-bert.safetensors", "sentiment-tiny.safetensors",
                    "resnet50_v2.pt"]}),
        ("publish both sentiment models please", {}, "bulk_upload",
         {"paths": ["models/sentiment-bert.safetensors", "sentiment-tiny.safetensors"]}),
        # "it" is the model the conversation is about
        ("can I get the files for it now?", {"listing_id": "0xab12"}, "download",
         {"model_ref": "0xab12"}),
        ("download it again please", {"listing_id": "0xab12"}, "download", {"model_ref": "0xab12"}),
        ("got anything for sentiment analysis?", {}, "browse", {"query": "sentiment analysis"}),
        # an apostrophe is not a quote: no path "ve got a model, it"
        ("I've got a sentiment model, it's the bert one, can we put it up for sale", {},
         "upload", {"paths": ["models/sentiment-bert.safetensors"]}),
    ],
)  # fmt: skip
def test_the_issues_examples_are_understood(
    understanding: Understanding,
    models: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    d = Dialogue(base_dir=models, price_mist=SUI, **dialogue)  # type: ignore[arg-type]
    got = understanding.read(text, d).intent
    assert got["kind"] == kind
    for name, value in slots.items():
        assert got.get(name) == value, (name, got)


# Two intents that share their words equally: a message of those words is a coin toss.
_TOSS = [
    ("zorp", "dashboard"),
    ("zorp zorp", "dashboard"),
    ("quib", "market_analysis"),
    ("quib quib", "market_analysis"),
    ("upload a file", "upload"),
    ("hello there", "greet"),
]


def _tossing() -> Understanding:
    return Understanding(IntentClassifier.train(_TOSS))


def test_an_unclear_message_offers_choices() -> None:
    got = _tossing().read("zorp quib", Dialogue()).intent
    assert got["kind"] == "clarify" and 2 <= len(got.get("choices", [])) <= 3
    assert set(got["choices"][:2]) == {"dashboard", "market_analysis"}


def test_the_classifier_is_cached_and_reloaded(tmp_path: Path) -> None:
    from agent.understanding import classifier

    classifier._LOADED.clear()
    first = IntentClassifier.load(tmp_path)
    cached = list(tmp_path.glob("nlu-*.pkl"))
    assert len(cached) == 1
    classifier._LOADED.clear()
    second = IntentClassifier.load(tmp_path)
    assert second.predict("refresh my stats") == first.predict("refresh my stats")
    cached[0].write_bytes(b"not a model")  # a damaged cache is rebuilt
    classifier._LOADED.clear()
    assert IntentClassifier.load(tmp_path).predict("hello")[0][0] == "greet"


async def test_the_user_picks_a_reading_and_it_is_learned(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings, interpreter=_tossing()) as assistant:
        thread = await assistant.new_thread("ana")
        events = [e async for e in assistant.send(thread, "zorp quib")]
        asked = next(e for e in events if isinstance(e, TextEvent) and e.kind == "clarify")
        assert "1)" in asked.text and "2)" in asked.text
        choices = asked.data["choices"]
        assert isinstance(choices, list)
        events = [e async for e in assistant.send(thread, "2")]
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert "clarify" not in kinds and "not_understood" not in kinds
        assert kinds[0] in ("dashboard", "market_analysis")
        again = [e async for e in assistant.send(thread, "zorp quib")]
        assert [e.kind for e in again if isinstance(e, TextEvent)] == kinds  # learned for ana


async def test_a_bare_file_answers_which_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.journey_files import make_model_file

    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "sentiment-tiny.safetensors", "safetensors", size_mb=0.2)
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = [e async for e in assistant.send(thread, "I want to publish a model")]
        assert any(isinstance(e, TextEvent) and e.kind == "ask_for_path" for e in events)
        events = [e async for e in assistant.send(thread, "it's in sentiment-tiny.safetensors")]
        view = await assistant.state(thread)
        assert view.gate is not None and view.gate["gate"] == "upload"
