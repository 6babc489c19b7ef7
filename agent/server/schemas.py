"""Request and response bodies, shaped after the Agent Protocol (LangGraph's server API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from agent.server.wire_rules import (
    NO_NUL,
    RUN_BODY_RULE,
    THREAD_ID_RULE,
    check_json,
    check_text,
    json_object_schema,
)

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
MultitaskStrategy = Literal["reject", "enqueue", "interrupt", "rollback"]
StreamModeName = Literal[
    "values",
    "updates",
    "custom",
    "messages-tuple",
    "messages",
    "tasks",
    "checkpoints",
    "debug",
    "events",
]
DEFAULT_MODES: tuple[StreamModeName, ...] = ("values", "updates", "custom")


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a count is a number, not true/false")
    return value


Text = Annotated[str, AfterValidator(check_text), Field(json_schema_extra={"pattern": NO_NUL})]
Json = Annotated[dict[str, Any], AfterValidator(check_json), WithJsonSchema(json_object_schema())]
# JSON Schema's integer (a count); true/false is not one (pydantic's lax mode would take it)
Count = Annotated[int, BeforeValidator(_not_bool)]


class ErrorOut(BaseModel):
    """What went wrong, in plain words, and what to do next."""

    detail: str
    code: str
    hint: str = ""


class ThreadCreate(BaseModel):
    """A new thread; ``metadata`` is kept with it and searchable.

    The server picks thread ids: a ``thread_id`` sent here is refused (400), not ignored.
    """

    model_config = ConfigDict(extra="ignore")
    metadata: Json = Field(default_factory=dict)
    thread_id: Annotated[str | None, WithJsonSchema(THREAD_ID_RULE)] = Field(
        default=None, max_length=200
    )


class Interrupt(BaseModel):
    value: Any
    id: str


class ThreadOut(BaseModel):
    thread_id: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]
    status: ThreadStatus
    values: dict[str, Any]
    interrupts: dict[str, list[Interrupt]]


class ThreadSearch(BaseModel):
    """Filter a user's threads by metadata (exact match) and status."""

    model_config = ConfigDict(extra="ignore")
    metadata: Json = Field(default_factory=dict)
    status: ThreadStatus | None = None
    limit: Count = Field(default=10, ge=1, le=1000)
    offset: Count = Field(default=0, ge=0, le=100_000)


class ThreadUpdate(BaseModel):
    """New metadata for a thread: merged into what it has (a key set to null is removed)."""

    model_config = ConfigDict(extra="ignore")
    metadata: Json = Field(default_factory=dict)


class ThreadCount(BaseModel):
    """Count a user's threads by metadata (exact match) and status."""

    model_config = ConfigDict(extra="ignore")
    metadata: Json = Field(default_factory=dict)
    status: ThreadStatus | None = None


class Checkpoint(BaseModel):
    thread_id: str
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None


class ThreadTask(BaseModel):
    id: str
    name: str
    interrupts: list[Interrupt] = Field(default_factory=list)


class JourneyView(BaseModel):
    """Satya's summary of the thread: phase, progress, steps and the pending gate."""

    phase: str
    status: str
    progress: float
    mode: str
    expertise: str
    completed_steps: list[str]
    pending_steps: list[str]
    gate: dict[str, Any] | None


class ThreadStateOut(BaseModel):
    values: dict[str, Any]
    next: list[str]
    checkpoint: Checkpoint
    metadata: dict[str, Any]
    created_at: str | None
    parent_checkpoint: Checkpoint | None
    tasks: list[ThreadTask]
    interrupts: list[Interrupt]
    journey: JourneyView | None = None


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: Count = Field(default=10, ge=1, le=1000)
    before: Checkpoint | None = None


class RunInput(BaseModel):
    """A user message: ``{"message": "..."}`` or ``{"messages": [{"role": "user", ...}]}``.

    ``upload_id`` names a file sent to ``POST /uploads`` (the message then says
    what to do with it; "upload" when empty); ``path`` names a file under the
    server's files root.
    """

    model_config = ConfigDict(extra="ignore")
    message: Text | None = Field(default=None, max_length=20_000)
    messages: list[Json] | None = Field(default=None, max_length=1000)
    upload_id: Text | None = Field(default=None, max_length=64)
    path: Text | None = Field(default=None, max_length=4096)


class RunCommand(BaseModel):
    """Answer the thread's pending gate: ``resume`` is the answer (text, true/false)."""

    model_config = ConfigDict(extra="ignore")
    resume: Text | bool | int | float | Json | None = None


