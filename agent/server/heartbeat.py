"""Heartbeats: each worker marks its runs alive, and stops those cancelled from another worker.

A run whose worker stopped beating for ``STALE_AFTER_S``, or whose worker is known
to have exited, is dead (``dead``); whichever worker sees it first settles it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from agent.server.liveness import worker_gone
from agent.server.rundb import STALE_AFTER_S, RunDb, RunRecord

log = logging.getLogger("satya.server.runs")


def dead(record: RunRecord) -> bool:
    """Its worker stopped beating, or is known to have exited (``worker_gone``)."""
    return record.heartbeat < time.time() - STALE_AFTER_S or worker_gone(record.worker)


async def beat_forever(
    db: RunDb,
    worker: str,
    *,
    poll_s: float,
    local: Callable[[], list[str]],
    cancel: Callable[[str], None],
) -> None:
    """Beat for the ``local`` runs every ``STALE_AFTER_S / 4``; ``cancel`` a run whose
    cancel was asked for on another worker (checked about every ``poll_s``, at least 0.5 s)."""
    last_beat = time.monotonic()
    while True:
        await asyncio.sleep(max(poll_s, 0.5))
        runs = local()
        try:
            if runs:  # a cancel asked for on another worker
                for run_id in await db.cancel_requested(worker):
                    cancel(run_id)
            if time.monotonic() - last_beat > STALE_AFTER_S / 4:
                await db.beat(runs)
                last_beat = time.monotonic()
        except Exception:  # a missed beat only matters after several in a row
            log.warning("run heartbeat failed", exc_info=True)
