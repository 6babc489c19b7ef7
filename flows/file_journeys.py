"""Each file of a bulk upload as a sub-journey of its own (LangGraph ``Send``, map-reduce).

``bulk_upload``, ``bulk_verify`` and ``bulk_restart`` (``flows.bulk``) send every file
they move on to the node ``bulk_file``, one ``Send`` per file; the sends run side by
side, ``bulk_concurrency`` at a time, largest file first. A sub-journey takes its
file from wherever it stands (``next_step``) through the same steps as a single
upload, in the same order and with the same functions (``flows.publication``)::

    upload -> register -> verify_submit -> verify_monitor   (then the file is done)

with the same idempotency keys (the file's ``key`` as prefix, the enclave job's
attempt number) and the same retry rule (``flows.failures.retries_automatically``):
a retryable failure is retried automatically with a notice, the next attempt of a
verification gets a fresh enclave job, anything else becomes the file's outcome.
One file failing never stops another.

Verification is handed to the background as a single upload's is: the sub-journeys
of one run wait for their jobs at most ``verify_foreground_s`` from the first job
started (``look_once``: one look, for the background monitor's completion event),
then a job still running stays ``verifying`` and the monitor follows it; each
file's end is announced when the completion event finds it.

Each sub-journey writes its file's outcome to ``bulk_outcomes`` (keyed by the
file's ``key``; a reducer merges them), and ``bulk_join`` gathers them into the
journey's ``context["bulk"]``. A sub-journey that finished is a completed task of
the checkpoint: after a crash only the unfinished ones run again, and their
keyed writes repeat nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from flows.bulk_listing import as_context
from flows.deadlines import step_deadline_s
from flows.events import say
from flows.failures import retries_automatically, retry_delay_s
from flows.listing import draft_upload_terms
from flows.publication import (
    STEP_STAGE,
    PublicationStep,
    TxTimes,
    UploadProgress,
    announce_retries,
    job_finished,
    job_status,
    model_draft,
    record_verification,
    register_model,
    start_verification,
    store_file,
    tx_times,
)
from flows.services import Services
from flows.state import BulkFile
from flows.step_events import record_file
from integrations.chain.port import Signer
from integrations.errors import ChainSlow, SatyaError

__all__ = ["FileTask", "bulk_file", "gathered", "next_step", "send_files"]

_TX_CALLS = ("upload_model", "submit_for_verification", "complete_verification")
# a late transaction in a bulk upload is that file's outcome: 'retry' acts on it, 'wait' does not
_BULK_SLOW_HINT = (
    "It was sent with a key, so nothing is sent twice: say 'retry' to send it again for the "
    "failed file(s)."
)
_ERROR_FIELDS = ("stage", "error_code", "error_message", "error_hint", "error_retryable")


class FileTask(TypedDict):
    """What one file's sub-journey is sent: the file, whose it is, how long it may wait."""

    file: BulkFile
    user_id: str
    workflow_id: str
    look_once: bool  # the completion event: look at a running job once, never wait for it
    node: str  # the bulk node that sent it (step events name its files after it)


@dataclass
class _Run:
    """What the sub-journeys of one bulk run share (in this process)."""

    slots: asyncio.Semaphore  # ``bulk_concurrency`` files at a time
    chain: asyncio.Lock = field(default_factory=asyncio.Lock)  # one signer: one tx at a time
    wait_until: float | None = None  # when the turn stops waiting for verifications


_RUNS: dict[str, _Run] = {}


def _run_of(workflow_id: str, concurrency: int, look_once: bool) -> _Run:
    run = _RUNS.get(workflow_id)
    if run is None:
        run = _RUNS[workflow_id] = _Run(slots=asyncio.Semaphore(max(1, concurrency)))
        if look_once:
            run.wait_until = time.monotonic()
    return run


