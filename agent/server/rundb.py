"""The shared record of runs and their event logs: SQLite for one process, PostgreSQL for many.

Every event a run emits is appended with a sequence number before it is sent,
so a client that reconnects with ``Last-Event-ID`` (or joins from another
worker) reads the rest from here and misses nothing. Each thread's chat messages
(the user's and the replies of every run) are kept here too, in order, for the
thread's ``values.messages``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ACTIVE = ("pending", "running")
log = logging.getLogger("satya.server.runs")
STALE_AFTER_S = 30.0  # a running run whose worker stopped beating for this long has died

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS satya_runs ("
    " run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    " status TEXT NOT NULL, kind TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
    " updated_at DOUBLE PRECISION NOT NULL, heartbeat DOUBLE PRECISION NOT NULL,"
    " worker TEXT NOT NULL, metadata TEXT NOT NULL, modes TEXT NOT NULL,"
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " multitask_strategy TEXT NOT NULL DEFAULT 'reject',"
    " assistant_id TEXT NOT NULL DEFAULT 'satya')",
    "CREATE INDEX IF NOT EXISTS satya_runs_thread ON satya_runs (thread_id, created_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS satya_runs_one_active ON satya_runs (thread_id)"
    " WHERE status IN ('pending', 'running') AND kind = 'user'",
    "CREATE TABLE IF NOT EXISTS satya_run_events ("
    " run_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL,"
    " PRIMARY KEY (run_id, seq))",
    # each thread's chat messages (user and AI, as the runs produced them), in order: ``seq``
    # counts on from the thread's last message, so turns on different hosts keep their order
    "CREATE TABLE IF NOT EXISTS satya_messages ("
    " thread_id TEXT NOT NULL, message_id TEXT NOT NULL, run_id TEXT NOT NULL,"
    " seq BIGINT NOT NULL, created_at DOUBLE PRECISION NOT NULL, data TEXT NOT NULL,"
    " PRIMARY KEY (thread_id, message_id))",
    "CREATE INDEX IF NOT EXISTS satya_messages_order ON satya_messages (thread_id, seq)",
]
# columns added after the first release: a database made before gets them at start-up
_ADDED_COLUMNS: list[tuple[str, str, str]] = [
    ("satya_runs", "multitask_strategy", "TEXT NOT NULL DEFAULT 'reject'"),
    ("satya_runs", "assistant_id", "TEXT NOT NULL DEFAULT 'satya'"),
]


class ThreadBusy(Exception):
    """Another run of the thread is still going."""


@dataclass(slots=True)
class RunRecord:
    """One run. ``kind``: ``user`` (a turn), ``background`` (work outside a turn) or
    ``queued`` (a turn sent with ``multitask_strategy`` enqueue that waits for the thread;
    it becomes ``user`` when it starts). ``multitask_strategy`` and ``assistant_id`` are
    those the run was sent with, as its run object shows them."""

    run_id: str
    thread_id: str
    user_id: str
    status: str
    kind: str
    created_at: float
    updated_at: float
    heartbeat: float
    worker: str
    metadata: dict[str, Any] = field(default_factory=dict)
    modes: list[str] = field(default_factory=list)
    cancel_requested: bool = False
    multitask_strategy: str = "reject"
    assistant_id: str = "satya"

    @property
    def done(self) -> bool:
        return self.status not in ACTIVE


class Sql(Protocol):
    """The little a run log needs from a database (``%s`` placeholders)."""

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int: ...
    async def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None: ...
    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]: ...
    async def migrate(
        self, statements: list[str], columns: Sequence[tuple[str, str, str]] = ()
    ) -> None: ...


def _retrieve(task: asyncio.Future[None]) -> None:
    """Mark a finished batch's error as seen (its caller may have stopped waiting)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("a run-log batch failed", exc_info=task.exception())


