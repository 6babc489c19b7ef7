"""OpenTelemetry spans for a turn, its journey steps and their external calls.

Off unless the ``Assistant`` is given a tracer provider (``SATYA_OTEL_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT`` makes one that exports over OTLP): then each turn is a
span ``satya.turn``, each recorded step a child ``satya.step <node>``, each call to
storage, ledger or enclave a grandchild ``satya.call <port.method>``, all with the
thread, workflow and user ids as attributes. Reading the message before the turn is a
span ``satya.read`` (thread and user ids), and a call to the language model made then
its child ``satya.call llm.chat`` (``integrations.llm.ChatModel``). Parents are passed explicitly (never
through the current context), so a span tree is the same whatever task runs a node.

Example::

    tracer = Tracer(provider.get_tracer("satya"))
    recorder = StepRecorder(thread_id="t1", user_id="ana", workflow_id="t1", tracer=tracer)
    turn = tracer.turn(recorder, kind="message")   # steps and calls of the run nest under it
    …
    turn.end_turn("ok")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer as OtelTracer


class _Ids(Protocol):
    """What a span is about (the run's ``StepRecorder``), and the spans open on it."""

    thread_id: str
    workflow_id: str
    user_id: str
    turn_span: TracedSpan | None
    node_span: TracedSpan | None


class TracedSpan:
    """One open span and the ids it carries."""

    def __init__(self, span: Span) -> None:
        self.span = span

    def _end(self, outcome: str, code: str) -> None:
        self.span.set_attribute("satya.outcome", outcome)
        if code:
            self.span.set_attribute("satya.error_code", code)
        if outcome == "failed":
            self.span.set_status(Status(StatusCode.ERROR, code or "failed"))
        self.span.end()

    def end_turn(self, outcome: str, code: str = "") -> None:
        self._end(outcome, code)

    def end_node(self, outcome: str, code: str) -> None:
        self._end(outcome, code)

    def end_call(self, outcome: str, code: str) -> None:
        self._end(outcome, code)


class Tracer:
    """Makes the turn / step / call spans of one process."""

    def __init__(self, tracer: OtelTracer) -> None:
        self.tracer = tracer

    @staticmethod
    def _attrs(ids: _Ids) -> dict[str, str]:
        return {
            "satya.thread_id": ids.thread_id,
            "satya.workflow_id": ids.workflow_id,
            "satya.user_id": ids.user_id,
        }

    @contextlib.contextmanager
    def reading(self, *, thread_id: str, user_id: str) -> Iterator[Span]:
        """The span of reading one message (``satya.read``), current while it lasts: a call
        to the language model made meanwhile is its child."""
        span = self.tracer.start_span(
            "satya.read", attributes={"satya.thread_id": thread_id, "satya.user_id": user_id}
        )
        with trace.use_span(span, end_on_exit=True):
            yield span

    def turn(self, ids: _Ids, *, kind: str) -> TracedSpan:
        """Open the span of one turn (its steps' parent)."""
        span = TracedSpan(
            self.tracer.start_span(
                "satya.turn", attributes={**self._attrs(ids), "satya.turn_kind": kind}
            )
        )
        ids.turn_span = span
        return span

    def node(self, name: str, ids: _Ids) -> TracedSpan:
        """Open the span of one step under the turn's."""
        parent = ids.turn_span
        ctx = trace.set_span_in_context(parent.span) if parent is not None else None
        span = TracedSpan(
            self.tracer.start_span(
                f"satya.step {name}",
                context=ctx,
                attributes={**self._attrs(ids), "satya.step": name},
            )
        )
        ids.node_span = span
        return span

    def call(self, name: str, ids: _Ids) -> TracedSpan:
        """Open the span of one external call under the step that makes it."""
        parent = ids.node_span or ids.turn_span
        ctx = trace.set_span_in_context(parent.span) if parent is not None else None
        port = name.split(".", 1)[0]
        return TracedSpan(
            self.tracer.start_span(
                f"satya.call {name}",
                context=ctx,
                kind=trace.SpanKind.CLIENT,
                attributes={**self._attrs(ids), "satya.call": name, "satya.port": port},
            )
        )
