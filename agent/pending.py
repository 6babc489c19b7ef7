"""What waits for a user across all their conversations, and how to continue each.

``check status`` shows the current conversation and then this list: every upload,
verification, bulk file and listing of the user that is not finished, with the
conversation it belongs to and the words (or command) that move it on.

Example::

    views = [await assistant.state(t) for t in await assistant.threads("ana")]
    for op in await pending_operations(views, assistant.services.verifier):
        print(op.thread_id, op.what, "->", op.how)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flows.failures import retry_rule
from integrations.errors import SatyaError
from integrations.tee.port import Verifier


class ThreadLike(Protocol):
    """What is read of a conversation (``agent.assistant.ThreadView``)."""

    @property
    def thread_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def context(self) -> dict[str, object]: ...
    @property
    def error(self) -> dict[str, object] | None: ...
    @property
    def gate(self) -> dict[str, object] | None: ...
    @property
    def next_nodes(self) -> tuple[str, ...]: ...
    @property
    def values(self) -> dict[str, object]: ...


_GATE_WORDS = {
    "upload": "the upload question",
    "listing": "the listing question",
    "purchase": "the purchase question",
    "bulk": "the bulk upload question",
    "bulk_listing": "the bulk listing question",
}
_RETRYABLE_NODES = frozenset(
    {"upload", "register", "verify_submit", "verify_monitor", "list_model"}
)


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """One unfinished thing: which conversation, what it is, how far, how to go on."""

    thread_id: str
    kind: str  # gate, verification, paused, failed, listable, bulk_file
    what: str
    how: str
    file_name: str = ""
    fraction: float | None = None
    eta_s: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "thread_id": self.thread_id,
            "kind": self.kind,
            "what": self.what,
            "how": self.how,
            "file_name": self.file_name,
            "fraction": self.fraction,
            "eta_s": self.eta_s,
        }


async def pending_operations(
    views: Sequence[ThreadLike], verifier: Verifier
) -> list[PendingOperation]:
    """Every pending operation in these conversations of one user, in their order."""
    out: list[PendingOperation] = []
    for view in views:
        if view.values:
            out += await _of_thread(verifier, view)
    return out


def _go_on(thread_id: str, words: str) -> str:
    return f"say '{words}' in conversation {thread_id} (satya chat --thread {thread_id})"


async def _job(verifier: Verifier, job_id: str) -> tuple[float | None, float | None]:
    try:
        st = await verifier.status(job_id)
    except SatyaError:
        return None, None
    return st.fraction, st.eta_s


async def _of_thread(verifier: Verifier, view: ThreadLike) -> list[PendingOperation]:
    tid = view.thread_id
    ctx: dict[str, Any] = dict(view.context)
    name = str(ctx.get("file_name") or "")
    ops: list[PendingOperation] = []
    bulk = [f for f in ctx.get("bulk") or [] if isinstance(f, dict)]
    if view.gate is not None:
        gate = str(view.gate.get("gate", ""))
        ops.append(
            PendingOperation(
                tid,
                "gate",
                f"{_GATE_WORDS.get(gate, 'a question')} waits for your answer"
                + (f" ({name})" if name and not bulk else ""),
                _go_on(tid, "yes") + " or 'no'",
                file_name=name,
            )
        )
    elif view.status == "paused":
        ops.append(
            PendingOperation(
                tid,
                "paused",
                f"a stopped step ({', '.join(view.next_nodes)})" + (f" of {name}" if name else ""),
                _go_on(tid, "resume") + " or 'cancel'",
                file_name=name,
            )
        )
    if bulk:
        ops += await _bulk(verifier, tid, bulk)
        return ops
    if ctx.get("job_id") and not ctx.get("verification_id") and view.status == "verifying":
        fraction, eta = await _job(verifier, str(ctx["job_id"]))
        ops.append(
            PendingOperation(
                tid,
                "verification",
                f"verification of {name or 'a model'} runs in the background",
                "nothing to do: you are told when it ends (or " + _go_on(tid, "check status") + ")",
                file_name=name,
                fraction=fraction,
                eta_s=eta,
            )
        )
    error = view.error
    if view.status == "failed" and error and error.get("node") in _RETRYABLE_NODES:
        ops.append(
            PendingOperation(
                tid,
                "failed",
                f"{name or 'a model'} stopped at {error.get('node')}: {error.get('message')}",
                _go_on(tid, "retry"),
                file_name=name,
            )
        )
    if ctx.get("verification_id") and not ctx.get("listing_id") and view.gate is None:
        ops.append(
            PendingOperation(
                tid,
                "listable",
                f"{name or 'a model'} is verified but not listed",
                _go_on(tid, "list it"),
                file_name=name,
            )
        )
    return ops


async def _bulk(
    verifier: Verifier, tid: str, files: list[dict[str, Any]]
) -> list[PendingOperation]:
    """One line per file of a bulk upload that is not finished."""
    ops: list[PendingOperation] = []
    for f in files:
        name = str(f.get("file_name") or "")
        status = f.get("status")
        if status == "verifying" and f.get("job_id"):
            fraction, eta = await _job(verifier, str(f["job_id"]))
            ops.append(
                PendingOperation(
                    tid,
                    "bulk_file",
                    f"{name}: verification runs in the background",
                    "nothing to do: you are told when it ends",
                    file_name=name,
                    fraction=fraction,
                    eta_s=eta,
                )
            )
        elif status == "planned":
            ops.append(
                PendingOperation(
                    tid,
                    "bulk_file",
                    f"{name}: planned, not uploaded yet",
                    _go_on(tid, "yes"),
                    file_name=name,
                )
            )
        elif status == "failed" and retry_rule(str(f.get("error_code", ""))) != "final":
            ops.append(
                PendingOperation(
                    tid,
                    "bulk_file",
                    f"{name}: failed at {f.get('stage', 'upload')} ({f.get('error_code', '')})",
                    _go_on(tid, "retry"),
                    file_name=name,
                )
            )
        elif status == "done" and f.get("verification_id") and not f.get("listing_id"):
            ops.append(
                PendingOperation(
                    tid,
                    "bulk_file",
                    f"{name}: verified, not listed",
                    _go_on(tid, "list them"),
                    file_name=name,
                )
            )
    return ops
