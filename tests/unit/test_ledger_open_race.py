"""Several processes opening one fresh ledger file at the same moment all get the same ledger.

(``satya serve --workers N`` on a new SATYA_HOME: SQLite answers "database is locked" at
once to a concurrent switch to WAL mode instead of waiting; the ledger waits itself.)
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

PROCESSES = 8


def _open(path: str, barrier: Any, results: Any) -> None:
    from integrations.chain.local import LocalLedger

    barrier.wait()
    try:
        results.put("ok " + LocalLedger(Path(path)).registry_id)
    except Exception as error:  # reported to the test, which shows it
        results.put(f"failed {type(error).__name__}: {error}")


def test_processes_opening_a_fresh_ledger_together(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for attempt in range(6):  # the race needs a new file each time
        path = str(tmp_path / f"ledger{attempt}.sqlite")
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [ctx.Process(target=_open, args=(path, barrier, results)) for _ in range(PROCESSES)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        assert all(o.startswith("ok ") for o in outcomes), outcomes
        assert len(set(outcomes)) == 1, outcomes  # one genesis, one registry