class SqliteSql:
    """One aiosqlite connection (WAL) to ``path``; a batch's transaction holds it alone
    (another coroutine's BEGIN or statement waits, instead of nesting or joining it)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.writing = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[SqliteSql]:
        import aiosqlite

        async with aiosqlite.connect(str(path), isolation_level=None) as conn:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            # run logs need to outlive a process, not a power cut: no fsync per event
            await conn.execute("PRAGMA synchronous=NORMAL")
            yield cls(conn)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        import sqlite3

        try:
            async with self.writing:
                cur = await self.conn.execute(sql.replace("%s", "?"), params)
        except sqlite3.IntegrityError as error:
            raise _Conflict from error
        return int(cur.rowcount)

    async def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        # The batch is a task of its own, run to its end even when the caller is cancelled
        # (a run interrupted while writing its log): the connection's thread executes a
        # statement whose await was cancelled anyway, so a cancelled BEGIN would leave a
        # transaction open that every later statement joins and nothing commits.
        batch = asyncio.ensure_future(self._batch(sql.replace("%s", "?"), rows))
        batch.add_done_callback(_retrieve)  # its error is the caller's, if one still waits
        await asyncio.shield(batch)

    async def _batch(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        async with self.writing:
            await self.conn.execute("BEGIN")
            try:
                await self.conn.executemany(sql, rows)
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with self.conn.execute(sql.replace("%s", "?"), params) as cur:
            return [dict(row) for row in await cur.fetchall()]

    async def migrate(
        self, statements: list[str], columns: Sequence[tuple[str, str, str]] = ()
    ) -> None:
        """Create the tables, and the ``columns`` (table, name, declaration) a table made
        by an earlier release lacks (one process owns a SQLite home)."""
        for statement in statements:
            await self.execute(statement)
        for table, name, declaration in columns:
            present = await self.fetch(f"PRAGMA table_info({table})")
            if name not in {str(row["name"]) for row in present}:
                await self.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


class PostgresSql:
    """Statements over a psycopg pool (autocommit, dict rows)."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        import psycopg

        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(sql, params)
                return int(cur.rowcount)
        except psycopg.errors.UniqueViolation as error:
            raise _Conflict from error

    async def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        async with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(sql, rows)

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return list(await cur.fetchall())

    async def migrate(
        self, statements: list[str], columns: Sequence[tuple[str, str, str]] = ()
    ) -> None:
        """Create the tables, and the ``columns`` a table made by an earlier release lacks,
        under an advisory lock: workers starting together would otherwise race on
        ``CREATE TABLE IF NOT EXISTS`` (a unique violation in pg_type)."""
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
            try:
                for statement in statements:
                    await conn.execute(statement)
                for table, name, declaration in columns:
                    await conn.execute(
                        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {declaration}"
                    )
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))


_MIGRATE_LOCK = 0x5A7A_0002  # pg advisory lock id for the run log's tables


class _Conflict(Exception):
    pass


