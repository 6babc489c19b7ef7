"""Checkpoint questions before the upload question: what the model is, what it does, who
it is for, and its licence.

Asked one per turn (each is an interrupt named ``question``; nothing is paid or
signed here, so no consent is involved), answered in free words, skipped with
"skip" (this one) or "skip all", or kept with "same" where the user answered
before. The answers fill the listing: the category (and so the comparable listings
the price comes from), the description, the tags. They are remembered per user and
offered as the defaults next time.

They are asked of beginners in supervised mode after the assessment, before the
upload question: the category is registered on chain with the model, so it is
decided before the upload; the listing is drafted from the answers after
verification (where the terms are fixed at upload they are drafted before the
questions, so they are not asked there). Anyone can edit the draft at the gate.
"""

from __future__ import annotations

from typing import Literal, cast

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from flows.conversation import answer_aside
from flows.events import say
from flows.intents import Intent
from flows.market.analysis import category_from_words, task_tags
from flows.market.listing_text import MAX_TAGS, normalize_tag
from flows.onboarding import load_profile, save_profile
from flows.services import Services
from flows.state import JourneyState, ModelContext, WorkflowStatus
from integrations.chain.port import ListingMetadata

QUESTIONS: tuple[str, ...] = ("model_type", "task", "buyers", "licence")
_ASIDES = frozenset(
    {"status", "raw_data", "market_analysis", "dashboard", "browse", "help", "support_bundle"}
)
_MAX_ANSWER = 200


def wants_questions(state: JourneyState, runtime: Runtime[Services]) -> bool:
    """True when the checkpoint questions are still to be asked before the listing draft."""
    ctx = state["context"]
    if state.get("mode") != "supervised" or state.get("expertise") != "beginner":
        return False
    if runtime.context.ledger.listing_terms_fixed_at_upload or ctx.get("title"):
        return False  # the terms are drafted already
    answers = ctx.get("answers") or {}
    return any(q not in answers for q in QUESTIONS)


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" .!")[:_MAX_ANSWER]


async def checkpoint(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["checkpoint", "upload_gate"]]:
    """Ask the next checkpoint question; record the answer; on to the upload question after
    the last."""
    ctx = state["context"]
    answers = dict(ctx.get("answers") or {})
    todo = [q for q in QUESTIONS if q not in answers]
    if not todo:
        return Command(goto="upload_gate")
    key = todo[0]
    profile = await load_profile(runtime, state["user_id"]) or {}
    remembered = str((profile.get("answers") or {}).get(key, ""))
    raw = interrupt(
        {
            "gate": "question",
            "kind": f"checkpoint_{key}",
            "data": {
                "question": key,
                "number": QUESTIONS.index(key) + 1,
                "of": len(QUESTIONS),
                "default": remembered,
                "file_name": ctx.get("file_name", ""),
                "expertise": state["expertise"],
            },
        }
    )
    reply = cast(Intent, raw if isinstance(raw, dict) else {"kind": "answer", "text": str(raw)})
    skip = reply.get("skip")
    if reply["kind"] in _ASIDES and not skip:  # "check status" while the question waits
        await answer_aside(reply, state, runtime)
        say(runtime, "question_reminder")
        return Command(goto="checkpoint")
    if skip == "all":
        for q in todo:
            answers[q] = ""
    elif skip == "one":
        answers[key] = ""
    elif reply.get("keep") or reply["kind"] == "approve":
        if not remembered:
            say(runtime, "checkpoint_no_default", expertise=state["expertise"])
            return Command(goto="checkpoint")
        answers[key] = remembered
    else:
        answers[key] = _clean(reply.get("text", ""))
    new_ctx: ModelContext = {**ctx, "answers": answers}
    if all(q in answers for q in QUESTIONS):
        new_ctx["category"] = answered_category(new_ctx) or ctx.get("category", "general")
        given = {q: a for q, a in answers.items() if a}
        await save_profile(
            runtime,
            state["user_id"],
            {**profile, "answers": {**(profile.get("answers") or {}), **given}},
        )
        say(
            runtime,
            "checkpoint_done",
            expertise=state["expertise"],
            answered=len(given),
            category=new_ctx["category"],
        )
        return Command(
            goto="upload_gate", update={"context": new_ctx, "status": WorkflowStatus.ACTIVE}
        )
    return Command(goto="checkpoint", update={"context": new_ctx})


def answered_category(ctx: ModelContext) -> str | None:
    """The category the author's answers name (their words over the file name), or None."""
    answers = ctx.get("answers") or {}
    said = " ".join(answers.get(q, "") for q in ("model_type", "task"))
    return category_from_words(said) if said.strip() else None


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def with_answers(meta: ListingMetadata, ctx: ModelContext, category: str) -> ListingMetadata:
    """The drafted listing with what the author said: their words lead the description;
    the category, the task and the licence become tags."""
    answers = ctx.get("answers") or {}
    kind, task = answers.get("model_type", ""), answers.get("task", "")
    lead: list[str] = []
    if kind and task:
        lead.append(_sentence(f"{kind}, for {task}"))
    elif kind or task:
        lead.append(_sentence(kind or task))
    tail: list[str] = []
    if answers.get("buyers"):
        tail.append(_sentence(f"Made for {answers['buyers']}"))
    if answers.get("licence"):
        tail.append(_sentence(f"Licence: {answers['licence']}"))
    if not (lead or tail):
        return meta
    tags = [normalize_tag(category), *task_tags(f"{kind} {task}")]
    licence = normalize_tag(answers.get("licence", ""))
    if licence and len(licence) <= 20:
        tags.append(licence)
    tags += meta.tags
    unique = [t for t in dict.fromkeys(tags) if t and t != "general"]
    description = " ".join([*lead, meta.description, *tail])
    return ListingMetadata(meta.title, description, tuple(unique[:MAX_TAGS]))
