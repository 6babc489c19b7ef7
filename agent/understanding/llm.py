"""The language-model interpreter: an OpenAI-compatible model read into the same ``Intent``.

Used when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set. The embedded
interpreter (or, without it, the rules) reads every message first and stays in
charge of what it is sure of:

- the model is asked only when the embedded reading found nothing (``unknown``, unless
  the classifier is sure the words are off-topic: "what's the weather") or hesitates (a "did you mean…?", or a question read below ``CONFIDENT``), or
  a request lacks its main slot (``upload`` with no file, ``set_price`` with no
  price…); in the last case it may only fill that gap;
- where the reading was open, the model picks among the classifier's three
  likeliest readings (or the choices offered): it re-ranks, it never brings in a
  kind the classifier did not consider (a small model's "greet" for a question);
- every slot the model returns must be grounded in the user's words (a path, a
  model name, a title, a tag as written; a price as a number written) or in the
  conversation (the file the journey is about, the user's recent messages);
  anything else is dropped, and a reading left without its main slot is dropped
  whole;
- the model never approves a gate: only the rules' reading of a clear yes does;
- any failure (timeout, unreachable, refusal, unreadable answer, the breaker
  open after repeated failures) falls back to the rules, and ``take_notice``
  gives the user one sentence saying so, once per reason.

Example::

    interp = LLMInterpreter(api_key=None, base_url="http://127.0.0.1:8080/v1",
                            model="qwen", system_prompt=load_text("system_interpreter.md"))
    intent = await interp.interpret("could you call it Tiny classifier", context=dialogue)
    if (notice := interp.take_notice()) is not None:
        print(notice)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from agent.understanding.bounds import head
from agent.understanding.dialogue import Dialogue
from agent.understanding.pipeline import CONFIDENT, OVERRULE, Reading, Understanding
from agent.understanding.rules import MIST_PER_SUI, RuleInterpreter, parse_price_mist
from flows.intents import SYSTEM_KINDS, USER_KINDS, Intent, IntentKind, intent
from integrations.llm import ChatModel, FailureReason, ModelCallFailed
from prompts import load_yaml

log = logging.getLogger("satya.llm")

SYSTEM_PROMPT_FILE = "system_interpreter.md"


class IntentOutput(BaseModel):
    """What the model must return (its JSON schema is sent with the request)."""

    kind: IntentKind
    paths: list[str] = Field(
        default_factory=list,
        description="Files as written: to upload, or the bulk-listing model an edit is for.",
    )
    price_sui: str | None = Field(default=None, description="A decimal number of SUI, as text.")
    model_ref: str | None = None
    epochs: int | None = Field(default=None, ge=1, le=53)
    expertise: Literal["beginner", "intermediate", "expert"] | None = None
    mode: Literal["supervised", "auto", "debug"] | None = None
    topic: str | None = None
    query: str | None = None
    # edit_listing: the author's own words, never rephrased
    title: str | None = None
    description: str | None = None
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    tags: list[str] = Field(
        default_factory=list, description="Tags replacing all the current ones."
    )


# A rule reading of these kinds lets the model say what the message is.
_OPEN_KINDS: frozenset[IntentKind] = frozenset({"unknown", "help", "clarify"})
# The slot a request is about: a rule reading without it may be completed by the model.
_MAIN_SLOT: dict[IntentKind, str] = {
    "upload": "paths",
    "quick_upload": "paths",
    "bulk_upload": "paths",
    "set_price": "price_mist",
    "purchase": "model_ref",
    "download": "model_ref",
    "set_expertise": "expertise",
    "set_mode": "mode",
}
# A model reading without one of these slots says nothing the flow can act on.
_REQUIRED: dict[IntentKind, tuple[str, ...]] = {
    "set_price": ("price_mist",),
    "set_expertise": ("expertise",),
    "set_mode": ("mode",),
    "edit_listing": ("title", "description", "tags", "add_tags", "remove_tags"),
}
# How long the fallback lasts, by reason, for the notice.
_UNTIL: dict[FailureReason, str] = {
    "timeout": "until it does",
    "unreachable": "until it can be reached",
    "server_error": "until it recovers",
    "rate_limited": "until it has room again",
    "rejected": "until that is fixed",
    "bad_answer": "for now",
}
# A number on its own: not part of "-3", "1e30", "1,000" or "2.5.3".
_NUMBER = re.compile(r"(?<![\w.,+\-\u2212])(\d+(?:\.\d+)?)(?![\w.,]*\d)")


class LLMInterpreter:
    """Ask a chat model for an ``Intent`` where the rules are unsure; fall back to the rules.

    ``deadline_s`` bounds each model call; ``clock`` drives the circuit breaker's
    cool-down (tests pass a fake one). ``consulted`` counts the messages the model was
    asked about, ``fallbacks`` the calls that failed (the embedded reading stood).
    """

    name = "llm"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        system_prompt: str,
        http_client: httpx.AsyncClient | None = None,
        deadline_s: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
        rules: RuleInterpreter | None = None,
        embedded: Understanding | None = None,
    ) -> None:
        self.chat_model = ChatModel(
            api_key=api_key,
            base_url=base_url,
            model=model,
            http_client=http_client,
            deadline_s=deadline_s,
            clock=clock,
        )
        self._system = system_prompt
        self.rules = rules or RuleInterpreter()
        self.embedded = (
            embedded  # the offline default: read first, and what a failure falls back to
        )
        self.consulted = 0
        self.fallbacks = 0
        self._noticed: tuple[FailureReason, int | None] | None = None
        self._notice: str | None = None

    async def interpret(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Intent:
        """Interpret one message; the model only where the rules are unsure, else the rules."""
        gate = context.gate if context is not None else None
        at_gate = at_gate or gate is not None
        reading: Reading | None = None
        if self.embedded is not None:
            reading = await self.embedded.reading(text, at_gate=at_gate, context=context)
            ruled = reading.intent
        else:
            rules = self.rules.interpret
            ruled = await asyncio.to_thread(rules, head(text), at_gate=at_gate, gate=gate)
        text = head(text)  # the model reads what the rules read
        if not _model_may_help(ruled) or not _unsure(ruled, reading):
            return ruled
        self.consulted += 1
        try:
            out = await self.chat_model.structured_answer(
                system=self._system,
                user=_user_payload(text, at_gate=at_gate, context=context),
                output=IntentOutput,
                name="intent",
            )
        except Exception as exc:  # the model is optional: every failure falls back
            self._fell_back(exc)
            return ruled
        self._noticed = self._notice = None  # it works (again)
        return _merge(out, text, ruled, context, allowed=_likeliest(ruled, reading))

    def trace_with(self, tracer: Any) -> None:
        """Trace each model call with ``tracer`` (an OpenTelemetry tracer): a span
        ``satya.call llm.chat`` with the model and the outcome, never the prompt or key."""
        self.chat_model.tracer = tracer

    def take_notice(self) -> str | None:
        """One sentence for the user the first time the model is not used for a new reason.

        ``None`` afterwards, until the reason changes or the model has worked again.
        """
        notice, self._notice = self._notice, None
        return notice

    def _fell_back(self, exc: Exception) -> None:
        self.fallbacks += 1
        if not isinstance(exc, ModelCallFailed):  # not foreseen: the log says what, not the user
            log.info("language model call failed unexpectedly: %s", type(exc).__name__)
            exc = ModelCallFailed(
                f"The language model at {self.chat_model.url} could not be used.",
                reason="rejected",
            )
        # --verbose shows why; the user gets take_notice()'s one sentence.
        log.info("language model not used (%s); using the rules: %s", exc.reason, exc.message)
        key = (exc.reason, exc.status)
        if key != self._noticed:
            self._noticed = key
            self._notice = (
                f"{exc.message.rstrip('.')}; I'm using the built-in understanding"
                f" {_UNTIL[exc.reason]}."
            )

    async def aclose(self) -> None:
        await self.chat_model.aclose()


def _model_may_help(ruled: Intent) -> bool:
    kind = ruled["kind"]
    if kind == "help":
        return ruled.get("topic") != "price_format"  # the rules know that price is malformed
    if kind in _OPEN_KINDS:
        return True
    slot = _MAIN_SLOT.get(kind)
    return slot is not None and slot not in ruled


def _sui(mist: int) -> str:
    return format((Decimal(mist) / MIST_PER_SUI).normalize(), "f")


def _user_payload(text: str, *, at_gate: bool, context: Dialogue | None) -> str:
    """The message and what was just asked, as the model reads it."""
    ctx = context or Dialogue()
    return json.dumps(
        {
            "message": text,
            "waiting_for_approval": at_gate,
            "dialogue": {
                "gate": ctx.gate,
                "expecting": ctx.expecting,
                "paused": ctx.paused,
                "phase": ctx.phase,
                "draft_price_sui": _sui(ctx.price_mist) if ctx.price_mist is not None else None,
                "draft_title": ctx.title,
                "file": ctx.file_name,
                "recent_messages": list(ctx.recent[-3:]),
            },
            "allowed_kinds": list(USER_KINDS),
        },
        ensure_ascii=False,
    )


def _unsure(ruled: Intent, reading: Reading | None) -> bool:
    """Whether an open reading (unknown, a question, a "did you mean…?") leaves room for
    the model; a reading whose kind is sure always may have a gap in its slots."""
    if reading is None or ruled["kind"] not in _OPEN_KINDS:
        return True
    # nothing fits and the classifier is not sure the words are off-topic ("what have you
    # got for me", not "what's the weather"), or a "did you mean…?"
    vague = ruled["kind"] == "unknown" and reading.confidence < OVERRULE
    return vague or reading.source == "clarify" or reading.confidence < CONFIDENT


def _likeliest(ruled: Intent, reading: Reading | None) -> frozenset[str] | None:
    """The kinds the model may choose for an open reading: the choices offered, and the
    classifier's three likeliest readings; ``None`` (any) without a classifier."""
    if reading is None:
        return None
    return frozenset([*ruled.get("choices", ()), *(k for k, _ in reading.alternatives[:3])])


