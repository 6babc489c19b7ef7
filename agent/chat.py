"""The chat's core, shared by the terminal and the pipe: the thread, commands, turns.

``Chat`` picks the conversation (the one asked for, else the last one, else a
new one), runs each input line as a task that Ctrl-C can cancel, answers slash
commands, follows background work (verification notifications) and keeps the
live progress of running tasks; everything it shows goes to an ``Output``:
``PlainOutput`` here (plain lines for pipes), ``agent.repl.RichOutput`` on a
terminal.

Example::

    chat = Chat(assistant, PlainOutput(sys.stdout), interactive=False)
    if await chat.start(thread_id, new=False):
        await chat.submit("")            # continue a step that was interrupted
    await chat.submit("check status")

Over 500 lines: ``Chat`` is one object whose turn loop, slash commands and
background follow-up share the conversation's state; ``PlainOutput`` sits beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import shlex
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    PauseEvent,
    PhaseEvent,
    ProgressEvent,
    StepEvent,
    TextEvent,
)
from integrations.errors import SatyaError

if TYPE_CHECKING:
    from agent.assistant import Assistant, NotificationStream, ThreadView

log = logging.getLogger("satya.chat")

MODES = ("supervised", "auto", "debug")
LEVELS = ("beginner", "intermediate", "expert")
SLASH_COMMANDS = (
    "/help",
    "/status",
    "/raw",
    "/threads",
    "/new",
    "/resume",
    "/mode",
    "/expertise",
    "/state",
    "/step",
    "/continue",
    "/quit",
)
QUIT = frozenset({"/quit", "/exit", "/q"})
# the replies with which a failed step ends its turn (flows/recovery.py)
FAILURE_KINDS = frozenset({"troubleshoot", "alternative", "tx_overdue", "step_stopped"})
# Handled at once even while a step runs; anything else waits for the step to end.
IMMEDIATE = frozenset({"/help", "/status", "/state", "/threads"})


def step_outcome(e: StepEvent) -> str:
    """'done in 1.2 s', 'failed (network_timeout) after 3.0 s': how a step or file ended."""
    took = f"{e.duration_s:.1f} s" if e.duration_s >= 0.1 else f"{e.duration_s * 1000:.0f} ms"
    if e.outcome == "ok":
        return f"done in {took}"
    if e.outcome == "failed":
        return f"failed ({e.error_code}) after {took}"
    return f"{e.outcome} after {took}"


def _file_safe(user: str) -> str:
    """A file name for a user id of any characters (readable when it is plain)."""
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", user) and not user.startswith("."):
        return user
    return "u-" + hashlib.sha256(user.encode()).hexdigest()[:32]


_RESUME_WORDS = frozenset({"resume", "retry", "continue", "go on", "try again"})
PROMPT_MARK = "›"
WELCOME = "Satya Agent — publish AI models on Sui. Type /help for commands."


class Output(Protocol):
    """Where the chat shows things: plain lines (a pipe) or rich screens (a terminal)."""

    def event(self, event: Event) -> None:
        """Show one event of a turn or of background work."""

    def info(self, text: str) -> None:
        """A line from the chat itself."""

    def problem(self, message: str, hint: str = "") -> None:
        """A friendly paragraph about something that went wrong, and what to do."""

    def help(self) -> None:
        """The commands."""

    def threads(self, rows: list[tuple[str, str]], current: str) -> None:
        """The user's conversations."""

    def state(self, values: dict[str, object], next_nodes: tuple[str, ...]) -> None:
        """Debug: the whole thread state."""


# -- the core: threads, commands, turns ------------------------------------------------------


