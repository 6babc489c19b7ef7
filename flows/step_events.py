"""Step events: what each journey step and each external call took, and how it ended.

A run that carries a ``StepRecorder`` in ``Services.extras[RECORDER]`` records one
``StepRecord`` per journey step (a graph node, wrapped by ``recorded_node``), one per
call to storage, ledger or enclave (``recording_services`` wraps the adapters) and one
per file of a bulk upload. Each record is also sent on the run's ``custom`` stream as
``{"event": "step", "record": …}`` while it happens; the ``Assistant`` keeps the
records with the thread (its store) when the turn ends. Without a recorder nothing is
recorded and nothing is paid.

Example::

    recorder = StepRecorder(thread_id="t1", user_id="ana", workflow_id="t1")
    services = recording_services(services, recorder)
    await graph.ainvoke(payload, cfg, context=services)
    recorder.records   # [{"kind": "step", "name": "assess", "outcome": "ok", …}, …]

Over 500 lines: the record, the recorder, the node wrapper and the wrappers of each
port (storage, ledger, enclave) are one feature that must record alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, Self, TypedDict, TypeVar

from langgraph.config import get_stream_writer
from langgraph.errors import GraphInterrupt
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime

from flows.services import Services
from flows.state import JourneyState, Phase
from flows.tracing import TracedSpan, Tracer
from integrations.chain.port import (
    ChainEvent,
    ChainObject,
    ListingMetadata,
    ModelDraft,
    Signer,
    TxReceipt,
)
from integrations.chain.wrapper import LedgerWrapper
from integrations.errors import SatyaError
from integrations.storage.port import (
    BlobData,
    BlobRelease,
    BlobStore,
    DeletableBlobStore,
    StoredBlob,
)
from integrations.tee.port import (
    EnclaveInfo,
    JobStatus,
    SignedResult,
    VerificationRequest,
    Verifier,
)

RECORDER = "step_recorder"
"""The key of the run's ``StepRecorder`` in ``Services.extras``."""

Outcome = Literal["ok", "failed", "waiting", "stopped"]
RecordKind = Literal["step", "call", "file"]

# The phase each recorded node belongs to; nodes that only talk are not recorded.
NODE_PHASE: dict[str, str] = {
    "onboarding": Phase.ONBOARDING,
    "assess": Phase.PRE_UPLOAD_ASSESSMENT,
    "compression_recommendation": Phase.PRE_UPLOAD_ASSESSMENT,
    "optimization_guidance": Phase.PRE_UPLOAD_ASSESSMENT,
    "upload_gate": Phase.PRE_UPLOAD_ASSESSMENT,
    "upload": Phase.UPLOAD,
    "register": Phase.UPLOAD,
    "verify_submit": Phase.VERIFICATION_MONITORING,
    "verify_monitor": Phase.VERIFICATION_MONITORING,
    "verify_restart": Phase.VERIFICATION_MONITORING,
    "keep_waiting": Phase.VERIFICATION_MONITORING,
    "listing_prep": Phase.MARKETPLACE_LISTING,
    "checkpoint": Phase.MARKETPLACE_LISTING,
    "listing_gate": Phase.MARKETPLACE_LISTING,
    "list_model": Phase.MARKETPLACE_LISTING,
    "recovery": "recovery",
    "what_exists": "recovery",
    "cleanup_gate": "recovery",
    "cleanup": "recovery",
    "listing_change_gate": Phase.MARKETPLACE_LISTING,
    "listing_change": Phase.MARKETPLACE_LISTING,
    "abandon": "recovery",
    "purchase_prep": Phase.PURCHASE,
    "purchase_gate": Phase.PURCHASE,
    "purchase_execute": Phase.PURCHASE,
    "download_verify": Phase.PURCHASE,
    "bulk_plan": Phase.PRE_UPLOAD_ASSESSMENT,
    "bulk_gate": Phase.PRE_UPLOAD_ASSESSMENT,
    "bulk_upload": Phase.UPLOAD,
    "bulk_verify": Phase.VERIFICATION_MONITORING,
    "bulk_restart": Phase.VERIFICATION_MONITORING,
    "bulk_join": Phase.UPLOAD,
    "bulk_retry": Phase.UPLOAD,
    "bulk_listing_prep": Phase.MARKETPLACE_LISTING,
    "bulk_listing_gate": Phase.MARKETPLACE_LISTING,
    "bulk_list": Phase.MARKETPLACE_LISTING,
    "market": "market",
    "dashboard": "market",
    "browse": "market",
}
GATE_NODES = frozenset(
    {
        "upload_gate",
        "listing_gate",
        "purchase_gate",
        "bulk_gate",
        "bulk_listing_gate",
        "listing_change_gate",
        "cleanup_gate",
    }
)