def _merge(
    out: IntentOutput,
    text: str,
    ruled: Intent,
    context: Dialogue | None,
    *,
    allowed: frozenset[str] | None = None,
) -> Intent:
    """The model's reading where the rules left room for it, grounded; else the rules'.

    ``allowed`` (when given) are the kinds the model may give an open reading."""
    if out.kind == "approve" or out.kind in SYSTEM_KINDS:
        return ruled  # only the user's own clear yes approves; text never impersonates the system
    grounded = ground(out, text, ruled=ruled, context=context)
    if grounded is None:
        return ruled
    if ruled["kind"] in _OPEN_KINDS:
        if grounded["kind"] == "unknown" or (
            allowed is not None and grounded["kind"] not in allowed
        ):
            return ruled
        return grounded
    if grounded["kind"] != ruled["kind"]:
        return ruled  # the rules are sure of the kind: the model only fills their gaps
    slots = {k: v for k, v in {**grounded, **ruled}.items() if k not in ("kind", "text")}
    return intent(ruled["kind"], text, **slots)  # the rules' slots, the model's in their gaps


def ground(
    out: IntentOutput, text: str, *, ruled: Intent, context: Dialogue | None = None
) -> Intent | None:
    """``out`` as an ``Intent`` keeping only the slots the user's words or the conversation
    support; ``None`` when its main slot is not supported.

    Example::

        >>> out = IntentOutput(kind="upload", paths=["tiny.onnx", "./m.onnx"])
        >>> ground(out, "upload ./m.onnx", ruled=intent("unknown"))["paths"]
        ['./m.onnx']
    """
    said = [text]
    conversation = [text, *(context.recent if context else ())]
    if context is not None and context.file_name:
        conversation.append(context.file_name)
    paths = [p for p in out.paths if _path_said(p, conversation)]
    kind = out.kind
    if kind in ("upload", "quick_upload") and (
        len(paths) > 1 or any(set(p) & set("*?[") for p in paths)
    ):
        kind = "bulk_upload"
    price = parse_price_mist(f"{out.price_sui} sui") if out.price_sui is not None else None
    if (
        price is not None
        and price != ruled.get("price_mist")
        and not _number_said(out.price_sui, text)
    ):
        price = None
    ref = out.model_ref if out.model_ref and _said(out.model_ref, conversation) else None
    epochs = out.epochs if out.epochs is not None and _number_said(str(out.epochs), text) else None
    expertise = out.expertise
    if expertise is not None and not (
        _said(expertise, said) or expertise == ruled.get("self_description")
    ):
        expertise = None
    mode = out.mode if out.mode is not None and _said(out.mode, said) else None
    topics = load_yaml("faq.yaml")
    topic = out.topic if out.topic in topics else ruled.get("topic")
    edit = kind == "edit_listing"
    got = intent(
        kind,
        text,
        paths=paths or None,
        price_mist=price,
        model_ref=ref,
        epochs=epochs,
        expertise=expertise,
        mode=mode,
        topic=topic if kind == "help" else None,
        query=out.query if out.query and _said(out.query, said) else None,
        self_description=ruled.get("self_description"),
        title=_kept_text(out.title, said) if edit else None,
        description=_kept_text(out.description, said) if edit else None,
        add_tags=_kept_tags(out.add_tags, said) if edit else None,
        remove_tags=_kept_tags(out.remove_tags, said) if edit else None,
        tags=_kept_tags(out.tags, said) if edit else None,
    )
    required = _REQUIRED.get(kind)
    if required and not any(slot in got for slot in required):
        return None
    return got


