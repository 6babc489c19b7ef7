"""``satya chat``: the terminal chat over ``Assistant``, on a terminal or in a pipe.

On a terminal (both stdin and stdout are TTYs):

* the prompt appears at once (the Assistant and the journey graph open while
  you type) and shows the phase and progress, ``[upload 45%] › ``;
* replies are rendered by ``agent.screens`` (tables for plans, listings and
  dashboards, JSON for raw data, gates as questions with their cost and default);
* uploads and verifications show live progress bars just above the prompt,
  updated in place while you keep typing; lines typed during a step run after it;
* history is saved in ``SATYA_HOME/history``; Tab completes slash commands and
  file paths; Esc Enter adds a line, and pasted lines stay one message;
* Ctrl-C stops the step in progress by cancelling its asyncio task (an upload
  keeps its finished chunks; Enter or 'resume' continues it), a second Ctrl-C or
  Ctrl-D leaves; the last conversation is offered on the next start.

In a pipe: plain lines, no control codes, one reply per line, so
``echo "check status" | satya chat`` is scriptable.

Example::

    await run_chat(Settings(), thread=None, new=False, verbose=False)

Over 500 lines: the prompt, the live progress above it, completion and key bindings
are parts of one prompt_toolkit application.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, cast

from agent.chat import (
    IMMEDIATE,
    LEVELS,
    MODES,
    PROMPT_MARK,
    QUIT,
    SLASH_COMMANDS,
    WELCOME,
    Chat,
    PlainOutput,
)
from agent.events import (
    ErrorEvent,
    Event,
    GateEvent,
    PauseEvent,
    PhaseEvent,
    StepEvent,
    TextEvent,
)
from agent.home import prepare_home
from integrations.errors import SatyaError

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from rich.console import Console, RenderableType

    from agent.settings import Settings

log = logging.getLogger("satya.repl")


# -- rich output: terminals -------------------------------------------------------------------


class RichOutput:
    """Screens from ``agent.screens`` on a rich console (above the prompt while it is shown)."""

    def __init__(self, console: Console, *, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose

    def _print(self, renderable: RenderableType, *, soft_wrap: bool = False) -> None:
        self.console.print(renderable, soft_wrap=soft_wrap)

    def event(self, event: Event) -> None:
        from agent import screens

        if isinstance(event, TextEvent):
            # Raw JSON is never broken by hard wraps: it stays copyable and parseable.
            self._print(screens.reply(event), soft_wrap=event.kind == "raw_data")
        elif isinstance(event, GateEvent):
            self._print(screens.gate(event))
        elif isinstance(event, ErrorEvent):
            self._print(screens.error(event, verbose=self.verbose))
        elif isinstance(event, PauseEvent):
            self._print(screens.pause(event))
        elif isinstance(event, PhaseEvent) and self.verbose:
            self._print(f"[dim]· phase {event.phase} ({event.progress:.0%})[/]")
        elif isinstance(event, StepEvent) and self.verbose:
            from agent.chat import step_outcome

            self._print(f"[dim]· {event.kind} {event.name}: {step_outcome(event)}[/]")

    def info(self, text: str) -> None:
        from rich.text import Text

        self._print(Text(text, style="dim" if text.startswith("(") else ""))

    def problem(self, message: str, hint: str = "") -> None:
        from agent import screens

        self._print(screens.problem(message, hint))

    def help(self) -> None:
        from agent import screens

        self._print(screens.help_screen())

    def threads(self, rows: list[tuple[str, str]], current: str) -> None:
        from agent import screens

        self._print(screens.threads(rows, current))

    def state(self, values: dict[str, object], next_nodes: tuple[str, ...]) -> None:
        from agent import screens

        self._print(screens.state(values, next_nodes), soft_wrap=True)


def _completer(chat: Callable[[], Chat | None]) -> Completer:
    """Slash commands and their arguments; file paths after 'upload' or where a path starts."""
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    paths = PathCompleter(expanduser=True)

    class ChatCompleter(Completer):
        def get_completions(self, document: Document, complete_event: Any) -> Iterable[Completion]:
            text = document.text_before_cursor
            if text.startswith("/") and " " not in text:
                for cmd in SLASH_COMMANDS:
                    if cmd.startswith(text.lower()):
                        yield Completion(cmd, start_position=-len(text))
                return
            if text.startswith("/"):
                cmd, _, arg = text.partition(" ")
                current = chat()
                choices = {
                    "/mode": MODES,
                    "/expertise": LEVELS,
                    "/resume": tuple(current.known_threads if current else ()),
                }.get(cmd.lower(), ())
                for choice in choices:
                    if choice.startswith(arg):
                        yield Completion(choice, start_position=-len(arg))
                return
            quoted = text.count('"') % 2 == 1  # inside a quoted path: it may hold spaces
            word = text.rsplit('"', 1)[-1] if quoted else (text.split(" ")[-1] if text else "")
            before = text[: len(text) - len(word) - quoted].lower().split()
            if not (
                quoted
                or word.startswith(("/", ".", "~"))
                or "/" in word
                or (before and before[-1] in ("upload", "bulk"))
            ):
                return
            for found in paths.get_completions(Document(word, len(word)), complete_event):
                whole = word[: len(word) + found.start_position] + found.text
                if not quoted and " " not in whole:
                    yield found
                    continue
                # a name with spaces goes in quotes, so that it stays one path; a folder's
                # quote stays open for the name inside it
                folder = whole.endswith("/") or Path(whole).expanduser().is_dir()
                end = ("" if whole.endswith("/") else "/") if folder else '"'
                yield Completion(
                    f'"{whole}{end}',
                    start_position=-len(word) - quoted,
                    display=found.display,
                )

    return ChatCompleter()


class _Above(io.TextIOBase):
    """A text stream whose flushed text goes to ``emit`` (above the prompt)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__()
        self._emit = emit
        self._parts: list[str] = []

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        if self._parts:
            text, self._parts = "".join(self._parts), []
            self._emit(text)


