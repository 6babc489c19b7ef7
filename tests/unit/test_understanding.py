"""The embedded interpreter on natural messages: context, entities, the classifier,
clarification, and its figures on the held-out labelled set."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.understanding.classifier import IntentClassifier, corpus, normalise
from agent.understanding.dialogue import Dialogue, GateName
from agent.understanding.dictation import as_said
from agent.understanding.evaluate import load_cases, make_files, score
from agent.understanding.files import find_files
from agent.understanding.pipeline import Understanding
from agent.understanding.spelled_numbers import figures_for_words
from agent.wiring import AsyncRules
from flows.intents import Intent

LABELLED = Path(__file__).parents[1] / "nlu" / "labelled.yaml"
BLIND = Path(__file__).parents[1] / "nlu_blind" / "blind.yaml"
SUI = 1_000_000_000


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.load(None))


def _assert_read(
    understanding: Understanding,
    base: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    """``text``, said in ``dialogue`` (the price shown: 1 SUI), is read as ``kind`` with
    ``slots`` (paths in any order)."""
    d = Dialogue(base_dir=base, price_mist=SUI, **dialogue)  # type: ignore[arg-type]
    got = understanding.read(text, d).intent
    assert got["kind"] == kind, got
    for name, value in slots.items():
        if name == "paths":
            assert isinstance(value, list)
            assert sorted(got.get("paths") or []) == sorted(value), got
        else:
            assert got.get(name) == value, (name, got)


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


@pytest.fixture
def many_models(tmp_path: Path) -> Path:
    make_files(
        tmp_path,
        [
            "nets/pose-estimator.onnx",
            "nets/voice-cleaner.onnx",
            "nets/doc-reader.onnx",
            "nets/chat-small.gguf",
            "runs/style-transfer.safetensors",
            "tf/leaf rust detector.h5",
            "ckpt/fraud_tabular.pt",
        ],
    )
    return tmp_path


_ONNX = ["nets/doc-reader.onnx", "nets/pose-estimator.onnx", "nets/voice-cleaner.onnx"]


@pytest.mark.parametrize(
    ("text", "kind", "paths"),
    [
        # a pattern is the files it matches, as the bulk upload expands it
        ("upload nets/*.onnx", "bulk_upload", _ONNX),
        # a folder named with "all": its model files (of the format named)
        ("publish everything in nets/", "bulk_upload", [*_ONNX[:1], "nets/chat-small.gguf",
                                                        *_ONNX[1:]]),
        ("put all the onnx ones from the nets folder up", "bulk_upload", _ONNX),
        ("get every onnx file inside nets uploaded", "bulk_upload", _ONNX),
        ("publish everything in runs/ and ckpt/", "bulk_upload",
         ["ckpt/fraud_tabular.pt", "runs/style-transfer.safetensors"]),
        # a name with spaces in a list is one file, not its first word
        ("batch upload ckpt/fraud_tabular.pt, tf/leaf rust detector.h5 please", "bulk_upload",
         ["ckpt/fraud_tabular.pt", "tf/leaf rust detector.h5"]),
        # several files named by what they are, "together": one bulk upload
        ("do the pose estimator and the voice cleaner together", "bulk_upload",
         ["nets/pose-estimator.onnx", "nets/voice-cleaner.onnx"]),
        # a folder and the words of the file in it
        ("my style transfer net is somewhere in runs/, can we get it out there?", "upload",
         ["runs/style-transfer.safetensors"]),
        ("upload every model I have in here", "bulk_upload",
         ["ckpt/fraud_tabular.pt", *_ONNX[:1], "nets/chat-small.gguf", *_ONNX[1:],
          "runs/style-transfer.safetensors", "tf/leaf rust detector.h5"]),
        # a typo or another form of a word in the file's name
        ("publish the pose estimater", "upload", ["nets/pose-estimator.onnx"]),
        ("time to ship the fraud model", "upload", ["ckpt/fraud_tabular.pt"]),
    ],
)  # fmt: skip
def test_files_named_in_many_ways(
    understanding: Understanding, many_models: Path, text: str, kind: str, paths: list[str]
) -> None:
    got = understanding.read(text, Dialogue(base_dir=many_models)).intent
    assert got["kind"] == kind, got
    assert sorted(got.get("paths") or []) == sorted(paths), got


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I started the fraud model upload an hour ago, how far did it get?", "status"),
        ("the pose estimator passed verification, list it", "list"),
    ],
)
def test_a_file_named_is_not_always_an_upload(
    understanding: Understanding, many_models: Path, text: str, kind: str
) -> None:
    assert understanding.read(text, Dialogue(base_dir=many_models)).intent["kind"] == kind


def test_paths_are_compared_in_any_order() -> None:
    from agent.understanding.evaluate import _slot_ok

    assert _slot_ok("paths", ["b.onnx", "./a.onnx"], ["a.onnx", "b.onnx"])
    assert not _slot_ok("paths", ["a.onnx"], ["a.onnx", "b.onnx"])


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # of two figures, the one asked for instead; a scale word; a figure refused
        ("3 sui feels too steep, do 2.5", {"gate": "listing"}, "set_price",
         {"price_mist": 2_500_000_000}),
        ("1 is too cheap, make it 1.75", {"gate": "listing"}, "set_price",
         {"price_mist": 1_750_000_000}),
        ("set it to 400 million mist", {"gate": "listing"}, "set_price",
         {"price_mist": 400_000_000}),
        ("ok but 2 sui, not 1", {"gate": "listing"}, "set_price", {"price_mist": 2 * SUI}),
        # a tour step: its moves with the words people put around them
        ("alright, next one please", {"expecting": "tour"}, "tour", {"move": "next"}),
        ("ok go back a page", {"expecting": "tour"}, "tour", {"move": "back"}),
        ("sure, skip this section", {"expecting": "tour"}, "tour", {"move": "skip"}),
        ("right, move on", {"expecting": "tour"}, "tour", {"move": "next"}),
        # a stopped step: "carry on" resumes it
        ("alright, carry on", {"paused": True}, "retry", {}),
        # modes and levels in free words; a title's words are not the user's level
        ("confirm each action with me from now on", {}, "set_mode", {"mode": "supervised"}),
        ("upload resnet50_v2.pt, no lectures please", {}, "quick_upload",
         {"paths": ["resnet50_v2.pt"]}),
    ],
)  # fmt: skip
def test_prices_tour_moves_and_modes_in_free_words(
    understanding: Understanding,
    models: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, models, text, dialogue, kind, slots)


def test_a_quoted_title_is_not_the_users_level(understanding: Understanding) -> None:
    got = understanding.read("tell me about the listing 'Vision Pro Max'", Dialogue()).intent
    assert got["kind"] != "set_expertise", got


@pytest.mark.parametrize(
    ("text", "draft", "kind"),
    [
        ("2 is fine", 2 * SUI, "approve"),
        ("yeah, 2 sui works for me", 2 * SUI, "approve"),
        ("ok 1.5 is good", 1_500_000_000, "approve"),
        # another figure, a question, a condition: never an approval
        ("2 is fine", 3 * SUI, "set_price"),
        ("2 is fine?", 2 * SUI, None),
        ("2 is fine but change the title", 2 * SUI, None),
        ("2 is fine if it sells", 2 * SUI, None),
    ],
)
def test_the_price_shown_accepted_in_words_approves_only_that_listing(
    understanding: Understanding, text: str, draft: int, kind: str | None
) -> None:
    got = understanding.read(text, Dialogue(gate="listing", price_mist=draft)).intent
    if kind is None:
        assert got["kind"] != "approve", got
    else:
        assert got["kind"] == kind, got
    # at any other gate the words approve nothing
    gates: tuple[GateName, ...] = ("upload", "purchase")
    for gate in gates:
        other = understanding.read(text, Dialogue(gate=gate, price_mist=draft)).intent
        assert other["kind"] != "approve", (gate, other)


async def test_words_nothing_fits_get_numbered_choices_not_a_shrug(tmp_path: Path) -> None:
    """An unclear message is answered "I'm not sure — did you mean 1) … or 2) …?", and the
    number the user says is the reading taken."""
    settings = Settings(_env_file=None, home=tmp_path / "home")  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("bo")
        events = [e async for e in assistant.send(thread, "qwzx plorb vrrm")]
        texts = [e for e in events if isinstance(e, TextEvent)]
        assert [e.kind for e in texts] == ["clarify"], texts
        assert texts[0].text.startswith("I'm not sure — did you mean 1) ")
        assert " or 2) " in texts[0].text or " 3) " in texts[0].text
        choices = texts[0].data["choices"]
        assert isinstance(choices, list) and 2 <= len(choices) <= 3
        events = [e async for e in assistant.send(thread, "1")]
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert "clarify" not in kinds and "not_understood" not in kinds, kinds


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    make_files(
        tmp_path,
        [
            "whisper-base.pt",
            "models/bert-ner.safetensors",
            "models/yolo-v8.onnx",
            "llm/phi-2.Q5_K_S.gguf",
            "vision/mobilenet_v3.onnx",
            "audio/kws-small.tflite",
            "credit_model.joblib",
        ],
    )
    return tmp_path


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # after "what should I call it?", the words are the title
        ("hmm, let's go with Pose Net Lite", {"expecting": "title"}, "edit_listing",
         {"title": "Pose Net Lite"}),
        ("just 'Tiny Bert'", {"expecting": "title"}, "edit_listing", {"title": "Tiny Bert"}),
        ("title: MobileNet Small, tags vision, mobile", {"gate": "listing"}, "edit_listing",
         {"title": "MobileNet Small", "add_tags": ["vision", "mobile"]}),
        # a lone letter ("it's") or a price ("2 sui") names no file
        ("it's the mobilenet one", {"expecting": "path"}, "upload",
         {"paths": ["vision/mobilenet_v3.onnx"]}),
        ("upload the mobilenet and the kws and sell them for 2 sui each", {}, "bulk_upload",
         {"paths": ["vision/mobilenet_v3.onnx", "audio/kws-small.tflite"],
          "price_mist": 2 * SUI}),
        ("upload the bert one and list it at 2 sui", {}, "upload",
         {"paths": ["models/bert-ner.safetensors"], "price_mist": 2 * SUI}),
        ("upload my credit model", {}, "upload", {"paths": ["credit_model.joblib"]}),
        ("upload *.pt", {}, "bulk_upload", {"paths": ["whisper-base.pt"]}),
        ("bulk upload models/", {}, "bulk_upload",
         {"paths": ["models/bert-ner.safetensors", "models/yolo-v8.onnx"]}),
        # other languages
        ("sube el modelo de whisper por favor", {}, "upload", {"paths": ["whisper-base.pt"]}),
        ("je veux vendre mon modèle whisper", {}, "upload", {"paths": ["whisper-base.pt"]}),
        ("mera upload kahan tak pahucha", {}, "status", {}),
        ("ja bitte", {"gate": "upload"}, "approve", {}),
        ("sim, pode fazer", {"gate": "upload"}, "approve", {}),
        # a question about uploading is not an upload; a style of reply is not a refusal
        ("stop being so verbose", {}, "verbosity", {"direction": "less"}),
        ("I know a bit about ML but nothing about crypto", {}, "set_expertise",
         {"expertise": "intermediate"}),
    ],
)  # fmt: skip
def test_titles_lists_and_other_languages(
    understanding: Understanding,
    workdir: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, workdir, text, dialogue, kind, slots)


def test_a_question_about_uploading_is_not_an_upload(
    understanding: Understanding, workdir: Path
) -> None:
    got = understanding.read("is a pickle safe to upload", Dialogue(base_dir=workdir)).intent
    assert got["kind"] not in ("upload", "quick_upload", "bulk_upload"), got


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        ("uplaod the phi model", {}, "upload", {"paths": ["llm/phi-2.Q5_K_S.gguf"]}),
        ("pubish the mobilenet", {}, "upload", {"paths": ["vision/mobilenet_v3.onnx"]}),
        # a listing taken down is not a file to upload, a price cap is a filter
        ("no longer sell the mobilenet", {}, "delist", {}),
        ("show me vision models under 3 sui", {}, "browse", {}),
        ("add a tag: detection", {"gate": "listing"}, "edit_listing",
         {"add_tags": ["detection"]}),
        ("no, 0.9", {"gate": "listing"}, "set_price", {"price_mist": 900_000_000}),
        # another file at the upload question; quick words with a file; other languages
        ("oops wrong one, I meant the mobilenet", {"gate": "upload"}, "upload",
         {"paths": ["vision/mobilenet_v3.onnx"]}),
        ("phi-2 please, as fast as you can, llm/phi-2.Q5_K_S.gguf", {}, "quick_upload",
         {"paths": ["llm/phi-2.Q5_K_S.gguf"]}),
        ("nómbralo Detector Rápido", {"gate": "listing"}, "edit_listing",
         {"title": "Detector Rápido"}),
        ("rajoute le tag audio", {"gate": "listing"}, "edit_listing", {"add_tags": ["audio"]}),
        ("add a 'fast' tag to my model", {"gate": "listing"}, "edit_listing", {}),
        # two changes in one message at the listing question: both kept
        ("call it Phi Two Small and make it 3 sui", {"gate": "listing"}, "edit_listing",
         {"title": "Phi Two Small", "price_mist": 3 * SUI}),
        ("name it Llama 3 Mini and add tag llm", {"gate": "listing"}, "edit_listing",
         {"title": "Llama 3 Mini", "add_tags": ["llm"]}),
        # a short request is a plain upload unless its words ask for speed
        ("Upload Whisper", {}, "upload", {"paths": ["whisper-base.pt"]}),
        ("jaldi se whisper-base.pt upload kar do", {}, "quick_upload",
         {"paths": ["whisper-base.pt"]}),
        # asking whether something is allowed is a question
        ("can I sell a model I didn't train myself?", {}, "help", {}),
        ("confirm the purchase", {"gate": "purchase"}, "approve", {}),
        # what a slot holds: the figure, the name, the tags, without the words around them
        ("set price 0.75", {}, "set_price", {"price_mist": 750_000_000}),
        ("fetch the pose-net weights onto my laptop", {}, "download", {"model_ref": "pose-net"}),
        ("add the tag audio to my listing", {"gate": "listing"}, "edit_listing",
         {"add_tags": ["audio"]}),
        ("upload phi + mobilenet", {}, "bulk_upload",
         {"paths": ["llm/phi-2.Q5_K_S.gguf", "vision/mobilenet_v3.onnx"]}),
        ("yh go", {"gate": "upload"}, "approve", {}),
        ("less fluff please", {}, "verbosity", {"direction": "less"}),
        # a progress question while a model question waits: answered, then asked again
        ("how far did the upload get?", {"question": "task"}, "status", {}),
    ],
)  # fmt: skip
def test_typos_delisting_filters_and_tags(
    understanding: Understanding,
    workdir: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    d = Dialogue(base_dir=workdir, price_mist=SUI, **dialogue)  # type: ignore[arg-type]
    got = understanding.read(text, d).intent
    assert got["kind"] == kind, got
    for name, value in slots.items():
        assert got.get(name) == value, (name, got)


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("is my listing live or not", "listing"),
        ("is the storage paid once or not", "upload"),
        ("will it be mine after this or not", "purchase"),
        ("does this cancel anything if I wait", "upload"),
    ],
)
def test_a_question_at_a_gate_is_never_a_yes_or_a_no(
    understanding: Understanding, text: str, gate: GateName
) -> None:
    got = understanding.read(text, Dialogue(gate=gate, price_mist=2_000_000_000)).intent
    assert got["kind"] not in ("approve", "decline"), got


def test_a_yes_on_a_condition_at_a_gate_is_asked_back(understanding: Understanding) -> None:
    d = Dialogue(gate="listing", price_mist=2_000_000_000)
    assert understanding.read("yes if it's under 1 SUI", d).intent["kind"] == "help"
    assert understanding.read("yes but make it 3", d).intent == {
        "kind": "set_price",
        "text": "yes but make it 3",
        "price_mist": 3_000_000_000,
    }


_SHOWN = ("0x" + "a" * 64, "0x" + "b" * 64, "0x" + "c" * 64)


@pytest.mark.parametrize(
    ("text", "kind", "ref"),
    [
        ("buy the first one", "purchase", _SHOWN[0]),
        ("the second", "purchase", _SHOWN[1]),
        ("number 2 please", "purchase", _SHOWN[1]),
        ("ok gimme the third one from that list", "purchase", _SHOWN[2]),
        ("download the last one you showed", "download", _SHOWN[2]),
        ("purchase #2", "purchase", _SHOWN[1]),
    ],
)
def test_a_listing_picked_by_its_place_in_the_list_shown(
    understanding: Understanding, text: str, kind: str, ref: str
) -> None:
    got = understanding.read(text, Dialogue(shown=_SHOWN)).intent
    assert (got["kind"], got.get("model_ref")) == (kind, ref), got


def test_a_place_without_a_list_stays_in_words(understanding: Understanding) -> None:
    got = understanding.read("buy the first one", Dialogue()).intent
    assert got.get("model_ref") == "the first one"
    got = understanding.read("download the model I bought last week", Dialogue()).intent
    assert got.get("model_ref") != "the last one"  # "last week" is no place in a list


@pytest.fixture
def short_named(tmp_path: Path) -> Path:
    make_files(
        tmp_path,
        [
            "models/keyword_spotting_small.onnx",
            "models/distilbert-sst-2.safetensors",
            "speech-recognition-base.pt",
            "crnn_ocr.onnx",
            "tiny-llm-q4.gguf",
            "resnet50.onnx",
        ],
    )
    return tmp_path


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("upload the kws model", "models/keyword_spotting_small.onnx"),
        ("publish the sst2 one", "models/distilbert-sst-2.safetensors"),
        ("can u put the sst-2 model up", "models/distilbert-sst-2.safetensors"),
        ("upload my asr model", "speech-recognition-base.pt"),
        ("put the llm up on the marketplace", "tiny-llm-q4.gguf"),
    ],
)
def test_short_forms_name_files_that_exist(
    understanding: Understanding, short_named: Path, text: str, path: str
) -> None:
    got = understanding.read(text, Dialogue(base_dir=short_named)).intent
    assert (got["kind"], got.get("paths")) == ("upload", [path]), got


def test_a_short_form_names_no_file_that_is_not_there(
    understanding: Understanding, short_named: Path
) -> None:
    got = understanding.read("upload the ner model", Dialogue(base_dir=short_named)).intent
    assert not got.get("paths"), got


@pytest.mark.parametrize(
    ("text", "gate", "kind", "ref"),
    [
        ("tell me more about the Llama Q4 Mini listing", None, "browse", "Llama Q4 Mini"),
        ("can i see the listing for 0x9c4e1b7a2d", None, "browse", "0x9c4e1b7a2d"),
        ("i'm looking for a good sentiment model to buy", None, "browse", None),
        ("hmm show me cheaper alternatives first", "purchase", "browse", None),
        ("buy Llama Q4 Mini", None, "purchase", "Llama Q4 Mini"),
        ("make it available for people to buy", None, "list", None),
    ],
)
def test_looking_at_listings_is_not_buying(
    understanding: Understanding, text: str, gate: GateName | None, kind: str, ref: str | None
) -> None:
    got = understanding.read(text, Dialogue(gate=gate)).intent
    assert (got["kind"], got.get("model_ref")) == (kind, ref), got


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("do i need a wallet to buy stuff", None),
        ("do buyers have to hold sui to buy it", None),
        ("was this one verified or not", "purchase"),
        ("idk, is it worth it?", "purchase"),
    ],
)
def test_asking_what_is_needed_is_a_question(
    understanding: Understanding, text: str, gate: GateName | None
) -> None:
    assert understanding.read(text, Dialogue(gate=gate)).intent["kind"] == "help"


def test_a_market_question_naming_a_file_is_not_an_upload(
    understanding: Understanding, tmp_path: Path
) -> None:
    make_files(tmp_path, ["mistral-7b-instruct.Q4_K_M.gguf"])
    text = "whats the going rate for 7b ggufs on the marketplace"
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == "market_analysis", got


def test_a_worth_said_is_a_price_and_do_the_x_one_an_upload(
    understanding: Understanding, tmp_path: Path
) -> None:
    make_files(tmp_path, ["llama-7b-q4.gguf", "tabular/fraud_gbm.pkl"])
    d = Dialogue(base_dir=tmp_path)
    got = understanding.read("honestly i think it's worth ten sui", d).intent
    assert (got["kind"], got.get("price_mist")) == ("set_price", 10_000_000_000), got
    got = understanding.read("can we do the gguf", d).intent
    assert (got["kind"], got.get("paths")) == ("upload", ["llama-7b-q4.gguf"]), got
    got = understanding.read("can you do the fraud pickle", d).intent
    assert (got["kind"], got.get("paths")) == ("upload", ["tabular/fraud_gbm.pkl"]), got
    got = understanding.read("can you just do everything automatically from now on?", d).intent
    assert got["kind"] != "bulk_upload", got


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    make_files(
        tmp_path,
        [
            "runs/2024-05/exp3/weights/last.pt",
            "exports/churn_model.pkl",
            "models/bird-resnet.onnx",
        ],
    )
    return tmp_path


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # a bare name that exists only deep down; a path in brackets
        ("last.pt", {"expecting": "path"}, "upload",
         {"paths": ["runs/2024-05/exp3/weights/last.pt"]}),
        ("please publish my churn model (exports/churn_model.pkl)", {}, "upload",
         {"paths": ["exports/churn_model.pkl"]}),
        ("express upload: models/bird-resnet.onnx", {}, "quick_upload",
         {"paths": ["models/bird-resnet.onnx"]}),
        # listing edits said the way people say them
        ("cut it in half", {"gate": "listing"}, "set_price", {"price_mist": SUI // 2}),
        ("the tags should be: birds, vision", {"gate": "listing"}, "edit_listing",
         {"tags": ["birds", "vision"]}),
        ("take off the 'draft' tag", {"gate": "listing"}, "edit_listing",
         {"remove_tags": ["draft"]}),
        ("that name is dull, could you call it Bird Spotter instead?", {"gate": "listing"},
         "edit_listing", {"title": "Bird Spotter"}),
        # "ponle" puts a name or a price on it: with a price it is no title
        ("ponle el precio en 3 sui", {"gate": "listing"}, "set_price", {"price_mist": 3 * SUI}),
        ("ponle Bird Spotter", {"gate": "listing"}, "edit_listing", {"title": "Bird Spotter"}),
        ("please start publishing the bird resnet", {}, "upload",
         {"paths": ["models/bird-resnet.onnx"]}),
        # at a gate: a question about the step is its status; terms affirmed are a yes
        ("wait, did the upload really go through?", {"gate": "listing"}, "status", {}),
        ("title and tags both look fine, go ahead", {"gate": "listing"}, "approve", {}),
        # at a checkpoint question: several ways of passing are one skip
        ("not sure, skip", {"question": "Who is it for?"}, "answer", {"skip": "one"}),
        # yeses and places in other languages
        ("iya, lanjutkan", {"gate": "upload"}, "approve", {}),
        ("oke boleh", {"gate": "listing"}, "approve", {}),
        ("jangan dulu", {"gate": "purchase"}, "decline", {}),
    ],
)  # fmt: skip
def test_entities_said_the_way_people_say_them(
    understanding: Understanding,
    nested: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, nested, text, dialogue, kind, slots)


def test_the_word_title_in_a_yes_is_no_new_title(understanding: Understanding) -> None:
    got = understanding.read("title and price both fine, go on", Dialogue(gate="listing")).intent
    assert "title" not in got and got["kind"] != "edit_listing", got


@pytest.mark.parametrize(
    ("text", "shown", "ref"),
    [
        ("beli yang kedua", _SHOWN, _SHOWN[1]),
        ("quiero el segundo", _SHOWN, _SHOWN[1]),
        ("ok get me that one", _SHOWN[:1], _SHOWN[0]),
    ],
)
def test_a_place_in_other_words_or_the_only_one_shown(
    understanding: Understanding, text: str, shown: tuple[str, ...], ref: str
) -> None:
    got = understanding.read(text, Dialogue(shown=shown)).intent
    assert (got["kind"], got.get("model_ref")) == ("purchase", ref), got


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # a message that corrects itself is read as corrected
        ("publish the gguf, no wait, the yolo one", {}, "upload",
         {"paths": ["models/yolo-v8.onnx"]}),
        ("set it to 3 sui, no, 2.5", {"gate": "listing"}, "set_price",
         {"price_mist": 2_500_000_000}),
        ("cut it by 10%... make that 50%", {"gate": "listing"}, "set_price",
         {"price_mist": SUI // 2}),
        ("show the dashboard, I mean undo that", {}, "undo", {}),
        ("switch to auto mode, no, supervised", {}, "set_mode", {"mode": "supervised"}),
        ("buy the second, er, the third", {"shown": _SHOWN}, "purchase",
         {"model_ref": _SHOWN[2]}),
        # what would happen if…: a question, never the action it names
        ("If I list it today, will buyers see it straight away?", {}, "help", {}),
        ("if i upload credit_model.joblib, who can download it?", {}, "help", {}),
        # a listing with its price, in words other than "list it at"
        ("list the bert one, 3 sui", {}, "list", {"price_mist": 3 * SUI}),
        ("pop it on the marketplace at 1.5 SUI", {}, "list", {"price_mist": 1_500_000_000}),
        # both directions said: the one asked for last
        ("answers are too short, I want more detail", {}, "verbosity", {"direction": "more"}),
        ("it's on autopilot but I'd rather approve things myself", {}, "set_mode",
         {"mode": "supervised"}),
        # fractions and additions to the price shown (1 SUI)
        ("make it 2 and a half", {"gate": "listing"}, "set_price",
         {"price_mist": 2_500_000_000}),
        ("add half a sui", {"gate": "listing"}, "set_price", {"price_mist": 1_500_000_000}),
    ],
)  # fmt: skip
def test_corrections_conditions_and_last_words(
    understanding: Understanding,
    workdir: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, workdir, text, dialogue, kind, slots)


@pytest.mark.parametrize(
    "text", ["yes, no wait, hold on", "list it, no wait, yes go ahead", "ok, er, yes"]
)
def test_a_yes_after_a_correction_is_never_an_approval(
    understanding: Understanding, text: str
) -> None:
    got = understanding.read(text, Dialogue(gate="listing", price_mist=SUI)).intent
    assert got["kind"] != "approve", got


@pytest.mark.parametrize(
    ("text", "gate", "kind"),
    [
        ("don't cancel it, it's fine", None, "wait"),
        ("please do not stop the verification", None, "wait"),
        ("never mind the time, don't abort", "upload", "help"),  # no yes, no no: asked again
        ("cancel it", None, "decline"),
    ],
)
def test_a_refusal_refused_is_no_refusal(
    understanding: Understanding, text: str, gate: GateName | None, kind: str
) -> None:
    assert understanding.read(text, Dialogue(gate=gate)).intent["kind"] == kind


@pytest.mark.parametrize(
    ("text", "kind", "ref"),
    [
        ("fetch number two", "download", _SHOWN[1]),
        ("i take the last of those", "purchase", _SHOWN[2]),
    ],
)
def test_places_counted_in_words(
    understanding: Understanding, text: str, kind: str, ref: str
) -> None:
    got = understanding.read(text, Dialogue(shown=_SHOWN)).intent
    assert (got["kind"], got.get("model_ref")) == (kind, ref), got


def test_skipping_the_questions_is_a_quick_upload(
    understanding: Understanding, workdir: Path
) -> None:
    said = "skip the questions and publish the phi gguf straight away"
    got = understanding.read(said, Dialogue(base_dir=workdir)).intent
    assert (got["kind"], got.get("paths")) == ("quick_upload", ["llm/phi-2.Q5_K_S.gguf"]), got


@pytest.fixture
def deep_runs(tmp_path: Path) -> Path:
    make_files(
        tmp_path,
        [
            "runs/2024-05/seed_7/ckpt/last/weights.pt",
            "exports/intent-tagger.onnx",
            "exports/spam-filter.joblib",
        ],
    )
    return tmp_path


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # the price shown, said again beside a yes, is the yes (the price shown is 1 SUI)
        ("good, 1 sui, publish it", {"gate": "listing"}, "approve", {}),
        ("list it for 1 SUI then", {"gate": "listing"}, "approve", {}),
        ("ok, 2 sui, publish it", {"gate": "listing"}, "set_price", {"price_mist": 2 * SUI}),
        # tags said again: the last list wins; the words around them are no tags
        ("add the tag spam and also the tag email", {"gate": "listing"}, "edit_listing",
         {"add_tags": ["spam", "email"]}),
        ("tags: nlp, intent, no: nlp, chatbot", {"gate": "listing"}, "edit_listing",
         {"tags": ["nlp", "chatbot"]}),
        # a model in a folder, however deep, by its kind
        ("upload the pytorch weights in runs", {}, "upload",
         {"paths": ["runs/2024-05/seed_7/ckpt/last/weights.pt"]}),
    ],
)  # fmt: skip
def test_the_price_shown_tags_said_again_and_deep_folders(
    understanding: Understanding,
    deep_runs: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, deep_runs, text, dialogue, kind, slots)


@pytest.mark.parametrize(
    "text",
    [
        "please upload my model after all",
        "upload the model, that is all",
        "upload my model, all good",
    ],
)
def test_all_in_an_idiom_is_no_file(deep_runs: Path, text: str) -> None:
    assert find_files(text, deep_runs) == []


def test_all_my_models_is_every_file(deep_runs: Path) -> None:
    found = set(find_files("upload all my models", deep_runs))
    assert {"exports/intent-tagger.onnx", "exports/spam-filter.joblib"} <= found


@pytest.mark.parametrize(
    ("text", "price_mist"),
    [
        # figures said in words, and a figure offered as a question (the price shown: 1 SUI)
        ("hmm, what about 0.7?", 700_000_000),
        ("fine, go with one point five", 1_500_000_000),
        ("twenty percent more", 1_200_000_000),
        ("ask six for it", 6 * SUI),
        ("make it three point two five sui", 3_250_000_000),
    ],
)
def test_figures_said_in_words_and_offered_as_questions(
    understanding: Understanding, deep_runs: Path, text: str, price_mist: int
) -> None:
    _assert_read(
        understanding, deep_runs, text, {"gate": "listing"}, "set_price", {"price_mist": price_mist}
    )


@pytest.mark.parametrize("text", ["the first one", "I want to buy one", "one more thing"])
def test_number_words_that_are_no_figures_stay_words(text: str) -> None:
    assert figures_for_words(text) == text


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        # a title and tags said the ways people say them, at the listing question
        ("use Spam Guard as the title", {"title": "Spam Guard"}),
        ("set the name to Spam Guard", {"title": "Spam Guard"}),
        ("we'd like it to be called Spam Guard", {"title": "Spam Guard"}),
        ("the name's off, it should be Spam Guard", {"title": "Spam Guard"}),
        ("retitle: Spam Guard", {"title": "Spam Guard"}),
        ("ponle como título Spam Guard", {"title": "Spam Guard"}),
        ("include the tags 'email' and 'spam'?", {"add_tags": ["email", "spam"]}),
        ("attach a tag called filtering", {"add_tags": ["filtering"]}),
        ("label it as email-security", {"add_tags": ["email-security"]}),
        ("the tags should only be email and spam", {"tags": ["email", "spam"]}),
    ],
)
def test_titles_and_tags_said_the_ways_people_say_them(
    understanding: Understanding, deep_runs: Path, text: str, slots: dict[str, object]
) -> None:
    _assert_read(understanding, deep_runs, text, {"gate": "listing"}, "edit_listing", slots)


_THREE = ("0x" + "1" * 64, "0x" + "2" * 64, "0x" + "3" * 64)


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # replies to a checkpoint question with words around them
        ("could we skip the rest of the questions?", {"question": "task"}, "answer",
         {"skip": "all"}),
        ("same one as before, thanks", {"question": "task"}, "answer", {"keep": True}),
        ("go with what I answered last time", {"question": "task"}, "answer", {"keep": True}),
        ("skip it, no idea", {"question": "task"}, "answer", {"skip": "one"}),
        # a direction refused asks for the other
        ("give me the long version, not the brief one", {}, "verbosity", {"direction": "more"}),
        # "no longer" is no wish for longer answers
        ("no longer sell the resnet", {}, "delist", {}),
        ("answers no longer than a line please", {}, "verbosity", {"direction": "less"}),
        # places in the list shown that are not counted from the start
        ("the middle one, please", {"shown": _THREE}, "purchase", {"model_ref": _THREE[1]}),
        ("buy the second to last", {"shown": _THREE}, "purchase", {"model_ref": _THREE[1]}),
        # questions about what happens, never the action they name
        ("once it's live, can I still edit the description?", {}, "help", {}),
        ("how do buyers get the weights after paying?", {}, "help", {}),
        ("is the download verified against the attestation?", {}, "help", {}),
        # taking a listing down, with a change of mind said after it
        ("take my spam filter off the marketplace, I've changed my mind", {}, "delist", {}),
        # a title with a hedge after it; a figure offered after a hedge about the price
        ("hmm, Spam Shield I suppose", {"expecting": "title"}, "edit_listing",
         {"title": "Spam Shield"}),
        ("1 SUI feels a bit steep. perhaps 0.6?", {"gate": "listing"}, "set_price",
         {"price_mist": 600_000_000}),
    ],
)  # fmt: skip
def test_replies_places_questions_and_hedges(
    understanding: Understanding,
    deep_runs: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, deep_runs, text, dialogue, kind, slots)


def test_a_word_about_the_price_names_no_file(tmp_path: Path) -> None:
    make_files(tmp_path, ["house_prices.joblib", "models/face-finder.onnx"])
    assert find_files("put it up on the market and suggest a price", tmp_path) == []
    assert find_files("upload the house one", tmp_path) == ["house_prices.joblib"]


@pytest.mark.parametrize(
    ("text", "kind", "slots"),
    [
        ("which models have I purchased?", "dashboard", {}),
        ("what did we buy last week", "dashboard", {}),
        ("keep it simple please, I'm not very technical", "set_expertise",
         {"expertise": "beginner"}),
    ],
)  # fmt: skip
def test_purchases_made_and_a_level_said_in_other_words(
    understanding: Understanding, deep_runs: Path, text: str, kind: str, slots: dict[str, object]
) -> None:
    _assert_read(understanding, deep_runs, text, {}, kind, slots)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # a greeting first, then what the message asks: what it asks is read
        ("hello, what formats can I upload?", "help"),
        ("hey, could you upload it as a quick one? no questions", "quick_upload"),
        ("hi! can you check how my upload is doing?", "status"),
        ("hey there, download my last purchase please", "download"),
        # a greeting and an introduction, or a question about the assistant: a greeting
        ("hi! I'm Ana and I build speech models for fun", "greet"),
        ("hello, what is this thing exactly?", "greet"),
    ],
)
def test_a_greeting_then_a_request(
    understanding: Understanding, deep_runs: Path, text: str, kind: str
) -> None:
    _assert_read(understanding, deep_runs, text, {}, kind, {})


def test_walking_through_is_no_question_of_cost() -> None:
    got = AsyncRules().rules.interpret("can you walk me through the steps?")
    assert got.get("topic") != "cost", got


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # said aloud and written by a speech recogniser
        ("okay publish it period", {"gate": "listing"}, "approve", {}),
        ("lower it to one point two five sue period", {"gate": "listing"}, "set_price",
         {"price_mist": 1_250_000_000}),
        ("add the tags email comma spam", {"gate": "listing"}, "edit_listing",
         {"add_tags": ["email", "spam"]}),
        ("by the third one period", {"shown": _THREE}, "purchase", {"model_ref": _THREE[2]}),
    ],
)  # fmt: skip
def test_messages_said_aloud(
    understanding: Understanding,
    deep_runs: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, deep_runs, text, dialogue, kind, slots)


@pytest.mark.parametrize(
    "text", ["the trial period is over", "what period does it cover", "I paid by card"]
)
def test_words_that_are_no_dictated_marks_stay(text: str) -> None:
    assert as_said(text) == text


def test_no_labelled_message_of_three_words_or_more_is_an_example() -> None:
    """The sets measure reading new words: a sentence of one of them copied into the
    examples would be measured as learnt, not understood (one or two words, "yes" or
    "check status", are said the same way by everyone)."""
    examples = {normalise(text) for text, _ in corpus()}
    copied = []
    for path in sorted(LABELLED.parents[1].glob("nlu*/*.yaml")):
        _, cases = load_cases(path)
        for case in cases:
            said = normalise(str(case["text"]))
            if len(said.split()) >= 3 and said in examples:
                copied.append(path.parent.name)  # not the words: the blind sets stay unread
    assert copied == []


def test_the_model_i_bought_names_no_listing(understanding: Understanding, tmp_path: Path) -> None:
    """'download the model I bought' is the purchase in talk, not a listing called 'I bought'."""
    for text in ("i want to download the model i bought", "get me the one I just paid for"):
        got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
        assert got["kind"] == "download" and "model_ref" not in got, got
        d = Dialogue(base_dir=tmp_path, listing_id="0x" + "ab" * 32)
        assert understanding.read(text, d).intent.get("model_ref") == "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "sui"),
    [
        ("drop the price of my xray listing to 1.2", "1.2"),
        ("change the price to 4", "4"),
        ("lower it to 0.9", "0.9"),
        ("can you put the price at 1.75", "1.75"),
    ],
)
def test_a_bare_figure_said_as_the_new_price_is_in_sui(
    understanding: Understanding, tmp_path: Path, text: str, sui: str
) -> None:
    """With no gate waiting, a figure that the words make the price is read in SUI."""
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == "set_price" and got.get("price_mist") == int(Decimal(sui) * SUI), got


def test_going_back_during_the_tour_is_the_tours_step_back(
    understanding: Understanding, tmp_path: Path
) -> None:
    """During the tour, a long 'go back' is its step back; with no tour, an undo."""
    text = "Sorry, my phone rang and I missed that, could we go back to the previous part?"
    got = understanding.read(text, Dialogue(base_dir=tmp_path, expecting="tour")).intent
    assert got["kind"] == "tour" and got.get("move") == "back", got
    alone = "oops, I typed the wrong thing, go back one step please"
    assert understanding.read(alone, Dialogue(base_dir=tmp_path)).intent["kind"] == "undo"


def test_a_change_at_a_bulk_listing_names_its_model(
    understanding: Understanding, tmp_path: Path
) -> None:
    """'epoch_30 deserves more, 3 SUI' at the listing gate is for that file; the words of a
    title or a tag name no file."""
    make_files(tmp_path, ["ckpt/epoch_10.pt", "ckpt/epoch_30.pt", "models/resnet50.onnx"])
    d = Dialogue(base_dir=tmp_path, gate="listing", price_mist=SUI)
    for text, slots, path in (
        ("epoch_30 deserves more, put that one at 3 SUI", {"price_mist": 3 * SUI}, "epoch_30"),
        (
            "epoch_10 should be titled ViT Early Checkpoint",
            {"title": "ViT Early Checkpoint"},
            "epoch_10",
        ),
        (
            "tags for ckpt/epoch_30.pt should be: vision, vit",
            {"tags": ["vision", "vit"]},
            "epoch_30",
        ),
    ):
        got = understanding.read(text, d).intent
        assert {k: got.get(k) for k in slots} == slots, got
        assert got.get("paths") == [f"ckpt/{path}.pt"], got
    for text in ("call it resnet50 Classifier", "add the tag resnet50", "make it 2 SUI"):
        assert "paths" not in understanding.read(text, d).intent, text


def test_the_file_switched_at_the_upload_gate(understanding: Understanding, tmp_path: Path) -> None:
    """'wrong file, I meant X' at the upload gate is an upload of X, whatever the classifier
    makes of 'X' alone."""
    make_files(tmp_path, ["my model v2.safetensors", "faces/detector v3.onnx"])
    d = Dialogue(base_dir=tmp_path, gate="upload")
    for text, path in (
        ("wrong file, I meant my model v2", "my model v2.safetensors"),
        ("oops wrong one, I meant the detector v3", "faces/detector v3.onnx"),
    ):
        got = understanding.read(text, d).intent
        assert got["kind"] == "upload" and got.get("paths") == [path], got


def test_asking_to_be_asked_less_uploads_nothing(
    understanding: Understanding, tmp_path: Path
) -> None:
    """'just do it automatically' is a mode, not a quick upload of every file there."""
    make_files(tmp_path, ["a/face.onnx", "b/speech.pt"])
    text = "stop asking me to confirm everything, just do it automatically"
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == "set_mode" and "paths" not in got, got
    quick = understanding.read("speedrun a/face.onnx, minimal talking", Dialogue(base_dir=tmp_path))
    assert quick.intent["kind"] == "quick_upload", quick.intent


def test_a_folder_named_after_its_word_and_files_in_bulk(
    understanding: Understanding, tmp_path: Path
) -> None:
    """'aus dem Ordner checkpoints', 'la carpeta models': that folder's files; 'bulk:'
    before paths that exist is their bulk upload, whatever the formats' words suggest."""
    make_files(tmp_path, ["checkpoints/e10.pt", "checkpoints/e20.pt", "models/a.onnx", "x.pkl"])
    assert find_files("Lade bitte alle Dateien aus dem Ordner checkpoints hoch.", tmp_path) == [
        "checkpoints/e10.pt",
        "checkpoints/e20.pt",
    ]
    assert find_files("sube todo de la carpeta models", tmp_path) == ["models/a.onnx"]
    got = understanding.read("bulk: x.pkl models/a.onnx", Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == "bulk_upload" and sorted(got.get("paths") or []) == [
        "models/a.onnx",
        "x.pkl",
    ], got


@pytest.mark.parametrize(
    "text",
    [
        "Now that it has passed, I should like the model offered for sale at four SUI.",
        "put it up for sale at 4 SUI",
        "pop it in the shop for 4 SUI",
    ],
)
def test_offered_for_sale_at_a_price_is_a_listing(
    understanding: Understanding, tmp_path: Path, text: str
) -> None:
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == "list" and got.get("price_mist") == 4 * SUI, got


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("It's my third model this week, so same answer as last time please", {"keep": True}),
        ("no clue honestly, so skip it", {"skip": "one"}),
        ("it reads reviews, so text classification", {}),  # the answer itself
    ],
)
def test_a_reply_after_its_reason(
    understanding: Understanding, tmp_path: Path, text: str, slots: dict[str, object]
) -> None:
    """At a checkpoint question, 'same as last time' or 'skip' after a reason is that reply."""
    got = understanding.read(text, Dialogue(base_dir=tmp_path, question="task")).intent
    assert got["kind"] == "answer", got
    for name, value in slots.items():
        assert got.get(name) == value, got
    if not slots:
        assert not got.get("keep") and not got.get("skip"), got


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("carica il modello delle malattie delle piante", "vision/plant_disease_resnet.onnx"),
        ("publica o modelo das doenças das plantas", "vision/plant_disease_resnet.onnx"),
        ("sube mi modelo de la guitarra", "audio/guitar_tone_v2.onnx"),
        ("lade das Modell für Quittungen hoch", "exports/receipt_ocr_v3.onnx"),
        ("upload model penyakit tanaman", "vision/plant_disease_resnet.onnx"),
    ],
)
def test_a_file_described_in_another_language_is_found(
    tmp_path: Path, text: str, want: str
) -> None:
    """The words of other languages for what a model does name the file as the English ones
    do (prompts/nlu/glossary.yaml); an English word is never given another meaning."""
    for name in (
        "vision/plant_disease_resnet.onnx",
        "audio/guitar_tone_v2.onnx",
        "exports/receipt_ocr_v3.onnx",
        "llm/tinyllama-1.1b-chat.Q4_K_M.gguf",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"\0")
    assert find_files(text, tmp_path) == [want]
    assert find_files("upload the chat model", tmp_path) == ["llm/tinyllama-1.1b-chat.Q4_K_M.gguf"]