def _said(words: str, texts: Iterable[str]) -> bool:
    """Whether ``words`` occur in one of ``texts``, case-insensitive, not inside a longer word."""
    needle = words.strip().casefold()
    if not needle:
        return False
    for text in texts:
        hay = text.casefold()
        start = hay.find(needle)
        while start != -1:
            end = start + len(needle)
            before = hay[start - 1] if start else " "
            after = hay[end] if end < len(hay) else " "
            if not (needle[0].isalnum() and before.isalnum()) and not (
                needle[-1].isalnum() and after.isalnum()
            ):
                return True
            start = hay.find(needle, start + 1)
    return False


def _path_said(path: str, texts: Iterable[str]) -> bool:
    texts = list(texts)
    base = os.path.basename(path.rstrip("/\\"))
    return _said(path, texts) or (bool(base) and _said(base, texts))


def _number_said(number: str | None, text: str) -> bool:
    """Whether ``number`` is written in ``text`` as a number on its own ("2.50" for "2.5")."""
    try:
        value = Decimal(number or "")
    except InvalidOperation:
        return False
    return any(Decimal(m.group(1)) == value for m in _NUMBER.finditer(text))


def _kept_text(value: str | None, said: list[str]) -> str | None:
    value = (value or "").strip()
    return value if value and _said(value, said) else None


def _kept_tags(tags: list[str], said: list[str]) -> list[str] | None:
    kept = [t.strip() for t in tags if t.strip() and _said(t, said)]
    return kept or None
