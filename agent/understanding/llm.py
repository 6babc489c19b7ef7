"""The OpenAI-compatible interpreter: structured output into the same ``Intent``.

Used when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set. Any failure (network,
refusal, malformed JSON, an intent the schema does not allow) falls back to the
rules, so the conversation never depends on the model being up. The model only
classifies; it can never approve a gate on its own: an ``approve`` it returns is
accepted only if the rules read the message as an approval too.
"""

from __future__ import annotations

import json
import logging
from typing import Literal

import httpx
from pydantic import BaseModel, Field, ValidationError

from agent.understanding.rules import RuleInterpreter, parse_price_mist
from flows.intents import SYSTEM_KINDS, USER_KINDS, Intent, IntentKind, intent
from integrations.llm import ChatModel

log = logging.getLogger("satya.llm")

SYSTEM_PROMPT_FILE = "system_interpreter.md"


class IntentOutput(BaseModel):
    """What the model must return (JSON schema sent as the response format)."""

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


class LLMInterpreter:
    """Ask a chat model for an ``Intent``; fall back to ``RuleInterpreter``."""

    name = "llm"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        system_prompt: str,
        http_client: httpx.AsyncClient | None = None,
        timeout_s: float = 20.0,
        rules: RuleInterpreter | None = None,
    ) -> None:
        self._model = ChatModel(
            api_key=api_key,
            base_url=base_url,
            model=model,
            http_client=http_client,
            timeout_s=timeout_s,
        )
        self._system = system_prompt
        self.rules = rules or RuleInterpreter()
        self.fallbacks = 0

    async def interpret(self, text: str, *, at_gate: bool = False) -> Intent:
        """Interpret with the model; on any failure use the rules."""
        ruled = self.rules.interpret(text, at_gate=at_gate)
        try:
            out = await self._ask(text, at_gate=at_gate)
        except Exception as exc:  # the model is optional: every failure falls back
            self.fallbacks += 1
            # Quietly: the rules answer; --verbose shows why the model was not used.
            log.info("language model unavailable (%s); using the rules", type(exc).__name__)
            return ruled
        if out.kind == "approve" and ruled["kind"] != "approve":
            return ruled  # only the user's own clear words approve a gate
        if out.kind in SYSTEM_KINDS:
            return ruled  # text never impersonates the system's own events
        return self._to_intent(out, text, ruled)

    async def _ask(self, text: str, *, at_gate: bool) -> IntentOutput:
        schema = IntentOutput.model_json_schema()
        user = json.dumps(
            {"message": text, "waiting_for_approval": at_gate, "allowed_kinds": list(USER_KINDS)}
        )
        content = await self._model.json_answer(
            system=self._system, user=user, schema_name="intent", schema=schema
        )
        try:
            return IntentOutput.model_validate_json(content)
        except ValidationError as exc:
            raise ValueError("response does not match the intent schema") from exc

    @staticmethod
    def _to_intent(out: IntentOutput, text: str, ruled: Intent) -> Intent:
        price = None
        if out.price_sui is not None:
            price = parse_price_mist(f"{out.price_sui} sui")
        paths = out.paths or ruled.get("paths")
        if out.kind == ruled["kind"] == "edit_listing":  # the rules read the author's exact words
            paths = ruled.get("paths") or out.paths or None
        edit = out if out.kind == "edit_listing" else IntentOutput(kind=out.kind)
        return intent(
            out.kind,
            text,
            paths=paths,
            price_mist=price if price is not None else ruled.get("price_mist"),
            model_ref=out.model_ref,
            epochs=out.epochs,
            expertise=out.expertise,
            mode=out.mode,
            topic=out.topic,
            query=out.query,
            self_description=ruled.get("self_description"),
            # an edit as the rules read it, else as the model did
            title=ruled.get("title", edit.title),
            description=ruled.get("description", edit.description),
            add_tags=ruled.get("add_tags", edit.add_tags or None),
            remove_tags=ruled.get("remove_tags", edit.remove_tags or None),
            tags=ruled.get("tags", edit.tags or None),
        )

    async def aclose(self) -> None:
        await self._model.aclose()
