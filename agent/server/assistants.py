"""The assistants a client can name in a run (``assistant_id``), as LangGraph's server lists them.

Each is the same journey graph (``graph_id`` ``satya``: the author and buyer journeys) in
one of its modes. They are fixed by the server: clients search and read them; creating,
changing or deleting one is refused with a documented 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

GRAPH_ID = "satya"
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
Mode = Literal["supervised", "auto"]

CONFIG_SCHEMA: dict[str, Any] = {
    "title": "Configurable",
    "type": "object",
    "properties": {
        "mode": {
            "title": "Mode",
            "type": "string",
            "enum": ["supervised", "auto"],
            "description": "supervised: every paid or irreversible step waits for a yes; "
            "auto: steps within the operator's caps (SATYA_AUTO_CAP_WAL / SATYA_AUTO_CAP_SUI) "
            "go ahead without asking. Set when a thread starts a request, kept by the thread.",
        }
    },
}
INPUT_SCHEMA: dict[str, Any] = {
    "title": "Input",
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "What the user says."},
        "messages": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Chat messages; the last one from the user is what they say.",
        },
        "upload_id": {"type": "string", "description": "A file sent to POST /uploads."},
        "path": {"type": "string", "description": "A file under SATYA_SERVER_FILES_ROOT."},
    },
}
STATE_SCHEMA: dict[str, Any] = {
    "title": "JourneyState",
    "type": "object",
    "description": "The journey's state: phase, status, steps, context (file, blob, "
    "verification, listing), mode, expertise; messages: the conversation.",
    "properties": {
        "current_phase": {"type": "string"},
        "status": {"type": "string"},
        "mode": {"type": "string"},
        "expertise": {"type": "string"},
        "context": {"type": "object"},
        "messages": {"type": "array", "items": {"type": "object"}},
    },
}


@dataclass(frozen=True, slots=True)
class NamedAssistant:
    assistant_id: str
    name: str
    description: str
    mode: Mode

    def out(self) -> dict[str, Any]:
        """The assistant as LangGraph's API shows one."""
        when = CREATED_AT.isoformat()
        return {
            "assistant_id": self.assistant_id,
            "graph_id": GRAPH_ID,
            "name": self.name,
            "description": self.description,
            "config": {"configurable": {"mode": self.mode}},
            "context": {"mode": self.mode},
            "metadata": {"mode": self.mode, "journeys": ["author", "buyer"]},
            "version": 1,
            "created_at": when,
            "updated_at": when,
        }


ASSISTANTS: dict[str, NamedAssistant] = {
    a.assistant_id: a
    for a in (
        NamedAssistant(
            "satya",
            "Satya Agent",
            "Publish and buy AI models on Sui: onboarding, assessment, upload to Walrus, "
            "verification in the enclave, listing; purchases and downloads. Asks before "
            "anything paid or irreversible.",
            "supervised",
        ),
        NamedAssistant(
            "satya-auto",
            "Satya Agent (auto)",
            "The same journeys; paid steps within the operator's caps go ahead without "
            "asking (SATYA_AUTO_CAP_WAL / SATYA_AUTO_CAP_SUI), larger ones still ask.",
            "auto",
        ),
    )
}


def find(assistant_id: str) -> NamedAssistant | None:
    """The assistant named (its id, or the graph id ``satya`` for the default)."""
    return ASSISTANTS.get(assistant_id)


DEFAULT = "satya"


def mode_for(assistant: NamedAssistant, config: dict[str, Any] | None) -> Mode | None:
    """The mode a run sets on its thread: ``config.configurable.mode`` if given, else a
    named assistant's own; None for the default assistant (the thread keeps its mode,
    which the user may have changed with 'mode auto')."""
    configurable = (config or {}).get("configurable") or {}
    mode = configurable.get("mode") if isinstance(configurable, dict) else None
    if mode in ("supervised", "auto"):
        return mode  # type: ignore[no-any-return]
    return None if assistant.assistant_id == DEFAULT else assistant.mode
