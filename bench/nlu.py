"""Comprehension: how many natural messages each interpreter understands.

Runs the labelled set ``tests/nlu/labelled.yaml`` (never used for training: held out),
then the fresh set and the two blind sets (their figures only), through the rule
interpreter (the baseline) and the embedded interpreter (the default: dialogue
context, consent, entities and the example-trained classifier); with ``--llm URL``
also through a live OpenAI-compatible server. Prints accuracy per intent, the
commonest confusions (not for the second blind set), p50/p95 latency per message,
the consent figure (approvals of anything but a plain yes) and the answers at a gate
read from the probe sets (``tests/consent_probe``), and ends with one JSON line.

    python bench/nlu.py [--llm http://127.0.0.1:8080/v1 [--deadline 8]] [--misses]

With ``--llm`` the model reads the held-out set and the blind sets (totals only); it is
asked only where the embedded interpreter is unsure, and the report says how often it was asked and how often it answered in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.understanding.classifier import corpus, normalise
from agent.understanding.dialogue import Dialogue
from agent.understanding.evaluate import (
    Interpret,
    Score,
    load_cases,
    load_gate_answers,
    make_files,
    score,
    score_gate_answers,
)
from agent.understanding.pipeline import load_understanding
from agent.wiring import AsyncRules
from flows.intents import Intent

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "nlu" / "labelled.yaml"
# Answers at a gate, written from the gates' descriptions alone: tricky messages that are
# no yes, plain yeses, yeses and refusals in many more words (developed against), and a
# held-out set of all three (totals only, never its messages).
PROBE = ROOT / "tests" / "consent_probe"
_PROBES = (
    ("not_approvals.yaml", "tricky", "messages that look like a yes and are none"),
    ("approvals.yaml", "plain", "plain yeses"),
    ("dev_answers.yaml", "dev", "yeses and refusals in many more words (developed against)"),
    ("heldout_answers.yaml", "heldout", "yeses, refusals and others, held out (totals only)"),
)
# Written after the interpreter was built and never looked at to improve it: the honest figure.
FRESH = ROOT / "tests" / "nlu_fresh" / "fresh.yaml"
BLIND = ROOT / "tests" / "nlu_blind" / "blind.yaml"
# A second blind set, written the same way by someone else: figures only, never its messages.
BLIND2 = ROOT / "tests" / "nlu_blind2" / "blind2.yaml"
# A third set written the same way by someone else again; scored once unseen, then used
# to develop against (its misses are printed), while the second blind set stays unseen.
DEV3 = ROOT / "tests" / "nlu_dev3" / "dev3.yaml"
# A fourth, written the same way by ten imagined users (terse, chatty, non-native,
# autocorrected, cautious, impatient, buyers, self-correcting, other languages, idioms).
DEV4 = ROOT / "tests" / "nlu_dev4" / "dev4.yaml"
# A fifth, written the same way by ten more imagined users (a product manager, a student, a
# researcher with many checkpoints, a buyer, answers to the agent's questions, mixed
# languages, a frustrated user, phone typing, a cautious user, an older non-technical user).
DEV5 = ROOT / "tests" / "nlu_dev5" / "dev5.yaml"
# A third blind set, written the same way at the same time (an academic, a gamer, non-native
# writers, voice dictation, an ops engineer, a seller, a buyer, every kind of yes and no,
# seven languages, a confused user): like the second, figures only, never its messages.
BLIND3 = ROOT / "tests" / "nlu_blind3" / "blind3.yaml"
# A fourth blind set, written later the same way (a hurried phone typist, a data scientist with
# many formats, a small-business owner, a letter writer, answers that lean on context, a
# teenager, a product manager, yes and no at gates in many languages, ten languages, a
# sceptical engineer): figures only, never its messages.
BLIND4 = ROOT / "tests" / "nlu_blind4" / "blind4.yaml"
# A fifth blind set, written later the same way (a startup CTO giving several instructions at
# once, a musician with audio models, a teacher, a compliance officer, a power user typing
# flags, a mind-changer, ten languages each alone, a buyer comparing, short answers in context,
# a crypto trader): figures only, never its messages.
BLIND5 = ROOT / "tests" / "nlu_blind5" / "blind5.yaml"
# A sixth blind set, written later the same way (a journalist, a game-mod creator, a hospital
# IT admin, a parent, Indian, Singaporean and Irish/Scottish English, a hackathon at 3am,
# paragraphs with several requests, a support engineer): figures only, never its messages.
BLIND6 = ROOT / "tests" / "nlu_blind6" / "blind6.yaml"
# A sixth set, written blind later (a robotics engineer, a farmers' cooperative member, a
# lawyer, non-native writers, eleven languages each alone, a voice-assistant user, an app
# buyer, yes and no in many words, a returning user, a terse expert), then developed against.
DEV6 = ROOT / "tests" / "nlu_dev6" / "dev6.yaml"
# A seventh blind set, written at the same time by someone else (a retail analyst, a retired
# hobbyist, South African, Nigerian and Kenyan English, a sales rep, eleven languages, a
# security researcher probing the gates, a dyslexic writer, a price-sensitive buyer, replies
# that lean on context, a platform team scripting journeys): figures only, never its messages.
BLIND7 = ROOT / "tests" / "nlu_blind7" / "blind7.yaml"
# A seventh set, written blind later (Portuguese, German, Japanese and Korean, Spanish, French,
# Indonesian and Malay, Turkish and Arabic writers, a gamer, short replies in many languages,
# a cautious first-time seller), then developed against.
DEV7 = ROOT / "tests" / "nlu_dev7" / "dev7.yaml"


@dataclass(frozen=True, slots=True)
class _Set:
    """A set scored after the held-out one: its figures are ``{key}_accuracy`` and
    ``{key}_rules_accuracy``."""

    path: Path
    key: str
    heading: str  # printed after the count of its messages
    name: str  # in its two reports
    misses: bool = False  # whether --misses prints the default interpreter's misses
    confusions: bool = True


_LATER_SETS = (
    _Set(FRESH, "fresh", "fresh messages, written after the held-out set", "the fresh set", True),
    _Set(
        BLIND,
        "blind",
        "blind messages, written without seeing the interpreter, its examples or its other "
        "sets (--misses does not print them: keep them unseen)",
        "the blind set",
    ),
    _Set(
        BLIND2,
        "blind2",
        "messages of a second blind set, written the same way (totals and per-intent counts "
        "only: neither its misses nor its confusions are printed)",
        "the second blind set",
        confusions=False,
    ),
    _Set(
        DEV3,
        "dev3",
        "messages of a third set, written blind by someone else again, then developed against",
        "the third set",
        True,
    ),
    _Set(
        DEV4,
        "dev4",
        "messages of a fourth set, written blind by someone else again, then developed against",
        "the fourth set",
        True,
    ),
    _Set(
        DEV5,
        "dev5",
        "messages of a fifth set, written blind by someone else again, then developed against",
        "the fifth set",
        True,
    ),
    _Set(
        BLIND3,
        "blind3",
        "messages of a third blind set, written the same way (totals and per-intent counts "
        "only: neither its misses nor its confusions are printed)",
        "the third blind set",
        confusions=False,
    ),
    _Set(
        BLIND4,
        "blind4",
        "messages of a fourth blind set, written the same way later (totals and per-intent "
        "counts only: neither its misses nor its confusions are printed)",
        "the fourth blind set",
        confusions=False,
    ),
    _Set(
        BLIND5,
        "blind5",
        "messages of a fifth blind set, written the same way later (totals and per-intent "
        "counts only: neither its misses nor its confusions are printed)",
        "the fifth blind set",
        confusions=False,
    ),
    _Set(
        BLIND6,
        "blind6",
        "messages of a sixth blind set, written the same way later (totals and per-intent "
        "counts only: neither its misses nor its confusions are printed)",
        "the sixth blind set",
        confusions=False,
    ),
    _Set(
        DEV6,
        "dev6",
        "messages of a sixth set, written blind by someone else again, then developed against",
        "the sixth set",
        True,
    ),
    _Set(
        DEV7,
        "dev7",
        "messages of a seventh set, written blind by someone else again, then developed against",
        "the seventh set",
        True,
    ),
    _Set(
        BLIND7,
        "blind7",
        "messages of a seventh blind set, written the same way later (totals and per-intent "
        "counts only: neither its misses nor its confusions are printed)",
        "the seventh blind set",
        confusions=False,
    ),
)


def _report(name: str, s: Score, *, misses: bool, confusions: bool = True) -> None:
    print(f"\n== {name}: {s.right}/{s.total} understood ({s.accuracy:.1%})")
    print(
        f"   consent errors {s.consent_errors}; p50 {s.percentile_ms(0.5):.2f} ms, "
        f"p95 {s.percentile_ms(0.95):.2f} ms per message"
    )
    for kind in sorted(s.per_kind):
        print(f"   {kind:<18} {s.per_kind_right[kind]:>3}/{s.per_kind[kind]:<3}")
    if confusions:
        top = ", ".join(f"{w}->{g} ×{n}" for (w, g), n in s.confusions.most_common(8))
        print(f"   commonest confusions: {top}")
    if misses:
        print("   " + "\n   ".join(s.misses))


async def _score_set(
    later: _Set, by_rules: Interpret, by_embedded: Interpret, *, misses: bool
) -> tuple[Score, Score]:
    """Score one later set with the rules and the embedded interpreter, and report both."""
    files, cases = load_cases(later.path)
    base = Path(tempfile.mkdtemp(prefix=f"satya-nlu-{later.key}-"))
    make_files(base, files)
    rules = await score(by_rules, cases, base)
    embedded = await score(by_embedded, cases, base)
    print(f"\n{len(cases)} {later.heading}")
    _report(f"rules on {later.name}", rules, misses=False, confusions=later.confusions)
    _report(
        f"embedded on {later.name}",
        embedded,
        misses=misses and later.misses,
        confusions=later.confusions,
    )
    return rules, embedded


async def main() -> dict[str, object]:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it goes
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", help="an OpenAI-compatible base URL to measure too")
    ap.add_argument("--model", default="local", help="the model name to ask --llm for")
    ap.add_argument(
        "--deadline",
        type=float,
        default=8.0,
        help="seconds each model call may take, as SATYA_LLM_TIMEOUT_S (default 8)",
    )
    ap.add_argument("--misses", action="store_true", help="print every message not understood")
    args = ap.parse_args()
    files, cases = load_cases(LABELLED)
    gate_cases = sum(1 for c in cases if (c.get("context") or {}).get("gate"))
    print(f"{len(cases)} labelled messages ({gate_cases} answers at a gate), held out")
    base = Path(tempfile.mkdtemp(prefix="satya-nlu-"))
    make_files(base, files)

    rules = AsyncRules()
    started = time.perf_counter()
    embedded = load_understanding(None)  # trained now, not from a cache: what a first start costs
    train_s = time.perf_counter() - started
    print(f"embedded interpreter trained in {train_s:.2f} s")

    async def by_rules(text: str, d: Dialogue) -> Intent:
        return await rules.interpret(text, at_gate=d.gate is not None, context=d)

    async def by_embedded(text: str, d: Dialogue) -> Intent:
        return await embedded.interpret(text, context=d)

    baseline = await score(by_rules, cases, base)
    default = await score(by_embedded, cases, base)
    _report("rules (baseline)", baseline, misses=False)
    _report("embedded (default)", default, misses=args.misses)
    # a message said the same way in the examples ("yes", "check status") is no test of
    # reading new words: the held-out messages none of the examples say, on their own
    examples = {normalise(text) for text, _ in corpus()}
    new_words = [c for c in cases if normalise(str(c["text"])) not in examples]
    unseen = await score(by_embedded, new_words, base)
    print(
        f"   of them, the {unseen.total} that no example says word for word: "
        f"{unseen.right}/{unseen.total} ({unseen.accuracy:.1%})"
    )
    figures: dict[str, object] = {
        "heldout_accuracy": round(default.accuracy, 3),
        "heldout_new_words_accuracy": round(unseen.accuracy, 3),
        "rules_accuracy": round(baseline.accuracy, 3),
        "ratio": round(default.accuracy / baseline.accuracy, 2) if baseline.accuracy else None,
    }
    scored = [baseline, default]
    for later in _LATER_SETS:
        by_set = await _score_set(later, by_rules, by_embedded, misses=args.misses)
        figures[f"{later.key}_accuracy"] = round(by_set[1].accuracy, 3)
        figures[f"{later.key}_rules_accuracy"] = round(by_set[0].accuracy, 3)
        scored += by_set
    probe_errors = 0
    for name, key, heading in _PROBES:
        answers = await score_gate_answers(by_embedded, load_gate_answers(PROBE / name))
        print(f"\n== gate answers, {heading}: {answers.summary()}")
        for want in sorted(answers.total):
            figures[f"gate_{key}_{want}_read"] = round(answers.share(want), 3)
        probe_errors += answers.approved_without_consent
    figures["gate_probe_consent_errors"] = probe_errors
    figures |= {
        "consent_errors": sum(s.consent_errors for s in scored),
        "p50_ms": round(default.percentile_ms(0.5), 2),
        "p95_ms": round(default.percentile_ms(0.95), 2),
        "train_s": round(train_s, 2),
        "cases": len(cases),
    }
    if args.llm:
        from agent.understanding.llm import LLMInterpreter
        from prompts import load_text

        llm = LLMInterpreter(
            api_key=None,
            base_url=args.llm,
            model=args.model,
            system_prompt=load_text("system_interpreter.md"),
            embedded=embedded,
            deadline_s=args.deadline,
        )

        async def by_llm(text: str, d: Dialogue) -> Intent:
            return await llm.interpret(text, context=d)

        live = await score(by_llm, cases, base)
        _report(f"language model at {args.llm}", live, misses=args.misses)
        print(
            f"   the model was asked about {llm.consulted} messages and answered "
            f"{llm.consulted - llm.fallbacks} in time (deadline {args.deadline:g} s)"
        )
        figures["llm_accuracy"] = round(live.accuracy, 3)
        figures["llm_consent_errors"] = live.consent_errors
        figures["llm_p95_ms"] = round(live.percentile_ms(0.95), 1)
        figures["llm_consulted"] = llm.consulted
        figures["llm_answered"] = llm.consulted - llm.fallbacks
        consent_errors = live.consent_errors
        for unseen in (s for s in _LATER_SETS if not s.confusions):  # the blind sets: totals
            asked, failed = llm.consulted, llm.fallbacks
            files2, cases2 = load_cases(unseen.path)
            base2 = Path(tempfile.mkdtemp(prefix=f"satya-nlu-{unseen.key}-llm-"))
            make_files(base2, files2)
            live2 = await score(by_llm, cases2, base2)
            print(
                f"\n== language model on {unseen.name}: {live2.right}/{live2.total} "
                f"understood ({live2.accuracy:.1%}), consent errors {live2.consent_errors}; "
                f"asked about {llm.consulted - asked} messages, answered "
                f"{llm.consulted - asked - (llm.fallbacks - failed)} in time"
            )
            figures[f"llm_{unseen.key}_accuracy"] = round(live2.accuracy, 3)
            consent_errors += live2.consent_errors
        figures["llm_consent_errors"] = consent_errors
        await llm.aclose()
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
