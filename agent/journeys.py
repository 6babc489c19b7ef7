"""Scripted journeys: YAML files of user turns, faults and expectations.

The same files run from the command line (``satya journey run FILE``, exit code
0 only when every expectation holds) and under pytest (one test per file).

Format::

    name: beginner happy path
    user: ana                       # the user id (default "author")
    settings: {size_threshold_mb: 5}   # Settings overrides
    files:                          # real model files made for the run
      - {name: my-model.safetensors, kind: safetensors, size_mb: 2}
    walrus_server: {max_body_mib: 0.25, wal_balance_frost: 0}  # storage over HTTP to a local server
    faults:
      storage: {timeout_at: 0.6, requests: 1}   # or {insufficient_storage: true} or {corrupt_chunk: 1}
      verifier: {tamper: true}                    # or {fail: enclave_down}
      ledger: {unavailable: [events]}             # these ledger queries fail
      # ledger: {terms_fixed_at_upload: true}     # listing terms fixed at upload (live Sui)
    turns:
      - say: "upload ./my-model.safetensors"
        expect:
          phase: pre_upload_assessment
          gate: upload                  # the gate now waiting (null: none)
          reply_contains: ["cost"]      # substrings of this turn's replies (case-insensitive)
          reply_matches: ["\\d+ chunk"] # regular expressions
          reply_not_contains: ["Traceback"]
          reply_kinds: [assessment]     # typed replies seen this turn
          progress: [upload]            # tasks that reported progress this turn
          context: {quality_score: {min: 1, max: 100}, format: safetensors, listing_id: {exists: true}}
          steps_completed: [chunked_upload]
          ledger: {object: listing_id, type: MarketplaceModel, fields: {price: 2000000000}}
          # a bulk file's object: {file: a.onnx, object: listing_id, ...}; several: a list
          raw_json: true                # a raw-data reply parses as JSON (and has no secrets)
          bulk: {a.onnx: {status: done}}  # fields of each file's entry in a bulk upload
          files_absent: ["home/downloads/*"]  # globs that must match nothing
      - say: "yes"
        stop_at: 0.5                    # Ctrl-C once a task's progress reaches 50%
      - say: "resume"
        user: lee
        thread_of: kim                  # lee speaks on kim's conversation (refused)
      - restart: true                   # close and reopen on the same home, new thread
      - wait: verification              # the background verification's events, once it ends
      - wait: overdue                   # until a late step is announced ("taking longer than expected")
        expect: {gate: listing}

Over 500 lines: the script format (its models document it) with its runner and
expectation checks, one file a journey author reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field, ValidationError

from agent.assistant import Assistant, NotificationStream
from agent.events import ErrorEvent, Event, GateEvent, ProgressEvent, TextEvent
from agent.journey_faults import Faults, apply_faults
from agent.journey_faults import Strict as _Strict
from agent.journey_files import FileKind, make_model_file
from agent.settings import Settings
from flows.users import RULE as USER_RULE
from flows.users import valid_user_id
from integrations.errors import UserInputError


def _user_id(value: str) -> str:
    if not valid_user_id(value):
        raise ValueError(f"{value!r} is not a valid user id: use {USER_RULE}")
    return value


def _inside(name: str) -> str:
    """A file name relative to the journey's work directory that stays inside it."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not name or name.startswith(("/", "~")) or ".." in parts or ":" in name:
        raise ValueError(
            f"{name!r} is not a file name inside the journey's work directory "
            "(no absolute path, no '..', no '~')"
        )
    return name


UserId = Annotated[str, AfterValidator(_user_id)]


class FileSpec(_Strict):
    name: Annotated[str, AfterValidator(_inside)]
    kind: FileKind
    # a journey writes its files: more than 4 GB is a typo, not a test (found by fuzzing)
    size_mb: float = Field(default=1.0, gt=0, le=4096)


class WalrusServerSpec(_Strict):
    """Run the journey's storage through the Walrus HTTP adapter against a local server."""

    max_body_mib: float = Field(default=10.0, gt=0)
    wal_balance_frost: int | None = Field(default=None, ge=0)