class Terminal:
    """The interactive face: a prompt_toolkit session in front, the Assistant opening behind it."""

    def __init__(self, settings: Settings, *, verbose: bool) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.keys import Keys
        from prompt_toolkit.styles import Style
        from rich.console import Console

        self.settings = settings
        self.verbose = verbose
        self.screen = _Above(self.write_above)
        self.console = Console(
            file=cast(IO[str], self.screen), force_terminal=True, highlight=False
        )
        # Progress rows are rendered by rich, then shown by prompt_toolkit inside the prompt.
        self._bars = Console(file=io.StringIO(), force_terminal=True, highlight=False)
        self.chat: Chat | None = None
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.failure: BaseException | None = None
        self._ctrl_c = False
        self._side_tasks: set[asyncio.Future[bool]] = set()
        home = Path(settings.home)
        prepare_home(home)
        keys = KeyBindings()

        @keys.add("escape", "enter")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        @keys.add("c-c")
        @keys.add(Keys.SIGINT)
        def _ctrl_c(event: Any) -> None:
            self._interrupt(event.current_buffer)

        self.session: PromptSession[str] = PromptSession(
            history=FileHistory(str(home / "history")),
            completer=_completer(lambda: self.chat),
            complete_while_typing=False,
            key_bindings=keys,
            style=Style.from_dict(
                {
                    "bottom-toolbar": "noreverse fg:ansibrightblack",
                    "prompt.phase": "bold ansicyan",
                    "prompt.mark": "bold",
                }
            ),
        )
        self.session.default_buffer.accept_handler = self._accept

    def invalidate(self) -> None:
        app = self.session.app
        if app.is_running:
            app.invalidate()

    def write_above(self, text: str) -> None:
        """Print above the prompt and draw the prompt again below.

        Unlike ``run_in_terminal`` (what ``patch_stdout`` uses), the terminal stays
        in raw mode: a key pressed while a reply prints (Ctrl-C above all) still
        reaches the prompt instead of the tty's line discipline.
        """
        app = self.session.app
        output = app.output
        if app.is_running and not app.is_done:
            app.renderer.erase()
            output.write_raw(text)
            output.flush()
            app.renderer.request_absolute_cursor_position()
            app.invalidate()
        else:
            output.write_raw(text)
            output.flush()

    # The prompt: live progress rows (if any) above '[phase 45%] › '.
    def message(self) -> StyleAndTextTuples:
        from prompt_toolkit.application import get_app_or_none
        from prompt_toolkit.formatted_text import ANSI, to_formatted_text

        chat = self.chat
        out: StyleAndTextTuples = []
        app = get_app_or_none()
        if chat is not None and chat.tasks and not (app is not None and app.is_done):
            out += to_formatted_text(ANSI(self._render_progress(chat)))
            out.append(("", "\n"))
        head = "[starting]" if chat is None else chat.prompt_text()
        return [*out, ("class:prompt.phase", head), ("class:prompt.mark", f" {PROMPT_MARK} ")]

    def _render_progress(self, chat: Chat) -> str:
        from agent import screens

        bars = self._bars
        bars.file = io.StringIO()
        bars.width = max(40, self.session.app.output.get_size().columns - 1)
        bars.print(screens.progress(list(chat.tasks.values())))
        return bars.file.getvalue().rstrip("\n")

    def toolbar(self) -> str:
        chat = self.chat
        if chat is None:
            return " opening your conversations… you can type already"
        view = chat.view
        mode = view.mode if view else "supervised"
        if chat.busy:
            return " working · Ctrl-C stops this step · what you type now runs after it"
        return f" conversation {chat.thread} · {mode} mode · /help · Ctrl-D leaves"

    async def _open(self, thread: str | None, new: bool, closing: asyncio.Event) -> None:
        """Open the Assistant (heavy imports in a worker thread), start the chat, keep it open."""
        await asyncio.to_thread(importlib.import_module, "agent.assistant")
        from agent.assistant import Assistant

        async with Assistant.open(self.settings) as assistant:
            chat = Chat(
                assistant,
                RichOutput(self.console, verbose=self.verbose),
                interactive=True,
                verbose=self.verbose,
                on_change=self.invalidate,
            )
            follower = asyncio.create_task(chat.follow())
            try:
                resume = await chat.start(thread, new=new)
                self.chat = chat
                self.invalidate()
                if resume:
                    self.inbox.put_nowait("")
                await closing.wait()
            finally:
                follower.cancel()
                with contextlib.suppress(BaseException):
                    await follower

    async def _work(self, opened: asyncio.Task[None]) -> None:
        """Run queued lines one after another."""
        while True:
            line = await self.inbox.get()
            while self.chat is None:
                if opened.done():
                    return
                await asyncio.sleep(0.02)
            if not await self.chat.submit(line):
                self._leave()
                return
            self.invalidate()

    def _leave(self) -> None:
        app = self.session.app
        if app.is_running and not app.is_done:
            app.exit(exception=EOFError())

    async def run(self, thread: str | None, new: bool) -> int:
        from prompt_toolkit.patch_stdout import patch_stdout

        self.console.print(
            "[bold]Satya Agent[/] — publish AI models on Sui. "
            "[dim]/help lists the commands; Ctrl-C stops a step, Ctrl-D leaves.[/]"
        )
        closing = asyncio.Event()
        opened = asyncio.create_task(self._open(thread, new, closing))
        opened.add_done_callback(self._opened_done)
        worker = asyncio.create_task(self._work(opened))
        with patch_stdout(raw=True):  # stray prints from libraries also go above the prompt
            self._route_logs()
            try:
                # One prompt for the whole session: Enter hands lines on without ending it, so
                # the terminal never leaves raw mode and no key is lost to the tty meanwhile.
                await self.session.prompt_async(self.message, bottom_toolbar=self.toolbar)
            except (EOFError, KeyboardInterrupt):
                pass
            finally:
                worker.cancel()
                with contextlib.suppress(BaseException):
                    await worker
                if self.chat is not None and self.chat.busy:
                    self.chat.cancel()
                closing.set()
                with contextlib.suppress(BaseException):
                    await opened
        if self.failure is not None:
            return _fatal(self.failure, self.console, verbose=self.verbose)
        if self.chat is not None:
            from rich.text import Text

            self.console.print(
                Text.assemble(
                    "Bye. Your conversation is saved: ",
                    (self.chat.resume_command(), "bold"),
                )
            )
        return 0

    def _opened_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
            self._leave()

    def _route_logs(self) -> None:
        """--verbose logs go above the prompt, not through it."""
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(self.screen)

    def _accept(self, buffer: Buffer) -> bool:
        """Enter: echo the line above the prompt and hand it on; the prompt stays."""
        from rich.text import Text

        line = buffer.text
        self._ctrl_c = False
        chat = self.chat
        head = "[starting]" if chat is None else chat.prompt_text()
        self.console.print(Text.assemble((head, "bold cyan"), (f" {PROMPT_MARK} ", "bold"), line))
        command = line.strip().split(" ")[0].lower()
        if command in QUIT:
            self._leave()
        elif chat is not None and chat.busy and command in IMMEDIATE:
            task = asyncio.ensure_future(chat.handle(line))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
        else:
            if chat is not None and chat.busy:
                self.console.print("[dim](queued: it runs when the current step ends)[/]")
            self.inbox.put_nowait(line)
        return False  # clear the input line

    def _interrupt(self, buffer: Buffer) -> None:
        """Ctrl-C: stop the step in progress; else clear the line; at rest, twice leaves."""
        if self.chat is not None and self.chat.cancel():
            dropped = self._drop_queued()
            if dropped:
                self.console.print(f"[dim](dropped {dropped} line(s) typed meanwhile)[/]")
            self._ctrl_c = False
        elif buffer.text:
            buffer.reset()
        elif self._ctrl_c:
            self._leave()
        else:
            self._ctrl_c = True
            self.console.print("[dim](Ctrl-C again or Ctrl-D to leave)[/]")

    def _drop_queued(self) -> int:
        n = 0
        while not self.inbox.empty():
            self.inbox.get_nowait()
            n += 1
        return n


