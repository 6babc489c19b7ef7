"""The ``Assistant``'s step events: what records a turn's steps, writing them behind the
turn, and the insights read from them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langchain_core.runnables import RunnableConfig

from agent.assistant_base import AssistantBase
from flows.insights import Insights, compute_insights, load_records, save_records
from flows.step_events import StepRecord, StepRecorder

log = logging.getLogger("satya.assistant")


class StepLog(AssistantBase):
    """Step events and insights (a part of ``Assistant``)."""

    def _recorder(
        self, payload: Any, cfg: RunnableConfig, values: dict[str, Any]
    ) -> StepRecorder | None:
        """What records this run's steps and calls (None when recording is off)."""
        if not self.settings.step_events:
            return None
        thread_id = str((cfg.get("configurable") or {})["thread_id"])
        given = payload if isinstance(payload, dict) else {}
        return StepRecorder(
            thread_id=thread_id,
            user_id=str(values.get("user_id") or given.get("user_id") or self.settings.user),
            workflow_id=str(values.get("workflow_id") or given.get("workflow_id") or thread_id),
            tracer=self.tracer,
        )

    def _keep(self, records: list[StepRecord]) -> None:
        """Write a turn's step events with its thread, behind the turn (not in its time)."""

        async def save() -> None:
            try:
                await save_records(self.store, records)
            except Exception:  # never a reason to fail a conversation
                log.warning("could not keep %d step events", len(records), exc_info=True)

        task = asyncio.get_running_loop().create_task(save())
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def flush_step_events(self) -> None:
        """Wait until every finished turn's step events are written."""
        while self._saving:
            await asyncio.gather(*tuple(self._saving), return_exceptions=True)

    async def step_records(self, user_id: str | None = None) -> list[StepRecord]:
        """The recorded step events of a user (``None``: every user's), oldest first."""
        await self.flush_step_events()
        return await load_records(self.store, user_id)

    async def insights(self, user_id: str | None = None, *, platform: bool = False) -> Insights:
        """Where a user's journeys fail, their slowest steps, retries and money per phase,
        from the recorded step events; ``platform=True``: every user's journeys."""
        user = None if platform else (user_id or self.settings.user)
        records = await self.step_records(user)
        return compute_insights(
            records,
            scope=user or "platform",
            slow_factor=self.settings.deadline_factor,
            slow_min_s=self.settings.deadline_min_s,
        )
