"""Verification: submit to the enclave, follow its progress, check and record the result."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import report_progress, say
from flows.failures import failure_update
from flows.services import Services
from flows.state import JourneyState, Phase, Step, WorkflowStatus, complete
from integrations.errors import EnclaveUnavailable, SatyaError, VerificationFailed
from integrations.tee.attestation import verify_result
from integrations.tee.port import VerificationRequest
from integrations.tee.quality import PASS_SCORE


def _attempt(state: JourneyState) -> int:
    error = state.get("error")
    return (
        error["attempts"] if error and error["node"] in ("verify_submit", "verify_monitor") else 0
    )


async def verify_submit(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["verify_monitor", "recovery"]]:
    """Mark the model as verifying on chain and start an enclave job."""
    services = runtime.context
    ctx = state["context"]
    wf = state["workflow_id"]
    try:
        wallet = await services.wallet_for(state["user_id"])
        await services.ledger.submit_for_verification(
            wallet, ctx["model_id"], request_id=f"{wf}:submit"
        )
        job_id = await services.verifier.submit(
            VerificationRequest(
                model_blob_id=ctx["manifest_blob_id"], model_type_hint=ctx.get("format")
            ),
            idempotency_key=f"{wf}:verify:{_attempt(state)}",
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
    return Command(
        goto="verify_monitor",
        update={
            "context": {**ctx, "job_id": job_id},
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
    try:
        while True:
            st = await services.verifier.status(ctx["job_id"])
            report_progress(
                runtime,
                "verification",
                done=int(st.fraction * 100),
                total=100,
                eta_s=st.eta_s,
                message=st.message,
            )
            if st.state == "failed" and st.failure_code == EnclaveUnavailable.code:
                # the enclave died mid-job (a restart, a crash): worth a fresh job, not a verdict
                raise EnclaveUnavailable(st.message or "The enclave stopped during the job.")
            if st.state == "failed":
                raise VerificationFailed(
                    "Verification failed: "
                    + ("; ".join(st.findings) or st.message or "no reason given"),
                )
            if st.state == "succeeded":
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
        signed = await services.verifier.result(ctx["job_id"])
        verified = verify_result(
            signed,
            trusted=services.trusted_enclaves,
            expected_model_digest=ctx["sha256"],
            expected_blob_id=ctx["manifest_blob_id"],
            max_age_s=cfg.result_max_age_s,
            now_ms=int(time.time() * 1000),
        )
        if verified.quality_score < PASS_SCORE:
            raise VerificationFailed(
                f"The model scored {verified.quality_score}/100, below the pass mark of {PASS_SCORE}."
            )
        wallet = await services.wallet_for(state["user_id"])
        receipt = await services.ledger.complete_verification(
            wallet, ctx["model_id"], signed, request_id=f"{state['workflow_id']}:complete"
        )
    except SatyaError as error:
        return Command(
            goto="recovery",
            update=failure_update(
                state, "verify_monitor", error, current_phase=Phase.VERIFICATION_MONITORING
            ),
        )
    security = str(signed.data.get("security_assessment", ""))
    say(
        runtime,
        "verification_passed",
        quality_score=verified.quality_score,
        security=security,
        enclave_key=signed.public_key[:16],
        expertise=state["expertise"],
        data=dict(signed.data),
    )
    return Command(
        goto="listing_prep",
        update={
            "context": {
                **ctx,
                "verification_id": receipt.created[0],
                "quality_score": verified.quality_score,
                "security_assessment": security,
            },
            "status": WorkflowStatus.ACTIVE,
            "error": None,
            **complete(state, Step.MONITOR_VERIFICATION, Step.REPORT_QUALITY),
        },
    )
