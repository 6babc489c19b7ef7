"""Insights from the recorded step events: where journeys fail, what is slow, what it cost.

Step events (``flows.step_events.StepRecord``) are kept in the store under
``("steps", user_id, thread_id)``; ``load_records`` reads one user's (or, with no user,
the platform's) and ``compute_insights`` turns them into figures, each recomputable
from the records: success rate per phase, top failure codes per step, slowest steps
(median and p95 against their estimate), time from upload to listing, retries, money
per phase, and the steps that ran past their estimate times the slow factor.

Example::

    records = await load_records(store, "ana")
    report = compute_insights(records, slow_factor=3.0, slow_min_s=30.0)
    report["slowest"][0]   # {"step": "verify_monitor", "median_s": …, "p95_s": …}
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, PutOp
from typing_extensions import TypedDict  # pydantic reads it for the HTTP schema

from flows.events import say
from flows.services import Services
from flows.state import JourneyState
from flows.step_events import GATE_NODES, StepRecord
from flows.users import user_label

STEPS_NAMESPACE = ("steps",)
UPLOAD_STEPS = ("upload", "bulk_upload", "bulk_retry")
LISTING_STEPS = ("list_model", "bulk_list")
_MAX_RECORDS = 200_000


class PhaseRate(TypedDict):
    phase: str
    ok: int
    failed: int
    success_rate: float | None


class FailurePoint(TypedDict):
    step: str
    code: str
    count: int


class SlowStep(TypedDict):
    step: str
    runs: int
    median_s: float
    p95_s: float
    estimate_median_s: float | None
    ratio_to_estimate: float | None  # median duration / median estimate


class SlowRun(TypedDict):
    step: str
    thread_id: str
    file_name: str
    duration_s: float
    estimate_s: float


class Money(TypedDict):
    phase: str
    frost: int
    mist: int


class Insights(TypedDict):
    scope: str  # a user id, or "platform"
    records: int
    journeys: int
    phases: list[PhaseRate]
    failures: list[FailurePoint]
    slowest: list[SlowStep]
    upload_to_listing: dict[str, float | int | None]
    retries: dict[str, int]
    money: list[Money]
    slow_runs: list[SlowRun]
    slow_factor: float
    slow_min_s: float


async def save_records(store: BaseStore, records: Sequence[StepRecord]) -> None:
    """Keep a run's records with its thread, in one write."""
    tag = uuid.uuid4().hex[:8]
    await store.abatch(
        [
            PutOp(
                (*STEPS_NAMESPACE, user_label(r["user_id"]), r["thread_id"]),
                f"{int(r['started_at'] * 1e6):017d}-{tag}-{r['seq']:05d}",
                dict(r),
                index=False,
            )
            for r in records
        ]
    )


async def load_records(store: BaseStore, user_id: str | None) -> list[StepRecord]:
    """One user's records, or every user's (``None``), oldest first."""
    prefix = STEPS_NAMESPACE if user_id is None else (*STEPS_NAMESPACE, user_label(user_id))
    items = await store.asearch(prefix, limit=_MAX_RECORDS)
    records: list[StepRecord] = [item.value for item in items]  # type: ignore[misc]
    records.sort(key=lambda r: (r["started_at"], r["seq"]))
    return records


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _steps(records: Iterable[StepRecord]) -> list[StepRecord]:
    """Journey steps and bulk files that ended (not a question asked, not a stop)."""
    return [
        r for r in records if r["kind"] in ("step", "file") and r["outcome"] in ("ok", "failed")
    ]


