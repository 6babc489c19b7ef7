"""The persisted journey state: the seed's workflow record plus the current turn.

Large data never goes into state: files stay on disk; state keeps paths,
digests and ids. Everything is plain JSON values so checkpoints round-trip
exactly with LangGraph's default serializer.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, NotRequired, TypedDict

from flows.intents import Expertise, Intent, Mode

END: Final[Literal["__end__"]] = "__end__"
"""``langgraph.graph.END``, typed as a literal so it can be a ``Command`` goto."""


class Phase:
    """Where the journey stands (plain strings, so checkpoints hold only JSON values)."""

    ONBOARDING = "onboarding"
    PRE_UPLOAD_ASSESSMENT = "pre_upload_assessment"
    UPLOAD = "upload"
    VERIFICATION_MONITORING = "verification_monitoring"
    MARKETPLACE_LISTING = "marketplace_listing"
    COMPLETED = "completed"
    PURCHASE = "purchase"
    IDLE = "idle"


class WorkflowStatus:
    """What the workflow is doing now."""

    ACTIVE = "active"
    WAITING_APPROVAL = "waiting_approval"
    VERIFYING = "verifying"  # an enclave job runs in the background; the chat goes on
    FAILED = "failed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class Step:
    """Steps of the author's journey, by phase (see DESIGN.md §3)."""

    WELCOME = "welcome"
    PLATFORM_OVERVIEW = "platform_overview"
    FIRST_UPLOAD_GUIDE = "first_upload_guide"
    VERIFICATION_EXPLANATION = "verification_explanation"
    MARKETPLACE_INTRODUCTION = "marketplace_introduction"
    VALIDATE_FILE = "validate_file"
    ESTIMATE_COSTS = "estimate_costs"
    COMPRESSION_RECOMMENDATION = "compression_recommendation"
    OPTIMIZATION_GUIDANCE = "optimization_guidance"
    CONFIRM_UPLOAD = "confirm_upload"
    CHUNKED_UPLOAD = "chunked_upload"
    REGISTER_ON_CHAIN = "register_on_chain"
    SUBMIT_VERIFICATION = "submit_verification"
    MONITOR_VERIFICATION = "monitor_verification"
    REPORT_QUALITY = "report_quality"
    SUGGEST_PRICE = "suggest_price"
    CONFIRM_LISTING = "confirm_listing"
    CREATE_LISTING = "create_listing"
    SETUP_MONITORING = "setup_monitoring"


ONBOARDING_STEPS = [
    Step.WELCOME,
    Step.PLATFORM_OVERVIEW,
    Step.FIRST_UPLOAD_GUIDE,
    Step.VERIFICATION_EXPLANATION,
    Step.MARKETPLACE_INTRODUCTION,
]


def publish_plan(*, large: bool) -> list[str]:
    """The steps of one model's publication; a large file adds two steps."""
    steps = [Step.VALIDATE_FILE, Step.ESTIMATE_COSTS]
    if large:
        steps += [Step.COMPRESSION_RECOMMENDATION, Step.OPTIMIZATION_GUIDANCE]
    steps += [
        Step.CONFIRM_UPLOAD,
        Step.CHUNKED_UPLOAD,
        Step.REGISTER_ON_CHAIN,
        Step.SUBMIT_VERIFICATION,
        Step.MONITOR_VERIFICATION,
        Step.REPORT_QUALITY,
        Step.SUGGEST_PRICE,
        Step.CONFIRM_LISTING,
        Step.CREATE_LISTING,
        Step.SETUP_MONITORING,
    ]
    return [str(s) for s in steps]


class ErrorRecord(TypedDict):
    """The last failure, kept so recovery and 'retry' know where to go back to."""

    code: str
    message: str
    hint: str
    node: str
    attempts: int


class BulkFile(TypedDict, total=False):
    """One file of a bulk upload: its plan, then its outcome (``status``: planned,
    verifying, done, failed or skipped; restarting while a late job's file is sent a fresh one)."""

    path: str
    file_name: str
    key: str  # idempotency-key prefix: workflow id + file
    status: str
    stage: str  # where it failed: plan, upload, register, verification
    size_bytes: int
    format: str
    category: str
    chunk_count: int
    cost_frost: int
    upload_eta_s: float
    verify_eta_s: float
    manifest_blob_id: str
    sha256: str
    bytes_sent: int
    bytes_skipped: int
    model_id: str
    job_id: str
    stopped_percent: int  # how far the step that failed got
    stopped_bytes: int  # bytes stored when its upload stopped (kept for a resume)
    verify_started_at: float
    verify_deadline_at: float
    verify_attempt: int  # the enclave job's number: a job the enclave died in is started anew
    failures: int  # failures in a row of this file's current run (the automatic-retry count)
    verification_id: str
    quality_score: int
    error_code: str
    error_message: str
    error_hint: str
    error_retryable: bool
    # listing (after 'list them'): drafted or on-chain terms, then the outcome
    title: str
    description: str
    tags: list[str]
    price_mist: int
    price_low_mist: int
    price_high_mist: int
    price_explanation: str
    listing_id: str
    listing_digest: str
    list_error_code: str
    list_error_message: str
    list_error_hint: str


