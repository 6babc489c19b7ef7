"""Turns that background verification runs: handing a running job to the monitor, the
completion turn when it ends, and a foreground verification cut off by a crash, which
goes on by itself after a restart. Their events come as notifications."""

from __future__ import annotations

from typing import Any

from agent.graph_run import FOREGROUND_NAMESPACE, GraphRun, TurnOutcome, job_deadlines, running_jobs
from agent.monitor import VERIFYING_NAMESPACE
from agent.threads import stopped_at
from flows.intents import intent
from flows.state import WorkflowStatus

_VERIFY_NODES = frozenset({"verify_submit", "verify_monitor"})


class VerificationTurns(GraphRun):
    """Background verification's turns (a part of ``Assistant``)."""

    async def _follow_verification(self, thread_id: str, user: str) -> None:
        """The turn left a verification job running: hand it to the background monitor."""
        snap = await self.graph.aget_state(self._config(thread_id))
        ctx = dict((snap.values or {}).get("context") or {})
        tasks = running_jobs(ctx)
        if self.monitor is not None and tasks:
            await self.monitor.register(
                thread_id, next(iter(tasks)), user, tasks=tasks, deadlines=job_deadlines(ctx)
            )

    async def wait_idle(self, thread_id: str, timeout_s: float = 60.0) -> bool:
        """Wait until no background work is pending for the thread; False on timeout."""
        if self.monitor is None:
            return True
        return await self.monitor.wait_idle(thread_id, timeout_s)

    async def deliver_verification(self, thread_id: str, job_id: str, user_id: str) -> None:
        """The completion event: run the thread's next turn now that its job has ended."""
        async with self._lock_for(thread_id):
            cfg = self._config(thread_id)
            snap = await self.graph.aget_state(cfg)
            values: dict[str, Any] = dict(snap.values or {})
            ctx = values.get("context") or {}
            payload: Any
            if stopped_at(snap):  # a completion turn cut short by a crash
                payload = None
            elif (
                values.get("status") == WorkflowStatus.VERIFYING
                and job_id in running_jobs(ctx)
                and not snap.interrupts
            ):
                payload = {"intent": intent("verification_update"), "user_id": user_id}
            else:  # the journey moved on meanwhile: nothing to deliver
                await self.store.adelete(VERIFYING_NAMESPACE, thread_id)
                return
            outcome = TurnOutcome()
            async for event in self._run(payload, cfg, values, debug_ok=False, outcome=outcome):
                self.publish(thread_id, event)
            if outcome.verifying:
                await self._follow_verification(thread_id, user_id)
            else:
                await self.store.adelete(VERIFYING_NAMESPACE, thread_id)
                await self._away(thread_id, user_id)

    async def resume_crashed_verifications(self) -> int:
        """After a crash: a verification that was followed in the foreground goes on by
        itself, as a background one does; its events come as notifications. How many."""
        handed = 0
        for item in await self.store.asearch(FOREGROUND_NAMESPACE, limit=10_000):
            thread_id = item.key
            snap = await self.graph.aget_state(self._config(thread_id))
            cut = stopped_at(snap)
            if self.monitor is not None and _VERIFY_NODES & set(cut):
                user = str(item.value.get("user_id") or self.settings.user)
                self.monitor.adopt(thread_id, self._finish_crashed_turn(thread_id, user))
                handed += 1
            await self.store.adelete(FOREGROUND_NAMESPACE, thread_id)
        return handed

    async def _finish_crashed_turn(self, thread_id: str, user: str) -> None:
        async with self._lock_for(thread_id):
            cfg = self._config(thread_id)
            snap = await self.graph.aget_state(cfg)
            if not stopped_at(snap):
                return  # someone went on meanwhile
            outcome = TurnOutcome()
            async for event in self._run(
                None, cfg, dict(snap.values or {}), debug_ok=False, outcome=outcome
            ):
                self.publish(thread_id, event)
        if outcome.verifying:
            await self._follow_verification(thread_id, user)
