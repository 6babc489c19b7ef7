"""Satya Agent: the conversation layer and the ways in (Python API, chat, journeys).

Example::

    from agent import Assistant, Settings

    async with Assistant.open(Settings()) as assistant:
        thread = await assistant.new_thread()
        async for event in assistant.send(thread, "I'm new here, how does this work?"):
            print(getattr(event, "text", event))
"""

from agent.assistant import Assistant, ThreadView
from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    PauseEvent,
    PhaseEvent,
    ProgressEvent,
    TextEvent,
)
from agent.settings import Settings

__all__ = [
    "Assistant",
    "ErrorEvent",
    "Event",
    "GateEvent",
    "PauseEvent",
    "PhaseEvent",
    "ProgressEvent",
    "Settings",
    "TextEvent",
    "ThreadView",
]
