"""The terminal chat: a line-based loop over ``Assistant`` that works on a TTY and in a pipe.

Ctrl-C during a turn cancels it safely (uploads keep their finished chunks;
say 'retry' to resume); Ctrl-C at the prompt or Ctrl-D exits. The last thread
is resumed on the next start.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from agent.assistant import Assistant
from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    PauseEvent,
    PhaseEvent,
    ProgressEvent,
    TextEvent,
)
from agent.replies import human_bytes, human_duration
from agent.settings import Settings

HELP = """Commands:
  /help                 this help
  /status               where the journey stands (same as 'check status')
  /raw                  the model object as JSON (same as 'show raw data')
  /state                the whole thread state (debug)
  /threads              your conversations;  /resume ID  switch to one;  /new  start another
  /mode supervised|auto|debug      /expertise beginner|intermediate|expert
  /quit                 leave (Ctrl-D works too)
Say things like: upload ./model.safetensors · quick upload ./m.gguf · check status ·
market analysis · refresh my dashboard · browse models · buy <name or 0x id> · help"""


class LineChat:
    """Reads lines, sends them, prints events. ``out`` is injectable for tests."""

    def __init__(
        self, assistant: Assistant, *, out: TextIO = sys.stdout, verbose: bool = False
    ) -> None:
        self.assistant = assistant
        self.out = out
        self.tty = out.isatty()
        self.verbose = verbose
        self.thread = ""
        self._last_progress: dict[str, float] = {}

    @property
    def _last_file(self) -> Path:
        return self.assistant.settings.home / "last_thread"

    async def start(self, thread: str | None, *, new: bool) -> None:
        """Pick the thread: the one asked for, else the last one, else a new one."""
        if thread:
            self.thread = thread
        elif not new and self._last_file.is_file():
            self.thread = self._last_file.read_text().strip()
        if not self.thread:
            self.thread = await self.assistant.new_thread()
            self.print("Satya Agent — publish AI models on Sui. Type /help for commands.")
        else:
            view = await self.assistant.state(self.thread)
            self.print(
                f"Resuming conversation {self.thread} (phase {view.phase}, {view.progress:.0%})."
            )
            if view.gate:
                self.print("Still waiting for your answer: " + await self._gate_text())
            elif view.next_nodes:
                self.print("A step was interrupted; continuing it now.")
                await self._drain(self.assistant.resume_pending(self.thread))
        self._last_file.parent.mkdir(parents=True, exist_ok=True)
        self._last_file.write_text(self.thread)

    async def _gate_text(self) -> str:
        view = await self.assistant.state(self.thread)
        from agent.replies import render

        gate = view.gate or {}
        data = gate.get("data")
        return render(
            str(gate.get("kind", "")), dict(data) if isinstance(data, dict) else {}, view.expertise
        )

    def print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def prompt(self) -> str:
        view = await self.assistant.state(self.thread)
        return f"[{view.phase} {view.progress:.0%}]> "

    async def handle(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return await self._command(text)
        await self._drain(self.assistant.send(self.thread, text))
        return True

    async def _command(self, text: str) -> bool:
        cmd, _, arg = text.partition(" ")
        arg = arg.strip()
        if cmd in ("/quit", "/exit", "/q"):
            return False
        if cmd == "/help":
            self.print(HELP)
        elif cmd == "/status":
            await self._drain(self.assistant.send(self.thread, "check status"))
        elif cmd == "/raw":
            await self._drain(self.assistant.send(self.thread, f"show raw data {arg}".strip()))
        elif cmd == "/state":
            view = await self.assistant.state(self.thread)
            self.print(json.dumps(view.values, indent=2, default=str, sort_keys=True))
            if view.next_nodes:
                self.print(f"next: {', '.join(view.next_nodes)}")
        elif cmd in ("/step", "/continue"):
            await self._drain(self.assistant.send(self.thread, "continue"))
        elif cmd == "/threads":
            for t in await self.assistant.threads():
                self.print(("* " if t == self.thread else "  ") + t)
        elif cmd == "/new":
            self.thread = await self.assistant.new_thread()
            self._last_file.write_text(self.thread)
            self.print(f"New conversation {self.thread}.")
        elif cmd == "/resume" and arg:
            if arg not in await self.assistant.threads():
                self.print(f"No conversation {arg}; /threads lists yours.")
            else:
                self.thread = arg
                self._last_file.write_text(arg)
                self.print(f"Switched to {arg}.")
        elif cmd == "/mode" and arg in ("supervised", "auto", "debug"):
            await self._drain(self.assistant.send(self.thread, f"/mode {arg}"))
        elif cmd == "/expertise" and arg in ("beginner", "intermediate", "expert"):
            await self._drain(self.assistant.send(self.thread, f"/expertise {arg}"))
        else:
            self.print(f"Unknown command {text!r}. /help lists the commands.")
        return True

    async def _drain(self, events: object) -> None:
        async for event in events:  # type: ignore[attr-defined]
            self.show(event)
        if self.tty and self._last_progress:
            self.out.write("\n")
        self._last_progress.clear()

    def show(self, event: Event) -> None:
        """Print one event."""
        if isinstance(event, TextEvent | GateEvent):
            self._end_progress_line()
            self.print(event.text)
        elif isinstance(event, ProgressEvent):
            self._progress(event)
        elif isinstance(event, PhaseEvent):
            if self.verbose:
                self.print(f"· phase {event.phase} ({event.progress:.0%})")
        elif isinstance(event, ErrorEvent):
            self._end_progress_line()
            self.print(f"{event.message} {event.hint}")
        elif isinstance(event, PauseEvent):
            self.print(
                f"[debug] paused before: {', '.join(event.next_nodes)} — /step to go on, /state to look."
            )

    def _progress(self, e: ProgressEvent) -> None:
        last = self._last_progress.get(e.task, -1.0)
        if not self.tty and e.fraction < 1.0 and e.fraction - last < 0.25:
            return
        self._last_progress[e.task] = e.fraction
        if e.task == "verification":
            line = f"{e.task}: {e.fraction:5.0%}  ETA {human_duration(e.eta_s)}"
        else:
            rate = f"{human_bytes(e.rate)}/s" if e.rate else "—"
            line = (
                f"{e.task}: {e.fraction:5.0%}  {human_bytes(e.done)} / {human_bytes(e.total)}  "
                f"{rate}  ETA {human_duration(e.eta_s)}"
            )
        if self.tty:
            self.out.write("\r" + line.ljust(78))
            self.out.flush()
        else:
            self.print(line)

    def _end_progress_line(self) -> None:
        if self.tty and self._last_progress:
            self.out.write("\n")
            self._last_progress.clear()


async def run_chat(settings: Settings, *, thread: str | None, new: bool, verbose: bool) -> int:
    """The chat loop; returns the exit code."""
    async with Assistant.open(settings) as assistant:
        chat = LineChat(assistant, verbose=verbose)
        await chat.start(thread, new=new)
        loop = asyncio.get_running_loop()
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                sys.stdout.write(await chat.prompt())
                sys.stdout.flush()
            try:
                line = await loop.run_in_executor(None, sys.stdin.readline)
            except KeyboardInterrupt:
                break
            if not line:
                break
            if not interactive:
                chat.print(f"> {line.rstrip()}")
            turn = asyncio.ensure_future(chat.handle(line))
            try:
                if not await asyncio.shield(turn):
                    break
            except (KeyboardInterrupt, asyncio.CancelledError):
                turn.cancel()
                with _suppress():
                    await turn
                chat.print("\nStopped. Finished chunks are kept; say 'retry' to resume.")
        chat.print(f"Bye. Your conversation is saved: satya chat --thread {chat.thread}")
    return 0


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True