def send_files(
    files: list[BulkFile], *, user_id: str, workflow_id: str, look_once: bool, node: str
) -> list[Send]:
    """One ``Send`` to ``bulk_file`` per file, largest first (the order they start in)."""
    _RUNS.pop(workflow_id, None)  # a new run: fresh slots and a fresh foreground wait
    ordered = sorted(files, key=lambda f: f.get("size_bytes", 0), reverse=True)
    return [
        Send(
            "bulk_file",
            FileTask(
                file=f, user_id=user_id, workflow_id=workflow_id, look_once=look_once, node=node
            ),
        )
        for f in ordered
    ]


def gathered(
    workflow_id: str, files: list[BulkFile], outcomes: dict[str, BulkFile] | None
) -> list[BulkFile]:
    """``files`` with each sub-journey's outcome in its place (``bulk_join``); the run is over."""
    _RUNS.pop(workflow_id, None)
    found = outcomes or {}
    return [found.get(f.get("key", ""), f) if f.get("key") else f for f in files]


def next_step(item: BulkFile) -> PublicationStep | None:
    """Where a file stands in the publication journey: the step it takes next, None once
    its verification is recorded."""
    if item.get("verification_id"):
        return None
    if not item.get("manifest_blob_id"):
        return "upload"
    if not item.get("model_id"):
        return "register"
    if item.get("status") != "verifying":  # no job yet, or a fresh one is due
        return "verify_submit"
    return "verify_monitor"


async def bulk_file(task: FileTask, runtime: Runtime[Services]) -> Command[Literal["bulk_join"]]:
    """Node: one file's sub-journey; its outcome goes to ``bulk_outcomes``, never an error."""
    cfg = runtime.context.config
    run = _run_of(task["workflow_id"], cfg.bulk_concurrency, task["look_once"])
    item = task["file"]
    async with run.slots:
        out = await record_file(
            runtime,
            _SubJourney(runtime, run, task["user_id"]).publish(item),
            item.get("file_name", ""),
            step=task["node"],
        )
    return Command(goto="bulk_join", update={"bulk_outcomes": {item.get("key", ""): out}})


