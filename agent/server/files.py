"""Model files over HTTP: streamed multipart uploads and paths under an allowed root.

Uploads are parsed as they arrive and written straight to
``SATYA_HOME/uploads/received/<user>/<upload id>/<name>`` (as ``<name>.part`` until the
body has ended), hashed on the way, on a
worker thread a megabyte at a time (the event loop keeps answering other requests);
nothing holds the whole file in memory, and a body over the limit is refused
with 413 and its partial file removed. A path in a message is accepted only if,
with symlinks resolved, it lies in the user's own uploads or under the
configured files root; anything else is refused before the journey sees it.
Uploads expire a while after their last use (``agent.server.expiry``); naming an
expired one gets 410 ``upload_expired``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from agent.assistant_base import Interpreter
from agent.server import expiry
from agent.server.limits import BodyTooLarge
from agent.understanding.dialogue import Dialogue
from agent.understanding.rules import extract_paths
from flows.intents import Intent
from integrations.storage.atomic import disk_full, is_disk_full

current_user: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "satya_http_user", default=None
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# The body's pieces are handed to a worker thread (parsed, hashed, written) this many bytes at
# a time: few hops per upload, and a batch small enough to hold in memory.
HOP_BYTES = 1024 * 1024


class UploadRefused(Exception):
    """An upload or a path the server will not take (status, code, message, hint)."""

    def __init__(self, status: int, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint


@dataclass(frozen=True, slots=True)
class StoredUpload:
    upload_id: str
    filename: str
    size: int
    sha256: str
    path: Path


def safe_name(name: str) -> str:
    """A file name with no directory part and only harmless characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")
    return cleaned[:128] or "model.bin"


def user_dir_name(user: str) -> str:
    """A directory name for a user id that cannot climb out of its parent."""
    return safe_name(user) + "-" + hashlib.sha256(user.encode()).hexdigest()[:8]


class FileAccess:
    """Which server paths a user's messages may name, and where uploads go.

    ``ttl_s`` is how long an upload is kept after its last use (None: for ever).
    """

    def __init__(self, home: Path, files_root: Path | None, *, ttl_s: float | None = None) -> None:
        self.uploads = (home / "uploads" / "received").resolve()
        self.files_root = files_root
        self.ttl_s = ttl_s

    def sweep(self) -> expiry.SweepReport:
        """Remove expired uploads and the leftovers of cut-off ones (logged)."""
        return expiry.logged_sweep(self.uploads, self.ttl_s)

    def user_uploads(self, user: str) -> Path:
        return self.uploads / user_dir_name(user)

    def upload_path(self, user: str, upload_id: str) -> Path | None:
        """The stored file of an upload of ``user``, its clock restarted; None if there is
        no such upload; UploadRefused (410) if it expired."""
        found = self.upload_info(user, upload_id)
        if found is None:
            return None
        expiry.touch(found[0].parent)
        return found[0]

    def upload_info(self, user: str, upload_id: str) -> tuple[Path, float] | None:
        """An upload's file and last use, without using it (UploadRefused if it expired)."""
        if not UPLOAD_ID.match(upload_id):
            return None
        folder = self.user_uploads(user) / upload_id
        gone = expiry.expired(folder)
        if gone is not None:
            raise upload_expired(gone)
        used = expiry.last_use(folder)
        if used is None or not folder.is_dir():
            return None
        files = [p for p in folder.iterdir() if p.is_file() and _is_upload_name(p.name)]
        return (files[0], used) if files else None

    def expires_at(self, last_use: float) -> float | None:
        """When an upload last used at ``last_use`` is removed (None: never)."""
        return None if self.ttl_s is None else last_use + self.ttl_s

    def referenced(self, user: str, values: Any) -> set[Path]:
        """The upload folders of ``user`` that a thread's state names (by file path)."""
        root = str(self.user_uploads(user)) + os.sep
        found: set[Path] = set()
        stack = [values]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list | tuple | set | frozenset):
                stack.extend(item)
            elif isinstance(item, str | os.PathLike):
                text = os.fspath(item)
                if isinstance(text, str) and text.startswith(root):
                    upload_id = text[len(root) :].split(os.sep, 1)[0]
                    if UPLOAD_ID.match(upload_id):
                        found.add(self.user_uploads(user) / upload_id)
        return found

    def expired_named(self, user: str, raw: str) -> expiry.Expired | None:
        """The expiry marker of an upload that ``raw`` (a name or path in a message) meant."""
        root = self.user_uploads(user)
        candidate = Path(raw)
        if candidate.is_absolute():
            return expiry.expired(candidate.parent) if candidate.parent.parent == root else None
        if len(candidate.parts) != 1 or not root.is_dir():
            return None
        name = safe_name(candidate.name)
        for marker in root.glob(f"*/{expiry.MARKER}"):
            gone = expiry.expired(marker.parent)
            if gone is not None and gone.filename == name:
                return gone
        return None

    def resolve(self, user: str, raw: str) -> Path | None:
        """The real path ``raw`` names for ``user``, or None if it is not allowed."""
        roots = [self.user_uploads(user)]
        if self.files_root is not None:
            roots.append(self.files_root)
        if raw.startswith("~"):  # nobody's home directory is reachable over HTTP
            return None
        candidate = Path(raw)
        options: list[Path] = []
        if candidate.is_absolute():
            options.append(candidate)
        else:
            if self.files_root is not None:
                options.append(self.files_root / candidate)
            options.extend(
                sorted(
                    roots[0].glob(f"*/{safe_name(candidate.name)}"),
                    key=lambda p: p.stat().st_mtime,
                    reverse=True,
                )
                if len(candidate.parts) == 1
                else []
            )
        for option in options:
            try:
                real = option.resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            if not real.is_file():
                continue
            if real.is_relative_to(roots[0]):
                if real.parent.parent != roots[0] or not _is_upload_name(real.name):
                    continue  # a marker or a file still arriving is no upload
                expiry.touch(real.parent)
                return real
            if any(real.is_relative_to(root) for root in roots[1:]):
                return real
        return None

    def check_text(self, user: str, text: str) -> None:
        """Refuse a message naming a path the user may not use (raises UploadRefused)."""
        for raw in extract_paths(text):
            if self.resolve(user, raw) is None:
                gone = self.expired_named(user, raw)
                if gone is not None:
                    raise upload_expired(gone)
                raise path_refused(raw, self.files_root is not None)


