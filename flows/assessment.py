"""Pre-upload assessment: validate the file, estimate cost and time, suggest, plan."""

from __future__ import annotations

import asyncio
import math
import uuid
from pathlib import Path
from typing import Literal, get_args

from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.failures import failure_update
from flows.listing import draft_upload_terms
from flows.market.analysis import infer_category
from flows.optimise import optimisation_plan
from flows.services import Services
from flows.state import (
    JourneyState,
    ModelContext,
    Phase,
    Step,
    WorkflowStatus,
    complete,
    publish_plan,
)
from integrations.errors import DangerousModel, FileProblem, InvalidModelFormat, SatyaError
from integrations.storage.cost import estimate_storage_cost
from integrations.tee.inspect import check_layout, inspect_model, sniff_format
from integrations.tee.inspect.report import ModelFormat

# Formats that can carry code run at load time: inspected in full before anything is paid.
CODE_CARRYING_FORMATS = frozenset(
    {
        "pickle",
        "pytorch_legacy_pickle",
        "pytorch_zip",
        "keras_h5",
        "tf_savedmodel",
        "numpy",
        "numpy_npz",
    }
)
# Every format the inspector recognises can be verified; "unknown" cannot.
UPLOADABLE_FORMATS = frozenset(get_args(ModelFormat)) - {"unknown"}


