"""Background verification: follow enclave jobs outside a user's turn, resume the thread when they end.

A turn waits for its verification job at most ``verify_foreground_s``; a job
still running then is recorded in the store (namespace ``("verifying",)``) and
followed here. The worker that holds the job's lease publishes its progress as
notifications and, when the job ends, runs the thread's next turn itself with a
``verification_update`` intent: the completion event that moves the journey on
to the quality score and listing preparation (or to recovery).

Durable by construction: the record lives in the store, so a restarted worker
picks the job up again; the lease (SQLite here, PostgreSQL with several
workers) makes exactly one worker deliver the completion, and a worker that
dies loses its lease after ``ttl_s``.

Example::

    lease = SqliteLease(home / "leases.sqlite")
    monitor = VerificationMonitor(assistant, lease, poll_s=0.5)
    await monitor.start()           # picks up jobs recorded before a restart
    await monitor.register(thread_id, job_id, user_id)
    await monitor.wait_idle(thread_id, timeout_s=60)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
from langgraph.store.base import BaseStore
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from agent.events import Event, ProgressEvent, TextEvent
from agent.replies import render
from flows.publication import job_status
from flows.services import Services
from integrations.errors import SatyaError

log = logging.getLogger("satya.monitor")

VERIFYING_NAMESPACE = ("verifying",)
# After this many status errors in a row, the completion turn runs anyway and the
# journey's recovery branch explains the failure.
MAX_STATUS_ERRORS = 5


class Lease(Protocol):
    """A named, expiring claim shared by every worker of one deployment."""

    async def acquire(self, key: str, owner: str, ttl_s: float) -> bool:
        """Take or renew ``key`` for ``owner`` for ``ttl_s`` seconds; False if another holds it."""
        ...

    async def release(self, key: str, owner: str) -> None:
        """Give ``key`` back if ``owner`` holds it."""
        ...


class SqliteLease:
    """Leases in a SQLite file: enough for one host (the embedded default)."""

    _DDL = (
        "CREATE TABLE IF NOT EXISTS leases ("
        " key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL)"
    )
    _TAKE = (
        "INSERT INTO leases(key, owner, expires) VALUES (?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires"
        " WHERE leases.owner = excluded.owner OR leases.expires < ?"
    )

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._ready = False  # the table exists (made once per process, on first use)

    async def _table(self, db: aiosqlite.Connection) -> None:
        if not self._ready:
            await db.execute(self._DDL)
            self._ready = True

    async def acquire(self, key: str, owner: str, ttl_s: float) -> bool:
        now = time.time()
        async with self._lock, aiosqlite.connect(self.path, timeout=30) as db:
            await self._table(db)
            await db.execute(self._TAKE, (key, owner, now + ttl_s, now))
            await db.commit()
            async with db.execute("SELECT owner FROM leases WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
        return row is not None and row[0] == owner

    async def release(self, key: str, owner: str) -> None:
        async with self._lock, aiosqlite.connect(self.path, timeout=30) as db:
            await self._table(db)
            await db.execute("DELETE FROM leases WHERE key = ? AND owner = ?", (key, owner))
            await db.commit()


# a thread's verification record as read now, and the first of its jobs that ended (if any)
_Seen = tuple[dict[str, Any], str | None]


class _LeaseLost(Exception):
    """Another worker took the job's lease while this one waited to retry."""


class MonitorHost(Protocol):
    """What the monitor needs of the Assistant: its store and services, a way to publish
    progress, and the completion turn."""

    store: BaseStore
    services: Services

    def publish(self, thread_id: str, event: Event) -> None: ...

    async def deliver_verification(self, thread_id: str, job_id: str, user_id: str) -> None: ...