class StepRecord(TypedDict):
    """One step, external call or bulk file: when, how long, how it ended, what it cost."""

    kind: RecordKind
    name: str  # the node; "storage.put_blob"…; the bulk node for a file
    step: str  # the node a call or file ran in (the node itself for a step)
    phase: str
    thread_id: str
    workflow_id: str
    user_id: str
    seq: int
    started_at: float  # seconds since the epoch
    duration_s: float
    outcome: Outcome
    error_code: str
    attempt: int
    bytes: int
    cost_frost: int  # storage paid (WAL in FROST)
    cost_mist: int  # gas and payments (SUI in MIST)
    estimate_s: float | None
    file_name: str
    calls: int  # a step: how many external calls it made (each one is a record of its own)


class StepRecorder:
    """Collects the records of one run; ``sink`` gets each as it is made."""

    def __init__(
        self,
        *,
        thread_id: str,
        user_id: str,
        workflow_id: str,
        tracer: Tracer | None = None,
    ) -> None:
        self.thread_id = thread_id
        self.user_id = user_id
        self.workflow_id = workflow_id
        self.tracer = tracer
        self.records: list[StepRecord] = []
        self.node = ""  # the node running now (calls are attributed to it)
        self.turn_span: TracedSpan | None = None
        self.node_span: TracedSpan | None = None

    def add(
        self,
        kind: RecordKind,
        name: str,
        *,
        started_at: float,
        duration_s: float,
        outcome: Outcome,
        error_code: str = "",
        attempt: int = 1,
        nbytes: int = 0,
        cost_frost: int = 0,
        cost_mist: int = 0,
        estimate_s: float | None = None,
        file_name: str = "",
        step: str | None = None,
        calls: int = 0,
    ) -> StepRecord:
        node = step if step is not None else self.node
        record = StepRecord(
            kind=kind,
            name=name,
            step=node or name,
            phase=NODE_PHASE.get(node or name, "conversation"),
            thread_id=self.thread_id,
            workflow_id=self.workflow_id,
            user_id=self.user_id,
            seq=len(self.records),
            started_at=round(started_at, 6),
            duration_s=round(duration_s, 6),
            outcome=outcome,
            error_code=error_code,
            attempt=attempt,
            bytes=nbytes,
            cost_frost=cost_frost,
            cost_mist=cost_mist,
            estimate_s=round(estimate_s, 3) if estimate_s is not None else None,
            file_name=file_name,
            calls=calls,
        )
        self.records.append(record)
        if kind != "call":  # calls are many (a chunk each): kept, and summed into their step
            _emit({"event": "step", "record": record})
        return record

    def store_reports_cost(self) -> bool:
        """Whether the blob store said what its writes cost (Walrus does; the local store
        does not, and then a finished upload counts the storage cost of its plan)."""
        return any(r["name"] == "storage.put_blob" and r["cost_frost"] for r in self.records)


def _emit(chunk: dict[str, object]) -> None:
    """Send on the run's custom stream (nothing outside a run)."""
    try:
        writer = get_stream_writer()
    except RuntimeError:
        return
    writer(chunk)


def recorder_of(services: Services) -> StepRecorder | None:
    """The run's recorder, if recording is on."""
    found = services.extras.get(RECORDER)
    return found if isinstance(found, StepRecorder) else None


# -- steps ------------------------------------------------------------------------------


class Node(Protocol):
    """A journey node as LangGraph calls it (the runtime by keyword)."""

    def __call__(self, state: JourneyState, *, runtime: Runtime[Services]) -> Awaitable[Any]: ...


