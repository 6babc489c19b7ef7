"""Where threads live: SQLite for one process, PostgreSQL for several workers or hosts.

``DATABASE_URL=postgresql://…`` (or ``SATYA_DATABASE_URL``) selects the LangGraph
PostgreSQL checkpointer and store over one psycopg connection pool; without it,
threads live in ``SATYA_HOME/checkpoints.sqlite`` and ``store.sqlite``.

Example::

    async with open_persistence(settings) as persistence:
        graph = build_graph(checkpointer=persistence.saver, store=persistence.store)
        if persistence.pool is not None:
            lease = PostgresLease(persistence.pool)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agent.settings import Settings
from integrations.errors import ConfigurationError

if TYPE_CHECKING:  # LangGraph is loaded when persistence is opened, not when this is imported
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.store.base import BaseStore

Backend = Literal["sqlite", "postgres"]
_SETUP_LOCK = 0x5A7A_0001  # pg advisory lock id: one worker migrates at a time


def database_url(settings: Settings, explicit: str | None = None) -> str | None:
    """The PostgreSQL URL to use: ``explicit``, else the settings' (``DATABASE_URL`` or
    ``SATYA_DATABASE_URL``); None for SQLite."""
    configured = settings.database_url.get_secret_value() if settings.database_url else None
    url = explicit or configured
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigurationError(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://user@host:port/db).",
            hint="Unset it to keep threads in SQLite under SATYA_HOME, or point it at PostgreSQL.",
        )
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class Persistence:
    """The checkpointer and store a journey graph runs on, and the pool behind them."""

    backend: Backend
    saver: BaseCheckpointSaver[str]
    store: BaseStore
    pool: Any = None  # psycopg_pool.AsyncConnectionPool with PostgreSQL, else None


@contextlib.asynccontextmanager
async def open_persistence(
    settings: Settings, *, url: str | None = None, pool_size: int = 10
) -> AsyncIterator[Persistence]:
    """Open SQLite files under ``settings.home`` or, with a URL, PostgreSQL; close them after."""
    url = database_url(settings, url)
    if url is None:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        from agent.sqlite_store import open_sqlite_store

        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        async with (
            AsyncSqliteSaver.from_conn_string(str(home / "checkpoints.sqlite")) as saver,
            open_sqlite_store(home / "store.sqlite") as store,  # one thread hop a call
        ):
            yield Persistence("sqlite", saver, store)
        return
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.store.postgres.aio import AsyncPostgresStore

    async with postgres_pool(url, max_size=pool_size) as pool:
        pg_saver = AsyncPostgresSaver(pool)
        pg_store = AsyncPostgresStore(pool)
        async with pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
            try:
                await pg_saver.setup()
                await pg_store.setup()
                await PostgresLease.setup(pool)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        yield Persistence("postgres", pg_saver, pg_store, pool)


async def connection_problem(url: str, *, timeout_s: int = 5) -> str | None:
    """Why one connection to ``url`` fails (the server's own words, no password), or None."""
    from urllib.parse import urlsplit

    import psycopg

    try:
        conn = await psycopg.AsyncConnection.connect(url, connect_timeout=timeout_s)
    except Exception as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = lines[0] if lines else type(error).__name__
        reason = reason.removeprefix("connection failed: ")
        password = urlsplit(url).password if "://" in url else None
        return reason.replace(password, "***") if password else reason
    await conn.close()
    return None


@contextlib.asynccontextmanager
async def postgres_pool(url: str, *, max_size: int = 10) -> AsyncIterator[Any]:
    """An open psycopg pool (autocommit, dict rows) for ``url``; a clear error if unreachable."""
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    problem = await connection_problem(url)
    if problem is not None:  # at once, with the reason, not after the pool's timeout
        raise ConfigurationError(
            f"Cannot reach PostgreSQL at {redact(url)}: {problem}",
            hint="Start PostgreSQL or fix DATABASE_URL; unset it to use SQLite under SATYA_HOME.",
        )
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    try:
        await pool.open(wait=True, timeout=10)
    except Exception as error:  # PoolTimeout wraps the connection error
        await pool.close()
        raise ConfigurationError(
            f"Cannot reach PostgreSQL at {redact(url)} ({type(error).__name__}).",
            hint="Start PostgreSQL or fix DATABASE_URL; unset it to use SQLite under SATYA_HOME.",
        ) from None
    try:
        yield pool
    finally:
        await pool.close()


class PostgresLease:
    """The monitor's ``Lease`` on a shared table: one owner per key until it expires.

    A worker that dies stops renewing, its lease expires after ``ttl_s`` and
    another worker takes the key over, so background work survives a restart
    and never runs twice at once.
    """

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @staticmethod
    async def setup(pool: Any) -> None:
        """Create the lease table (idempotent)."""
        async with pool.connection() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS satya_leases ("
                " key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)"
            )

    async def acquire(self, key: str, owner: str, ttl_s: float) -> bool:
        """Take or renew ``key`` for ``owner``; False while another owner holds it."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO satya_leases (key, owner, expires_at)"
                " VALUES (%s, %s, now() + make_interval(secs => %s))"
                " ON CONFLICT (key) DO UPDATE"
                " SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at"
                " WHERE satya_leases.owner = EXCLUDED.owner OR satya_leases.expires_at < now()"
                " RETURNING key",
                (key, owner, float(ttl_s)),
            )
            return await cur.fetchone() is not None

    async def release(self, key: str, owner: str) -> None:
        """Give ``key`` up if ``owner`` holds it."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "DELETE FROM satya_leases WHERE key = %s AND owner = %s", (key, owner)
            )
