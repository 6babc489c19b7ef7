"""Retrying storage calls: jittered exponential backoff, retryable errors only (tenacity).

Every retry can be announced: ``on_retry`` receives a ``RetryNotice`` (what is
retried, the attempt and how many there may be, the delay, the error) before
the wait starts.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from integrations.errors import StorageError

T = TypeVar("T")
MAX_BACKOFF_S = 10.0
_RNG = random.Random()


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """One automatic retry about to happen: ``attempt`` of ``of``, after ``delay_s``."""

    label: str  # what is retried, e.g. "chunk 3/12"
    attempt: int  # from 1
    of: int
    delay_s: float
    code: str
    message: str


def backoff_delay(attempt: int, backoff_s: float, *, rng: random.Random | None = None) -> float:
    """Delay before retry ``attempt`` (0-based): base * 2**attempt, jittered to 50-150%."""
    r = rng if rng is not None else _RNG
    return min(backoff_s * (2.0**attempt), MAX_BACKOFF_S) * r.uniform(0.5, 1.5)


def is_retryable(error: StorageError) -> bool:
    """Timeouts and unavailable services are worth another try; refusals never are."""
    return error.retryable


async def with_retries(
    op: Callable[[], Awaitable[T]],
    *,
    retries: int,
    backoff_s: float,
    should_retry: Callable[[StorageError], bool] = is_retryable,
    on_retry: Callable[[RetryNotice], None] | None = None,
    label: str = "",
) -> T:
    """Run ``op``; on a ``StorageError`` that ``should_retry`` accepts, try again up to
    ``retries`` more times, telling ``on_retry`` first. The last error is raised as is."""

    def wait(state: RetryCallState) -> float:
        return backoff_delay(state.attempt_number - 1, backoff_s)

    def announce(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.upcoming_sleep
        if on_retry is not None and isinstance(error, StorageError):
            on_retry(
                RetryNotice(label, state.attempt_number, retries, delay, error.code, error.message)
            )

    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, StorageError) and should_retry(e)),
        before_sleep=announce,
        reraise=True,
    ):
        with attempt:
            return await op()
    raise AssertionError("unreachable: the last attempt returns or raises")
