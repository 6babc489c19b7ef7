"""The chat's own screens: help, conversations, problems, and the debug views."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.json import JSON
from rich.panel import Panel
from rich.text import Text

from agent.events import ErrorEvent, PauseEvent
from agent.screens.layout import add_row, headed_table

COMMANDS: tuple[tuple[str, str], ...] = (
    ("/help", "this help"),
    ("/status", "where the journey stands (same as 'check status')"),
    ("/raw", "the model object on chain, as JSON (same as 'show raw data')"),
    ("/threads", "your conversations"),
    ("/new", "start a new conversation"),
    ("/resume ID", "switch to conversation ID"),
    (
        "/mode MODE",
        "supervised: ask before paying · auto: spend within the caps · "
        "debug: stop before each step",
    ),
    ("/expertise LEVEL", "how much I explain: beginner · intermediate · expert"),
    ("/state · /step · /continue", "debug mode: the thread state, run one step, run on"),
    ("/quit", "leave (Ctrl-D works too)"),
)

SAYINGS = (
    "upload ./model.safetensors · quick upload ./m.gguf · check status · market analysis · "
    "refresh my dashboard · browse models · buy <name or 0x id> · show raw data · help"
)


def help_screen() -> RenderableType:
    """The slash commands, the keys, and things to say."""
    table = headed_table(None, "command", "what it does")
    for cmd, what in COMMANDS:
        add_row(table, cmd, what)
    keys = Text.assemble(
        ("Keys: ", "bold"),
        "Ctrl-C stops the step in progress (an upload keeps its finished chunks; "
        "'resume' goes on), twice leaves · Ctrl-D leaves · ↑/↓ history · Tab completes "
        "commands and file paths · Esc Enter adds a line.",
    )
    return Group(table, keys, Text.assemble(("Say things like: ", "bold"), SAYINGS))


def threads(rows: Sequence[tuple[str, str]], current: str) -> RenderableType:
    """Your conversations, most recent first: id and where each stands."""
    if not rows:
        return Text("No conversations yet.")
    table = headed_table("Your conversations (/resume ID switches)", "", "id", "where it stands")
    for thread_id, where in rows:
        add_row(table, "*" if thread_id == current else "", thread_id, where)
    return table


def error(event: ErrorEvent, *, verbose: bool = False) -> RenderableType:
    """One friendly paragraph: what happened and what to do next (the code with --verbose)."""
    text = Text(event.message)
    if event.hint:
        text.append(" " + event.hint)
    if verbose:
        text.append(f"\n(error code: {event.code})", style="dim")
    return Panel(text, border_style="red", box=box.ROUNDED, expand=False)


def problem(message: str, hint: str = "") -> RenderableType:
    """A problem found by the chat itself (a bad command, an unknown conversation)."""
    return error(ErrorEvent("chat", message, hint))


def pause(event: PauseEvent) -> RenderableType:
    """Debug mode stopped before a step."""
    return Text.assemble(
        ("[debug] ", "bold magenta"),
        "paused before ",
        (", ".join(event.next_nodes), "bold"),
        " · /step runs it, /continue too, /state shows the state",
    )


def state(values: Mapping[str, object], next_nodes: Sequence[str]) -> RenderableType:
    """Debug: the whole thread state as JSON, and the next step."""
    body: list[RenderableType] = [
        JSON(json.dumps(values, indent=2, sort_keys=True, default=str), highlight=True)
    ]
    if next_nodes:
        body.append(Text(f"next: {', '.join(next_nodes)}", style="bold magenta"))
    return Group(*body)