def compute_insights(
    records: Sequence[StepRecord],
    *,
    scope: str = "platform",
    slow_factor: float = 3.0,
    slow_min_s: float = 30.0,
) -> Insights:
    """Every figure of the insights report, from the records alone. A run is slow past
    ``max(slow_min_s, slow_factor * estimate)``: the deadline after which the user is told
    while it runs (``flows.deadlines``)."""
    ended = _steps(records)
    by_phase: dict[str, Counter[str]] = defaultdict(Counter)
    for r in ended:
        if r["kind"] == "step" and r["phase"] not in ("conversation", "market", "recovery"):
            by_phase[r["phase"]][r["outcome"]] += 1
    phases = [
        PhaseRate(
            phase=phase,
            ok=c["ok"],
            failed=c["failed"],
            success_rate=round(c["ok"] / (c["ok"] + c["failed"]), 3)
            if c["ok"] + c["failed"]
            else None,
        )
        for phase, c in by_phase.items()
    ]
    codes: Counter[tuple[str, str]] = Counter(
        (r["step"], r["error_code"] or "unknown") for r in ended if r["outcome"] == "failed"
    )
    failures = [
        FailurePoint(step=step, code=code, count=n) for (step, code), n in codes.most_common(10)
    ]
    durations: dict[str, list[float]] = defaultdict(list)
    estimates: dict[str, list[float]] = defaultdict(list)
    slow_runs: list[SlowRun] = []
    for r in ended:
        if r["kind"] != "step" or r["step"] in GATE_NODES:  # their time is the user's
            continue
        durations[r["name"]].append(r["duration_s"])
        estimate = r["estimate_s"]
        if estimate:
            estimates[r["name"]].append(estimate)
            if r["duration_s"] > max(slow_min_s, estimate * slow_factor):
                slow_runs.append(
                    SlowRun(
                        step=r["name"],
                        thread_id=r["thread_id"],
                        file_name=r["file_name"],
                        duration_s=r["duration_s"],
                        estimate_s=estimate,
                    )
                )
    slowest: list[SlowStep] = []
    for name, ds in durations.items():
        median = statistics.median(ds)
        est = statistics.median(estimates[name]) if estimates[name] else None
        slowest.append(
            SlowStep(
                step=name,
                runs=len(ds),
                median_s=round(median, 4),
                p95_s=round(percentile(ds, 0.95), 4),
                estimate_median_s=round(est, 3) if est is not None else None,
                ratio_to_estimate=round(median / est, 2) if est else None,
            )
        )
    slowest.sort(key=lambda s: s["median_s"], reverse=True)
    money_by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        if r["cost_frost"] or r["cost_mist"]:
            money_by[r["phase"]][0] += r["cost_frost"]
            money_by[r["phase"]][1] += r["cost_mist"]
    calls_failed = sum(1 for r in records if r["kind"] == "call" and r["outcome"] == "failed")
    return Insights(
        scope=scope,
        records=len(records),
        journeys=len({r["workflow_id"] for r in ended}),
        phases=sorted(phases, key=lambda p: (p["success_rate"] or 0.0, p["phase"])),
        failures=failures,
        slowest=slowest[:8],
        upload_to_listing=_upload_to_listing(ended),
        retries={
            "retried_steps": sum(1 for r in ended if r["kind"] == "step" and r["attempt"] > 1),
            "attempts_beyond_first": sum(max(0, r["attempt"] - 1) for r in ended),
            "failed_calls": calls_failed,
        },
        money=[Money(phase=p, frost=v[0], mist=v[1]) for p, v in sorted(money_by.items())],
        slow_runs=slow_runs[-10:],
        slow_factor=slow_factor,
        slow_min_s=slow_min_s,
    )


def _upload_to_listing(ended: Sequence[StepRecord]) -> dict[str, float | int | None]:
    """Per workflow: from the start of its first upload to the end of its listing."""
    first_upload: dict[str, float] = {}
    listed: dict[str, float] = {}
    for r in ended:
        wid = r["workflow_id"]
        if r["name"] in UPLOAD_STEPS and wid not in first_upload:
            first_upload[wid] = r["started_at"]
        if r["name"] in LISTING_STEPS and r["outcome"] == "ok" and wid in first_upload:
            listed.setdefault(wid, r["started_at"] + r["duration_s"])
    spans = [listed[w] - first_upload[w] for w in listed]
    return {
        "count": len(spans),
        "median_s": round(statistics.median(spans), 3) if spans else None,
        "p95_s": round(percentile(spans, 0.95), 3) if spans else None,
    }


async def insights(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """Node: 'show insights' / 'where do my uploads fail?' — the user's own figures."""
    store: Any = runtime.store
    user = state["user_id"]
    records = await load_records(store, user) if store is not None else []
    cfg = runtime.context.config
    report = compute_insights(
        records, scope=user, slow_factor=cfg.deadline_factor, slow_min_s=cfg.deadline_min_s
    )
    say(
        runtime,
        "insights",
        report=dict(report),
        expertise=state.get("expertise", "intermediate"),
    )
    return {}