def _estimate(name: str, state: JourneyState) -> float | None:
    ctx = state.get("context") or {}
    if name == "upload":
        return ctx.get("upload_eta_s")
    if name == "verify_monitor":
        return ctx.get("verify_eta_s")
    return None


def _attempt(name: str, state: JourneyState) -> int:
    error = state.get("error")
    return error["attempts"] + 1 if error and error.get("node") == name else 1


def _outcome(result: object) -> tuple[Outcome, str]:
    update: object = getattr(result, "update", result)
    if isinstance(update, dict):
        error = update.get("error")
        if isinstance(error, dict) and error.get("code"):
            return "failed", str(error["code"])
    return "ok", ""


def recorded_node(name: str, node: Node) -> Node:
    """``node``, recording one ``StepRecord`` per run of it (and a span when tracing)."""

    @functools.wraps(node)
    async def run(state: JourneyState, runtime: Runtime[Services]) -> Any:
        recorder = recorder_of(runtime.context)
        if recorder is None:
            return await node(state, runtime=runtime)
        estimate = _estimate(name, state)
        attempt = _attempt(name, state)
        span = recorder.tracer.node(name, recorder) if recorder.tracer else None
        recorder.node = name
        first_call = len(recorder.records)
        started, t0 = time.time(), time.perf_counter()
        outcome: Outcome = "ok"
        code = ""
        try:
            result = await node(state, runtime=runtime)
            outcome, code = _outcome(result)
            return result
        except GraphInterrupt:
            outcome = "waiting"
            raise
        except asyncio.CancelledError:
            outcome = "stopped"
            raise
        except SatyaError as error:
            outcome, code = "failed", error.code
            raise
        except Exception:
            outcome, code = "failed", "internal_error"
            raise
        finally:
            duration = time.perf_counter() - t0
            ctx = state.get("context") or {}
            calls = [r for r in recorder.records[first_call:] if r["kind"] == "call"]
            recorder.add(
                "step",
                name,
                step=name,
                calls=len(calls),
                nbytes=sum(r["bytes"] for r in calls),
                started_at=started,
                duration_s=duration,
                outcome=outcome,
                error_code=code,
                attempt=attempt,
                estimate_s=estimate,
                file_name=str(ctx.get("file_name") or ""),
                cost_frost=int(ctx.get("cost_frost") or 0)
                if name == "upload" and outcome == "ok" and not recorder.store_reports_cost()
                else 0,
            )
            if span is not None:
                span.end_node(outcome, code)

    return run


async def record_file(
    runtime: Runtime[Services], work: Awaitable[Any], file_name: str, *, step: str | None = None
) -> Any:
    """One file of a bulk upload: its time and how it ended (``status``, ``error_code``);
    ``step``: the bulk node it is counted under (by default the node running now)."""
    recorder = recorder_of(runtime.context)
    if recorder is None:
        return await work
    started, t0 = time.time(), time.perf_counter()
    result = await work
    status = result.get("status") if isinstance(result, dict) else None
    failed = status in ("failed", "skipped")
    recorder.add(
        "file",
        step or recorder.node or "bulk_upload",
        started_at=started,
        duration_s=time.perf_counter() - t0,
        # verifying: its enclave job goes on in the background (bulk_verify ends it)
        outcome="failed" if failed else "waiting" if status == "verifying" else "ok",
        error_code=str(result.get("error_code") or "") if isinstance(result, dict) else "",
        nbytes=int(result.get("bytes_sent") or 0) if isinstance(result, dict) else 0,
        cost_frost=int(result.get("cost_frost") or 0)
        if isinstance(result, dict) and not failed and not recorder.store_reports_cost()
        else 0,
        estimate_s=_file_estimate(result),
        file_name=file_name,
        step=step,
    )
    return result


def _file_estimate(item: object) -> float | None:
    if not isinstance(item, dict):
        return None
    parts = [item.get("upload_eta_s"), item.get("verify_eta_s")]
    known = [float(p) for p in parts if isinstance(p, int | float)]
    return sum(known) if known else None