def test_the_latest_or_earliest_of_numbered_files(tmp_path: Path) -> None:
    """'the latest checkpoint' is the highest-numbered of the files the words fit equally,
    'the earliest epoch' the lowest; numbers compare as numbers (epoch_9 before epoch_10)."""
    for n in (9, 10, 30):
        (tmp_path / "checkpoints").mkdir(exist_ok=True)
        (tmp_path / "checkpoints" / f"epoch_{n}.pt").write_bytes(b"\0")
    assert find_files("ship the latest checkpoint", tmp_path) == ["checkpoints/epoch_30.pt"]
    assert find_files("upload the earliest epoch", tmp_path) == ["checkpoints/epoch_9.pt"]
    assert find_files("upload the checkpoint", tmp_path) == []  # several: none guessed
    assert find_files("upload the checkpoint like last time", tmp_path) == []


@pytest.mark.parametrize(
    ("text", "kind", "price"),
    [
        ("upload -f audio/guitar_tone_v2.onnx --price 2", "upload", 2_000_000_000),
        ("upload audio/guitar_tone_v2.onnx -p 3 sui", "upload", 3_000_000_000),
        ("list it --price=1.5", "list", 1_500_000_000),
        ("upload audio/guitar_tone_v2.onnx --price 750 mist", "upload", 750),
    ],
)
def test_a_price_given_as_a_command_line_flag(
    understanding: Understanding, tmp_path: Path, text: str, kind: str, price: int
) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "guitar_tone_v2.onnx").write_bytes(b"\0")
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == kind and got.get("price_mist") == price, got


