"""Scoring an interpreter on a labelled set (``tests/nlu/labelled.yaml``): accuracy per
intent, confusions, latency and consent errors (an approval of anything but an approval).

A case counts as understood when the kind matches and every slot the label gives is
read with that value (paths compared as written, in any order).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.understanding.dialogue import Dialogue
from flows.intents import Intent

Interpret = Callable[[str, Dialogue], Awaitable[Intent]]
_SLOTS = (
    "paths",
    "price_mist",
    "model_ref",
    "expertise",
    "mode",
    "title",
    "add_tags",
    "remove_tags",
    "tags",
    "category",
    "move",
    "direction",
    "skip",
    "keep",
)


@dataclass(slots=True)
class Score:
    """What an interpreter got right on a labelled set."""

    total: int = 0
    right: int = 0
    consent_errors: int = 0
    per_kind: Counter[str] = field(default_factory=Counter)
    per_kind_right: Counter[str] = field(default_factory=Counter)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_cases(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """(files that exist while the set runs, cases) of a labelled set."""
    data = yaml.safe_load(path.read_text())
    return list(data.get("files") or []), list(data["cases"])


def make_files(base: Path, files: list[str]) -> None:
    """The set's files, as empty placeholders (names are what the language layer reads)."""
    for name in files:
        p = base / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\0")


def dialogue_for(case: dict[str, Any], base: Path) -> Dialogue:
    ctx = case.get("context") or {}
    return Dialogue(
        gate=ctx.get("gate"),
        expecting=ctx.get("expecting"),
        paused=bool(ctx.get("paused")),
        price_mist=ctx.get("price_mist"),
        question=ctx.get("question"),
        shown=tuple(ctx.get("shown") or ()),  # listings shown last ("buy the second one")
        base_dir=base,
    )


def _same_path(got: object, want: object) -> bool:
    """The same files, in any order: a bulk upload of the same files is the same upload
    (its plan lists them sorted when a pattern or a folder named them)."""
    if not isinstance(got, list) or not isinstance(want, list) or len(got) != len(want):
        return False
    return sorted(str(g).lstrip("./") for g in got) == sorted(str(w).lstrip("./") for w in want)


def _slot_ok(name: str, got: object, want: object) -> bool:
    if name == "paths":
        return _same_path(got, want)
    if isinstance(want, str) and isinstance(got, str):
        return got.strip().lower() == want.strip().lower()
    if isinstance(want, list) and isinstance(got, list):
        return sorted(str(x).lower() for x in got) == sorted(str(x).lower() for x in want)
    return got == want


def expected_kind(case: dict[str, Any]) -> str:
    """The label; for a stopped step, resuming reads as 'retry' (or a plain yes)."""
    return str(case["kind"])


async def score(interpret: Interpret, cases: list[dict[str, Any]], base: Path) -> Score:
    """Run every case through ``interpret`` and score it."""
    out = Score()
    for case in cases:
        d = dialogue_for(case, base)
        start = time.perf_counter()
        got = await interpret(str(case["text"]), d)
        out.latencies_ms.append((time.perf_counter() - start) * 1000)
        want = expected_kind(case)
        kind = got["kind"]
        if d.paused and want == "retry" and kind == "approve":
            kind = "retry"  # a plain yes to a stopped step resumes it, as 'resume' does
        out.total += 1
        out.per_kind[want] += 1
        if kind == "approve" and want != "approve":
            out.consent_errors += 1
        ok = kind == want and all(
            _slot_ok(name, got.get(name), value)
            for name, value in (case.get("slots") or {}).items()
            if name in _SLOTS
        )
        if ok:
            out.right += 1
            out.per_kind_right[want] += 1
        else:
            out.confusions[(want, kind)] += 1
            slots = {k: got.get(k) for k in _SLOTS if got.get(k) is not None}
            out.misses.append(f"{case['text']!r} [{want}] -> {kind} {slots}")
    return out


# -- answers at a gate (tests/consent_probe) -------------------------------------------


@dataclass(slots=True)
class GateAnswers:
    """How the answers of a probe set were read at their gates: per wanted reading
    ('approve', 'decline', or 'other': anything but an approval), and how many approved
    what was not a yes."""

    total: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    approved_without_consent: int = 0
    misses: list[str] = field(default_factory=list)

    def share(self, want: str) -> float:
        return self.right[want] / self.total[want] if self.total[want] else 0.0

    def summary(self) -> str:
        read = ", ".join(f"{w} {self.right[w]}/{self.total[w]}" for w in sorted(self.total))
        return f"{read}; approved without consent {self.approved_without_consent}"


def load_gate_answers(path: Path) -> list[dict[str, Any]]:
    """The cases of a probe set, each with its gate's ``Dialogue`` as the gate showed it
    (the set's ``shown``: per gate a name, a price in SUI, other amounts) and its ``want``
    (the case's, else the set's)."""
    data = yaml.safe_load(path.read_text())
    shown, want = data.get("shown") or {}, data.get("want")
    out = []
    for case in data["cases"]:
        gate = str(case["gate"])
        scene = shown.get(gate) or {}
        price = case.get("price_sui", scene.get("price_sui"))
        amounts = [(float(a), str(u)) for a, u in scene.get("amounts") or ()]
        if price is not None:
            amounts.append((float(price), "sui"))
        name = case.get("name") or scene.get("name")
        d = Dialogue(
            gate=gate,  # type: ignore[arg-type]  # checked by the sets' own test
            price_mist=round(float(price) * 10**9)
            if price is not None and gate == "listing"
            else None,
            gate_names=(str(name),) if name else (),
            gate_amounts=tuple(amounts),
        )
        out.append({"text": str(case["text"]), "want": str(case.get("want", want)), "dialogue": d})
    return out


async def score_gate_answers(interpret: Interpret, cases: list[dict[str, Any]]) -> GateAnswers:
    """Read every answer at its gate: an approval is right only where a yes was wanted."""
    out = GateAnswers()
    for case in cases:
        d: Dialogue = case["dialogue"]
        kind = (await interpret(case["text"], d))["kind"]
        want = case["want"]
        out.total[want] += 1
        ok = kind == want if want != "other" else kind != "approve"
        out.right[want] += ok
        if kind == "approve" and want != "approve":
            out.approved_without_consent += 1
        if not ok:
            out.misses.append(f"[{d.gate}] {case['text']!r} [{want}] -> {kind}")
    return out