class RunCreate(BaseModel):
    """A run on a thread: a user message (``input``) or a gate answer (``command``)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=RUN_BODY_RULE)
    assistant_id: str = Field(
        default="satya", max_length=200, description="An assistant from POST /assistants/search."
    )
    input: RunInput | None = None
    command: RunCommand | None = None
    metadata: Json = Field(default_factory=dict)
    config: Json | None = Field(
        default=None,
        description='{"configurable": {"mode": "supervised" | "auto"}}: the assistant\'s config '
        "schema (GET /assistants/{id}/schemas).",
    )
    stream_mode: StreamModeName | list[StreamModeName] = Field(
        default_factory=lambda: list(DEFAULT_MODES)
    )
    multitask_strategy: MultitaskStrategy = Field(
        default="reject",
        description="When a run is already going on the thread: reject (409), enqueue (the "
        "run is answered at once as pending and starts after the runs before it), interrupt "
        "(stop it, keeping its finished steps, then run), rollback (stop it, return the thread "
        "to where it was before it and delete that run, then run).",
    )
    on_completion: Literal["delete", "keep"] = Field(
        default="delete",
        description="Stateless runs (POST /runs…): delete the temporary thread afterwards, "
        "or keep it (its id is in the run's thread_id).",
    )
    on_disconnect: Literal["continue", "cancel"] = "continue"
    stream_resumable: bool = Field(default=True, strict=True)
    checkpoint_id: str | None = Field(
        default=None,
        max_length=200,
        description="Run from this earlier checkpoint of the thread (a question, from GET "
        "/threads/{id}/history): the journey forks there and the input or command answers it. "
        "Refused (the run says why) past a payment, an upload or a transaction.",
    )
    checkpoint: Checkpoint | None = Field(
        default=None, description="The same as checkpoint_id, as LangGraph's API also takes it."
    )

    @property
    def fork_from(self) -> str | None:
        """The checkpoint this run starts from, if it names one."""
        if self.checkpoint_id:
            return self.checkpoint_id
        return self.checkpoint.checkpoint_id if self.checkpoint is not None else None


class RunOut(BaseModel):
    run_id: str
    thread_id: str
    assistant_id: str = "satya"
    created_at: datetime
    updated_at: datetime
    status: RunStatus
    metadata: dict[str, Any]
    multitask_strategy: MultitaskStrategy = "reject"
    kind: Literal["user", "background"] = "user"


class UploadOut(BaseModel):
    """A model file received: name it in a message or pass ``upload_id`` in a run's input."""

    upload_id: str
    filename: str
    size: int
    sha256: str
    expires_at: datetime | None = Field(
        description="When the file is removed unless a run uses it first (null: never)."
    )


class UploadInfo(BaseModel):
    """A stored upload: its file and how long it is kept (each run using it restarts the clock)."""

    upload_id: str
    filename: str
    size: int
    last_used_at: datetime
    expires_at: datetime | None = Field(
        description="When the file is removed unless a run uses it first (null: never)."
    )


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    storage: Literal["sqlite", "postgres"]


CANCEL_RULE: dict[str, Any] = {
    "anyOf": [
        {
            "title": "runs by id",
            "required": ["run_ids"],
            "properties": {"run_ids": {"type": "array", "minItems": 1}},
        },
        {
            "title": "a thread's runs",
            "required": ["thread_id"],
            "properties": {"thread_id": {"type": "string"}},
        },
        {
            "title": "the caller's runs by status",
            "required": ["status"],
            "properties": {"status": {"enum": ["pending", "running", "all"]}},
        },
    ]
}


class RunsCancel(BaseModel):
    """Which runs to cancel: ``run_ids`` (of ``thread_id`` if given), every active run of
    ``thread_id``, or every run of the caller in ``status`` (400 ``nothing_to_cancel``
    without any of them)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=CANCEL_RULE)
    thread_id: str | None = Field(default=None, max_length=64)
    run_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=1000
    )
    status: Literal["pending", "running", "all"] | None = None


class ThreadPrune(BaseModel):
    """Threads to delete (``strategy`` delete); ``keep_latest`` is not offered."""

    model_config = ConfigDict(extra="ignore")
    thread_ids: list[Annotated[str, Field(max_length=64)]] = Field(max_length=1000)
    # keep_latest (LangGraph's other strategy) is read to refuse it by name: 400
    strategy: Literal["delete"] | SkipJsonSchema[Literal["keep_latest"]] = "delete"


class PruneOut(BaseModel):
    pruned_count: int