class VerificationMonitor:
    """Follows every recorded verification job; the lease holder delivers its completion."""

    def __init__(
        self,
        assistant: MonitorHost,
        lease: Lease,
        *,
        poll_s: float = 0.5,
        lease_ttl_s: float = 15.0,
        rescan_s: float = 10.0,
    ) -> None:
        self.assistant = assistant
        self.lease = lease
        self.poll_s = poll_s
        self.lease_ttl_s = max(lease_ttl_s, 3 * poll_s)
        self.rescan_s = rescan_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._rescan: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Follow the jobs already recorded (after a restart), and look again now and then."""
        await self._scan()
        self._rescan = asyncio.create_task(self._rescan_loop(), name="satya-monitor-rescan")

    async def stop(self) -> None:
        """Stop following (the records stay; the next start picks them up)."""
        tasks = [t for t in (self._rescan, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def register(
        self,
        thread_id: str,
        job_id: str,
        user_id: str,
        *,
        tasks: dict[str, str] | None = None,
        deadlines: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Record jobs that outlived their turn, and follow them.

        ``tasks`` maps each job of the thread (a bulk upload has several) to the
        progress task it is shown as; by default ``job_id`` alone, as ``verification``.
        ``deadlines`` maps a job to ``deadline_at`` (epoch seconds), ``eta_s`` and
        ``file_name``: a job still running then is announced once as taking longer
        than expected, with the choices.
        """
        await self.assistant.store.aput(
            VERIFYING_NAMESPACE,
            thread_id,
            {
                "thread_id": thread_id,
                "job_id": job_id,
                "user_id": user_id,
                "tasks": tasks or {job_id: "verification"},
                "deadlines": deadlines or {},
            },
        )
        self.watch(thread_id)

    async def forget(self, thread_id: str) -> None:
        """Stop following ``thread_id`` for good (its thread is being deleted): its record
        goes, so no worker delivers to it, and this worker's follower stops now."""
        await self.assistant.store.adelete(VERIFYING_NAMESPACE, thread_id)
        task = self._tasks.pop(thread_id, None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def adopt(self, thread_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` for the thread as background work (``wait_idle`` waits for it)."""
        self._tasks[thread_id] = asyncio.create_task(work, name=f"satya-resume-{thread_id}")

    def watch(self, thread_id: str) -> None:
        task = self._tasks.get(thread_id)
        if task is None or task.done():
            self._tasks[thread_id] = asyncio.create_task(
                self._follow(thread_id), name=f"satya-verify-{thread_id}"
            )

    def busy(self, thread_id: str) -> bool:
        task = self._tasks.get(thread_id)
        return task is not None and not task.done()

    async def wait_idle(self, thread_id: str, timeout_s: float) -> bool:
        """Wait until nothing is being followed for ``thread_id``; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            task = self._tasks.get(thread_id)
            if task is None or task.done():
                if await self.assistant.store.aget(VERIFYING_NAMESPACE, thread_id) is None:
                    return True
                self.watch(thread_id)
                continue
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), deadline - time.monotonic())
        return False

    async def _scan(self) -> None:
        items = await self.assistant.store.asearch(VERIFYING_NAMESPACE, limit=10_000)
        for item in items:
            self.watch(item.key)

    async def _rescan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.rescan_s)
            try:
                await self._scan()
            except Exception:  # a store hiccup must not stop the monitor
                log.warning("could not list background verifications", exc_info=True)

    async def _ended(
        self,
        thread_id: str,
        record: dict[str, Any],
        last: dict[str, tuple[str, int]],
        told: dict[str, float],
    ) -> str | None:
        """Publish the progress of the thread's running jobs, and once per deadline that a job
        is late; the first job that ended, if any."""
        services = self.assistant.services
        tasks = dict(record.get("tasks") or {record["job_id"]: "verification"})
        deadlines = dict(record.get("deadlines") or {})
        for job_id, task in tasks.items():
            st = await job_status(services, job_id)
            if st.state not in ("queued", "running"):
                return str(job_id)
            late = deadlines.get(job_id)
            if late and time.time() >= late["deadline_at"] != told.get(job_id):
                told[job_id] = late["deadline_at"]  # said once per deadline ('wait' sets a new one)
                data = {
                    "file_name": late.get("file_name", ""),
                    "eta_s": late.get("eta_s"),
                    "elapsed_s": round(time.time() - late.get("started_at", time.time())),
                    "percent": int(st.fraction * 100),
                }
                kind = "bulk_verification_overdue" if late.get("bulk") else "verification_overdue"
                self.assistant.publish(thread_id, TextEvent(render(kind, data), kind, data))
            now = (st.state, int(st.fraction * 100))
            if last.get(job_id) != now:
                last[job_id] = now
                self.assistant.publish(
                    thread_id,
                    ProgressEvent(
                        task=task,
                        fraction=st.fraction,
                        done=now[1],
                        total=100,
                        eta_s=st.eta_s,
                        message=st.message,
                    ),
                )
        return None

    def _status_retries(self, thread_id: str, key: str) -> AsyncRetrying:
        """Status errors are retried after 2, 4, 8, 16 × ``poll_s``, five tries in all; the
        lease is renewed through each wait (``_wait_holding``), so no other worker takes a
        job over from a worker that is only backing off."""

        async def announce(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            log.warning("verification of %s: %s", thread_id, getattr(error, "message", error))

        return AsyncRetrying(
            retry=retry_if_exception_type(SatyaError),
            stop=stop_after_attempt(MAX_STATUS_ERRORS),
            wait=wait_exponential(multiplier=2 * self.poll_s),
            sleep=lambda seconds: self._wait_holding(key, seconds),
            before_sleep=announce,
            reraise=True,
        )

    async def _wait_holding(self, key: str, seconds: float) -> None:
        """Wait ``seconds``, renewing the lease at least three times per ``lease_ttl_s``;
        ``_LeaseLost`` when another worker took it meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, self.lease_ttl_s / 3))
            if not await self.lease.acquire(key, self.owner, self.lease_ttl_s):
                raise _LeaseLost(key)

    async def _look(
        self, thread_id: str, last: dict[str, tuple[str, int]], told: dict[str, float]
    ) -> _Seen | None:
        """The thread's record as it is now (None: it is no longer followed) and the first of
        its jobs that ended, if any; read again on each try, as 'retry' may record a new job."""
        item = await self.assistant.store.aget(VERIFYING_NAMESPACE, thread_id)
        if item is None:
            return None
        record = dict(item.value)
        return record, await self._ended(thread_id, record, last, told)

    async def _follow(self, thread_id: str) -> None:
        key = f"verification:{thread_id}"
        held = False
        last: dict[str, tuple[str, int]] = {}  # job -> the progress last published
        told: dict[str, float] = {}  # job -> the deadline it was announced late for
        store = self.assistant.store
        try:
            while True:
                if await store.aget(VERIFYING_NAMESPACE, thread_id) is None:
                    return
                if not await self.lease.acquire(key, self.owner, self.lease_ttl_s):
                    held = False  # another worker follows it; look again later
                    await asyncio.sleep(max(self.poll_s, self.lease_ttl_s / 3))
                    continue
                held = True
                try:
                    retries = self._status_retries(thread_id, key)
                    seen: _Seen | None = await retries(self._look, thread_id, last, told)
                except _LeaseLost:
                    held = False  # lost while backing off: whoever holds it follows the job
                    continue
                except SatyaError:
                    # after MAX_STATUS_ERRORS tries the completion turn runs anyway, and the
                    # journey's recovery branch explains the failure
                    item = await store.aget(VERIFYING_NAMESPACE, thread_id)
                    if item is None:
                        return
                    tasks = dict(item.value.get("tasks") or {item.value["job_id"]: "verification"})
                    seen = dict(item.value), str(next(iter(tasks)))
                if seen is None:
                    return
                record, ended = seen
                if ended is None:
                    await asyncio.sleep(self.poll_s)
                    continue
                # The completion turn removes the record, or records the next job when the
                # journey submitted a fresh one (a retry after the enclave died): follow that.
                await self.assistant.deliver_verification(thread_id, ended, str(record["user_id"]))
                last.clear()
        finally:
            if held:
                with contextlib.suppress(Exception):
                    await self.lease.release(key, self.owner)