class Expect(_Strict):
    phase: str | None = None
    status: str | None = None
    gate: str | Literal[False] | None = False  # False: not checked; None: no gate pending
    reply_contains: list[str] = Field(default_factory=list)
    reply_matches: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    reply_kinds: list[str] = Field(default_factory=list)
    progress: list[str] = Field(default_factory=list)
    context: dict[str, Any] = Field(default_factory=dict)
    steps_completed: list[str] = Field(default_factory=list)
    steps_pending: list[str] = Field(default_factory=list)
    ledger: dict[str, Any] | list[dict[str, Any]] | None = None
    raw_json: bool = False
    expertise: str | None = None
    # bulk upload: per file name, fields of its entry in context.bulk
    bulk: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # glob patterns (relative to the journey's directory) that must match no file
    files_absent: list[str] = Field(default_factory=list)


class Turn(_Strict):
    say: str | None = None
    user: UserId | None = None
    thread_of: UserId | None = None  # speak on this user's conversation (as ``user``)
    stop_at: float | None = Field(default=None, gt=0, le=1)  # Ctrl-C once progress reaches it
    restart: bool = False
    # verification: what background work did, until it ends; overdue: until a late step is
    # announced ("taking longer than expected")
    wait: Literal["verification", "overdue"] | None = None
    wait_s: float = Field(default=60.0, gt=0)
    expect: Expect = Field(default_factory=Expect)


class Journey(_Strict):
    name: str
    description: str = ""
    user: UserId = "author"
    settings: dict[str, Any] = Field(default_factory=dict)
    files: list[FileSpec] = Field(default_factory=list)
    faults: Faults = Field(default_factory=Faults)
    walrus_server: WalrusServerSpec | None = None
    turns: list[Turn]


@dataclass
class TurnReport:
    index: int
    said: str
    replies: list[str]
    failures: list[str] = field(default_factory=list)


@dataclass
class JourneyReport:
    name: str
    turns: list[TurnReport]

    @property
    def ok(self) -> bool:
        return all(not t.failures for t in self.turns)

    def summary(self) -> str:
        lines = [f"journey: {self.name}"]
        for t in self.turns:
            mark = "ok  " if not t.failures else "FAIL"
            lines.append(f"  [{mark}] turn {t.index}: {t.said}")
            for failure in t.failures:
                lines.append(f"         - {failure}")
            if t.failures:
                lines.append("         replies were:")
                lines += [f"           | {line}" for r in t.replies for line in r.splitlines()]
        passed = sum(1 for t in self.turns if not t.failures)
        lines.append(f"{passed} passed, {len(self.turns) - passed} failed")
        return "\n".join(lines)


