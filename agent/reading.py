"""Reading the next message: what the agent just asked on the thread (its dialogue
context), a reading picked after "did you mean…?", and the interpreter, which is never
allowed to break the conversation."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from agent.assistant_base import AssistantBase
from agent.threads import DIALOGUE_NAMESPACE, stopped_at
from agent.understanding.dialogue import Dialogue
from agent.understanding.entities import mentions_last_price
from agent.understanding.shown import gate_terms
from flows.intents import SYSTEM_KINDS, Intent, intent
from flows.onboarding import PROFILE_KEY, profile_namespace
from flows.users import user_label

log = logging.getLogger("satya.assistant")

LEARNED_NAMESPACE = ("understood",)  # (…, user): words -> the reading the user picked for them
_ORDINALS = {
    "1": 0, "one": 0, "first": 0, "the first": 0, "the first one": 0, "first one": 0,
    "2": 1, "two": 1, "second": 1, "the second": 1, "the second one": 1, "second one": 1,
    "3": 2, "three": 2, "third": 2, "the third": 2, "the third one": 2, "third one": 2,
}  # fmt: skip


def _learn_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())[:200]


def _pick(text: str, choices: list[str]) -> str | None:
    """The choice a reply names: by number, by position, or by the kind's own words."""
    said = _learn_key(text)
    if said in _ORDINALS and _ORDINALS[said] < len(choices):
        return choices[_ORDINALS[said]]
    for kind in choices:
        if said and said in (kind.replace("_", " "), kind):
            return kind
    return None


# Reply kinds that ask the user for one slot: the next message is read as its value.
_ASKS = {"ask_for_path": "path", "ask_for_title": "title", "tour_nav": "tour"}


def shown_listings(kind: str, data: dict[str, object]) -> list[str]:
    """The listing ids a reply showed, in the order shown (a search's results, a choice)."""
    if kind not in ("listings", "listing_choice"):
        return []
    rows = data.get("listings")
    if not isinstance(rows, list):
        return []
    return [str(r["id"]) for r in rows if isinstance(r, dict) and isinstance(r.get("id"), str)]


def _listing_of(ctx: dict[str, Any]) -> str | None:
    """The listing a thread is about: the one bought, else the one listed ("download it")."""
    for key in ("purchase_listing_id", "listing_id"):
        value = ctx.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class Reading(AssistantBase):
    """Understanding a message in its dialogue (a part of ``Assistant``)."""

    async def _interpret(self, text: str, dialogue: Dialogue) -> Intent:
        at_gate = dialogue.gate is not None
        try:
            found = await self.interpreter.interpret(text, at_gate=at_gate, context=dialogue)
        except Exception:  # an interpreter is never allowed to break the conversation
            log.warning("interpreter failed; using the rules", exc_info=True)
            from agent.understanding.rules import RuleInterpreter

            found = RuleInterpreter().interpret(text, at_gate=at_gate)
        if found["kind"] in SYSTEM_KINDS:  # text never impersonates the system's own events
            found = {**found, "kind": "unknown"}
        return found

    async def _dialogue(
        self, thread_id: str, snap: Any, user: str, text: str, offered: dict[str, Any]
    ) -> Dialogue:
        """What the agent just asked on this thread (``offered``: its dialogue record), for
        reading the next message."""
        values: dict[str, Any] = dict(snap.values or {})
        ctx = values.get("context") or {}
        gate: Any = None
        question: str | None = None
        names: tuple[str, ...] = ()
        amounts: tuple[tuple[float, str], ...] = ()
        if snap.interrupts:
            value = snap.interrupts[0].value
            gate = value.get("gate") if isinstance(value, dict) else None
            data = value.get("data") if isinstance(value, dict) else None
            if isinstance(data, dict):  # what the gate shows ("yes, buy Face Finder Pro")
                names, amounts = gate_terms(data)
            if gate == "question":  # a checkpoint question: the next words are its answer
                question = str((value.get("data") or {}).get("question") or "") or None
        expecting = offered.get("expecting") if not gate else None
        price = ctx.get("price_mist")
        last_price = None
        if mentions_last_price(text):  # the profile is read only when the words refer to it
            profile = await self.store.aget(profile_namespace(user), PROFILE_KEY)
            last_price = (profile.value if profile is not None else {}).get("last_price_mist")
        return Dialogue(
            gate=gate if gate in ("upload", "listing", "purchase") else None,
            expecting=expecting if expecting in ("path", "title", "tour") else None,
            question=question,
            paused=bool(stopped_at(snap)),
            phase=str(values.get("current_phase") or "idle"),
            price_mist=int(price) if isinstance(price, int) and gate == "listing" else None,
            title=ctx.get("title"),
            last_price_mist=last_price if isinstance(last_price, int) else None,
            file_name=ctx.get("file_name"),
            listing_id=_listing_of(ctx),
            base_dir=Path.cwd(),
            shown=tuple(str(i) for i in offered.get("shown") or ()),
            gate_names=names,
            gate_amounts=amounts,
        )

    async def _remember_question(
        self,
        thread_id: str,
        kinds: list[str],
        asked: Intent,
        offered: dict[str, Any],
        shown: list[str] | None = None,
    ) -> None:
        """Keep the slot the agent asked for this turn, or the readings it offered to pick
        from (read with the next message), and the listings it showed last, in order
        ("buy the second one")."""
        expecting = next((_ASKS[k] for k in reversed(kinds) if k in _ASKS), None)
        record: dict[str, object] = {"expecting": expecting}
        if "clarify" in kinds and asked.get("choices"):
            record = {"expecting": "choice", "choices": asked["choices"], "text": asked["text"]}
        listed = shown if shown else offered.get("shown")
        if listed:
            record["shown"] = list(listed)
        if (offered or {"expecting": None}) != record:
            await self.store.aput(DIALOGUE_NAMESPACE, thread_id, record)

    async def _picked(
        self, user: str, text: str, dialogue: Dialogue, offered: dict[str, Any]
    ) -> Intent | None:
        """A reading the user picked after "did you mean…?", or picked before for these words."""
        if dialogue.gate is not None:
            return None
        key = _learn_key(text)
        if offered.get("expecting") == "choice":
            choices = [str(c) for c in offered.get("choices") or []]
            kind = _pick(text, choices)
            if kind is not None:
                original = str(offered.get("text") or text)
                await self.store.aput(
                    (*LEARNED_NAMESPACE, user_label(user)), _learn_key(original), {"kind": kind}
                )
                return self._resolve(kind, original, dialogue)
        if key:
            learned = await self.store.aget((*LEARNED_NAMESPACE, user_label(user)), key)
            if learned is not None:
                return self._resolve(str(learned.value["kind"]), text, dialogue)
        return None

    def _resolve(self, kind: str, text: str, dialogue: Dialogue) -> Intent:
        resolve = getattr(self.interpreter, "resolve", None)
        if callable(resolve):
            found: Intent = resolve(kind, text, dialogue)
            return found
        return intent(kind, text)  # type: ignore[arg-type]