def _check_path(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.exists():
        raise FileProblem(f"There is no file at {raw}.")
    if path.is_dir():
        raise FileProblem(
            f"{raw} is a directory.", hint="Zip the model directory and upload the .zip file."
        )
    if not path.is_file():
        raise FileProblem(f"{raw} is not a regular file.")
    if path.stat().st_size == 0:
        raise FileProblem(
            f"{raw} is empty (0 bytes).",
            hint="Export or copy the model again (a copy or download may have been cut off).",
        )
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise FileProblem(f"{raw} cannot be read ({exc.strerror}).") from exc
    return path.resolve()


async def check_model_file(raw: str) -> tuple[Path, int, ModelFormat]:
    """The path, size and format of a file that can be uploaded, or the reason it cannot.

    Checks, cheapest first: the path, the format by content, and the layout its
    header declares (a cut-off or damaged file fails here, before anything is paid).
    """
    path = _check_path(raw)
    size = path.stat().st_size
    fmt = await asyncio.to_thread(sniff_format, path)
    if str(fmt) not in UPLOADABLE_FORMATS:
        raise InvalidModelFormat(
            f"{path.name} is not a model format I can verify (its content looks like: {fmt})."
        )
    try:
        await asyncio.to_thread(check_layout, path, fmt)
    except InvalidModelFormat as damaged:
        raise FileProblem(
            f"{path.name} is damaged: {damaged.message}",
            hint="It looks cut off or corrupted: copy or export it again, then upload the new file.",
        ) from None
    if str(fmt) in CODE_CARRYING_FORMATS:
        # The enclave would reject it after the storage is paid: say so now, for free.
        report = await asyncio.to_thread(inspect_model, path)
        if report.dangerous:
            found = "; ".join(f.message.rstrip(".") for f in report.critical_findings)
            raise DangerousModel(
                f"{path.name} is not safe to publish: {found}. Nothing was uploaded or paid."
            )
    return path, size, fmt


def _suggestions(fmt: str, size: int, large: bool) -> list[str]:
    out: list[str] = []
    if fmt in ("pickle", "pytorch_legacy_pickle", "pytorch_zip"):
        out.append("export_safetensors")
    if large and fmt in ("keras_h5", "tf_savedmodel", "pytorch_legacy_pickle", "pytorch_zip"):
        out.append("export_onnx")
    if large:
        out += ["quantize_fp16", "prune_unused"]
    if fmt == "onnx":
        out.append("onnx_simplify")
    return out


async def assess(
    state: JourneyState, runtime: Runtime[Services]
) -> Command[Literal["compression_recommendation", "upload_gate", "recovery"]]:
    """Validate format and size, estimate storage cost and times, make the plan."""
    services = runtime.context
    cfg = services.config
    paths = state["intent"].get("paths") or [state.get("context", {}).get("file_path", "")]
    raw = paths[0]
    try:
        path, size, fmt = await check_model_file(raw)
    except SatyaError as error:
        update_ctx: ModelContext = {"file_path": raw, "file_name": Path(raw).name}
        return Command(
            goto="recovery",
            update=failure_update(
                state,
                "assess",
                error,
                context=update_ctx,
                current_phase=Phase.PRE_UPLOAD_ASSESSMENT,
            ),
        )
    large = size > cfg.size_threshold_bytes
    estimate = estimate_storage_cost(
        size,
        chunk_size=cfg.chunk_size,
        epochs=state["intent"].get("epochs", cfg.epochs),
        price_frost_per_mib_epoch=cfg.price_frost_per_mib_epoch,
    )
    ctx: ModelContext = {
        "file_path": str(path),
        "file_name": path.name,
        "size_bytes": size,
        "format": str(fmt),
        "category": infer_category(path.name, {}, str(fmt)),
        "large": large,
        "chunk_size": cfg.chunk_size,
        "chunk_count": max(1, math.ceil(size / cfg.chunk_size)),
        "cost_frost": estimate.cost_frost,
        "encoded_bytes": estimate.encoded_bytes,
        "upload_eta_s": round(size / cfg.assumed_upload_bytes_per_s, 1),
        "verify_eta_s": round(size / cfg.assumed_verify_bytes_per_s, 1),
        "suggestions": _suggestions(str(fmt), size, large),
    }
    if large:  # the choice: optimise first, or upload as is; figures from the file itself
        ctx["optimisation"] = await asyncio.to_thread(
            optimisation_plan, path, fmt, chunk_size=cfg.chunk_size
        )
    before = state.get("context") or {}
    if before.get("optimising") and before.get("file_name") != path.name:
        # back with the optimised file: what changed against the one that was assessed
        ctx["optimised_from"] = {
            "file_name": before.get("file_name", ""),
            "size_bytes": before.get("size_bytes", 0),
            "format": before.get("format", ""),
            "cost_frost": before.get("cost_frost", 0),
        }
    if state["intent"].get("price_mist") is not None:  # "upload X and list it at 2 SUI"
        ctx["requested_price_mist"] = state["intent"]["price_mist"]
    if services.ledger.listing_terms_fixed_at_upload:  # decided now, shown at the upload gate
        price = state["intent"].get("price_mist")
        ctx.update(await draft_upload_terms(services.ledger, ctx, price_mist=price))
    say(
        runtime,
        "assessment",
        expertise=state["expertise"],
        threshold=cfg.size_threshold_bytes,
        epochs=estimate.epochs,
        blobs=estimate.blobs,
        **ctx,
    )
    was = ctx.get("optimised_from")
    if was:
        say(
            runtime,
            "optimised_comparison",
            expertise=state["expertise"],
            file_name=path.name,
            format=str(fmt),
            size_bytes=size,
            cost_frost=estimate.cost_frost,
            before_name=was["file_name"],
            before_format=was["format"],
            before_bytes=was["size_bytes"],
            before_cost_frost=was["cost_frost"],
            saving_pct=round(100 * (was["size_bytes"] - size) / was["size_bytes"])
            if was["size_bytes"]
            else 0,
            still_large=large,
        )
    plan_state: JourneyState = {
        **state,
        "completed_steps": [],
        "pending_steps": publish_plan(large=large),
    }
    steps = complete(plan_state, Step.VALIDATE_FILE, Step.ESTIMATE_COSTS)
    update: dict[str, object] = {
        "context": ctx,
        "current_phase": Phase.PRE_UPLOAD_ASSESSMENT,
        "status": WorkflowStatus.ACTIVE,
        "error": None,
        # A fresh id per publication: every idempotency key below derives from it.
        "workflow_id": f"wf-{uuid.uuid4().hex[:16]}",
        **steps,
    }
    goto: Literal["compression_recommendation", "upload_gate"] = (
        "compression_recommendation" if large else "upload_gate"
    )
    return Command(goto=goto, update=update)


async def compression_recommendation(
    state: JourneyState, runtime: Runtime[Services]
) -> dict[str, object]:
    """For a file over the size threshold: how much smaller it could be, from its own weights."""
    ctx = state["context"]
    plan = ctx.get("optimisation", {})
    say(
        runtime,
        "compression_recommendation",
        expertise=state["expertise"],
        threshold=runtime.context.config.size_threshold_bytes,
        **{"size_bytes": ctx.get("size_bytes", 0), "format": ctx.get("format", ""), **plan},
    )
    return dict(complete(state, Step.COMPRESSION_RECOMMENDATION))


async def optimization_guidance(
    state: JourneyState, runtime: Runtime[Services]
) -> dict[str, object]:
    """The choice before the upload gate: optimise first (with the commands) or upload as is."""
    ctx = state["context"]
    say(
        runtime,
        "optimization_guidance",
        expertise=state["expertise"],
        suggestions=ctx.get("suggestions", []),
        **ctx.get("optimisation", {}),
    )
    return dict(complete(state, Step.OPTIMIZATION_GUIDANCE))
