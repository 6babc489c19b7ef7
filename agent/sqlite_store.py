"""The SQLite store of threads' side data, each batch of operations one hop to its thread.

LangGraph's ``AsyncSqliteStore`` goes through aiosqlite, which hands every statement,
cursor, fetch, close, BEGIN and COMMIT to its thread and back: about eight hops, each
about 20 µs of CPU, for one read. ``OneHopSqliteStore`` is LangGraph's synchronous
``SqliteStore`` (the same tables and SQL) whose async calls (``aget``, ``aput``,
``asearch``…) run a whole batch on one thread of its own: one hop a call.

Example::

    async with open_sqlite_store(home / "store.sqlite") as store:
        await store.aput(("threads", "ana"), "t1", {"title": "bert"})
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from langgraph.store.base import Op, Result
from langgraph.store.sqlite import SqliteStore

__all__ = ["OneHopSqliteStore", "open_sqlite_store"]


class OneHopSqliteStore(SqliteStore):
    """``SqliteStore`` whose async batches run on ``executor`` (one thread), one hop each."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        super().__init__(conn)
        self.executor = executor

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.batch, list(ops))

    async def asetup(self) -> None:
        """Create the tables (idempotent), on the store's thread."""
        await asyncio.get_running_loop().run_in_executor(self.executor, self.setup)


@contextlib.asynccontextmanager
async def open_sqlite_store(path: Path) -> AsyncIterator[OneHopSqliteStore]:
    """The store in ``path`` (WAL, autocommit), its tables made; closed after."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="satya-store") as executor:

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            # as the checkpointer does: one append per commit instead of a rollback journal
            conn.execute("PRAGMA journal_mode=WAL")
            return conn

        conn = await loop.run_in_executor(executor, connect)
        try:
            store = OneHopSqliteStore(conn, executor)
            await store.asetup()
            yield store
        finally:
            await loop.run_in_executor(executor, conn.close)