class _SubJourney:
    """One file through ``flows.publication``'s steps, by the one retry rule."""

    def __init__(self, runtime: Runtime[Services], run: _Run, user_id: str) -> None:
        self.runtime = runtime
        self.services = runtime.context
        self.run = run
        self.user_id = user_id
        self.times: TxTimes | None = None  # the ledger transactions' estimates

    async def publish(self, item: BulkFile) -> BulkFile:
        out = BulkFile(**item)
        for key in _ERROR_FIELDS:  # this run starts clean
            out.pop(key, None)  # type: ignore[misc]
        out["failures"] = 0
        name = out.get("file_name", "")
        try:
            wallet = await self.services.wallet_for(self.user_id)
            self.times = await tx_times(self.runtime, self.user_id, _TX_CALLS)
        except SatyaError as error:
            await self.failed(out, "register", error, retry=False)
            return out
        while (step := next_step(out)) is not None:
            progress = UploadProgress(
                self.runtime, f"upload:{name}", file_name=name, estimate_s=out.get("upload_eta_s")
            )
            try:
                if step == "upload":
                    await self._upload(out, progress)
                elif step == "register":
                    await self._register(out, wallet)
                elif step == "verify_submit":
                    await self._submit(out, wallet)
                elif not await self._follow(out, wallet):
                    break  # still running: the background monitor follows it
            except SatyaError as error:
                if step == "upload":
                    out |= progress.reached()  # type: ignore[typeddict-item]
                if not await self.failed(out, step, error):
                    break
        return out

    async def failed(
        self, item: BulkFile, step: PublicationStep, error: SatyaError, *, retry: bool = True
    ) -> bool:
        """Count a failure of ``item`` at ``step``; True once it may be retried automatically
        (announced, after the backoff), else the failure is the file's outcome."""
        cfg = self.services.config
        failures = item.get("failures", 0) + 1
        item["failures"] = failures
        if step in ("verify_submit", "verify_monitor"):  # the next attempt: a fresh enclave job
            item["verify_attempt"] = item.get("verify_attempt", 0) + 1
            item["status"] = "failed"
        if retry and retries_automatically(error.code, failures, cfg.max_auto_retries):
            delay = retry_delay_s(failures, cfg.retry_backoff_s)
            say(
                self.runtime,
                "bulk_auto_retry",
                file_name=item.get("file_name", ""),
                code=error.code,
                message=error.message,
                attempt=failures,
                of=cfg.max_auto_retries,
                node=STEP_STAGE[step],
                delay_s=delay,
            )
            await asyncio.sleep(delay)
            return True
        item |= BulkFile(
            status="failed",
            stage=STEP_STAGE[step],
            error_code=error.code,
            error_message=error.message,
            error_hint=_BULK_SLOW_HINT if error.code == ChainSlow.code else error.hint,
            error_retryable=error.retryable,
        )
        say(self.runtime, "bulk_file_failed", **item)
        return False

    async def _upload(self, item: BulkFile, progress: UploadProgress) -> None:
        result = await store_file(
            self.services,
            Path(item.get("path", "")),
            prefix=item.get("key", ""),
            on_progress=progress,
            on_retry=announce_retries(self.runtime, item.get("file_name", "")),
        )
        item |= BulkFile(
            manifest_blob_id=result.manifest_blob_id,
            sha256=result.sha256,
            bytes_sent=result.bytes_sent,
            bytes_skipped=result.bytes_skipped,
        )

    async def _register(self, item: BulkFile, wallet: Signer) -> None:
        ledger = self.services.ledger
        if ledger.listing_terms_fixed_at_upload and not item.get("title"):
            # The listing will show what is registered now: drafted terms, never a stub.
            terms = await draft_upload_terms(ledger, as_context(item))
            item |= BulkFile(
                title=terms.get("title", ""),
                description=terms.get("description", ""),
                tags=list(terms.get("tags", [])),
                price_mist=terms.get("price_mist", 0),
                price_low_mist=terms.get("price_low_mist", 0),
                price_high_mist=terms.get("price_high_mist", 0),
                price_explanation=terms.get("price_explanation", ""),
            )
        async with self.run.chain:
            receipt = await register_model(
                self.services,
                wallet,
                model_draft(item),
                prefix=item.get("key", ""),
                times=self.times,
            )
        item["model_id"] = receipt.created[0]

    async def _submit(self, item: BulkFile, wallet: Signer) -> None:
        async with self.run.chain:
            item["job_id"] = await start_verification(
                self.services,
                wallet,
                item.get("model_id", ""),
                blob_id=item.get("manifest_blob_id", ""),
                file_format=item.get("format"),
                prefix=item.get("key", ""),
                attempt=item.get("verify_attempt", 0),
                times=self.times,
            )
        item["status"] = "verifying"
        started = time.time()
        item["verify_started_at"] = started
        item["verify_deadline_at"] = started + step_deadline_s(
            item.get("verify_eta_s"), self.services.config
        )
        if self.run.wait_until is None:
            self.run.wait_until = time.monotonic() + self.services.config.verify_foreground_s

    async def _follow(self, item: BulkFile, wallet: Signer) -> bool:
        """Wait for the file's job while the turn may; True once it ended and is recorded."""
        cfg = self.services.config
        while True:
            st = await job_status(self.services, item.get("job_id", ""))
            if job_finished(st):
                break
            if self.run.wait_until is not None and time.monotonic() >= self.run.wait_until:
                return False
            await asyncio.sleep(cfg.verify_poll_s)
        async with self.run.chain:
            recorded = await record_verification(
                self.services,
                wallet,
                item.get("job_id", ""),
                model_id=item.get("model_id", ""),
                sha256=item.get("sha256", ""),
                blob_id=item.get("manifest_blob_id", ""),
                prefix=item.get("key", ""),
                times=self.times,
            )
        item |= BulkFile(
            status="done",
            verification_id=recorded.verification_id,
            quality_score=recorded.quality_score,
        )
        say(self.runtime, "bulk_file_done", **item)
        return True
