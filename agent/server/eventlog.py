"""The event log of this worker's live runs.

A run's events are kept in memory while it lives (local listeners are woken at
once), written to the shared log (``RunDb``) in batches and in full before the run
is marked done, where listeners on other workers read them. Each batch writes the
runs' chat messages first: a reader that sees a run's end finds all its messages. A
run's ``end`` event comes after its final status is written, so a reader that sees it
finds the status final.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agent.server.conversation import Conversation
from agent.server.rundb import RunDb

log = logging.getLogger("satya.server.runs")
Entry = tuple[int, str, Any]  # sequence number, event name, data


class EventLog:
    """Appends, batches, writes and forgets the events of the runs this worker drives."""

    def __init__(self, db: RunDb, *, flush_s: float = 0.05) -> None:
        self.db = db
        self.flush_s = flush_s
        self.chat = Conversation(db, on_said=self.nudge)
        self._seq: dict[str, int] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._log: dict[str, list[Entry]] = {}
        self._flushed: dict[str, int] = {}
        self._settled: dict[str, asyncio.Event] = {}  # set once the run's status is written
        self._flush_lock = asyncio.Lock()
        self._flush_needed = asyncio.Event()

    def open(self, run_id: str) -> None:
        """Start the run's log (and its chat messages) here."""
        self._seq[run_id] = 0
        self._wake[run_id] = asyncio.Event()
        self._settled[run_id] = asyncio.Event()
        self._log[run_id] = []
        self._flushed[run_id] = 0
        self.chat.open(run_id)

    def live(self, run_id: str) -> tuple[list[Entry], asyncio.Event] | None:
        """A live run's events so far and the event set when more come; None when the run
        is not driven here (its events are in the shared log)."""
        entries = self._log.get(run_id)
        if entries is None:
            return None
        return entries, self._wake[run_id]

    async def settled(self, run_id: str) -> None:
        """Wait until the run's final status is written (at once for a run not live here):
        a client that hears a run's end and then reads the run finds it finished."""
        done = self._settled.get(run_id)
        if done is not None:
            await done.wait()

    def nudge(self) -> None:
        """Something waits to be written: the flush loop writes it with the next batch."""
        self._flush_needed.set()

    async def append(self, run_id: str, event: str, data: Any) -> None:
        seq = self._seq[run_id] + 1
        self._seq[run_id] = seq
        self._log[run_id].append((seq, event, data))
        wake, self._wake[run_id] = self._wake[run_id], asyncio.Event()
        wake.set()  # every listener waits on the event it saw; none misses a wake-up
        self._flush_needed.set()

    async def flush(self, run_ids: list[str]) -> None:
        async with self._flush_lock:
            # messages first: a reader that sees a run's end finds all its messages
            await self.chat.save(run_ids)
            rows: list[tuple[str, int, str, Any]] = []
            for run_id in run_ids:
                entries = self._log.get(run_id)
                if entries is None:
                    continue
                done = self._flushed[run_id]
                rows.extend((run_id, seq, name, data) for seq, name, data in entries[done:])
                self._flushed[run_id] = len(entries)
            if rows:
                await self.db.append_many(rows)

    async def flush_loop(self) -> None:
        while True:
            await self._flush_needed.wait()
            self._flush_needed.clear()
            await asyncio.sleep(self.flush_s)  # gather a batch
            try:
                await self.flush(list(self._log))
            except Exception:  # the end of each run flushes again
                log.warning("run log flush failed", exc_info=True)

    async def complete(self, run_id: str, status: str) -> None:
        """Write the rest of the run's log, then its final status, then its ``end`` event
        (here and in the shared log); forget it here. A client that has read ``end`` finds
        the run's status final."""
        try:
            await self.flush([run_id])
            await self.db.set_status(run_id, status)
            await self.append(run_id, "end", None)
            await self.flush([run_id])
        finally:
            wake = self._wake.pop(run_id, None)
            self._log.pop(run_id, None)
            self._flushed.pop(run_id, None)
            self._seq.pop(run_id, None)
            self.chat.forget(run_id)
            settled = self._settled.pop(run_id, None)
            if settled is not None:
                settled.set()
            if wake is not None:
                wake.set()
