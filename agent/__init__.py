"""Satya Agent: the conversation layer and the ways in (Python API, chat, journeys).

Example::

    from agent import Assistant, Settings

    async with Assistant.open(Settings()) as assistant:
        thread = await assistant.new_thread()
        async for event in assistant.send(thread, "I'm new here, how does this work?"):
            print(getattr(event, "text", event))
"""

from typing import TYPE_CHECKING

from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    Notification,
    PauseEvent,
    PhaseEvent,
    ProgressEvent,
    StepEvent,
    TextEvent,
)

if TYPE_CHECKING:
    from agent.assistant import Assistant, ThreadView
    from agent.settings import Settings

# Imported on first use: `satya chat` shows its prompt before LangGraph and the
# journey graph are loaded (see bench/startup.py).
_LAZY = {
    "Assistant": "agent.assistant",
    "ThreadView": "agent.assistant",
    "Settings": "agent.settings",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Assistant",
    "ErrorEvent",
    "Event",
    "GateEvent",
    "Notification",
    "PauseEvent",
    "PhaseEvent",
    "ProgressEvent",
    "Settings",
    "StepEvent",
    "TextEvent",
    "ThreadView",
]
