"""Chat messages of runs: the user's text as the Assistant got it, then one AI message per reply.

Each run's messages are kept here while it lives (for its ``messages`` events and its
final values) and written to the thread's conversation (``RunDb.messages``) with the
event log's next batch, before the events that follow them; a thread shows its last
``CONVERSATION_LIMIT`` as ``values.messages``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent.server.rundb import RunDb

CONVERSATION_LIMIT = 200  # the last messages a thread's values.messages shows


def chat_message(kind: str, text: str, message_id: str) -> dict[str, Any]:
    """A chat message as LangGraph serializes one (``type`` is ``human`` or ``ai``)."""
    return {
        "type": kind,
        "content": text,
        "id": message_id,
        "name": None,
        "additional_kwargs": {},
        "response_metadata": {},
        "tool_calls": [],
        "invalid_tool_calls": [],
        "usage_metadata": None,
        "example": False,
    }


class Conversation:
    """The chat messages of this worker's live runs, and the threads' kept conversations."""

    def __init__(
        self, db: RunDb, *, on_said: Callable[[], None], limit: int = CONVERSATION_LIMIT
    ) -> None:
        self.db = db
        self.limit = limit
        self._on_said = on_said  # a message waits to be written: the log's next batch takes it
        self._chat: dict[str, list[dict[str, Any]]] = {}
        self._unsaved: dict[str, list[tuple[str, str, float, dict[str, Any]]]] = {}
        self._earlier: dict[str, list[dict[str, Any]]] = {}  # the turns before a run

    def open(self, run_id: str) -> None:
        self._chat[run_id] = []
        self._unsaved[run_id] = []

    def forget(self, run_id: str) -> None:
        self._chat.pop(run_id, None)
        self._unsaved.pop(run_id, None)
        self._earlier.pop(run_id, None)

    def count(self, run_id: str) -> int:
        """How many messages the run has said so far."""
        return len(self._chat[run_id])

    def say(self, run_id: str, thread_id: str, message: dict[str, Any]) -> None:
        """A chat message of the run: kept for its events, written with the next batch."""
        self._chat[run_id].append(message)
        self._unsaved[run_id].append((thread_id, run_id, time.time(), message))
        self._on_said()

    async def save(self, run_ids: list[str]) -> None:
        """Write the runs' messages not written yet."""
        said = {run_id: list(self._unsaved.get(run_id, [])) for run_id in run_ids}
        if any(said.values()):
            await self.db.add_messages([row for kept in said.values() for row in kept])
            for run_id, kept in said.items():  # more may have come meanwhile
                del self._unsaved.get(run_id, [])[: len(kept)]

    async def with_chat(
        self, run_id: str, thread_id: str, values: dict[str, Any], *, during: bool = False
    ) -> dict[str, Any]:
        """The thread's values with its conversation as ``messages`` (for chat UIs):
        the earlier turns, then this run's messages. ``during`` (the values after each step
        of a live run) reads the earlier turns once per run, not once per step."""
        mine = list(self._chat.get(run_id, []))
        ids = {m["id"] for m in mine}
        earlier = self._earlier.get(run_id) if during else None
        if earlier is None:
            kept = await self.db.messages(thread_id, self.limit + len(mine))
            earlier = [m for m in kept if m.get("id") not in ids]
            if during and run_id in self._chat:
                self._earlier[run_id] = earlier
        else:
            earlier = [m for m in earlier if m.get("id") not in ids]
        return {**values, "messages": (earlier + mine)[-self.limit :]}

    async def messages(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's last ``limit`` chat messages, oldest first."""
        return await self.db.messages(thread_id, self.limit)