def load_journey(path: Path) -> Journey:
    """Parse and validate a journey file; a clear error for a bad one."""
    hint = "Fix the journey file (its format is documented in agent/journeys.py) and run it again."
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserInputError(
            f"Cannot read the journey file {path} ({exc.strerror}).",
            hint="Check the path; a journey is a .yaml file such as tests/journeys/raw_data.yaml.",
        ) from None
    except UnicodeDecodeError:
        raise UserInputError(f"{path} is not a text file.", hint=hint) from None
    except RecursionError:
        raise UserInputError(f"{path} is nested too deeply to be a journey.", hint=hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "it does not parse"
        raise UserInputError(f"{path} is not valid YAML{at}: {problem}.", hint=hint) from None
    if not isinstance(data, dict):
        raise UserInputError(
            f"{path} does not hold a journey (a mapping with name, turns and expectations).",
            hint=hint,
        )
    try:
        return Journey.model_validate(data)
    except RecursionError:
        raise UserInputError(f"{path} is nested too deeply to be a journey.", hint=hint) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserInputError(f"{path}: {where}: {first['msg']}.", hint=hint) from None


def _start_walrus(
    stack: contextlib.ExitStack, workdir: Path, spec: WalrusServerSpec
) -> dict[str, Any]:
    """The local Walrus-compatible server on loopback; settings that point storage at it."""
    from integrations.storage.server import create_app
    from integrations.storage.serving import BackgroundServer

    app = create_app(
        data_dir=workdir / "walrus",
        max_body_size=int(spec.max_body_mib * 1024 * 1024),
        wal_balance_frost=spec.wal_balance_frost,
    )
    server = stack.enter_context(BackgroundServer(app))
    return {
        "storage_backend": "walrus",
        "walrus_publisher_url": server.url,
        "walrus_aggregator_url": server.url,
    }


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


async def run_journey(journey: Journey, *, workdir: Path | None = None) -> JourneyReport:
    """Run every turn against a fresh home; check each turn's expectations."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="satya-journey-"))
            )
        home = workdir / "home"
        for spec in journey.files:
            target = workdir / spec.name
            if not target.parent.resolve().is_relative_to(workdir.resolve()):  # via a symlink
                raise UserInputError(
                    f"The journey file {spec.name!r} would be written outside its work directory.",
                    hint="Name files relative to the journey's directory, without '..'.",
                )
            make_model_file(target, spec.kind, size_mb=spec.size_mb)
        overrides = dict(journey.settings)
        if journey.walrus_server is not None:
            overrides |= _start_walrus(stack, workdir, journey.walrus_server)
        try:
            settings = Settings(_env_file=None, home=home, user=journey.user, **overrides)  # type: ignore[call-arg]
        except ValidationError as exc:  # a setting of the wrong kind (found by fuzzing)
            first = exc.errors()[0]
            if not first["loc"] or first["loc"][0] not in overrides:
                raise  # from the environment: said as a bad SATYA_ value, as elsewhere
            where = ".".join(str(p) for p in first["loc"])
            raise UserInputError(
                f"The journey's settings.{where} is not valid: {first['msg']}.",
                hint="Fix the journey file (its format is documented in agent/journeys.py).",
            ) from None
        stack.enter_context(_cwd(workdir))
        return await _run_turns(journey, settings)


async def _run_turns(journey: Journey, settings: Settings) -> JourneyReport:
    reports: list[TurnReport] = []
    async with contextlib.AsyncExitStack() as outer:
        assistant = await outer.enter_async_context(_open(settings, journey))
        notes = assistant.notifications()
        threads = {journey.user: await assistant.new_thread(journey.user)}
        for index, turn in enumerate(journey.turns, start=1):
            if turn.restart:
                notes.close()
                await outer.aclose()
                assistant = await outer.enter_async_context(_open(settings, journey))
                notes = assistant.notifications()
                threads = {journey.user: await assistant.new_thread(journey.user)}
                reports.append(TurnReport(index, "(restart)", []))
                continue
            user = turn.user or journey.user
            if user not in threads:  # each user speaks in a conversation of their own
                threads[user] = await assistant.new_thread(user)
            thread = threads[user]
            if turn.thread_of is not None:
                if turn.thread_of not in threads:
                    threads[turn.thread_of] = await assistant.new_thread(turn.thread_of)
                thread = threads[turn.thread_of]
            if turn.wait is not None:
                if turn.wait == "overdue":
                    done, events = await _wait_overdue(notes, thread, turn.wait_s)
                else:
                    done = await assistant.wait_idle(thread, turn.wait_s)
                    events = [note.event for note in notes.drain(thread)]
                report = TurnReport(index, f"(wait for {turn.wait})", _texts(events))
                if not done:
                    report.failures.append(
                        "no late step announced"
                        if turn.wait == "overdue"
                        else f"{turn.wait} still running after {turn.wait_s:g} s"
                    )
                report.failures += await _check(turn.expect, events, assistant, thread)
                reports.append(report)
                continue
            if turn.say is None:
                reports.append(
                    TurnReport(index, "(nothing)", [], ["a turn needs 'say', 'wait' or 'restart'"])
                )
                continue
            events = await _say(assistant, thread, turn.say, user, turn.stop_at)
            said = (
                turn.say if turn.stop_at is None else f"{turn.say} (Ctrl-C at {turn.stop_at:.0%})"
            )
            report = TurnReport(index, said, _texts(events))
            report.failures = await _check(turn.expect, events, assistant, thread)
            reports.append(report)
    return JourneyReport(journey.name, reports)


async def _wait_overdue(
    notes: NotificationStream, thread: str, wait_s: float
) -> tuple[bool, list[Event]]:
    """Collect the thread's notifications until a late step is announced (or ``wait_s``)."""
    events: list[Event] = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        events += [note.event for note in notes.drain(thread)]
        if any(isinstance(e, TextEvent) and e.kind.endswith("_overdue") for e in events):
            return True, events
        await asyncio.sleep(0.05)
    return False, events


async def _say(
    assistant: Assistant, thread: str, text: str, user: str, stop_at: float | None
) -> list[Event]:
    if stop_at is None:
        return [e async for e in assistant.send(thread, text, user_id=user)]
    return await say_and_stop(assistant, thread, text, user, stop_at)


async def say_and_stop(
    assistant: Assistant, thread: str, text: str, user: str, at: float
) -> list[Event]:
    """Send ``text`` and stop the turn as Ctrl-C does (its task cancelled) once a task's
    progress reaches ``at``; the turn's events until then."""
    events: list[Event] = []
    reached = asyncio.Event()

    async def consume() -> None:
        async for event in assistant.send(thread, text, user_id=user):
            events.append(event)
            if isinstance(event, ProgressEvent) and event.fraction >= at:
                reached.set()

    turn = asyncio.create_task(consume())
    signal = asyncio.create_task(reached.wait())
    await asyncio.wait({turn, signal}, return_when=asyncio.FIRST_COMPLETED)
    for task in (turn, signal):
        task.cancel()
    for task in (turn, signal):
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return events


@contextlib.asynccontextmanager
async def _open(settings: Settings, journey: Journey) -> Any:
    from agent.wiring import build_services

    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        model_bytes = next(
            (p.stat().st_size for p in (Path(f.name) for f in journey.files) if p.is_file()), 0
        )
        services = apply_faults(services, journey.faults, model_bytes=model_bytes)
        async with Assistant.open(settings, services=services) as assistant:
            yield assistant


def _texts(events: list[Event]) -> list[str]:
    out: list[str] = []
    for e in events:
        if isinstance(e, TextEvent | GateEvent):
            out.append(e.text)
        elif isinstance(e, ErrorEvent):
            out.append(f"{e.message} {e.hint}".strip())
    return out


async def _check(
    expect: Expect, events: list[Event], assistant: Assistant, thread: str
) -> list[str]:
    failures: list[str] = []
    view = await assistant.state(thread)
    text = "\n".join(_texts(events))
    low = text.lower()
    if expect.phase is not None and view.phase != expect.phase:
        failures.append(f"phase: expected {expect.phase!r}, got {view.phase!r}")
    if expect.status is not None and view.status != expect.status:
        failures.append(f"status: expected {expect.status!r}, got {view.status!r}")
    if expect.expertise is not None and view.expertise != expect.expertise:
        failures.append(f"expertise: expected {expect.expertise!r}, got {view.expertise!r}")
    if expect.gate is not False:
        got = view.gate.get("gate") if view.gate else None
        if got != expect.gate:
            failures.append(f"gate: expected {expect.gate!r}, got {got!r}")
    for s in expect.reply_contains:
        if s.lower() not in low:
            failures.append(f"reply does not contain {s!r}")
    for s in expect.reply_not_contains:
        if s.lower() in low:
            failures.append(f"reply contains {s!r}, which it must not")
    for pattern in expect.reply_matches:
        if not re.search(pattern, text, re.I | re.M):
            failures.append(f"reply does not match /{pattern}/")
    kinds = [e.kind for e in events if isinstance(e, TextEvent)]
    for k in expect.reply_kinds:
        if k not in kinds:
            failures.append(f"no {k!r} reply (saw {kinds})")
    tasks = {e.task for e in events if isinstance(e, ProgressEvent)}
    for task in expect.progress:
        if task not in tasks:
            failures.append(f"no progress reported for {task!r}")
    for step in expect.steps_completed:
        if step not in view.completed_steps:
            failures.append(f"step {step!r} not completed (completed: {view.completed_steps})")
    for step in expect.steps_pending:
        if step not in view.pending_steps:
            failures.append(f"step {step!r} not pending")
    for key, want in expect.context.items():
        failures += _check_value(f"context.{key}", view.context.get(key), want)
    if expect.ledger is not None:
        specs = expect.ledger if isinstance(expect.ledger, list) else [expect.ledger]
        for spec in specs:
            failures += await _check_ledger(spec, view.context, assistant)
    if expect.raw_json:
        failures += _check_raw(events)
    if expect.bulk:
        failures += _check_bulk(expect.bulk, view.context.get("bulk"))
    for pattern in expect.files_absent:
        found = sorted(str(p) for p in Path.cwd().glob(pattern))
        if found:
            failures.append(f"files_absent: {pattern!r} matches {found}")
    return failures


def _check_value(label: str, got: Any, want: Any) -> list[str]:
    if isinstance(want, dict):
        out = []
        if "exists" in want and (got is not None) != bool(want["exists"]):
            out.append(
                f"{label}: expected {'a value' if want['exists'] else 'no value'}, got {got!r}"
            )
        if "min" in want and not (isinstance(got, int | float) and got >= want["min"]):
            out.append(f"{label}: expected >= {want['min']}, got {got!r}")
        if "max" in want and not (isinstance(got, int | float) and got <= want["max"]):
            out.append(f"{label}: expected <= {want['max']}, got {got!r}")
        if "matches" in want and not (isinstance(got, str) and re.search(want["matches"], got)):
            out.append(f"{label}: expected to match /{want['matches']}/, got {got!r}")
        return out
    return [] if got == want else [f"{label}: expected {want!r}, got {got!r}"]


def _check_bulk(spec: dict[str, dict[str, Any]], entries: Any) -> list[str]:
    items = {str(e.get("file_name")): e for e in entries or [] if isinstance(e, dict)}
    out = []
    for name, fields in spec.items():
        if name not in items:
            out.append(f"bulk: no entry for {name!r} (entries: {sorted(items)})")
            continue
        for key, want in fields.items():
            out += _check_value(f"bulk.{name}.{key}", items[name].get(key), want)
    return out


async def _check_ledger(
    spec: dict[str, Any], context: dict[str, Any], assistant: Assistant
) -> list[str]:
    where = context
    if "file" in spec:  # the object of one file of a bulk upload
        entries = [e for e in context.get("bulk") or [] if isinstance(e, dict)]
        found = [e for e in entries if e.get("file_name") == spec["file"]]
        if not found:
            return [f"ledger: no bulk entry for {spec['file']!r}"]
        where = found[0]
    object_id = where.get(str(spec.get("object", "")))
    if not object_id:
        what = f"bulk entry {spec['file']!r}" if "file" in spec else "context"
        return [f"ledger: {what} has no {spec.get('object')!r} to look up"]
    try:
        obj = await assistant.services.ledger.get_object(str(object_id))
    except Exception as exc:
        return [f"ledger: {object_id} not found ({exc})"]
    out = []
    if "type" in spec and not obj.type.endswith(f"::{spec['type']}"):
        out.append(f"ledger: {object_id} is a {obj.type}, expected {spec['type']}")
    for key, want in (spec.get("fields") or {}).items():
        out += _check_value(f"ledger.{key}", obj.fields.get(key), want)
    return out


_SECRETISH = re.compile(r"suiprivkey|private|secret|mnemonic|api_key", re.I)


def _check_raw(events: list[Event]) -> list[str]:
    raws = [e for e in events if isinstance(e, TextEvent) and e.kind == "raw_data"]
    if not raws:
        return ["no raw data reply"]
    try:
        data = json.loads(raws[0].text)
    except json.JSONDecodeError as exc:
        return [f"raw data is not JSON: {exc}"]
    out = [f"raw data lacks {k!r}" for k in ("objectId", "type", "content") if k not in data]
    if _SECRETISH.search(raws[0].text):
        out.append("raw data mentions something secret-looking")
    return out