class RecordingGraph(StateGraph[JourneyState, Services, JourneyState, JourneyState]):
    """The journey's ``StateGraph``: nodes named in ``NODE_PHASE`` are ``recorded_node``s."""

    def add_node(self, node: Any, action: Any = None, **kwargs: Any) -> Self:
        if isinstance(node, str) and node in NODE_PHASE and action is not None:
            action = recorded_node(node, action)
        return super().add_node(node, action, **kwargs)


# -- external calls ------------------------------------------------------------------------

T = TypeVar("T")


async def _call(
    recorder: StepRecorder,
    name: str,
    work: Awaitable[T],
    *,
    nbytes: int = 0,
    cost: Callable[[T], tuple[int, int]] | None = None,
) -> T:
    span = recorder.tracer.call(name, recorder) if recorder.tracer else None
    started, t0 = time.time(), time.perf_counter()
    try:
        result = await work
    except BaseException as error:
        code = error.code if isinstance(error, SatyaError) else type(error).__name__
        recorder.add(
            "call",
            name,
            started_at=started,
            duration_s=time.perf_counter() - t0,
            outcome="stopped" if isinstance(error, asyncio.CancelledError) else "failed",
            error_code=code,
            nbytes=nbytes,
        )
        if span is not None:
            span.end_call("failed", code)
        raise
    frost, mist = cost(result) if cost is not None else (0, 0)
    recorder.add(
        "call",
        name,
        started_at=started,
        duration_s=time.perf_counter() - t0,
        outcome="ok",
        nbytes=nbytes,
        cost_frost=frost,
        cost_mist=mist,
    )
    if span is not None:
        span.end_call("ok", "")
    return result


def _gas(receipt: TxReceipt) -> tuple[int, int]:
    return 0, 0 if receipt.replayed else receipt.gas_used_mist


class RecordingStore:
    """A ``BlobStore`` that records each call (bytes, storage cost)."""

    def __init__(self, inner: BlobStore, recorder: StepRecorder) -> None:
        self.inner = inner
        self.recorder = recorder

    @property
    def max_blob_size(self) -> int:
        return self.inner.max_blob_size

    async def put_blob(self, data: BlobData, *, epochs: int = 1) -> StoredBlob:
        return await _call(
            self.recorder,
            "storage.put_blob",
            self.inner.put_blob(data, epochs=epochs),
            nbytes=len(data),
            cost=lambda b: (b.cost_frost or 0 if b.newly_created else 0, 0),
        )

    async def get_blob(self, blob_id: str) -> bytes:
        return await _call(self.recorder, "storage.get_blob", self.inner.get_blob(blob_id))

    async def has_blob(self, blob_id: str) -> bool:
        return await _call(self.recorder, "storage.has_blob", self.inner.has_blob(blob_id))

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingDeletableStore(RecordingStore):
    """A ``DeletableBlobStore`` that records each call (the wrapped store deletes)."""

    def __init__(self, inner: DeletableBlobStore, recorder: StepRecorder) -> None:
        super().__init__(inner, recorder)
        self.deletable = inner

    async def put_blob(
        self, data: BlobData, *, epochs: int = 1, upload: str | None = None
    ) -> StoredBlob:
        return await _call(
            self.recorder,
            "storage.put_blob",
            self.deletable.put_blob(data, epochs=epochs, upload=upload),
            nbytes=len(data),
            cost=lambda b: (b.cost_frost or 0 if b.newly_created else 0, 0),
        )

    async def release_blobs(self, upload: str, blob_ids: Sequence[str]) -> BlobRelease:
        return await _call(
            self.recorder,
            "storage.release_blobs",
            self.deletable.release_blobs(upload, blob_ids),
        )


