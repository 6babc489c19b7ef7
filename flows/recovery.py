"""Recovery with graduated escalation.

1. automatic retry with a notice (errors whose class is ``retryable``, up to
   ``max_auto_retries``: ``flows.failures.retry_rule``, the rule bulk uses too);
2. guided troubleshooting specific to the error (conversion guide, cleanup, top-up…);
3. an alternative approach;
4. escalation with a support bundle that preserves the whole context, secrets redacted.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.failures import retry_delay_s, retry_rule
from flows.publication import STEP_STAGE
from flows.services import Services
from flows.state import END, JourneyState, WorkflowStatus, progress
from integrations.errors import ChainSlow

RetryTarget = Literal["assess", "upload", "register", "verify_submit", "list_model"]

_SECRET_KEY = re.compile(
    r"(secret|token|password|passphrase|mnemonic|private|api_?key|authorization)", re.I
)


def retry_target(node: str) -> RetryTarget:
    """The node to run again after a failure at ``node``."""
    if node == "verify_monitor":
        return "verify_submit"
    assert node in ("assess", "upload", "register", "verify_submit", "list_model"), node
    return node  # type: ignore[return-value]


def redact(value: object) -> object:
    """Replace the values of secret-looking keys, recursively."""
    if isinstance(value, dict):
        return {
            k: ("[redacted]" if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def write_support_bundle(state: JourneyState, directory: Path, *, level: int) -> Path:
    """Write everything support needs to a JSON file (mode 0600) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    bundle = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "escalation_level": level,
        "workflow_id": state.get("workflow_id"),
        "user_id": state.get("user_id"),
        "phase": state.get("current_phase"),
        "status": state.get("status"),
        "progress": progress(state),
        "mode": state.get("mode"),
        "expertise": state.get("expertise"),
        "completed_steps": state.get("completed_steps"),
        "pending_steps": state.get("pending_steps"),
        "context": state.get("context"),
        "error": state.get("error"),
        "last_intent": state.get("intent"),
    }
    path = directory / f"{state.get('workflow_id') or 'journey'}-{int(time.time() * 1000)}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(redact(bundle), fh, indent=2, sort_keys=True, default=str)
    return path


async def recovery(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[
    Literal["assess", "upload", "register", "verify_submit", "list_model", "what_exists", "__end__"]
]:
    """Decide how far to escalate a recorded failure, and do it."""
    cfg = runtime.context.config
    error = state.get("error")
    if state["intent"]["kind"] == "support_bundle":
        path = write_support_bundle(state, cfg.support_dir, level=4)
        say(runtime, "support_bundle", path=str(path), error=dict(error) if error else None)
        return Command(goto=END)
    if error is None:
        say(runtime, "nothing_to_retry")
        return Command(goto=END)
    code, attempts = error["code"], error["attempts"]
    if code == ChainSlow.code and attempts == 1:
        # late, not failed: the user chooses (the transaction is keyed, nothing runs twice);
        # the same transaction late again goes up the ladder
        say(runtime, "tx_overdue", message=error["message"], node=error["node"])
        return Command(goto=END, update={"status": WorkflowStatus.FAILED})
    auto = cfg.max_auto_retries if retry_rule(code) == "automatic" else 0
    if attempts <= auto:
        delay = retry_delay_s(attempts, cfg.retry_backoff_s)
        say(
            runtime,
            "auto_retry",
            code=code,
            message=error["message"],
            attempt=attempts,
            of=auto,
            node=error["node"],
            delay_s=delay,
        )
        await asyncio.sleep(delay)
        return Command(goto=retry_target(error["node"]))
    level = min(4, 2 + (attempts - auto - 1))
    if level == 2:
        say(
            runtime,
            "troubleshoot",
            code=code,
            message=error["message"],
            hint=error["hint"],
            expertise=state.get("expertise", "intermediate"),
            file_name=state["context"].get("file_name", ""),
        )
    elif level == 3:
        say(runtime, "alternative", code=code, message=error["message"], hint=error["hint"])
    else:
        path = write_support_bundle(state, cfg.support_dir, level=4)
        say(runtime, "support_bundle", path=str(path), error=dict(error))
    if retry_rule(code) == "final" and state["context"].get("model_id"):
        # the same file gets the same verdict: say what is left and offer to undo it
        return Command(goto="what_exists", update={"status": WorkflowStatus.FAILED})
    say(runtime, "step_stopped", **_how_far(state, error["node"]))
    return Command(goto=END, update={"status": WorkflowStatus.FAILED})


def _how_far(state: JourneyState, node: str) -> dict[str, object]:
    """How far the failed step got, for the final failure message and its choices."""
    ctx = state["context"]
    step = STEP_STAGE.get(node, node)  # type: ignore[call-overload]
    data: dict[str, object] = {"step": step, "file_name": ctx.get("file_name", "")}
    if step == "upload" and "stopped_percent" in ctx:
        data |= {
            "percent": ctx["stopped_percent"],
            "stored_bytes": ctx.get("stopped_bytes", 0),
            "size_bytes": ctx.get("size_bytes", 0),
        }
    elif step == "verification" and "stopped_percent" in ctx:
        data["percent"] = ctx["stopped_percent"]
    return data


def spent_so_far(state: JourneyState) -> dict[str, object]:
    """What a journey has already done and paid for, for a user who abandons it."""
    ctx = state.get("context") or {}
    done = set(state.get("completed_steps") or [])
    storage_started = "confirm_upload" in done
    return {
        "file_name": ctx.get("file_name", ""),
        "storage_paid": storage_started,
        "stored_whole": "chunked_upload" in done,
        "cost_frost": ctx.get("cost_frost", 0) if storage_started else 0,
        "manifest_blob_id": ctx.get("manifest_blob_id"),
        "model_id": ctx.get("model_id"),
        "listing_id": ctx.get("listing_id"),
        "purchased": ctx.get("purchase_id") or None,
    }


async def abandon(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["what_exists", "__end__"]]:
    """Node: the user cancels a stopped step: nothing more runs; say what was done and paid,
    then, where a model was registered or a file stored whole, what exists and its undo."""
    spent = spent_so_far(state)
    say(runtime, "journey_abandoned", **spent)
    left = spent.get("model_id") or spent.get("manifest_blob_id")
    return Command(
        goto="what_exists" if left and not spent.get("listing_id") else END,
        update={"status": WorkflowStatus.CANCELLED, "pending_steps": []},
    )


TxNode = Literal["register", "verify_submit", "verify_monitor", "list_model"]


async def tx_wait(state: JourneyState, runtime: Runtime[Services]) -> Command[TxNode]:
    """Node: 'wait' for a late ledger transaction: run its step again, with one more deadline
    each time; the transaction keeps its key, so one that landed meanwhile is not sent twice."""
    error = state.get("error")
    ctx = state["context"]
    node = error["node"] if error else "register"
    assert node in ("register", "verify_submit", "verify_monitor", "list_model"), node
    patience = ctx.get("tx_patience", 0) + 1
    say(runtime, "tx_wait", node=node, patience=patience)
    return Command(
        goto=node,  # type: ignore[arg-type]
        update={"context": {**ctx, "tx_patience": patience}, "status": WorkflowStatus.ACTIVE},
    )
