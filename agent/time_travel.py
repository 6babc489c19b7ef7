"""The journey's history from its checkpoints, and going back to an earlier question.

Every step of a journey is a LangGraph checkpoint. ``history_lines`` reads them
(oldest first) into what happened, in words; the checkpoints where a question
waited for an answer are the points one can go back to. ``undo_target`` picks
such a point: the question before the one now open (``undo``), or the first
asking of a named question (``go back to the listing draft``, ``go back to the
upload question``). A point is offered only if no external write (a payment, an
upload, a transaction, an enclave job) happened after it, so going back never
repeats or contradicts one: the journey forks from that checkpoint and asks that
question again; what was said after it stays in the history of the old branch.

Example::

    snaps = [s async for s in graph.aget_state_history(cfg)]   # newest first
    print("\\n".join(history_lines(snaps)))
    target, why_not = undo_target(snaps, "go back to the listing draft")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from agent.replies import human_bytes, sui

# Steps that write outside the journey: going back across one of them is refused.
WRITE_NODES = frozenset(
    {
        "upload",
        "register",
        "verify_submit",
        "verify_monitor",
        "list_model",
        "purchase_execute",
        "bulk_upload",
        "bulk_file",
        "bulk_restart",
        "bulk_verify",
        "bulk_list",
        "cleanup",
        "listing_change",
    }
)
_WRITE_WORDS = {
    "upload": "the file was stored",
    "register": "the model was registered on chain",
    "verify_submit": "the enclave job was started",
    "verify_monitor": "the verification was recorded",
    "list_model": "the model was listed",
    "purchase_execute": "the purchase was paid",
    "bulk_upload": "the files were stored",
    "bulk_file": "the files were stored",
    "bulk_restart": "fresh enclave jobs were started",
    "bulk_verify": "the verifications were recorded",
    "bulk_list": "the models were listed",
    "cleanup": "the model was withdrawn",
    "listing_change": "the listing was changed",
}
_GATES = {"upload_gate", "listing_gate", "purchase_gate", "bulk_gate", "bulk_listing_gate"}
_NAMED = (
    (("listing", "draft", "price", "title"), "listing_gate", "the listing draft"),
    (("upload", "storage"), "upload_gate", "the upload question"),
    (("purchase", "buy"), "purchase_gate", "the purchase question"),
)


@dataclass(frozen=True, slots=True)
class Target:
    """A checkpoint to go back to, and what it is in words."""

    checkpoint_id: str
    label: str


def _ctx(snap: Any) -> dict[str, Any]:
    return dict((snap.values or {}).get("context") or {})


def _gate_label(node: str) -> str:
    return next((label for _, n, label in _NAMED if n == node), node.replace("_", " "))


def _step_words(node: str, before: Any, after: Any) -> str | None:
    """What running ``node`` between two checkpoints did, in words (None: not worth saying)."""
    ctx, old = _ctx(after), _ctx(before)
    name = ctx.get("file_name") or old.get("file_name") or "the model"
    nxt = tuple(after.next or ())
    if node == "assess":
        size = human_bytes(ctx.get("size_bytes") or 0)
        return f"checked {name} ({size}, {ctx.get('format', '?')})"
    if node in _GATES:
        if node in nxt:
            changed = [
                f"{key} {sui(ctx[key]) if key == 'price_mist' else repr(ctx.get(key))}"
                for key in ("price_mist", "title", "description", "tags")
                if ctx.get(key) != old.get(key)
            ]
            what = ", ".join(k.replace("price_mist", "price") for k in changed)
            return f"you changed {_gate_label(node)}: {what}" if changed else None
        if not nxt:
            return f"you declined {_gate_label(node)}"
        return f"you approved {_gate_label(node)}"
    if node == "upload":
        return f"stored {name} ({human_bytes(ctx.get('size_bytes') or 0)})"
    if node == "register":
        return f"registered pending model {ctx.get('model_id')}"
    if node == "verify_submit":
        return f"started verification job {ctx.get('job_id')}"
    if node == "verify_monitor" and ctx.get("verification_id"):
        return f"verified: quality {ctx.get('quality_score')}/100"
    if node == "listing_prep":
        return f'drafted the listing "{ctx.get("title")}" at {sui(ctx.get("price_mist") or 0)}'
    if node == "list_model" and ctx.get("listing_id"):
        return f"listed as {ctx['listing_id']} at {sui(ctx.get('price_mist') or 0)}"
    if node == "listing_change":
        return "changed the listing on the market"
    if node == "abandon":
        return "you cancelled the journey"
    if node == "cleanup":
        return "withdrew the model and deleted its blobs"
    if node in ("recovery",) and (after.values or {}).get("error"):
        return f"a step failed: {(after.values or {})['error']['message']}"
    return None


def history_lines(snaps: Sequence[Any]) -> list[str]:
    """The journey so far, oldest first, one line per step that did something."""
    ordered = list(reversed(snaps))
    lines: list[str] = []
    for before, after in pairwise(ordered):
        for node in tuple(before.next or ())[:1]:
            words = _step_words(node, before, after)
            if words:
                stamp = str(after.created_at or "")[11:19]
                lines.append(f"{len(lines) + 1}. {stamp} {words}")
    if ordered and ordered[-1].interrupts:
        lines.append(f"Now: {_gate_label(next(iter(ordered[-1].next or ()), ''))} waits for you.")
    return lines


def undo_target(snaps: Sequence[Any], text: str) -> tuple[Target | None, str]:
    """The checkpoint to go back to for ``text`` ('undo', 'go back to the listing draft'),
    or None and why not. ``snaps`` are newest first, the thread's head first."""
    words = text.lower()
    named = next((node for keys, node, _ in _NAMED if any(k in words for k in keys)), None)
    head = snaps[0] if snaps else None
    best: Any = None
    for i, snap in enumerate(snaps):
        if i and tuple(snaps[i].next or ())[:1] and snaps[i].next[0] in WRITE_NODES:
            done = _WRITE_WORDS.get(snaps[i].next[0], "an external step ran")
            if best is None:
                return (
                    None,
                    f"I can't go back past that: {done} since, and that cannot be taken back.",
                )
            break
        if i == 0 or not snap.interrupts:
            continue
        gate = next(iter(snap.next or ()), "")
        if named is not None:
            if gate == named:
                best = snap  # keep going: the first asking of that question wins
            elif best is not None:
                break
        elif head is None or _ctx(snap) != _ctx(head) or gate != next(iter(head.next or ()), ""):
            best = snap
            break
    if best is None:
        return None, "There is no earlier question in this journey to go back to."
    gate = next(iter(best.next or ()), "")
    return Target(str(best.config["configurable"]["checkpoint_id"]), _gate_label(gate)), ""


def checkpoint_target(snaps: Sequence[Any], checkpoint_id: str) -> tuple[Target | None, str]:
    """The question at ``checkpoint_id`` if one may go back to it (see ``undo_target``)."""
    for i, snap in enumerate(snaps):
        if i and tuple(snap.next or ())[:1] and snap.next[0] in WRITE_NODES:
            done = _WRITE_WORDS.get(snap.next[0], "an external step ran")
            return None, f"I can't go back to checkpoint {checkpoint_id}: {done} since."
        if snap.config["configurable"].get("checkpoint_id") == checkpoint_id:
            if not snap.interrupts:
                return None, f"Checkpoint {checkpoint_id} is not a question; name one that asks."
            return Target(checkpoint_id, _gate_label(next(iter(snap.next or ()), ""))), ""
    return None, f"This conversation has no checkpoint {checkpoint_id}."