# -- pipe mode ----------------------------------------------------------------------------------


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of stdin on a daemon thread (works for pipes and files; never blocks the exit)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="satya-stdin", daemon=True).start()
    return queue


async def _run_pipe(settings: Settings, *, thread: str | None, new: bool, verbose: bool) -> int:
    from agent.assistant import Assistant

    out = PlainOutput(sys.stdout, verbose=verbose)
    async with Assistant.open(settings) as assistant:
        chat = Chat(assistant, out, interactive=False, verbose=verbose)
        follower = asyncio.create_task(chat.follow())
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        interrupts = [0]

        def on_sigint() -> None:  # the first Ctrl-C stops the step, the second leaves
            interrupts[0] += 1
            if (not chat.cancel() or interrupts[0] > 1) and main is not None:
                main.cancel()

        # Signal handlers need the main thread of a POSIX loop (NotImplementedError on
        # Windows, RuntimeError elsewhere); without one, Ctrl-C raises KeyboardInterrupt,
        # which main() turns into a clean exit.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            out.info(WELCOME)
            if await chat.start(thread, new=new):
                await chat.submit("")
            lines = _stdin_lines(loop)
            while True:
                line = await lines.get()
                if line is None:
                    break
                out.info(f"> {line.rstrip()}")
                if line.strip().split(" ")[0].lower() in QUIT:
                    break
                if not await chat.submit(line):
                    break
                interrupts[0] = 0
            await chat.wait_background()
        except asyncio.CancelledError:
            out.info("Stopped.")
        finally:
            follower.cancel()
            with contextlib.suppress(BaseException):
                await follower
            with contextlib.suppress(NotImplementedError, RuntimeError):  # as when added
                loop.remove_signal_handler(signal.SIGINT)
        out.info(f"Bye. Your conversation is saved: {chat.resume_command()}")
    if chat.failures:  # a script sees that something went wrong
        n = chat.failures
        print(
            f"{n} turn{'s' if n != 1 else ''} ended in an error (shown above); exit status 1.",
            file=sys.stderr,
        )
        return 1
    return 0