class RecordingVerifier:
    """A ``Verifier`` that records each call to the enclave."""

    def __init__(self, inner: Verifier, recorder: StepRecorder) -> None:
        self.inner = inner
        self.recorder = recorder

    async def info(self) -> EnclaveInfo:
        return await _call(self.recorder, "enclave.info", self.inner.info())

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        return await _call(
            self.recorder,
            "enclave.submit",
            self.inner.submit(request, idempotency_key=idempotency_key),
        )

    async def status(self, job_id: str) -> JobStatus:
        return await _call(self.recorder, "enclave.status", self.inner.status(job_id))

    async def result(self, job_id: str) -> SignedResult:
        return await _call(self.recorder, "enclave.result", self.inner.result(job_id))

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingLedger(LedgerWrapper):
    """A ``Ledger`` that records each transaction (gas, payments) and each read."""

    def __init__(self, inner: Any, recorder: StepRecorder) -> None:
        super().__init__(inner)
        self.recorder = recorder

    async def balance(self, address: str) -> int:
        return await _call(self.recorder, "ledger.balance", super().balance(address))

    async def upload_model(
        self, signer: Signer, draft: ModelDraft, *, request_id: str
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.upload_model",
            super().upload_model(signer, draft, request_id=request_id),
            cost=_gas,
        )

    async def submit_for_verification(
        self, signer: Signer, pending_id: str, *, request_id: str
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.submit_for_verification",
            super().submit_for_verification(signer, pending_id, request_id=request_id),
            cost=_gas,
        )

    async def complete_verification(
        self, signer: Signer, pending_id: str, result: SignedResult, *, request_id: str
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.complete_verification",
            super().complete_verification(signer, pending_id, result, request_id=request_id),
            cost=_gas,
        )

    async def list_on_marketplace(
        self,
        signer: Signer,
        pending_id: str,
        verification_id: str,
        *,
        request_id: str,
        price_mist: int | None = None,
        metadata: ListingMetadata | None = None,
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.list_on_marketplace",
            super().list_on_marketplace(
                signer,
                pending_id,
                verification_id,
                request_id=request_id,
                price_mist=price_mist,
                metadata=metadata,
            ),
            cost=_gas,
        )

    async def purchase(
        self, signer: Signer, listing_id: str, *, payment_mist: int, request_id: str
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.purchase",
            super().purchase(signer, listing_id, payment_mist=payment_mist, request_id=request_id),
            cost=lambda r: (0, 0 if r.replayed else r.gas_used_mist + payment_mist),
        )

    async def withdraw_model(
        self, signer: Signer, pending_id: str, *, reason: str, request_id: str
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.withdraw_model",
            super().withdraw_model(signer, pending_id, reason=reason, request_id=request_id),
            cost=_gas,
        )

    async def delist(self, signer: Signer, listing_id: str, *, request_id: str) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.delist",
            super().delist(signer, listing_id, request_id=request_id),
            cost=_gas,
        )

    async def reprice(
        self, signer: Signer, listing_id: str, price_mist: int, *, request_id: str
    ) -> TxReceipt:
        return await _call(
            self.recorder,
            "ledger.reprice",
            super().reprice(signer, listing_id, price_mist, request_id=request_id),
            cost=_gas,
        )

    async def get_object(self, object_id: str) -> ChainObject:
        return await _call(self.recorder, "ledger.get_object", super().get_object(object_id))

    async def owned_objects(self, address: str, type_name: str) -> list[ChainObject]:
        return await _call(
            self.recorder, "ledger.owned_objects", super().owned_objects(address, type_name)
        )

    async def listings(
        self,
        *,
        category: str | None = None,
        max_price_mist: int | None = None,
        min_quality: int | None = None,
        text: str | None = None,
    ) -> list[ChainObject]:
        return await _call(
            self.recorder,
            "ledger.listings",
            super().listings(
                category=category,
                max_price_mist=max_price_mist,
                min_quality=min_quality,
                text=text,
            ),
        )

    async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
        return await _call(
            self.recorder, "ledger.events", super().events(after_seq=after_seq, limit=limit)
        )


def recording_services(services: Services, recorder: StepRecorder) -> Services:
    """A copy of ``services`` for one run whose adapters record into ``recorder``."""
    storage = services.storage
    return dataclasses.replace(
        services,
        # a capability the flows look for (deleting blobs) stays visible through the wrapper
        storage=RecordingDeletableStore(storage, recorder)
        if isinstance(storage, DeletableBlobStore)
        else RecordingStore(storage, recorder),
        ledger=RecordingLedger(services.ledger, recorder),
        verifier=RecordingVerifier(services.verifier, recorder),
        extras={**services.extras, RECORDER: recorder},
    )