@pytest.mark.parametrize(
    ("text", "kind", "slots"),
    [
        # a model wished for, not one named: a search
        ("I'd like to buy a good OCR model", "browse", {"query": "OCR"}),
        ("buy a model for receipts", "browse", {"query": "receipts"}),
        ("get me a face model", "browse", {"query": "face"}),
        ("show me models under 2 sui", "browse", {"price_mist": 2_000_000_000}),
        # one named: the purchase, its name without "the … one"
        ("buy the whisper one", "purchase", {"model_ref": "whisper"}),
        ("get the whisper one", "purchase", {"model_ref": "whisper"}),
        ("buy Receipt Reader OCR", "purchase", {"model_ref": "Receipt Reader OCR"}),
    ],
)
def test_a_model_wished_for_is_a_search_and_one_named_a_purchase(
    understanding: Understanding, tmp_path: Path, text: str, kind: str, slots: dict[str, object]
) -> None:
    _assert_read(understanding, tmp_path, text, {}, kind, slots)
    got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
    if kind == "browse" and "query" not in slots:
        assert got.get("query") is None, got  # "show me" is no search word


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("gm ser, show me my bags", "dashboard"),  # a greeting, then the request
        ("merhaba, audio/guitar_tone_v2.onnx yüklemek istiyorum", "upload"),
        ("konnichiwa! appurodo shitai, audio/guitar_tone_v2.onnx", "upload"),
        ("gm", "greet"),
        ("hello, I'm Tom", "greet"),
        ("what's selling today?", "market_analysis"),
        ("who are the top sellers", "market_analysis"),
    ],
)
def test_greetings_in_more_words_and_what_sells(
    understanding: Understanding, tmp_path: Path, text: str, kind: str
) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "guitar_tone_v2.onnx").write_bytes(b"\0")
    assert understanding.read(text, Dialogue(base_dir=tmp_path)).intent["kind"] == kind


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("not sure tbh", {"skip": "one"}),
        ("pass on this one", {"skip": "one"}),
        ("idk", {"skip": "one"}),
        ("no clue lol", {"skip": "one"}),
        ("skip the rest, I'm in a hurry", {"skip": "all"}),
        ("can you skip all these questions", {"skip": "all"}),
        ("sentiment, not sure", {}),  # an answer, with a doubt after it
        ("it sorts photos of leaves", {}),
    ],
)
def test_replies_to_a_checkpoint_question_in_more_words(
    understanding: Understanding, tmp_path: Path, text: str, slots: dict[str, object]
) -> None:
    got = understanding.read(text, Dialogue(question="task", base_dir=tmp_path)).intent
    assert got["kind"] == "answer", got
    assert {k: got[k] for k in ("skip", "keep") if k in got} == slots, got


