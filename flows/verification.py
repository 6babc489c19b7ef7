"""Verification: submit to the enclave, follow its progress, check and record the result."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.deadlines import step_deadline_s
from flows.events import report_progress, say
from flows.failures import failure_update
from flows.publication import (
    job_finished,
    job_status,
    record_verification,
    start_verification,
    step_tx_times,
)
from flows.services import Services
from flows.state import BulkFile, JourneyState, ModelContext, Phase, Step, WorkflowStatus, complete
from integrations.errors import SatyaError


def _attempt(state: JourneyState) -> int:
    """The enclave job's number: fresh jobs asked for, plus failures of this verification."""
    error = state.get("error")
    failures = (
        error["attempts"] if error and error["node"] in ("verify_submit", "verify_monitor") else 0
    )
    return state["context"].get("verify_attempt", 0) + failures


async def verify_submit(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["verify_monitor", "recovery"]]:
    """Mark the model as verifying on chain and start an enclave job."""
    services = runtime.context
    ctx = state["context"]
    wf = state["workflow_id"]
    try:
        wallet = await services.wallet_for(state["user_id"])
        times = await step_tx_times(runtime, state, "submit_for_verification")
        job_id = await start_verification(
            services,
            wallet,
            ctx["model_id"],
            blob_id=ctx["manifest_blob_id"],
            file_format=ctx.get("format"),
            prefix=wf,
            attempt=_attempt(state),
            times=times,
        )
    except SatyaError as error:
        return Command(goto="recovery", update=failure_update(state, "verify_submit", error))
    say(
        runtime,
        "verification_submitted",
        job_id=job_id,
        eta_s=ctx.get("verify_eta_s"),
        expertise=state["expertise"],
    )
    started = time.time()
    deadline = started + step_deadline_s(ctx.get("verify_eta_s"), services.config)
    return Command(
        goto="verify_monitor",
        update={
            "context": {
                **ctx,
                "job_id": job_id,
                "verify_started_at": started,
                "verify_deadline_at": deadline,
            },
            "current_phase": Phase.VERIFICATION_MONITORING,
            **complete(state, Step.SUBMIT_VERIFICATION),
        },
    )


async def verify_monitor(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["listing_prep", "recovery", "__end__"]]:
    """Follow the job, check the signed result, record it on chain.

    The turn waits for the job at most ``verify_foreground_s``; a job still
    running then goes on in the background: the thread's status becomes
    ``verifying``, the user keeps chatting, and the completion event (a
    ``verification_update`` intent sent by the agent's monitor) runs this node
    again to finish.
    """
    services = runtime.context
    cfg = services.config
    ctx = state["context"]
    deadline = time.monotonic() + cfg.verify_foreground_s
    percent = 0
    try:
        while True:
            st = await job_status(services, ctx["job_id"])
            percent = int(st.fraction * 100)
            report_progress(
                runtime,
                "verification",
                done=int(st.fraction * 100),
                total=100,
                eta_s=st.eta_s,
                message=st.message,
            )
            if job_finished(st):
                break
            if time.monotonic() >= deadline:
                say(
                    runtime,
                    "verification_background",
                    job_id=ctx["job_id"],
                    percent=int(st.fraction * 100),
                    eta_s=st.eta_s,
                    expertise=state["expertise"],
                )
                return Command(
                    goto="__end__",  # langgraph's END: this turn is over
                    update={
                        "status": WorkflowStatus.VERIFYING,
                        "current_phase": Phase.VERIFICATION_MONITORING,
                    },
                )
            await asyncio.sleep(cfg.verify_poll_s)
        wallet = await services.wallet_for(state["user_id"])
        times = await step_tx_times(runtime, state, "complete_verification")
        recorded = await record_verification(
            services,
            wallet,
            ctx["job_id"],
            model_id=ctx["model_id"],
            sha256=ctx["sha256"],
            blob_id=ctx["manifest_blob_id"],
            prefix=state["workflow_id"],
            times=times,
        )
    except SatyaError as error:
        return Command(
            goto="recovery",
            update=failure_update(
                state,
                "verify_monitor",
                error,
                current_phase=Phase.VERIFICATION_MONITORING,
                context={**ctx, "stopped_percent": percent},
            ),
        )
    say(
        runtime,
        "verification_passed",
        quality_score=recorded.quality_score,
        security=recorded.security_assessment,
        enclave_key=recorded.enclave_key,
        figures=recorded.figures,
        expertise=state["expertise"],
        data=recorded.data,
    )
    if recorded.findings:  # it passed, but the user should hear what cost it points
        found = "\n".join(f"  • {f}" for f in recorded.findings)
        say(runtime, "verification_findings", findings_text=found)
    return Command(
        goto="listing_prep",
        update={
            "context": {
                **ctx,
                "verification_id": recorded.verification_id,
                "quality_score": recorded.quality_score,
                "security_assessment": recorded.security_assessment,
            },
            "status": WorkflowStatus.ACTIVE,
            "error": None,
            **complete(state, Step.MONITOR_VERIFICATION, Step.REPORT_QUALITY),
        },
    )


async def verify_restart(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["verify_submit"]]:
    """'retry' while a job is late: start a fresh enclave job (the late one is left alone)."""
    ctx = state["context"]
    say(runtime, "verification_restarted", file_name=ctx.get("file_name", ""))
    fresh = _attempt(state) + 1
    return Command(
        goto="verify_submit",
        update={"context": {**ctx, "verify_attempt": fresh}, "error": None},
    )


async def keep_waiting(state: JourneyState, runtime: Runtime[Services]) -> dict[str, object]:
    """'wait' while a job is late: follow it for another deadline's worth of time."""
    services = runtime.context
    ctx = state["context"]
    now = time.time()
    more = step_deadline_s(ctx.get("verify_eta_s"), services.config)
    bulk: list[BulkFile] = []
    for f in ctx.get("bulk", []):
        later = BulkFile(**f)
        if f.get("status") == "verifying":  # each running file gets its own new deadline
            later["verify_deadline_at"] = now + step_deadline_s(
                f.get("verify_eta_s"), services.config
            )
        bulk.append(later)
    say(runtime, "keep_waiting", wait_s=round(more))
    new_ctx: ModelContext = {**ctx, "verify_deadline_at": now + more}
    if bulk:
        new_ctx["bulk"] = bulk
    return {"context": new_ctx, "status": WorkflowStatus.VERIFYING}