class OptimisationPlan(TypedDict, total=False):
    """What optimising a file would give, all computed from the file (JSON values only)."""

    file_name: str
    format: str
    size_bytes: int
    float_dtype: str  # the widest float dtype of the weights ("float32"), "" without floats
    parameter_count: int
    fp16_bytes: int
    int8_bytes: int
    fp16_saving_pct: int
    int8_saving_pct: int
    chunk_count: int
    chunk_size_bytes: int
    body_limit_bytes: int
    onnx_framework: str  # "keras", "tensorflow", "pytorch"; "" when not applicable
    onnx_command: str
    fp16_command: str
    int8_command: str
    optimised_name: str


class OptimisedFrom(TypedDict):
    """The file assessed before the user went to optimise it."""

    file_name: str
    size_bytes: int
    format: str
    cost_frost: int


class ModelContext(TypedDict, total=False):
    """What the journey knows about the model being published or bought."""

    file_path: str
    file_name: str
    size_bytes: int
    format: str
    category: str
    sha256: str
    large: bool
    chunk_size: int
    chunk_count: int
    cost_frost: int
    encoded_bytes: int
    upload_eta_s: float
    verify_eta_s: float
    suggestions: list[str]
    optimisation: OptimisationPlan  # a large file: what optimising it would give
    optimising: bool  # the user chose to optimise first; the next file is compared with this one
    optimised_from: OptimisedFrom
    answers: dict[str, str]  # the checkpoint questions' answers (model_type, task, buyers, licence)
    manifest_blob_id: str
    upload_bytes_sent: int
    upload_bytes_skipped: int
    model_id: str  # the PendingModel object id
    register_digest: str
    job_id: str
    verify_started_at: float  # epoch seconds the current enclave job started
    verify_deadline_at: float  # past it, the job is announced as taking longer than expected
    verify_attempt: int  # fresh jobs asked for ('retry' of a late job): part of the job's key
    tx_patience: int  # times the user said 'wait' for a late ledger transaction
    listing_changes: list[str]  # request ids of the reprices and delists made so far
    delisted_listing_id: str  # the listing taken off the market
    model_withdrawn: bool  # the PendingModel was taken back (compensation)
    blobs_deleted: int  # stored blobs deleted (compensation)
    blobs_kept: int  # stored blobs kept because another upload may need them (compensation)
    stopped_percent: int  # how far the step that failed got (upload: of the bytes)
    stopped_bytes: int  # bytes stored when the upload stopped (kept for a resume)
    verification_id: str
    quality_score: int
    security_assessment: str
    price_mist: int
    price_low_mist: int
    price_high_mist: int
    price_explanation: str
    title: str
    description: str
    tags: list[str]
    listing_id: str
    listing_digest: str
    # buyer side
    requested_price_mist: int  # a price said with the upload request, the listing draft's
    purchase_listing_id: str
    purchase_title: str
    purchase_id: str
    purchase_price_mist: int
    purchase_fee_mist: int
    download_path: str
    # bulk upload: one entry per file, largest first
    bulk: list[BulkFile]
    bulk_started_at: float  # when the last bulk run started (epoch seconds), for its summary


def merge_outcomes(
    old: dict[str, BulkFile] | None, new: dict[str, BulkFile] | None
) -> dict[str, BulkFile]:
    """Reducer of ``bulk_outcomes``: each bulk file's sub-journey adds its file by its key
    (they run side by side); ``None`` empties it once they are gathered."""
    return {} if new is None else {**(old or {}), **new}


class JourneyState(TypedDict):
    """One thread's state. ``progress`` is derived from the steps, never stored."""

    workflow_id: str
    user_id: str
    current_phase: str
    status: str
    completed_steps: list[str]
    pending_steps: list[str]
    context: ModelContext
    mode: Mode
    expertise: Expertise
    intent: Intent
    error: NotRequired[ErrorRecord | None]
    returning: NotRequired[bool]
    # the outcomes of a bulk run's per-file sub-journeys until bulk_join gathers them
    bulk_outcomes: NotRequired[Annotated[dict[str, BulkFile], merge_outcomes]]


def progress(state: JourneyState) -> float:
    """Fraction of the plan's steps completed, 0..1."""
    done = len(state.get("completed_steps") or [])
    total = done + len(state.get("pending_steps") or [])
    return round(done / total, 3) if total else 0.0


def complete(state: JourneyState, *steps: str) -> dict[str, list[str]]:
    """The state update that moves ``steps`` from pending to completed."""
    completed = list(state.get("completed_steps") or [])
    pending = list(state.get("pending_steps") or [])
    for step in steps:
        if step not in completed:
            completed.append(step)
        if step in pending:
            pending.remove(step)
    return {"completed_steps": completed, "pending_steps": pending}