@pytest.mark.parametrize(
    ("text", "kind", "slots"),
    [
        ("sou iniciante, nunca mexi com isso antes", "set_expertise", {"expertise": "beginner"}),
        ("ich bin Anfänger", "set_expertise", {"expertise": "beginner"}),
        ("soy experta en esto", "set_expertise", {"expertise": "expert"}),
        (
            "I'm a dab hand at this, no need to hold my hand",
            "set_expertise",
            {"expertise": "expert"},
        ),
        ("passe en mode automatique s'il te plaît", "set_mode", {"mode": "auto"}),
        ("modo automático por favor", "set_mode", {"mode": "auto"}),
    ],
)
def test_levels_and_modes_in_other_languages_and_idioms(
    understanding: Understanding, tmp_path: Path, text: str, kind: str, slots: dict[str, object]
) -> None:
    _assert_read(understanding, tmp_path, text, {}, kind, slots)


def test_hurry_about_something_else_is_no_quick_upload(
    understanding: Understanding, tmp_path: Path
) -> None:
    """'quick' makes an upload quick; said with another request it is only hurry."""
    (tmp_path / "guitar_tone_v2.onnx").write_bytes(b"\0")
    for text, kind in (
        ("what sells best right now, quick", "market_analysis"),
        ("quick, show my dashboard", "dashboard"),
        ("speedrun the guitar one", "quick_upload"),
        ("quick upload guitar_tone_v2.onnx", "quick_upload"),
    ):
        got = understanding.read(text, Dialogue(base_dir=tmp_path)).intent
        assert got["kind"] == kind, (text, got)


