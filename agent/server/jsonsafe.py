"""Values of a thread and typed events as plain JSON, the shapes the HTTP API sends."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from agent.events import Event


def json_safe(value: Any) -> Any:
    """Values of a thread as plain JSON (dataclasses, paths, sets and the like as text)."""
    return json.loads(json.dumps(value, default=_default))


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def event_payload(event: Event) -> dict[str, Any]:
    """A typed event as the ``custom`` SSE payload (its ``type`` says which)."""
    payload: dict[str, Any] = json_safe(dataclasses.asdict(event))
    return payload
