"""Consent: a gate is approved only by a plain yes to that gate, and a message that resumes
a stopped step never also answers the gate that step leads to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent import Assistant, GateEvent, Settings, TextEvent
from agent.events import ErrorEvent, Event
from agent.journey_files import make_model_file
from agent.journeys import say_and_stop
from agent.understanding.classifier import IntentClassifier
from agent.understanding.consent import read_consent
from agent.understanding.dialogue import Dialogue, GateName
from agent.understanding.pipeline import Understanding
from agent.wiring import AsyncRules

LABELLED = Path(__file__).parents[1] / "nlu" / "labelled.yaml"


def _gate_cases() -> list[dict[str, object]]:
    cases = yaml.safe_load(LABELLED.read_text())["cases"]
    return [c for c in cases if (c.get("context") or {}).get("gate")]


def test_the_labelled_gate_answers_are_many_and_varied() -> None:
    cases = _gate_cases()
    assert len(cases) >= 150
    assert {c["kind"] for c in cases} >= {"approve", "decline", "help", "set_price", "edit_listing"}


async def test_no_gate_answer_but_an_approval_approves() -> None:
    rules = AsyncRules()
    wrong: list[str] = []
    approvals = 0
    for case in _gate_cases():
        ctx = case["context"]
        assert isinstance(ctx, dict)
        dialogue = Dialogue(gate=ctx["gate"], price_mist=ctx.get("price_mist"))
        got = await rules.interpret(str(case["text"]), at_gate=True, context=dialogue)
        if got["kind"] == "approve" and case["kind"] != "approve":
            wrong.append(f"{case['text']!r} at {ctx['gate']} (is {case['kind']})")
        approvals += got["kind"] == "approve" and case["kind"] == "approve"
    assert wrong == []
    assert approvals > 0


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("ok, how much is that in dollars?", "purchase"),
        ("ok so what happens if I say yes?", "upload"),
        ("sure... wait, no, don't do it", "upload"),
        ("yes if it's under 1 SUI", "purchase"),
        ("yes, list it at 2 SUI", "listing"),
        ("list it", "upload"),  # another gate's action
        ("buy it", "listing"),
        ("ok wait", "upload"),
        ("yeah no", "upload"),
        ("sure, but first show me the market", "listing"),
        ("why not?", "upload"),  # asked, not agreed
        ("go live", "upload"),  # the listing's words at the upload question
        ("take my money", "listing"),
        ("yesss but cheaper", "listing"),
        ("confirm the purchase", "upload"),  # another gate's action
        ("confirm the upload", "listing"),
    ],
)
def test_hedges_questions_and_other_gates_never_approve(text: str, gate: str) -> None:
    assert read_consent(text, gate) != "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("yes", "upload"),
        ("Yep, go ahead!", "upload"),
        ("sure, list it", "listing"),
        ("👍", "purchase"),
        ("oui vas-y", "listing"),
        ("absolutely, do it please", "purchase"),
        ("buy it", "purchase"),
        ("yesss", "upload"),  # a stretched word is the word
        ("okkk go ahead", "upload"),
        ("si, adelante", "upload"),
        ("ja, mach das", "listing"),
        ("def", "upload"),
        ("why not, yes", "upload"),
        ("go live", "listing"),
        ("take my money", "purchase"),
        ("oui, je le prends", "purchase"),
    ],
)
def test_plain_approvals_approve(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # a refusal, then a reason to hold off: a refusal
        ("not yet, I want to check something first", "decline"),
        ("no, I'll think about it", "decline"),
        ("nah, maybe tomorrow", "decline"),
        # a refusal, then a change asked or a question: neither a refusal nor an approval
        ("no, 0.9", None),
        ("no, call it Sentiment Pro first", None),
        ("no, first tell me the fee?", None),
        ("no wait, yes go ahead", None),
    ],
)
def test_a_no_with_a_reason_holds_off(text: str, want: str | None) -> None:
    assert read_consent(text, "listing") == want


def test_a_mind_change_ending_in_no_declines() -> None:
    assert read_consent("sure... wait, no, don't do it", "upload") == "decline"
    assert read_consent("yes— actually no", "listing") == "decline"
    assert read_consent("nooo", "upload") == "decline"


# -- through the Assistant ---------------------------------------------------------


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events if isinstance(e, TextEvent)]


def _gates(events: list[Event]) -> list[str]:
    return [e.gate for e in events if isinstance(e, GateEvent)]


async def _send(
    assistant: Assistant, thread: str, text: str, *, user_id: str | None = None
) -> list[Event]:
    return [e async for e in assistant.send(thread, text, user_id=user_id)]


async def _stop_mid_upload(assistant: Assistant, thread: str) -> None:
    """Approve the upload and stop the turn half way, as Ctrl-C does."""
    await say_and_stop(assistant, thread, "yes", await assistant.owner(thread) or "local", 0.5)
    view = await assistant.state(thread)
    assert view.next_nodes == ("upload",) and view.status == "paused"


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(IntentClassifier.load(None))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=4)
    return Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", chunk_size_mib=0.25, upload_concurrency=1
    )


@pytest.mark.parametrize("answer", ["yes", "go ahead", "resume", "ok"])
async def test_a_yes_after_a_stop_resumes_only_up_to_the_next_question(
    settings: Settings, answer: str
) -> None:
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _send(assistant, thread, "upload ./m.safetensors")
        await _stop_mid_upload(assistant, thread)
        events = await _send(assistant, thread, answer)
        assert _gates(events) == ["listing"]
        view = await assistant.state(thread)
        assert view.gate is not None and "listing_id" not in view.context
        events = await _send(assistant, thread, "yes")  # the answer to the question it saw
        assert "listed" in _kinds(events)


async def test_cancel_after_a_stop_abandons_and_says_what_was_paid(settings: Settings) -> None:
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _send(assistant, thread, "upload ./m.safetensors")
        await _stop_mid_upload(assistant, thread)
        events = await _send(assistant, thread, "cancel")
        assert _kinds(events) == ["journey_abandoned"]
        said = next(e for e in events if isinstance(e, TextEvent)).text
        assert "partly stored" in said and "WAL" in said and "not refunded" in said
        view = await assistant.state(thread)
        assert view.status == "cancelled" and view.next_nodes == () and view.gate is None
        assert "model_id" not in view.context
        events = await _send(assistant, thread, "yes")
        assert _kinds(events) == ["nothing_to_approve"] and not _gates(events)


async def test_another_message_after_a_stop_runs_nothing_and_says_how_to_go_on(
    settings: Settings,
) -> None:
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _send(assistant, thread, "upload ./m.safetensors")
        await _stop_mid_upload(assistant, thread)
        events = await _send(assistant, thread, "ok, how much did that cost?")
        assert _kinds(events) == ["paused"] and not _gates(events)
        last = events[-1]
        assert isinstance(last, TextEvent) and "resume" in last.text and "cancel" in last.text
        assert (await assistant.state(thread)).next_nodes == ("upload",)


async def test_debug_mode_shows_the_gate_before_taking_a_yes(settings: Settings) -> None:
    settings = settings.model_copy(update={"mode": "debug"})
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _send(assistant, thread, "upload ./m.safetensors")
        for _ in range(10):  # step until the breakpoint before the upload gate
            view = await assistant.state(thread)
            if view.next_nodes == ("upload_gate",):
                break
            await _send(assistant, thread, "/step")
        assert (await assistant.state(thread)).next_nodes == ("upload_gate",)
        events = await _send(assistant, thread, "yes")
        assert _gates(events) == ["upload"]  # shown, not answered
        view = await assistant.state(thread)
        assert view.gate is not None and "manifest_blob_id" not in view.context


async def test_a_thread_runs_as_the_user_it_was_created_for(settings: Settings) -> None:
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("ana")
        await _send(assistant, thread, "hello")
        assert (await assistant.state(thread)).user_id == "ana"
        assert await assistant.owner(thread) == "ana"
        events = await _send(assistant, thread, "check status", user_id="ana")
        assert not [e for e in events if isinstance(e, ErrorEvent)]
        assert thread in await assistant.threads("ana")


async def test_the_wrong_user_resumes_nothing_not_even_a_stopped_step(settings: Settings) -> None:
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("kim")
        await _send(assistant, thread, "upload ./m.safetensors")
        await _stop_mid_upload(assistant, thread)
        for events in (
            [e async for e in assistant.resume_pending(thread, user_id="lee")],
            await _send(assistant, thread, "resume", user_id="lee"),
        ):
            assert [getattr(e, "code", None) for e in events] == ["not_found"]
        assert (await assistant.state(thread)).next_nodes == ("upload",)


async def test_a_model_that_approves_everything_approves_nothing_but_approvals() -> None:
    """The language-model path, over real loopback HTTP, with a model that answers
    'approve' to every message: only what the embedded reading approves is approved."""
    from test_llm_endpoint import LoopbackLLM, says

    from agent.understanding.classifier import IntentClassifier
    from agent.understanding.llm import LLMInterpreter
    from agent.understanding.pipeline import Understanding
    from prompts import load_text

    with LoopbackLLM(says(kind="approve")) as server:
        llm = LLMInterpreter(
            api_key=None,
            base_url=server.url,
            model="approves-everything",
            system_prompt=load_text("system_interpreter.md"),
            embedded=Understanding(IntentClassifier.load(None)),
        )
        wrong = []
        # vague answers the embedded reading leaves open, so the model is asked about them too
        vague: list[dict[str, object]] = [
            {"text": text, "kind": "unknown", "context": {"gate": gate}}
            for text in ("erm", "the thing with the stuff")
            for gate in ("upload", "listing", "purchase")
        ]
        for case in [*_gate_cases(), *vague]:
            ctx = case["context"]
            assert isinstance(ctx, dict)
            d = Dialogue(gate=ctx["gate"], price_mist=ctx.get("price_mist"))
            got = await llm.interpret(str(case["text"]), context=d)
            if got["kind"] == "approve" and case["kind"] != "approve":
                wrong.append(case["text"])
        await llm.aclose()
        assert server.requests, "the model was never asked"
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("yes, the price and title are both fine", "listing"),
        ("yeah the title and tags look good", "listing"),
        ("the price is fine, go ahead", "listing"),
        ("yep, everything looks right", "listing"),
        ("yes list it at that price", "listing"),
        ("ok, the cost is fine with me", "upload"),
    ],
)
def test_a_yes_that_affirms_the_terms_shown_approves(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("yes if it's under 1 SUI", "listing"),
        ("yes but make it 3", "listing"),
        ("yes, the price is fine but change the title", "listing"),
        ("yes the price is fine at 3", "listing"),
        ("yes maybe the price is fine", "listing"),
        ("yes, the price is fine?", "listing"),
        ("yes, price is fine, title not so much", "listing"),
        ("the price and title are fine", "listing"),  # no yes: not this
        ("yes, the price is fine, list it instead later", "listing"),
        ("yeah the cost is fine, upload it", "purchase"),  # another gate's action
    ],
)
def test_an_affirmation_with_a_condition_change_or_question_does_not(text: str, gate: str) -> None:
    assert read_consent(text, gate) != "approve"


@pytest.mark.parametrize(
    ("text", "gate", "want"),
    [
        # the gate's action refused, plainly: a no, never a question back
        ("nope, don't publish it yet", "listing", "decline"),
        ("please do not buy it", "purchase", "decline"),
        ("nah dont upload that", "upload", "decline"),
        # a refusal with a condition, a figure or a change is not a plain no
        ("don't list it until I say so", "listing", None),
        ("don't list it at 2, do 3", "listing", None),
        ("why not buy it?", "purchase", None),
        # taking a listing down is not a no to a gate
        ("i don't want to sell it anymore", None, None),
        # yeses people say in other words and languages
        ("cheers, crack on", "upload", "approve"),
        ("ok good, create the listing", "listing", "approve"),
        ("va bene, caricalo", "upload", "approve"),
        ("crack on?", "upload", None),
    ],
)
def test_refusals_and_yeses_in_other_words(text: str, gate: str | None, want: str | None) -> None:
    assert read_consent(text, gate) == want


@pytest.mark.parametrize(
    ("text", "gate", "want"),
    [
        # a yes around statements that neither ask nor change anything: it approves
        ("Right. We've gone through the summary twice. Yes, store it.", "upload", "approve"),
        ("I checked it with my manager and we're happy, buy it", "purchase", "approve"),
        ("this looks fair enough to me, ok", "listing", "approve"),
        ("sure, we've reviewed the terms carefully, go ahead with the listing", "listing",
         "approve"),
        ("you have my permission, proceed", "upload", "approve"),
        ("the details as shown are acceptable to us, publish it", "listing", "approve"),
        ("both of them look good, publish them", "listing", "approve"),
        ("I already said yes. yes. store it", "upload", "approve"),
        ("ok, stick it on the marketplace", "listing", "approve"),
        ("hai, kudasai", "purchase", "approve"),
        ("tamam, satın al", "purchase", "approve"),
        ("I'm fine with the cost, upload it", "upload", "approve"),
        ("I have considered the fee and I agree to it. Please proceed.", "upload", "approve"),
        ("Thank you for explaining. You may go ahead now.", "listing", "approve"),
        ("Sounds reasonable. Please go ahead with it.", "purchase", "approve"),
        ("yes, thank you very much", "upload", "approve"),
        ("no worries, go ahead", "listing", "approve"),
        ("I approve this listing", "listing", "approve"),
        ("yes, I want to upload it", "upload", "approve"),
        ("I'm happy for you to go ahead", "purchase", "approve"),
        ("yeah sure why not lol", "upload", "approve"),
        ("yes, is ok, you can doing it", "upload", "approve"),
        ("yes is fine for me", "listing", "approve"),
        ("sí, por favor", "purchase", "approve"),
        ("yes you can upload", "upload", "approve"),
        ("yes you can upload", "listing", None),  # another gate's action
        ("you can upload it later", "upload", None),
        ("ok for me but not now", "upload", "decline"),  # the last word refuses
        ("can do, but how much?", "purchase", None),
        ("thanks for explaining, but I need to think", "upload", None),
        ("sounds reasonable, what's the refund policy?", "purchase", None),
        ("no worries, I'll do it another time", "upload", None),
        ("happy to proceed if it's under 2 SUI", "purchase", None),
        ("I want to upload it again tomorrow", "upload", None),
        ("I approve this listing", "upload", None),  # another gate's noun
        ("yes, I want to upload it", "listing", None),
        ("happy with those fees, go ahead", "upload", "approve"),
        ("the estimate looks reasonable to me, yes", "upload", "approve"),
        ("I'm ok with that cost", "upload", None),  # content, but no yes said
        ("fine with the cost, list it", "upload", None),  # another gate's action
        # ...but never a question, a hedge, a change or another gate's action
        ("we're happy, but what does storage cost?", "upload", None),
        ("I've read it, though I might change the title", "listing", None),
        ("we've reviewed it, go ahead with the purchase", "upload", None),
        ("I think I've read it, maybe go", "upload", None),
        ("you have my permission to list it at 3 SUI", "listing", None),
        # refusals said in other words: the last sentence refusing the gate's own action
        ("I'll pass, thanks", "purchase", "decline"),
        ("nah, too steep", "purchase", "decline"),
        ("Hmm, pricey. I'll give it a miss", "purchase", "decline"),
        ("Not for now, I want to check the licence first", "upload", "decline"),
        ("She has the final say and hasn't said yes. So don't publish it.", "listing",
         "decline"),
        ("iie, kekkou desu... iie", "purchase", "decline"),
        ("Upload it. Don't list it yet.", "upload", None),  # the other gate's action refused
    ],
)  # fmt: skip
def test_statements_around_a_yes_and_refusals_in_more_words(
    text: str, gate: str, want: str | None
) -> None:
    assert read_consent(text, gate) == want


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        # the gate's own action asked for, in the words people use for it
        ("I hereby approve the upload", "upload"),
        ("Kindly proceed.", "upload"),
        ("ok, pay the storage fee", "upload"),
        ("yes, store it on walrus", "upload"),
        ("approve the listing", "listing"),
        ("listing confirmed", "listing"),
        ("yes, sell them now", "listing"),
        ("I'll take it", "purchase"),
        ("yes, buy it for me", "purchase"),
        ("accept the cost, go ahead with the purchase", "purchase"),
        ("that's a yes from me", "listing"),
        ("sure thing boss", "upload"),
        ("oui, publie-le", "listing"),
    ],
)
def test_the_gates_own_action_asked_for_approves(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        # another gate's action, a time, a place, a person, a figure, a condition: no yes
        ("approve the listing", "upload"),
        ("confirm the purchase", "listing"),
        ("store it somewhere else", "upload"),
        ("do the upload after lunch", "upload"),
        ("sell it to my friend instead", "listing"),
        ("list them separately", "listing"),
        ("I'll take it if it's verified", "purchase"),
        ("pay with another wallet", "purchase"),
        ("take it down", "purchase"),
        ("let's wait", "upload"),
        ("I'll think about it", "upload"),
        ("green light? what does that mean", "upload"),
    ],
)
def test_a_gates_action_with_anything_more_is_no_yes(text: str, gate: str) -> None:
    assert read_consent(text, gate) != "approve"


@pytest.mark.parametrize(
    ("text", "gate", "want"),
    [
        ("sì, procedi", "upload", "approve"),
        ("bien sûr, on y va", "upload", "approve"),
        ("natürlich, hochladen", "upload", "approve"),
        ("claro que sí, publícalo", "listing", "approve"),
        ("sim, pode enviar", "upload", "approve"),
        ("tentu, beli", "purchase", "approve"),
        ("annulla", "upload", "decline"),
        ("nein danke", "purchase", "decline"),
        ("tidak, terima kasih", "listing", "decline"),
        ("nahi, rehne do", "upload", "decline"),
        ("sì, ma quanto costa?", "upload", None),  # a question after the yes
        ("ja, ga je gang", "upload", "approve"),
        ("prima, doe maar", "listing", "approve"),
        ("evet, devam et", "purchase", "approve"),
        ("tamam, yükle", "upload", "approve"),
        ("vâng, đồng ý", "upload", "approve"),
        ("oke gas", "listing", "approve"),
        ("haan bhai chalega", "upload", "approve"),
        ("certo, vai pure", "purchase", "approve"),
        ("nee, niet doen", "upload", "decline"),
        ("hayır, iptal et", "listing", "decline"),
        ("không, hủy đi", "purchase", "decline"),
        ("nggak usah", "upload", "decline"),
        ("deixa pra lá", "listing", "decline"),
        ("tamam, yükle", "listing", None),  # the upload's own word, at another gate
        ("evet ama ne kadar?", "upload", None),  # a question after the yes
        ("ja, maar wat kost het?", "upload", None),
    ],
)
def test_yeses_and_refusals_in_the_languages_people_write_in(
    text: str, gate: str, want: str | None
) -> None:
    assert read_consent(text, gate) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("roger that", "approve"),
        ("no objections, go ahead", "approve"),
        ("no problem, it's a deal", "approve"),
        ("okie dokie, make it happen", "approve"),
        ("ja genau", "approve"),
        ("no problem?", None),  # asked, not said
        ("no problem, cancel it", "decline"),
        ("carry on later", None),
    ],
)
def test_yeses_said_as_idioms(text: str, want: str | None) -> None:
    assert read_consent(text, "upload") == want


@pytest.mark.parametrize("text", ["ok, carry on", "continue", "continue with the upload"])
def test_a_word_that_resumes_a_stopped_step_never_approves_a_gate(text: str) -> None:
    # "carry on" resumes what Ctrl-C stopped, or moves a tour on: it never also says yes to
    # the question that follows
    for gate in ("upload", "listing", "purchase", None, ""):
        assert read_consent(text, gate) is None


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("hmm... ok yes, do it", "upload"),  # a hesitation, then a yes said plainly
        ("um, let me think... yes, go ahead", "upload"),
        ("i was hesitant but ok, buy it", "purchase"),
        ("sure thing, send it up", "upload"),  # the action with where it puts the model
        ("lgtm, ship it to walrus", "upload"),
        ("Yes — pay the storage fee and put it on Walrus.", "upload"),
        ("yep yep, get it on the market", "listing"),
        ("sure, let it go live", "listing"),
        ("Yes. Go ahead and publish it to the marketplace.", "listing"),
        ("approve listing", "listing"),
        ("no changes, publish it", "listing"),  # nothing to change in what was shown
        ("that title works and the price is fine. Publish.", "listing"),
        ("Yes. Title's good. Price is good. Go.", "listing"),
        ("yes buy that one for me", "purchase"),
        ("Kindly proceed with buying this model.", "purchase"),
        ("I confirm the purchase at the listed price.", "purchase"),
        ("that's a fair price, go ahead", "purchase"),
        ("Sure! Thanks for checking. Go ahead.", "upload"),
        ("I am content for you to proceed with the upload.", "upload"),
        ("fr go ahead no cap", "upload"),
        ("tak, wgraj go", "upload"),  # Polish
        ("да, публикуй", "listing"),  # Russian
        ("ne, sa juseyo", "purchase"),  # Korean
        ("hao de, shangchuan ba", "upload"),  # Chinese
        ("ndiyo, chapisha", "listing"),  # Swahili
        ("oo, bilhin mo na", "purchase"),  # Tagalog
        ("Oui, mettez-le en vente.", "listing"),
    ],
)
def test_yeses_in_more_words_places_and_languages(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("hmm, ok", "upload"),  # a hesitation and one word: not settled
        ("hmm... I think not", "upload"),
        ("I was unsure but now I'm not", "upload"),
        ("put it on walrus later", "upload"),
        ("ship it to walrus tomorrow?", "upload"),
        ("send it up after lunch", "upload"),
        ("put it", "upload"),  # a placing verb needs the place
        ("you have my approval to upload it tomorrow", "upload"),
        ("feel free to upload it once I check", "upload"),
        ("i agree to pay the storage cost if it's under 1 WAL", "upload"),
        ("no changes, but don't publish yet", "listing"),
        ("no changes to the title, but make it 3 SUI", "listing"),
        ("publish it to the marketplace at 3 SUI", "listing"),
        ("put it on sale for 2", "listing"),
        ("make it public tomorrow", "listing"),
        ("the price shown is fine but change the title", "listing"),
        ("that's a fair price? list it", "listing"),
        ("nothing to change", "listing"),
        ("da, upload it", "listing"),  # another gate's action
        ("grab it if it's under 2 SUI", "purchase"),
        ("cop it tomorrow", "purchase"),
        ("pay the seller later", "purchase"),
        ("that's a fair price, but can I see reviews?", "purchase"),
        ("tak, wgraj go", "purchase"),
    ],
)
def test_the_new_words_with_anything_more_are_no_yes(text: str, gate: str) -> None:
    assert read_consent(text, gate) != "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("No. Keep it private for now.", "listing"),
        ("nie, nie publikuj", "listing"),
        ("hayır, şimdi değil", "listing"),
        ("not interested anymore", "purchase"),
        ("нет", "upload"),
        ("hayır, yükleme", "upload"),
        ("sure... wait, no. let me think about it", "upload"),
    ],
)
def test_refusals_in_more_words_and_languages(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "decline"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("Totally, go ahead with the upload. Great job so far!", "upload"),
        ("yes go ahead plz, kids are yelling so quick lol", "upload"),
        ("Perfect, publish. Have a great day!", "listing"),
        ("perfect, buy it. thanks so much! can't wait to try it", "purchase"),
        ("ok go ahead and buy it, thx, typing from the school pickup line lol", "purchase"),
        ("fire away, publish it", "listing"),
        ("that's perfect, ship it! thank u so much, you made my week", "listing"),
        ("Excellent, publish it. Let's get some buyers!", "listing"),
        ("Yes, the listing looks great. Go ahead and publish.", "listing"),
        ("はい、アップロードしてください", "upload"),
        ("好的，发布吧", "listing"),
        ("네, 구매해 주세요", "purchase"),
    ],
)
def test_a_yes_that_says_the_action_with_small_talk_around_it_approves(
    text: str, gate: str
) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("yes, I'd love a coffee", "upload"),  # a yes to the small talk, not to the gate
        ("Yes, I did have lunch, thanks for asking", "upload"),
        ("yes, the weather is great here today", "listing"),
        ("sure, because I'm made of money", "purchase"),
        ("yes please, you're a star", "upload"),  # only "yes": the gate is asked again
        ("go ahead, my other wallet has the funds", "purchase"),  # a choice: not small talk
        ("go ahead, in an hour", "upload"),
        ("go ahead, this evening", "listing"),
        ("go ahead, I guess", "upload"),
        ("sí, súbelo, pero mañana", "upload"),  # a condition in another language
        ("ja, lad es hoch, aber erst morgen", "upload"),
        ("oui, publie-la, mais demain", "listing"),
        ("好的，买吧，不过先给我看看评价", "purchase"),
        ("upload ./m.safetensors", "upload"),  # a request said again, with its file
        ("go ahead, sentiment.onnx", "upload"),
        ("publish it, lol jk", "listing"),  # taken back
        ("go ahead, just kidding", "upload"),
        ("publish it, u know what, make it 3", "listing"),
        ("go ahead, let me check the tags first", "listing"),
        ("yes go, lemme see the fee", "upload"),
        ("Let's keep waiting, no worries", "upload"),  # a bare yes, and a wish to wait
        ("go ahead, keep it running", ""),
        ("va bene, a patto che il prezzo sia giusto", "listing"),  # a condition, in Italian
        ("yes i'm ok, thanks for asking", "listing"),  # a yes to "how are you"
        ("sure go ahead, is it mainnet or testnet", "purchase"),  # a question, no mark
        ("approved — nvm", "listing"),  # taken back
        ("approve. retract that", "listing"),
        ("🤷 sure", "purchase"),  # a shrug, a doubt, a wait beside the yes
        ("⏳👍", "upload"),
        ("ok 😬", "listing"),
        ("👍🤞", "upload"),
    ],
)
def test_small_talk_never_carries_a_choice_a_time_a_doubt_or_a_bare_yes(
    text: str, gate: str
) -> None:
    assert read_consent(text, gate) != "approve"


async def test_a_yes_that_names_the_file_the_gate_shows_approves_that_gate(
    settings: Settings,
) -> None:
    """'yes, upload m.safetensors' at the upload gate for m.safetensors is the yes; naming
    another file is not."""
    make_model_file(Path.cwd() / "other.safetensors", "safetensors", size_mb=1)
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        await _send(assistant, thread, "upload ./m.safetensors")
        events = await _send(assistant, thread, "yes, upload other.safetensors")
        assert "listing" not in _gates(events)
        assert (await assistant.state(thread)).context.get("blob_id") is None
        view = await assistant.state(thread)
        assert view.gate is not None and view.gate.get("gate") == "upload"
        events = await _send(assistant, thread, "yes, upload m.safetensors")
        assert _gates(events) == ["listing"]


@pytest.mark.parametrize(
    ("text", "gate", "names", "amounts", "want"),
    [
        ("yes, buy Face Finder Pro", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), True),
        ("yeah buy the face finder one", "purchase", ("Face Finder Pro",), (), True),
        ("1.5 SUI is fine, buy it", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), True),
        (
            "yes upload the sentiment one",
            "upload",
            ("models/sentiment-bert.safetensors",),
            (),
            True,
        ),
        ("0.03 WAL is fine, upload it", "upload", (), ((0.0312, "wal"),), True),
        # another name, another figure, or a condition: no yes
        ("yes, buy Face Matcher Lite", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), False),
        ("2 SUI is fine, buy it", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), False),
        ("buy Face Finder Pro if it's verified", "purchase", ("Face Finder Pro",), (), False),
        ("yes, publish Face Finder Pro", "purchase", ("Face Finder Pro",), (), False),
        ("yes upload the other one", "upload", ("models/sentiment-bert.safetensors",), (), False),
        # the request said again, with the name the gate shows: no yes in it
        (
            "upload ./models/sentiment-bert.safetensors",
            "upload",
            ("models/sentiment-bert.safetensors",),
            (),
            False,
        ),
        ("buy Face Finder Pro", "purchase", ("Face Finder Pro",), (), False),
        # the terms only the gate showed, said back with its action: asked for, no yes needed
        ("Pay the 1.5 SUI.", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), True),
        ("Get it for 1.5 SUI.", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), True),
        ("list Sentiment BERT at 2 SUI", "listing", ("Sentiment BERT",), ((2.0, "sui"),), True),
        ("pay the 2 SUI", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), False),
        ("pay the 1.5 SUI?", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), False),
        ("pay the 1.5 SUI tomorrow", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), False),
        ("don't pay the 1.5 SUI", "purchase", ("Face Finder Pro",), ((1.5, "sui"),), False),
        ("list it at 3 SUI", "listing", ("Sentiment BERT",), ((2.0, "sui"),), False),
    ],
)
def test_what_the_gate_shows_said_back_is_the_plain_yes(
    understanding: Understanding,
    text: str,
    gate: GateName,
    names: tuple[str, ...],
    amounts: tuple[tuple[float, str], ...],
    want: bool,
) -> None:
    d = Dialogue(gate=gate, gate_names=names, gate_amounts=amounts)
    assert (understanding.read(text, d).intent["kind"] == "approve") is want


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("nah, storage costs too much", "upload"),  # a no first, with a reason
        ("hard pass, that's a ripoff", "purchase"),
        ("too pricey for me right now, skip the upload", "upload"),
        ("Please do not proceed with the upload.", "upload"),  # the gate's action refused
        ("Regrettably, I can't approve this listing.", "listing"),
        ("I'm afraid I shan't be publishing this just yet.", "listing"),
        ("Thank you, but I'll not be purchasing it.", "purchase"),
        ("I'd rather keep it private for now.", "listing"),
        ("no thank you, maybe next week", "listing"),
        ("nie kupuj, za drogie", "purchase"),
        ("нет, слишком дорого", "purchase"),
        ("太贵了，不买了", "purchase"),
        ("hapana, ni ghali sana", "purchase"),
    ],
)
def test_refusals_in_words_the_lists_do_not_hold(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "decline"


@pytest.mark.parametrize(
    ("text", "gate", "want"),
    [
        ("no complaints from me, upload away", "upload", "approve"),  # a no that agrees
        ("no need to double check, list it", "listing", "approve"),
        ("tidak masalah, beli aja", "purchase", "approve"),
        ("no, make it 3 SUI", "listing", None),  # a change
        ("no? why is it so expensive", "upload", None),  # a question
        ("don't list it until I say so", "listing", None),  # a condition
        ("not sure, is it refundable", "upload", None),
    ],
)
def test_what_looks_like_a_refusal_and_is_not(text: str, gate: str, want: str | None) -> None:
    assert read_consent(text, gate) == want


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("yes --confirm", "upload"),  # as a command line answers
        ("y -f", "upload"),
        ("+1, ship it", "listing"),
        ("ack", "purchase"),
        ("please do the needful", "upload"),
        ("ok lah, publish", "listing"),
        ("can can, upload", "upload"),
        ("no wahala, list am", "listing"),
        ("aye, go on then", "upload"),
        ("Approved. Please proceed with the upload to Walrus.", "upload"),
        ("Proceed with the listing as proposed.", "listing"),
    ],
)
def test_yeses_as_command_lines_and_other_englishes_say_them(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("Noted. I consent to the upload and to the storage fee shown.", "upload"),
        ("i agree to the upload, thanks", "upload"),
        ("I agree to the storage charge", "upload"),
        ("i consent to the purchase and to the payment shown", "purchase"),
        ("fine, you can put on marketplace", "listing"),  # the article left out
        ("ok then put on market", "listing"),
    ],
)
def test_consent_to_the_gate_and_its_cost_named_together_approves(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("I agree to the listing", "upload"),  # another gate's action
        ("i agree to the upload if it's under 1 WAL", "upload"),  # a condition
        ("I consent to the upload but not the fee", "upload"),
        ("I agree to the storage charge?", "upload"),  # asked
        ("I agree to the upload and to the listing", "upload"),
        ("you can put on market tomorrow", "listing"),  # a time
        ("put on market at 3 sui", "listing"),  # a change
        ("hmm, ok", "purchase"),  # a hesitation and a bare ok: not settled
        ("uh... no, what does it cost?", "purchase"),
    ],
)
def test_consent_named_with_anything_more_is_no_yes(text: str, gate: str) -> None:
    assert read_consent(text, gate) != "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("um no wait hold on", "purchase"),  # a hesitation, then a refusal
        ("erm, nope", "upload"),
        ("hmm... not right now", "listing"),
        ("maybe later, I want to check the description first", "listing"),
        ("not yet, I want to check the price first", "listing"),  # looked at, not changed
        ("not just yet, let me look over the tags first", "listing"),
        ("maybe another time", "purchase"),
    ],
)
def test_a_refusal_after_a_hesitation_or_before_a_look_declines(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "decline"


def test_a_refusal_that_changes_a_term_is_no_refusal() -> None:
    assert read_consent("not yet, make it 3 sui first", "listing") is None
    assert read_consent("not yet, change the title first", "listing") is None


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("Confirmed. Upload my model file.", "upload"),
        ("we're good, upload the weights", "upload"),
        ("price, title and tags all fine, list it", "listing"),  # a list said without commas
        ("ok, list it just like that", "listing"),
        ("yes, list it with the title and tags shown", "listing"),  # no change: as shown
        ("sure, publish it with those tags", "listing"),
        ("ya, terbitkan saja", "listing"),
        ("oui, téléverse-le", "upload"),
        ("I accept the storage fee and the upload", "upload"),  # the gate's own two things
    ],
)
def test_yeses_that_name_what_was_shown_as_it_is(text: str, gate: str) -> None:
    assert read_consent(text, gate) == "approve"


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("sure, publish it with those tags removed", "listing"),
        ("publish it with that title but cheaper", "listing"),
        ("list it with the tags shown, at 3 sui", "listing"),
        ("I accept the storage fee and the listing", "upload"),  # another gate's action
        ("ok, list it just like that tomorrow", "listing"),
    ],
)
def test_what_was_shown_with_a_change_a_time_or_another_gate_is_no_yes(
    text: str, gate: str
) -> None:
    assert read_consent(text, gate) != "approve"


@pytest.mark.parametrize(
    ("text", "gate", "want"),
    [
        # yeses, gate actions and refusals of prompts/nlu/consent_words.yaml
        ("sim, sobe o modelo", "upload", "approve"),
        ("oui, tu peux le publier", "listing", "approve"),
        ("ok beli sekarang", "purchase", "approve"),
        ("glem det", "listing", "decline"),
        ("nechci", "upload", "decline"),
        # another gate's action in another language is no yes to this one
        ("sí publícalo", "upload", None),
        ("ja kauf es", "listing", None),
    ],
)
def test_yeses_and_refusals_in_the_other_languages_word_list(
    text: str, gate: str, want: str | None
) -> None:
    assert read_consent(text, gate) == want


@pytest.mark.parametrize(
    "text",
    [
        "Yes, upload crop-doctor.onnx (85 MB).",  # the size said back in brackets
        "List 'Crop Doctor' at 3 SUI, approved.",  # the title said back in quotes
        "Yes ma'am, go on and list it.",
    ],
)
def test_what_the_gate_shows_said_back_in_brackets_or_quotes(
    understanding: Understanding, text: str
) -> None:
    gate: GateName = "upload" if "upload" in text else "listing"
    d = Dialogue(
        gate=gate,
        price_mist=3 * 10**9 if gate == "listing" else None,
        gate_names=("crop-doctor.onnx",) if gate == "upload" else ("Crop Doctor",),
        gate_amounts=((85.0, "mb"),) if gate == "upload" else ((3.0, "sui"),),
    )
    assert understanding.read(text, d).intent["kind"] == "approve"