def test_how_my_models_sell_is_the_dashboard_and_what_is_hot_a_search(
    understanding: Understanding, tmp_path: Path
) -> None:
    for text in ("is my model selling?", "are my listings doing ok?"):
        assert understanding.read(text, Dialogue(base_dir=tmp_path)).intent["kind"] == "dashboard"
    got = understanding.read("what's hot in vision", Dialogue(base_dir=tmp_path)).intent
    assert got["kind"] == "browse" and got.get("category") == "computer-vision", got
    assert got.get("query") is None, got


@pytest.mark.parametrize(
    ("text", "dialogue", "kind", "slots"),
    [
        # a share said in words: never read as an amount of SUI added (1 SUI shown)
        ("raise the price by 20 per cent", {"gate": "listing"}, "set_price",
         {"price_mist": 1_200_000_000}),
        ("drop it 10 pct", {"gate": "listing"}, "set_price", {"price_mist": 900_000_000}),
        ("bump it up 50 pc please", {"gate": "listing"}, "set_price",
         {"price_mist": 1_500_000_000}),
        ("too steep for students, make it half", {"gate": "listing"}, "set_price",
         {"price_mist": 500_000_000}),
        ("make it half a sui", {"gate": "listing"}, "set_price", {"price_mist": 500_000_000}),
        # two tag edits in one message, each read
        ("drop tag beta, add stable", {"gate": "listing"}, "edit_listing",
         {"remove_tags": ["beta"], "add_tags": ["stable"]}),
        ("rm tag old and add vision", {"gate": "listing"}, "edit_listing",
         {"remove_tags": ["old"], "add_tags": ["vision"]}),
        # when, not what: the last word of a title said in lower case
        ("ok but rename it to Crop Doctor first", {"gate": "listing"}, "edit_listing",
         {"title": "Crop Doctor"}),
        ("call it Ladies First", {"gate": "listing"}, "edit_listing", {"title": "Ladies First"}),
        # "longer" is about waiting here, not about longer answers
        ("ok just let it go a bit longer I suppose", {}, "wait", {}),
        # a greeting, then a request in other words and languages
        ("Salut ! je cherche un modèle pour la traduction", {}, "browse", {}),
        ("hey, I'm from Manila and I want to sell my model", {}, "upload", {}),
        ("hey there, new to sui, show me around", {}, "greet", {}),
        # a model for a need is to be found, not a listing called "for …"
        ("I want buy model for detect spam mails, there is?", {}, "browse", {}),
        ("could I purchase something that recognises birdsong", {}, "browse", {}),
        ("buy that cat detector", {}, "purchase", {"model_ref": "that cat detector"}),
        # listing a model at a price, said politely, with no gate waiting
        ("Kindly list the translation model at 4 SUI.", {}, "list", {"price_mist": 4 * SUI}),
        # "how do I …?" in other languages: a question, not the doing
        ("model upload kaise karte hain?", {}, "help", {}),
        ("comment publier mon modèle ?", {}, "help", {}),
        # a file named with a slip, where an upload is likeliest
        ("and the tiny one as well, sentimnet-tiny", {}, "upload",
         {"paths": ["sentiment-tiny.safetensors"]}),
        # a reply to a tour step that says its move in more words, or in another language
        ("right, what comes after this", {"expecting": "tour"}, "tour", {"move": "next"}),
        ("understood, proceed", {"expecting": "tour"}, "tour", {"move": "next"}),
        ("hmm ok continue", {"expecting": "tour"}, "tour", {"move": "next"}),
        ("volgende", {"expecting": "tour"}, "tour", {"move": "next"}),
        ("sorry, can you show the previous one", {"expecting": "tour"}, "tour", {"move": "back"}),
        ("what? say it again", {"expecting": "tour"}, "tour", {"move": "resume"}),
        ("I know all this already, skip", {"expecting": "tour"}, "tour", {"move": "skip"}),
        ("skip to the next part", {"expecting": "tour"}, "tour", {"move": "next"}),
        ("upload ./resnet50_v2.pt", {"expecting": "tour"}, "upload", {}),  # no tour word
        # the questions left skipped, in more words
        ("skip the remaining ones of these", {"question": "task"}, "answer", {"skip": "all"}),
        ("please don't ask me any more questions", {"question": "model_type"}, "answer",
         {"skip": "all"}),
        # shopping in words: a model wanted for what it does, or asked to be chosen
        ("which llms could I buy", {}, "browse", {"category": "llm"}),
        ("what can I purchase here", {}, "browse", {}),
        ("I need a model that spots litter in photos", {}, "browse", {"query": "spots litter photos"}),
        ("looking to purchase a decent sentiment classifier", {}, "browse", {}),
        ("could you recommend an OCR model", {}, "browse", {"query": "OCR"}),
        ("what do you recommend for tagging photos?", {}, "browse", {}),
        # not shopping: advice about something else, or a model of the user's own
        ("recommend a good film for tonight", {}, "unknown", {}),
        ("I need a model for my course, how do I upload it?", {}, "help", {}),
        ("what would you recommend for the price?", {}, "market_analysis", {}),
        # modes described in other languages
        ("quiero el modo supervisado", {}, "set_mode", {"mode": "supervised"}),
        ("pregúntame primero antes de pagar nada", {}, "set_mode", {"mode": "supervised"}),
        ("frag mich vorher bei jedem Schritt", {}, "set_mode", {"mode": "supervised"}),
        # the model bought, in other words: no listing called "el modelo que compré"
        ("descarga el modelo que compré", {}, "download", {"model_ref": None}),
        ("das gekaufte Modell herunterladen bitte", {}, "download", {"model_ref": None}),
        # what it costs, asked in other languages: a question, not the dashboard
        ("combien coûte la publication ?", {}, "help", {}),
        ("wie viel habe ich bisher verdient?", {}, "dashboard", {}),
        ("dame respuestas más cortas", {}, "verbosity", {"direction": "less"}),
        ("trop de texte, plus court svp", {}, "verbosity", {"direction": "less"}),
        ("nah, triple it", {"gate": "listing"}, "set_price", {"price_mist": 3 * SUI}),
        ("yok, çok pahalı", {"gate": "listing"}, "decline", {}),
        ("gak jadi deh", {"gate": "purchase"}, "decline", {}),
        ("mude o título para Leaf Scan", {"gate": "listing"}, "edit_listing",
         {"title": "Leaf Scan"}),
        ("aggiungi il tag vision", {"gate": "listing"}, "edit_listing", {"add_tags": ["vision"]}),
        ("tambahkan tag pertanian", {"gate": "listing"}, "edit_listing",
         {"add_tags": ["pertanian"]}),
        # a stopped step: going on in other words, and a "continue" refused
        ("continua de onde parou", {"paused": True}, "retry", {}),
        ("no, I don't want it to continue", {"paused": True}, "decline", {}),
        ("tsugi", {"expecting": "tour"}, "tour", {"move": "next"}),
    ],
)  # fmt: skip
def test_readings_in_more_words_languages_and_context(
    understanding: Understanding,
    models: Path,
    text: str,
    dialogue: dict[str, object],
    kind: str,
    slots: dict[str, object],
) -> None:
    _assert_read(understanding, models, text, dialogue, kind, slots)


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("rename to: Leaf Scan v2", {"title": "Leaf Scan v2"}),  # the colon is no word of it
        ("add 'plants' as a tag", {"add_tags": ["plants"]}),  # before: ['plants', 'a']
        ("put 'fast' in the tags", {"add_tags": ["fast"]}),  # before: a file called 'fast'
        ("stick edge into the tags as well", {"add_tags": ["edge"]}),
    ],
)
def test_titles_and_tags_in_more_words_name_no_file(
    understanding: Understanding, models: Path, text: str, slots: dict[str, object]
) -> None:
    _assert_read(understanding, models, text, {"gate": "listing"}, "edit_listing", slots)
    d = Dialogue(base_dir=models, gate="listing", price_mist=SUI)
    assert "paths" not in understanding.read(text, d).intent


def test_every_file_in_a_folder_said_in_other_languages(
    understanding: Understanding, models: Path
) -> None:
    for text in (
        "upload semua model di folder exports",
        "sube todos los modelos de la carpeta exports",
    ):
        got = understanding.read(text, Dialogue(base_dir=models)).intent
        assert got["kind"] in ("upload", "bulk_upload") and got.get("paths") == [
            "exports/classifier.h5"
        ], got