def _fatal(error: BaseException, console: Console | None, *, verbose: bool) -> int:
    """A problem that stops the chat: one paragraph (the traceback only with --verbose)."""
    if isinstance(error, SatyaError):
        message, hint = error.message, error.hint
    else:
        message = "Satya Agent could not go on because of an internal problem; your conversations are saved."
        hint = "Run it again; if this keeps happening, run 'satya --verbose chat' and report what it shows."
        if verbose:
            log.error("the chat stopped", exc_info=error)
    if console is not None:
        from agent import screens

        console.print(screens.problem(message, hint))
    else:
        print(f"{message}\n{hint}", file=sys.stderr)
    return 2


def is_terminal() -> bool:
    """Both ends are a terminal (a pipe on either side means plain lines)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


async def run_chat(
    settings: Settings,
    *,
    thread: str | None,
    new: bool,
    verbose: bool,
    interface: Literal["auto", "terminal", "plain"] = "auto",
) -> int:
    """The chat; returns the exit code (0, or 2 after a problem it explained)."""
    terminal = interface == "terminal" or (interface == "auto" and is_terminal())
    if terminal:
        return await Terminal(settings, verbose=verbose).run(thread, new)
    try:
        return await _run_pipe(settings, thread=thread, new=new, verbose=verbose)
    except Exception as error:  # explained in one paragraph, never a traceback
        return _fatal(error, None, verbose=verbose)
