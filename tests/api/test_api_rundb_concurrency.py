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