class RunDb:
    """Runs and their events over ``Sql``."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    async def setup(self) -> None:
        await self.sql.migrate(_SCHEMA, _ADDED_COLUMNS)

    async def insert(self, record: RunRecord) -> None:
        """Record a new run; ThreadBusy if a user run of the thread is still active."""
        now = time.time()
        # a run whose worker died leaves no heartbeat: free the thread for the next one
        await self.sql.execute(
            "UPDATE satya_runs SET status = 'error', updated_at = %s"
            " WHERE thread_id = %s AND status IN ('pending', 'running') AND heartbeat < %s",
            (now, record.thread_id, now - STALE_AFTER_S),
        )
        try:
            await self.sql.execute(
                "INSERT INTO satya_runs (run_id, thread_id, user_id, status, kind, created_at,"
                " updated_at, heartbeat, worker, metadata, modes, cancel_requested,"
                " multitask_strategy, assistant_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s)",
                (
                    record.run_id,
                    record.thread_id,
                    record.user_id,
                    record.status,
                    record.kind,
                    record.created_at,
                    record.updated_at,
                    record.heartbeat,
                    record.worker,
                    json.dumps(record.metadata),
                    json.dumps(record.modes),
                    record.multitask_strategy,
                    record.assistant_id,
                ),
            )
        except _Conflict:
            raise ThreadBusy(record.thread_id) from None

    async def promote(self, run_id: str) -> bool:
        """A queued run becomes the thread's running one: ThreadBusy while another is
        active; False when it is no longer waiting (cancelled, deleted)."""
        now = time.time()
        try:
            changed = await self.sql.execute(
                "UPDATE satya_runs SET kind = 'user', status = 'running', updated_at = %s,"
                " heartbeat = %s WHERE run_id = %s AND kind = 'queued' AND status = 'pending'",
                (now, now, run_id),
            )
        except _Conflict:
            raise ThreadBusy(run_id) from None
        return changed > 0

    async def queued_before(self, record: RunRecord) -> list[RunRecord]:
        """The thread's runs queued before ``record`` and still waiting."""
        rows = await self.sql.fetch(
            "SELECT * FROM satya_runs WHERE thread_id = %s AND kind = 'queued'"
            " AND status = 'pending' AND (created_at < %s OR (created_at = %s AND run_id < %s))",
            (record.thread_id, record.created_at, record.created_at, record.run_id),
        )
        return [_record(row) for row in rows]

    async def for_user(self, user_id: str, statuses: tuple[str, ...]) -> list[RunRecord]:
        """The user's runs in one of ``statuses``, oldest first."""
        marks = ", ".join(["%s"] * len(statuses))
        rows = await self.sql.fetch(
            f"SELECT * FROM satya_runs WHERE user_id = %s AND status IN ({marks})"
            " ORDER BY created_at",
            (user_id, *statuses),
        )
        return [_record(row) for row in rows]

    async def delete_run(self, run_id: str) -> None:
        """Forget a run: its events, its chat messages and its record (a rolled-back run)."""
        await self.sql.execute("DELETE FROM satya_messages WHERE run_id = %s", (run_id,))
        await self.sql.execute("DELETE FROM satya_run_events WHERE run_id = %s", (run_id,))
        await self.sql.execute("DELETE FROM satya_runs WHERE run_id = %s", (run_id,))

    async def set_status(self, run_id: str, status: str) -> None:
        now = time.time()
        await self.sql.execute(
            "UPDATE satya_runs SET status = %s, updated_at = %s, heartbeat = %s WHERE run_id = %s",
            (status, now, now, run_id),
        )

    async def beat(self, run_ids: list[str]) -> None:
        now = time.time()
        for run_id in run_ids:
            await self.sql.execute(
                "UPDATE satya_runs SET heartbeat = %s WHERE run_id = %s", (now, run_id)
            )

    async def reap(self, run_id: str, *, heartbeat_before: float) -> bool:
        """Mark a run whose worker died (last beat before ``heartbeat_before``) as failed;
        True for the one caller that did it, so that exactly one writes its closing events."""
        changed = await self.sql.execute(
            "UPDATE satya_runs SET status = 'error', updated_at = %s"
            " WHERE run_id = %s AND status IN ('pending', 'running') AND heartbeat < %s",
            (time.time(), run_id, heartbeat_before),
        )
        return changed > 0

    async def unfinished(self, thread_id: str) -> list[RunRecord]:
        """The thread's runs still marked pending or running."""
        rows = await self.sql.fetch(
            "SELECT * FROM satya_runs WHERE thread_id = %s AND status IN ('pending', 'running')",
            (thread_id,),
        )
        return [_record(row) for row in rows]

    async def last_seq(self, run_id: str) -> int:
        rows = await self.sql.fetch(
            "SELECT MAX(seq) AS seq FROM satya_run_events WHERE run_id = %s", (run_id,)
        )
        return int(rows[0]["seq"] or 0) if rows else 0

    async def request_cancel(self, run_id: str) -> None:
        await self.sql.execute(
            "UPDATE satya_runs SET cancel_requested = 1 WHERE run_id = %s", (run_id,)
        )

    async def cancel_requested(self, worker: str) -> list[str]:
        """Active runs of ``worker`` that a client asked another worker to cancel."""
        rows = await self.sql.fetch(
            "SELECT run_id FROM satya_runs WHERE worker = %s AND cancel_requested = 1"
            " AND status IN ('pending', 'running')",
            (worker,),
        )
        return [str(r["run_id"]) for r in rows]

    async def get(self, run_id: str) -> RunRecord | None:
        rows = await self.sql.fetch("SELECT * FROM satya_runs WHERE run_id = %s", (run_id,))
        return _record(rows[0]) if rows else None

    async def for_thread(self, thread_id: str, *, limit: int, offset: int) -> list[RunRecord]:
        rows = await self.sql.fetch(
            "SELECT * FROM satya_runs WHERE thread_id = %s"
            " ORDER BY created_at DESC LIMIT %s OFFSET %s",
            (thread_id, limit, offset),
        )
        return [_record(row) for row in rows]

    async def active(self, thread_id: str) -> RunRecord | None:
        rows = await self.sql.fetch(
            "SELECT * FROM satya_runs WHERE thread_id = %s AND kind = 'user'"
            " AND status IN ('pending', 'running') AND heartbeat >= %s",
            (thread_id, time.time() - STALE_AFTER_S),
        )
        return _record(rows[0]) if rows else None

    async def append(self, run_id: str, seq: int, event: str, data: Any) -> None:
        await self.append_many([(run_id, seq, event, data)])

    async def append_many(self, rows: list[tuple[str, int, str, Any]]) -> None:
        """Several events at once (one transaction); none for a run deleted meanwhile
        (its thread was deleted while background work still spoke on it)."""
        await self.sql.execute_many(
            "INSERT INTO satya_run_events (run_id, seq, event, data) SELECT %s, %s, %s, %s"
            " WHERE EXISTS (SELECT 1 FROM satya_runs WHERE run_id = %s)",
            [(run_id, seq, event, json.dumps(data), run_id) for run_id, seq, event, data in rows],
        )

    async def events_after(self, run_id: str, after: int) -> list[tuple[int, str, Any]]:
        rows = await self.sql.fetch(
            "SELECT seq, event, data FROM satya_run_events WHERE run_id = %s AND seq > %s"
            " ORDER BY seq",
            (run_id, after),
        )
        return [(int(r["seq"]), str(r["event"]), json.loads(r["data"])) for r in rows]

    async def add_messages(self, rows: list[tuple[str, str, float, dict[str, Any]]]) -> None:
        """Chat messages ``(thread_id, run_id, created_at, message)``, after each thread's
        last one, in the order given (one transaction; a message already kept is skipped,
        and so is one of a run deleted meanwhile)."""
        await self.sql.execute_many(
            "INSERT INTO satya_messages (thread_id, message_id, run_id, seq, created_at, data)"
            " SELECT %s, %s, %s, COALESCE(MAX(seq), 0) + 1, %s, %s FROM satya_messages"
            " WHERE thread_id = %s"
            " HAVING EXISTS (SELECT 1 FROM satya_runs WHERE run_id = %s)"
            " ON CONFLICT (thread_id, message_id) DO NOTHING",
            [
                (thread_id, str(message["id"]), run_id, at, json.dumps(message), thread_id, run_id)
                for thread_id, run_id, at, message in rows
            ],
        )

    async def messages(self, thread_id: str, limit: int) -> list[dict[str, Any]]:
        """The thread's last ``limit`` chat messages, oldest first."""
        rows = await self.sql.fetch(
            "SELECT data FROM satya_messages WHERE thread_id = %s"
            " ORDER BY seq DESC, created_at DESC, message_id DESC LIMIT %s",
            (thread_id, limit),
        )
        return [json.loads(r["data"]) for r in reversed(rows)]

    async def copy_messages(self, source: str, target: str) -> None:
        """A copied thread's conversation: the source's messages, in the same order."""
        await self.sql.execute(
            "INSERT INTO satya_messages (thread_id, message_id, run_id, seq, created_at, data)"
            " SELECT %s, message_id, run_id, seq, created_at, data FROM satya_messages"
            " WHERE thread_id = %s",
            (target, source),
        )

    async def delete_thread(self, thread_id: str) -> None:
        await self.sql.execute("DELETE FROM satya_messages WHERE thread_id = %s", (thread_id,))
        await self.sql.execute(
            "DELETE FROM satya_run_events WHERE run_id IN"
            " (SELECT run_id FROM satya_runs WHERE thread_id = %s)",
            (thread_id,),
        )
        await self.sql.execute("DELETE FROM satya_runs WHERE thread_id = %s", (thread_id,))


def _record(row: dict[str, Any]) -> RunRecord:
    return RunRecord(
        run_id=str(row["run_id"]),
        thread_id=str(row["thread_id"]),
        user_id=str(row["user_id"]),
        status=str(row["status"]),
        kind=str(row["kind"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        heartbeat=float(row["heartbeat"]),
        worker=str(row["worker"]),
        metadata=json.loads(row["metadata"]),
        modes=json.loads(row["modes"]),
        cancel_requested=bool(row["cancel_requested"]),
        multitask_strategy=str(row["multitask_strategy"]),
        assistant_id=str(row["assistant_id"]),
    )