class Chat:
    """One user's chat over an ``Assistant``: the thread, its view, the running turn.

    ``submit`` runs one input line as a cancellable task; ``cancel`` stops it.
    Everything it shows goes to ``out``, so the same core serves the pipe and
    the terminal.
    """

    def __init__(
        self,
        assistant: Assistant,
        out: Output,
        *,
        interactive: bool,
        verbose: bool = False,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.assistant = assistant
        self.out = out
        self.interactive = interactive
        self.verbose = verbose
        self.on_change = on_change
        self.thread = ""
        self.view: ThreadView | None = None
        self.phase = "idle"
        self.progress = 0.0
        self.tasks: dict[str, ProgressEvent] = {}
        self.known_threads: list[str] = []
        self.offer_resume = False  # a step was cut short: Enter or 'resume' continues it
        self.failures = 0  # turns (and background work) that ended in an error: a pipe's exit 1
        self._failed_now = False
        self._background: set[str] = set()  # progress tasks fed by notifications
        self._notes: NotificationStream | None = (
            None  # the followed notification stream, while follow() runs
        )
        self._showing = False  # follow() is showing a notification
        self._current: asyncio.Task[bool] | None = None

    # -- thread ----------------------------------------------------------------

    @property
    def user(self) -> str:
        """The user this chat speaks for (``--user``, ``SATYA_USER``)."""
        return self.assistant.settings.user

    @property
    def _last_file(self) -> Path:
        """The last conversation of this user (each user on a home has their own)."""
        return Path(self.assistant.settings.home) / "last_threads" / _file_safe(self.user)

    def resume_command(self) -> str:
        """The command that continues this conversation, exactly as it must be typed."""
        user = "" if self.user == "local" else f" --user {shlex.quote(self.user)}"
        return f"satya chat{user} --thread {self.thread}"

    @property
    def busy(self) -> bool:
        return self._current is not None and not self._current.done()

    async def start(self, thread: str | None, *, new: bool) -> bool:
        """Pick the thread (asked for, else the last one, else a new one) and say where it stands.

        True when an interrupted step should be continued right away.
        """
        explicit = bool(thread)
        chosen = thread or ""
        if not chosen and not new and self._last_file.is_file():
            chosen = self._last_file.read_text().strip()
        if chosen:
            owner = await self.assistant.owner(chosen)
            if owner is not None and owner != self.user:  # never resume another user's thread
                if explicit:
                    self.out.problem(
                        f"Conversation {chosen} is not one of {self.user}'s conversations.",
                        f"Its owner continues it with: satya chat --user {shlex.quote(owner)} "
                        f"--thread {chosen}. Starting a new conversation for {self.user}.",
                    )
                chosen = ""
        self.known_threads = await self.assistant.threads(self.user)
        if not chosen:
            await self._switch(await self.assistant.new_thread(self.user))
            self.out.info(f"New conversation {self.thread}. Say 'I'm new here' for a tour.")
            return False
        await self._switch(chosen)
        return await self._greet_resumed(auto_continue=explicit or not self.interactive)

    async def _switch(self, thread: str) -> None:
        self.thread = thread
        self.tasks.clear()
        self._background.clear()
        self.offer_resume = False
        self._last_file.parent.mkdir(parents=True, exist_ok=True)
        self._last_file.write_text(thread)
        if thread not in self.known_threads:
            self.known_threads.insert(0, thread)
        await self.refresh()

    async def _greet_resumed(self, *, auto_continue: bool) -> bool:
        view = self.view
        assert view is not None
        if not view.values:
            self.out.info(f"New conversation {self.thread}.")
            return False
        self.out.info(
            f"Resuming conversation {self.thread} (phase {view.phase}, {view.progress:.0%})."
            + (" /new starts a new one." if self.interactive else "")
        )
        if view.gate:
            self.out.info("Still waiting for your answer:")
            self.out.event(self.gate_event())
        elif view.next_nodes:
            self.offer_resume = True
            if auto_continue:
                self.out.info("A step was interrupted; continuing it now.")
                return True
            self.out.info(
                f"A step was interrupted ({', '.join(view.next_nodes)}); nothing was lost. "
                "Press Enter or say 'resume' to continue it; /new starts a new conversation."
            )
        elif view.status == "verifying":
            self.out.info(
                "Verification is running in the background; I'll tell you here when it ends."
            )
        return False

    def gate_event(self) -> GateEvent:
        """The pending gate of the thread, as the event that asked it."""
        from agent.replies import render

        gate = dict(self.view.gate or {}) if self.view else {}
        data = gate.get("data")
        data = dict(data) if isinstance(data, dict) else {}
        expertise = self.view.expertise if self.view else "intermediate"
        return GateEvent(
            gate=str(gate.get("gate", "")),
            text=render(str(gate.get("kind", "")), data, expertise),
            data=data,
            interrupt_id=str(gate.get("id", "")),
        )

    async def refresh(self) -> None:
        """Read the thread's state again (phase, progress, gate, pending step)."""
        self.view = await self.assistant.state(self.thread)
        self.phase, self.progress = self.view.phase, self.view.progress
        self.on_change()

    def prompt_text(self) -> str:
        """'[upload 45%]', with a mark for a waiting gate or debug mode."""
        marks = ""
        if self.view is not None and self.view.gate and not self.busy:
            marks += " ?"
        if self.view is not None and self.view.mode == "debug":
            marks += " debug"
        return f"[{self.phase} {self.progress:.0%}{marks}]"

    # -- turns -----------------------------------------------------------------

    async def submit(self, line: str) -> bool:
        """Handle one input line as a task that ``cancel`` can stop; False means quit."""
        task = asyncio.create_task(self.handle(line))
        self._current = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:  # the chat itself is closing: stop the step too
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise
        finally:
            self._current = None
        if task.cancelled():
            await self._stopped()
            return True
        error = task.exception()
        if error is not None:
            self.failures += 1
            self._report(error)
            with contextlib.suppress(Exception):
                await self.refresh()
            self._end_turn()
            return True
        return task.result()

    def cancel(self) -> bool:
        """Stop the step in progress (Ctrl-C); True if one was running."""
        if self.busy:
            assert self._current is not None
            self._current.cancel()
            return True
        return False

    async def _stopped(self) -> None:
        upload = next((t for t in self.tasks.values() if t.task.startswith("upload")), None)
        self._end_turn()
        await self.refresh()
        assert self.view is not None
        if not self.view.next_nodes or self.view.gate:
            self.out.info("Stopped.")
            return
        self.offer_resume = True
        detail = ""
        if upload is not None and upload.total:
            from agent.replies import human_bytes

            detail = (
                f" The upload is paused at {upload.fraction:.0%} "
                f"({human_bytes(upload.done)} of {human_bytes(upload.total)}); "
                "its finished chunks are kept."
            )
        self.out.info(
            f"Stopped.{detail} Nothing is lost: "
            + ("press Enter or say 'resume'" if self.interactive else "say 'resume'")
            + " to continue where it stopped."
        )

    def _report(self, error: BaseException) -> None:
        if isinstance(error, SatyaError):
            self.out.problem(error.message, error.hint)
            return
        log.error("internal error in the chat", exc_info=error)
        self.out.problem(
            "Something went wrong inside Satya Agent; your conversation is saved.",
            "Say 'resume' or 'retry' to go on, or 'support bundle' to report it"
            + ("." if self.verbose else " (satya --verbose chat shows the details)."),
        )

    async def handle(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        text = line.strip()
        if not text:
            if self.offer_resume:
                await self._turn(self.assistant.resume_pending(self.thread, user_id=self.user))
            elif self.interactive and self.view is not None and self.view.gate:
                default = "skip" if self.view.gate.get("gate") == "question" else "no"
                self.out.info(f"({default} — the default answer)")
                await self._turn(self.assistant.send(self.thread, default, user_id=self.user))
            return True
        if text.startswith("/"):
            return await self._command(text)
        if (
            text.lower().rstrip(".!") in _RESUME_WORDS
            and self.view is not None
            and self.view.next_nodes
            and not self.view.gate
        ):
            await self._turn(self.assistant.resume_pending(self.thread, user_id=self.user))
            return True
        await self._turn(self.assistant.send(self.thread, text, user_id=self.user))
        return True

    async def _turn(self, events: AsyncIterator[Event], *, quiet_pauses: bool = False) -> None:
        self.offer_resume = False
        self._failed_now = False
        try:
            async for event in events:
                if not (quiet_pauses and isinstance(event, PauseEvent)):
                    self.show(event)
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
            self.failures += self._failed_now
            self._failed_now = False
        await self.refresh()
        self._end_turn()

    def _end_turn(self) -> None:
        """Progress rows of the turn go; a verification still running on its own stays."""
        verifying = self.view is not None and self.view.status == "verifying"
        for name, task in list(self.tasks.items()):
            running = name in self._background or (verifying and name == "verification")
            if not running or task.fraction >= 1.0:
                del self.tasks[name]
                self._background.discard(name)
        self.on_change()

    def show(self, event: Event, *, background: bool = False) -> None:
        """Track what an event changes (progress, phase), then show it."""
        if isinstance(event, ProgressEvent):
            self.tasks[event.task] = event
            if background:
                self._background.add(event.task)
        elif isinstance(event, StepEvent) and event.kind == "file":
            # a file of a bulk upload ended: its row says how, and how long it took
            row = self.tasks.get(f"upload:{event.file_name}")
            if row is not None:
                self.tasks[row.task] = dataclasses.replace(row, message=step_outcome(event))
        elif isinstance(event, PhaseEvent):
            self.phase, self.progress = event.phase, event.progress
        elif isinstance(event, TextEvent) and (
            event.kind in ("verification_passed", "alternative")
            or event.kind.startswith("troubleshoot")
        ):
            self.tasks.pop("verification", None)
            self._background.discard("verification")
        if isinstance(event, ErrorEvent) or (
            isinstance(event, TextEvent) and event.kind in FAILURE_KINDS
        ):
            if background:
                self.failures += 1
            else:
                self._failed_now = True  # one failure per turn, however many errors it shows
        self.out.event(event)
        self.on_change()

    async def _command(self, text: str) -> bool:
        cmd, _, arg = text.partition(" ")
        cmd, arg = cmd.lower(), arg.strip()
        if cmd in QUIT:
            return False
        if cmd == "/help":
            self.out.help()
        elif cmd == "/status":
            if self.busy:
                await self._status_now()
            else:
                await self._turn(
                    self.assistant.send(self.thread, "check status", user_id=self.user)
                )
        elif cmd == "/raw":
            await self._turn(
                self.assistant.send(self.thread, f"show raw data {arg}".strip(), user_id=self.user)
            )
        elif cmd == "/state":
            await self.refresh()
            assert self.view is not None
            self.out.state(self.view.values, self.view.next_nodes)
        elif cmd in ("/step", "/continue"):
            await self._step(until_done=cmd == "/continue")
        elif cmd == "/threads":
            await self._threads()
        elif cmd == "/new":
            await self._switch(await self.assistant.new_thread(self.user))
            self.out.info(f"New conversation {self.thread}.")
        elif cmd == "/resume":
            await self._resume(arg)
        elif cmd in ("/mode", "/expertise"):
            await self._setting(cmd, arg.lower())
        else:
            self.out.problem(f"There is no command {cmd}.", "/help lists the commands.")
        return True

    async def _status_now(self) -> None:
        """/status while a step runs: the last saved state and the live progress."""
        from agent.screens import progress_line

        view = await self.assistant.state(self.thread)
        lines = [f"Phase: {self.phase} · status: {view.status} · progress {self.progress:.0%}"]
        lines += [progress_line(t) for t in self.tasks.values()]
        self.out.info("\n".join(lines))

    async def _step(self, *, until_done: bool) -> None:
        await self.refresh()
        assert self.view is not None
        if not self.view.next_nodes or self.view.gate:
            self.out.info(
                "Nothing is paused; /step and /continue work in debug mode (/mode debug)."
            )
            return
        for _ in range(100 if until_done else 1):
            await self._turn(self.assistant.resume_pending(self.thread, user_id=self.user))
            assert self.view is not None
            if not self.view.next_nodes or self.view.gate:
                break

    async def _threads(self) -> None:
        self.known_threads = await self.assistant.threads(self.user)
        rows = []
        for thread in self.known_threads[:20]:
            view = await self.assistant.state(thread)
            where = f"{view.phase} {view.progress:.0%}, {view.status}" if view.values else "empty"
            if view.gate:
                where += ", waiting for your answer"
            rows.append((thread, where))
        self.out.threads(rows, self.thread)

    async def _resume(self, thread: str) -> None:
        if not thread:
            self.out.problem("Which conversation?", "Say /resume ID; /threads lists them.")
            return
        self.known_threads = await self.assistant.threads(self.user)
        if thread not in self.known_threads:
            self.out.problem(f"There is no conversation {thread}.", "/threads lists yours.")
            return
        await self._switch(thread)
        if await self._greet_resumed(auto_continue=False):
            await self._turn(self.assistant.resume_pending(self.thread, user_id=self.user))

    async def _setting(self, cmd: str, value: str) -> None:
        allowed = MODES if cmd == "/mode" else LEVELS
        if value not in allowed:
            self.out.problem(
                f"{cmd} takes one of: {', '.join(allowed)}.", f"e.g. {cmd} {allowed[0]}"
            )
            return
        await self._turn(
            self.assistant.send(self.thread, f"{cmd} {value}", user_id=self.user), quiet_pauses=True
        )
        # In debug mode every turn stops before each step; a setting is not worth two /step.
        for _ in range(3):
            assert self.view is not None
            if self.view.gate or self.view.next_nodes[:1] not in (("intake",), ("settings",)):
                break
            await self._turn(
                self.assistant.resume_pending(self.thread, user_id=self.user), quiet_pauses=True
            )

    # -- background work ----------------------------------------------------------

    async def follow(self) -> None:
        """Show what happens outside a turn (background verification) as it happens."""
        notifications = getattr(self.assistant, "notifications", None)
        if notifications is None:
            return
        stream = self._notes = notifications(user_id=self.user)
        try:
            async for note in stream:
                self._showing = True
                event = note.event
                if note.user_id == self.user and isinstance(event, TextEvent):
                    # a marketplace event for this user (a sale), whatever the conversation;
                    # a verification's end is shown by its own events, below
                    if not event.kind.startswith("verification_ended"):
                        self.out.event(event)
                    self._showing = False
                    continue
                if note.thread_id != self.thread:
                    if isinstance(event, TextEvent) and event.kind == "verification_passed":
                        self.out.info(
                            f"(conversation {note.thread_id}: verification passed; "
                            f"/resume {note.thread_id} to go on there)"
                        )
                    continue
                self.show(event, background=True)
                if not isinstance(event, ProgressEvent):
                    await self.refresh()
                    if self.view is not None and self.view.status != "verifying":
                        for name in list(self._background):
                            self.tasks.pop(name, None)
                        self._background.clear()
                        self.on_change()
                self._showing = False
        finally:
            self._notes = None
            stream.close()

    async def wait_background(self) -> None:
        """Pipe mode at the end of input: let a background verification finish first."""
        wait_idle = getattr(self.assistant, "wait_idle", None)
        if wait_idle is None or self.view is None or self.view.status != "verifying":
            return
        self.out.info("Waiting for the verification to finish (Ctrl-C leaves; it goes on later)…")
        while not await wait_idle(self.thread, 60.0):
            pass
        # the completion was published before the monitor went idle: let follow() show it
        deadline = time.monotonic() + 30
        while self._notes is not None and (self._notes.pending or self._showing):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        await self.refresh()


# -- plain output: pipes ----------------------------------------------------------------------


class PlainOutput:
    """Line by line, no control codes: what a script reads."""

    def __init__(self, stream: TextIO, *, verbose: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose
        self._shown: dict[str, float] = {}

    def _print(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def event(self, event: Event) -> None:
        if isinstance(event, TextEvent | GateEvent):
            self._print(event.text)
        elif isinstance(event, ProgressEvent):
            last = self._shown.get(event.task, -1.0)
            if event.fraction < last:  # the task runs again (a retry, another file)
                last = -1.0
            if event.fraction >= 1.0 or event.fraction - last >= 0.25:
                from agent.screens import progress_line

                self._shown[event.task] = 2.0 if event.fraction >= 1.0 else event.fraction
                self._print(progress_line(event))
        elif isinstance(event, PhaseEvent):
            if self.verbose:
                self._print(f"· phase {event.phase} ({event.progress:.0%})")
        elif isinstance(event, StepEvent):
            if event.kind == "file":
                self._print(f"{event.file_name}: {step_outcome(event)}")
            elif self.verbose:
                self._print(f"· {event.kind} {event.name}: {step_outcome(event)}")
        elif isinstance(event, ErrorEvent):
            self.problem(event.message, event.hint, code=event.code)
        elif isinstance(event, PauseEvent):
            self._print(
                f"[debug] paused before: {', '.join(event.next_nodes)} — "
                "/step to go on, /state to look."
            )

    def info(self, text: str) -> None:
        self._print(text)

    def problem(self, message: str, hint: str = "", *, code: str = "") -> None:
        self._print(f"{message} {hint}".strip() + (f" [{code}]" if code and self.verbose else ""))

    def help(self) -> None:
        from agent.screens import COMMANDS, SAYINGS

        width = max(len(c) for c, _ in COMMANDS)
        self._print("Commands:")
        for cmd, what in COMMANDS:
            self._print(f"  {cmd.ljust(width)}  {what}")
        self._print(f"Say things like: {SAYINGS}")

    def threads(self, rows: list[tuple[str, str]], current: str) -> None:
        for thread, where in rows:
            self._print(("* " if thread == current else "  ") + f"{thread}  {where}")

    def state(self, values: dict[str, object], next_nodes: tuple[str, ...]) -> None:
        self._print(json.dumps(values, indent=2, default=str, sort_keys=True))
        if next_nodes:
            self._print(f"next: {', '.join(next_nodes)}")
