"""What every part of the ``Assistant`` shares: the graph, its services, the store, the
API keys kept in it, and one lock and one checkpoint address per thread.

The ``Assistant`` (``agent/assistant.py``) is composed of parts, each in its module:
``agent/step_log.py`` (step events, insights), ``agent/threads.py`` (threads, ownership,
state views, copies), ``agent/notifications.py`` (what happens outside a turn),
``agent/reading.py`` (reading the next message), ``agent/graph_run.py`` (one run of the
journey graph as events) and ``agent/verification_turns.py`` (turns that background
verification runs). Each part is a base class of ``Assistant``; none is used alone.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, TypeAlias

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from agent.events import Notification
from agent.keys import ApiKeys
from agent.monitor import VerificationMonitor
from agent.settings import Settings
from agent.understanding.dialogue import Dialogue
from flows.intents import Intent
from flows.services import Services
from flows.state import JourneyState
from flows.tracing import Tracer

JourneyGraph: TypeAlias = CompiledStateGraph[JourneyState, Services, JourneyState, JourneyState]


class Interpreter(Protocol):
    """Text -> Intent (rules or a language model)."""

    async def interpret(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Intent: ...


class AssistantBase:
    """The parts of an ``Assistant`` (see ``agent/assistant.py``)."""

    def __init__(
        self,
        *,
        graph: JourneyGraph,
        services: Services,
        interpreter: Interpreter,
        settings: Settings,
        store: BaseStore,
        tracer: Tracer | None = None,
    ) -> None:
        self.graph = graph
        self.tracer = tracer
        self.services = services
        self.interpreter = interpreter
        self.settings = settings
        self.store = store
        self.keys = ApiKeys(store)  # the HTTP server's keys, in the same store
        self.monitor: VerificationMonitor | None = None
        self._subscribers: set[asyncio.Queue[Notification]] = set()
        self._listeners: dict[asyncio.Queue[Notification], str] = {}  # stream -> its user
        self._locks: dict[str, asyncio.Lock] = {}
        self._saving: set[asyncio.Task[None]] = set()

    def _lock_for(self, thread_id: str) -> asyncio.Lock:
        lock = self._locks.get(thread_id)
        if lock is None:
            lock = self._locks[thread_id] = asyncio.Lock()
        return lock

    @staticmethod
    def _config(thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}
