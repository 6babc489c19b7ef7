"""The chat model: an OpenAI-compatible ``/chat/completions`` endpoint, reached when configured.

Offline (no key, no base URL) there is no model and the rules answer alone;
``agent.wiring.build_interpreter`` makes that choice. Servers differ in how they
give structured output, and a slow one must never hold a turn, so ``ChatModel``:

- negotiates the output mode, in order ``json_schema`` (``response_format``),
  ``json_object`` (schema in the system prompt), ``tools`` (one forced function
  whose parameters are the schema), ``prompt`` (JSON asked for in words, the first
  balanced ``{...}`` of the text taken). A mode the server refuses on its first
  try is skipped; the first that answers is kept for every later call;
- bounds each call, negotiation included, by one total deadline (``deadline_s``):
  a server trickling a byte at a time cannot reset it;
- stops calling after ``CircuitBreaker.failures_to_open`` failures in a row
  (timeouts, unreachable, HTTP 5xx, 408, 429) for a cool-down that doubles up to a
  maximum, and closes again after one good answer.

Every failure is a ``ModelCallFailed`` (a ``LanguageModelError``), built from the
endpoint's address and status code only: never the key, never the server's text.

Example::

    model = ChatModel(api_key=None, base_url="http://127.0.0.1:8080/v1", model="qwen")
    answer = await model.structured_answer(system="...", user="...", output=MyAnswer)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from opentelemetry import trace
from pydantic import BaseModel, ValidationError

from integrations.errors import LanguageModelError

log = logging.getLogger("satya.llm")

OutputMode = Literal["json_schema", "json_object", "tools", "prompt"]
OUTPUT_MODES: tuple[OutputMode, ...] = ("json_schema", "json_object", "tools", "prompt")

FailureReason = Literal[
    "timeout", "unreachable", "server_error", "rate_limited", "rejected", "bad_answer"
]
# Reasons that say the endpoint is down or overloaded: they count towards the breaker.
TRANSIENT: frozenset[FailureReason] = frozenset(
    {"timeout", "unreachable", "server_error", "rate_limited"}
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Statuses that say nothing about the output mode: not a reason to try the next one.
_NOT_ABOUT_FORMAT = frozenset({401, 403, 404, 408, 409, 429, 502, 503, 504})
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "grammar", "tool")

Out = TypeVar("Out", bound=BaseModel)


class ModelCallFailed(LanguageModelError):
    """A call that gave no usable answer; ``reason`` says why, ``status`` the HTTP code.

    ``circuit_open`` is true when the call was not made at all (the breaker is open
    after repeated failures, ``reason`` then being the last one's); ``retry_in_s``
    says when the model will be tried again.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: FailureReason,
        status: int | None = None,
        circuit_open: bool = False,
        retry_in_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: FailureReason = reason
        self.status = status
        self.circuit_open = circuit_open
        self.retry_in_s = retry_in_s

    @property
    def transient(self) -> bool:
        return self.reason in TRANSIENT


class CircuitBreaker:
    """Opens after ``failures_to_open`` failures in a row; closed again by one success.

    Each opening lasts ``cooldown_s``, doubled at every reopening up to
    ``max_cooldown_s``. After the cool-down one trial call goes through (others
    still wait); its failure reopens the breaker at once.
    """

    def __init__(
        self,
        *,
        failures_to_open: int = 2,
        cooldown_s: float = 30.0,
        max_cooldown_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures_to_open
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        self._failures = 0
        self._cooldown_s = cooldown_s
        self._open_until: float | None = None
        self._trial = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def acquire(self) -> float | None:
        """``None`` when a call may go ahead now, else the seconds until one may."""
        if self._open_until is None:
            return None
        left = self._open_until - self._clock()
        if left > 0:
            return left
        if self._trial:
            return 0.0  # another call is finding out whether the model is back
        self._trial = True
        return None

    def release(self) -> None:
        """The call that ``acquire`` let through has ended, however it ended."""
        self._trial = False

    def succeeded(self) -> None:
        self._failures = 0
        self._open_until = None
        self._cooldown_s = self.base_cooldown_s

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self.failures_to_open:
            self._open_until = self._clock() + self._cooldown_s
            self._cooldown_s = min(self._cooldown_s * 2, self.max_cooldown_s)


class _Function(BaseModel):
    arguments: str | dict[str, Any] = ""


class _ToolCall(BaseModel):
    function: _Function


class _Message(BaseModel):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(BaseModel):
    message: _Message


class _Completion(BaseModel):
    """The part of a chat completion this adapter reads."""

    choices: list[_Choice]


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe to show and log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def first_json_object(text: str) -> str | None:
    """The first balanced ``{...}`` in ``text`` (strings and escapes respected), or ``None``."""
    start = text.find("{")
    while start != -1:
        depth = 0
        in_string = escaped = False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        start = text.find("{", start + 1)
    return None


def _refuses_format(response: httpx.Response) -> bool:
    """Whether an error answer may be the server refusing the output mode."""
    if not response.is_error:
        return False
    body = response.text.lower()
    if any(word in body for word in _FORMAT_WORDS):
        return True
    return response.status_code not in _NOT_ABOUT_FORMAT


MAX_TOKENS = 256


class ChatModel:
    """One OpenAI-compatible chat model answering with JSON validated by a pydantic model.

    ``http_client`` (optional) is used as given and left open; otherwise one is made
    and closed by ``aclose``. ``mode`` skips negotiation (known server). ``breaker``
    defaults to ``CircuitBreaker(clock=clock)``.
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        http_client: httpx.AsyncClient | None = None,
        deadline_s: float = 8.0,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        mode: OutputMode | None = None,
    ) -> None:
        self.model = model
        self.deadline_s = deadline_s
        self.breaker = breaker or CircuitBreaker(clock=clock)
        self._endpoint = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"
        self.url = display_url(base_url or DEFAULT_BASE_URL)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_client = http_client is None
        # httpx's own timeout only backs up the total deadline, which normally fires first.
        self._client = http_client or httpx.AsyncClient(timeout=deadline_s + 1.0)
        self._mode: OutputMode | None = mode
        self._last_failure: ModelCallFailed | None = None
        self.tracer: trace.Tracer | None = None  # an OpenTelemetry tracer: each call a span

    @property
    def mode(self) -> OutputMode | None:
        """The output mode the server was found to accept (``None`` until one answered)."""
        return self._mode

    async def structured_answer(
        self, *, system: str, user: str, output: type[Out], name: str = "answer"
    ) -> Out:
        """The model's answer to ``user`` as an ``output``; ``ModelCallFailed`` otherwise.

        With ``tracer`` set (an OpenTelemetry tracer) the call is a span ``satya.call
        llm.chat`` under the current span, with the model, the server (no credentials),
        the output mode and the outcome; never the prompt, the answer or the key."""
        if self.tracer is None:
            return await self._answer(system, user, output, name)
        span = self.tracer.start_span(
            "satya.call llm.chat",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "satya.call": "llm.chat",
                "satya.port": "llm",
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": self.model,
                "server.address": self.url,
            },
        )
        try:
            answer = await self._answer(system, user, output, name)
        except ModelCallFailed as failure:
            span.set_attribute("satya.outcome", "failed")
            span.set_attribute("satya.error_code", failure.reason)
            if failure.status is not None:
                span.set_attribute("http.response.status_code", failure.status)
            span.set_attribute("satya.llm.circuit_open", failure.circuit_open)
            span.set_status(trace.Status(trace.StatusCode.ERROR, failure.reason))
            raise
        except BaseException as error:  # cancelled, or not foreseen: the type, never the text
            span.set_attribute("satya.outcome", "stopped")
            span.set_attribute("satya.error_code", type(error).__name__)
            raise
        else:
            span.set_attribute("satya.outcome", "ok")
            return answer
        finally:
            if self._mode is not None:
                span.set_attribute("satya.llm.output_mode", self._mode)
            span.end()

    async def _answer(self, system: str, user: str, output: type[Out], name: str) -> Out:
        wait = self.breaker.acquire()
        if wait is not None:
            last = self._last_failure
            when = f"in {math.ceil(wait)} s" if wait > 0 else "by another request now"
            raise ModelCallFailed(
                f"The language model at {self.url} failed several times in a row;"
                f" it is tried again {when}.",
                reason=last.reason if last else "unreachable",
                status=last.status if last else None,
                circuit_open=True,
                retry_in_s=wait,
            )
        try:
            try:
                async with asyncio.timeout(self.deadline_s):
                    answer = await self._negotiate(system, user, output, name)
            except (TimeoutError, httpx.TimeoutException):
                raise self._failure(
                    f"did not answer within {self.deadline_s:g} s", "timeout"
                ) from None
            except httpx.TransportError as exc:
                log.debug("language model at %s: %s", self.url, type(exc).__name__)
                raise self._failure("could not be reached", "unreachable") from None
        except ModelCallFailed as failure:
            self._last_failure = failure
            if failure.transient:
                self.breaker.failed()
            raise
        finally:
            self.breaker.release()
        self._last_failure = None
        return answer

    async def _negotiate(self, system: str, user: str, output: type[Out], name: str) -> Out:
        schema = output.model_json_schema()
        modes = (self._mode,) if self._mode else OUTPUT_MODES
        for i, mode in enumerate(modes):
            response = await self._client.post(
                self._endpoint,
                json=self._payload(mode, system, user, schema, name),
                headers=self._headers,
            )
            if response.is_success:
                self.breaker.succeeded()  # the server is up, whatever the answer is worth
                if self._mode is None:
                    log.info("language model at %s: structured output by %s", self.url, mode)
                    self._mode = mode
                return self._read(response, output)
            last = i == len(modes) - 1
            if self._mode is None and not last and _refuses_format(response):
                log.info(
                    "language model at %s refused %s output (HTTP %d); trying %s",
                    self.url,
                    mode,
                    response.status_code,
                    modes[i + 1],
                )
                continue
            raise self._status_failure(response.status_code)
        raise AssertionError("unreachable: the last mode returns or raises")

    def _payload(
        self, mode: OutputMode, system: str, user: str, schema: dict[str, Any], name: str
    ) -> dict[str, Any]:
        in_words = (
            "\n\nAnswer with one JSON object and nothing else. It must match this JSON schema:\n"
            + json.dumps(schema)
        )
        extra: dict[str, Any] = {}
        if mode == "json_schema":
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
        elif mode == "json_object":
            system += in_words
            # llama.cpp's server turns a schema given here into a grammar; others ignore it
            extra["response_format"] = {"type": "json_object", "schema": schema}
        elif mode == "tools":
            system += f"\n\nAnswer by calling the function `{name}`."
            extra["tools"] = [
                {
                    "type": "function",
                    "function": {"name": name, "description": "The answer.", "parameters": schema},
                }
            ]
            extra["tool_choice"] = {"type": "function", "function": {"name": name}}
        else:
            system += in_words
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": 0,
            "max_tokens": MAX_TOKENS,  # an intent is short; a rambling model stops here
            **extra,
        }

    def _read(self, response: httpx.Response, output: type[Out]) -> Out:
        try:
            completion = _Completion.model_validate_json(response.content)
        except ValidationError:
            raise self._failure(
                "sent a reply that is not a chat completion", "bad_answer"
            ) from None
        if not completion.choices:
            raise self._failure("sent an empty reply", "bad_answer")
        message = completion.choices[0].message
        texts: list[str] = []
        for call in message.tool_calls or ():
            args = call.function.arguments
            texts.append(args if isinstance(args, str) else json.dumps(args))
        texts.append(message.content or "")
        for text in texts:
            found = first_json_object(text)
            if found is None:
                continue
            try:
                return output.model_validate_json(found)
            except ValidationError:
                continue
        raise self._failure("gave an answer that is not the JSON asked for", "bad_answer")

    def _status_failure(self, status: int) -> ModelCallFailed:
        if status in (401, 403):
            return self._failure(f"refused the API key (HTTP {status})", "rejected", status)
        if status == 404:
            return self._failure(
                f"does not know the model {self.model!r} or the address (HTTP 404)",
                "rejected",
                status,
            )
        if status in (408, 429):
            return self._failure(f"is too busy to answer (HTTP {status})", "rate_limited", status)
        if status >= 500:
            return self._failure(
                f"failed with a server error (HTTP {status})", "server_error", status
            )
        return self._failure(f"refused the request (HTTP {status})", "rejected", status)

    def _failure(
        self, what: str, reason: FailureReason, status: int | None = None
    ) -> ModelCallFailed:
        return ModelCallFailed(
            f"The language model at {self.url} {what}.", reason=reason, status=status
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


__all__ = [
    "OUTPUT_MODES",
    "ChatModel",
    "CircuitBreaker",
    "FailureReason",
    "ModelCallFailed",
    "OutputMode",
    "display_url",
    "first_json_object",
]