def _is_upload_name(name: str) -> bool:
    """An uploaded file's own name (``safe_name`` never starts one with a dot)."""
    return not name.startswith(".") and not name.endswith(expiry.PART)


def upload_expired(gone: expiry.Expired) -> UploadRefused:
    """410 for an upload removed for age: say so, and that it must be sent again."""
    what = f"The upload {gone.filename!r}" if gone.filename else "This upload"
    return UploadRefused(
        410,
        "upload_expired",
        f"{what} expired after {expiry.hours(gone.ttl_h)} without use and was removed.",
        "Upload the file again with POST /uploads and use the new upload_id.",
    )


def path_refused(raw: str, has_root: bool) -> UploadRefused:
    """403 for a path a user may not use; the hint fits whether a files root is set."""
    where = "your uploads or the server's files root" if has_root else "your uploads"
    return UploadRefused(
        403,
        "path_not_allowed",
        f"The file {safe_name(raw)!r} is not among {where}.",
        "Upload the file first with POST /uploads (then name it, or pass upload_id)"
        + (", or use a path under the server's files root." if has_root else "."),
    )


class GuardedInterpreter:
    """Wraps the interpreter so that every path the journey sees is an allowed real path."""

    def __init__(self, inner: Interpreter, access: FileAccess) -> None:
        self.inner = inner
        self.access = access

    async def interpret(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Intent:
        if context is not None:  # relative paths are the user's files, not the server's
            context = replace(context, base_dir=None)
        result: Intent = await self.inner.interpret(text, at_gate=at_gate, context=context)
        return self._guard(result)

    def resolve(self, kind: str, text: str, context: Dialogue) -> Intent:
        """``text`` read as the reading the user picked, its paths guarded the same way."""
        inner = getattr(self.inner, "resolve", None)
        found: Intent = (
            inner(kind, text, replace(context, base_dir=None))
            if callable(inner)
            else {"kind": kind, "text": text}  # type: ignore[typeddict-item]
        )
        return self._guard(found)

    def trace_with(self, tracer: Any) -> None:
        """Trace the inner interpreter's model calls, if it makes any."""
        trace_with = getattr(self.inner, "trace_with", None)
        if callable(trace_with):
            trace_with(tracer)

    def take_notice(self) -> str | None:
        """The language model's one-time notice, if the inner interpreter has one."""
        take = getattr(self.inner, "take_notice", None)
        return take() if callable(take) else None

    def _guard(self, result: Intent) -> Intent:
        paths = result.get("paths")
        if paths:
            user = current_user.get()
            mapped = []
            for raw in paths:
                real = self.access.resolve(user, raw) if user else None
                # a refused path becomes a name that exists nowhere: the journey says "not found"
                mapped.append(str(real) if real else f"/nonexistent/refused/{safe_name(raw)}")
            result = {**result, "paths": mapped}
        return result


def _multipart_boundary(content_type: str) -> bytes:
    """The boundary of a multipart/form-data body; 415 for any other body."""
    mime, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UploadRefused(
            415,
            "unsupported_media_type",
            "Uploads must be multipart/form-data with one file field.",
            "Send the file as a form field named 'file' (curl -F file=@model.safetensors).",
        )
    return boundary


class _FirstFilePart:
    """The multipart parser's callbacks: the first part with a file name is written to
    ``folder`` as ``NAME.part`` (mode 0600), hashed and counted as it comes (413 past
    ``max_bytes``); every other part is skipped."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.name = "model.bin"
        self.written = 0
        self.digest = hashlib.sha256()
        self.done = False  # the file part ended
        self._fh: BinaryIO | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        if params.get(b"filename") is None or self._fh is not None or self.done:
            return
        name = safe_name(params[b"filename"].decode("utf-8", "replace"))
        if name.lower().endswith(expiry.PART):  # the mark of a file still arriving
            raise UploadRefused(
                400,
                "partial_file",
                f"{name!r} looks like an unfinished download (.part): the server keeps "
                "files still arriving under that ending, so it cannot take one.",
                "Finish the download and upload the complete file under its own name "
                "(e.g. model.safetensors).",
            )
        self.name = name
        # only this service's user may read what a platform's users send (mode 0600)
        fd = os.open(self.folder / (name + ".part"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._fh = os.fdopen(fd, "wb")

    @property
    def started(self) -> bool:
        """Whether the file part began (its file is open or written)."""
        return self._fh is not None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._fh is None or self.done:
            return
        piece = data[start:end]
        self.written += len(piece)
        if self.written > self.max_bytes:
            raise _too_large(self.max_bytes)
        self.digest.update(piece)
        self._fh.write(piece)

    def on_part_end(self) -> None:
        if self._fh is not None and not self.done:
            self._fh.close()
            self.done = True
        self._headers = {}

    def discard(self) -> None:
        """Close the file and delete the upload's folder (a refused or broken body)."""
        if self._fh is not None:
            self._fh.close()
        shutil.rmtree(self.folder, ignore_errors=True)


async def receive_upload(
    chunks: AsyncIterator[bytes],
    content_type: str,
    folder: Path,
    *,
    max_bytes: int,
) -> StoredUpload:
    """Stream the first file part of a multipart body to ``folder``; 413 above ``max_bytes``."""
    boundary = _multipart_boundary(content_type)
    upload_id = secrets.token_urlsafe(12)
    target_dir = folder / upload_id
    await asyncio.to_thread(target_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
    part = _FirstFilePart(target_dir, max_bytes)
    parser = MultipartParser(
        boundary,
        {
            "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value,
            "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )

    def feed(pieces: list[bytes]) -> None:
        for piece in pieces:
            # a megabyte at a time: the parser holds the interpreter lock while it scans, so
            # a piece larger than that (some ASGI servers pass big ones) would stall the loop
            for at in range(0, len(piece), HOP_BYTES):
                parser.write(piece[at : at + HOP_BYTES] if len(piece) > HOP_BYTES else piece)

    try:
        # Parsing, hashing and writing run on a worker thread, a batch of the body's pieces
        # at a time (one hop per HOP_BYTES): other requests are answered meanwhile.
        batch: list[bytes] = []
        size = 0
        async for chunk in chunks:
            batch.append(chunk)
            size += len(chunk)
            if size >= HOP_BYTES:
                await asyncio.to_thread(feed, batch)
                batch, size = [], 0
        await asyncio.to_thread(feed, batch)
        parser.finalize()
    except UploadRefused:
        await asyncio.to_thread(part.discard)
        raise
    except BodyTooLarge:
        await asyncio.to_thread(part.discard)
        raise _too_large(max_bytes) from None
    except OSError as exc:
        await asyncio.to_thread(part.discard)
        if is_disk_full(exc):  # 507 from the error handler, the disk and the room named
            raise disk_full(target_dir, None) from None
        raise
    except Exception:
        await asyncio.to_thread(part.discard)
        raise UploadRefused(
            400,
            "bad_multipart",
            "The upload is not a well-formed multipart form.",
            "Send the file as a form field named 'file' (curl -F file=@model.safetensors).",
        ) from None
    if not part.done:
        await asyncio.to_thread(part.discard)
        if part.started:  # the body ended inside the file: it was cut short on the way
            raise UploadRefused(
                400,
                "upload_incomplete",
                f"The upload of {part.name!r} ended before the file did "
                f"(only {part.written} bytes arrived); nothing was kept.",
                "Send the file again (curl -F file=@model.safetensors ends the form properly).",
            )
        raise UploadRefused(
            400,
            "no_file",
            "The form has no file in it.",
            "Send the file as a form field named 'file' with a file name.",
        )
    final = target_dir / part.name
    await asyncio.to_thread((target_dir / (part.name + ".part")).rename, final)
    expiry.touch(target_dir)  # its lifetime starts now, not when the body began
    return StoredUpload(upload_id, part.name, part.written, part.digest.hexdigest(), final)


def _too_large(max_bytes: int) -> UploadRefused:
    return UploadRefused(
        413,
        "upload_too_large",
        f"The file is larger than this server accepts ({max_bytes} bytes).",
        "Compress or quantize the model, or ask the operator to raise "
        "SATYA_SERVER_MAX_UPLOAD_BYTES.",
    )
