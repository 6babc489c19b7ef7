"""The SQLite run log on one shared connection: batches written at once by several runs
never nest their transactions (schemathesis found a 500, "cannot start a transaction within
a transaction", when a run was settled while another wrote its events)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.server.rundb import SqliteSql


def test_concurrent_batches_and_statements_on_one_connection(tmp_path: Path) -> None:
    async def scenario() -> int:
        async with SqliteSql.open(tmp_path / "server.sqlite") as sql:
            await sql.migrate(["CREATE TABLE t (run TEXT, seq INTEGER, PRIMARY KEY (run, seq))"])

            async def batch(run: int) -> None:
                rows = [(f"r{run}", seq) for seq in range(50)]
                await sql.execute_many("INSERT INTO t (run, seq) VALUES (%s, %s)", rows)

            async def single(run: int) -> None:
                await sql.execute("INSERT INTO t (run, seq) VALUES (%s, %s)", (f"s{run}", 0))

            await asyncio.gather(*(batch(i) for i in range(20)), *(single(i) for i in range(20)))
            rows = await sql.fetch("SELECT count(*) AS n FROM t")
            return int(rows[0]["n"])

    assert asyncio.run(scenario()) == 20 * 50 + 20


def test_a_run_log_made_by_an_earlier_release_gets_the_new_columns(tmp_path: Path) -> None:
    """A home whose run table predates ``multitask_strategy`` and ``assistant_id`` is
    brought up to date at start-up: its runs read as reject/satya, new runs keep theirs."""
    import time

    from agent.server.rundb import RunDb, RunRecord

    async def scenario() -> tuple[RunRecord | None, RunRecord | None]:
        async with SqliteSql.open(tmp_path / "server.sqlite") as sql:
            await sql.execute(  # the table as the earlier release made it
                "CREATE TABLE satya_runs (run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL,"
                " user_id TEXT NOT NULL, status TEXT NOT NULL, kind TEXT NOT NULL,"
                " created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,"
                " heartbeat DOUBLE PRECISION NOT NULL, worker TEXT NOT NULL,"
                " metadata TEXT NOT NULL, modes TEXT NOT NULL,"
                " cancel_requested INTEGER NOT NULL DEFAULT 0)"
            )
            await sql.execute(
                "INSERT INTO satya_runs VALUES ('old', 't1', 'u', 'success', 'user', 1, 1, 1,"
                " 'w', '{}', '[]', 0)"
            )
            db = RunDb(sql)
            await db.setup()
            await db.setup()  # a second start changes nothing
            now = time.time()
            new = RunRecord(
                run_id="new",
                thread_id="t2",
                user_id="u",
                status="pending",
                kind="queued",
                created_at=now,
                updated_at=now,
                heartbeat=now,
                worker="w",
                multitask_strategy="enqueue",
                assistant_id="satya-auto",
            )
            await db.insert(new)
            return await db.get("old"), await db.get("new")

    old, new = asyncio.run(scenario())
    assert old is not None and (old.multitask_strategy, old.assistant_id) == ("reject", "satya")
    assert new is not None and (new.multitask_strategy, new.assistant_id) == (
        "enqueue",
        "satya-auto",
    )


def test_a_batch_cancelled_at_its_begin_leaves_no_transaction_open(tmp_path: Path) -> None:
    """A run interrupted (multitask_strategy interrupt) while its log was being written:
    the cancelled await of BEGIN left the connection inside a transaction, so every later
    batch failed ("cannot start a transaction within a transaction") and every later
    statement joined that transaction, never committed; the thread stayed busy."""

    async def scenario() -> tuple[int, int]:
        async with SqliteSql.open(tmp_path / "server.sqlite") as sql:
            await sql.migrate(["CREATE TABLE t (run TEXT, seq INTEGER, PRIMARY KEY (run, seq))"])
            insert = "INSERT INTO t (run, seq) VALUES (%s, %s)"
            cancelled = 0
            for run in range(20):
                task = asyncio.create_task(sql.execute_many(insert, [(f"c{run}", 0)]))
                for _ in range(run % 4):  # cancelled at BEGIN, at the rows, at COMMIT, ...
                    await asyncio.sleep(0)
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    cancelled += 1
                await sql.execute_many(insert, [(f"after{run}", 0)])  # raised before
            await sql.execute(insert, ("single", 0))
            async with SqliteSql.open(tmp_path / "server.sqlite") as other:  # committed?
                rows = await other.fetch("SELECT count(*) AS n FROM t WHERE run LIKE 'after%'")
                single = await other.fetch("SELECT count(*) AS n FROM t WHERE run = 'single'")
            return int(rows[0]["n"]) + int(single[0]["n"]), cancelled

    seen, cancelled = asyncio.run(scenario())
    assert cancelled > 0, "no batch was cancelled mid-way: the test checked nothing"
    assert seen == 21
