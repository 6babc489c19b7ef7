"""Retrying storage calls: jittered exponential backoff, retryable errors only.

Every retry can be announced: ``on_retry`` receives a ``RetryNotice`` (what is
retried, the attempt and how many there may be, the delay, the error) before
the wait starts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

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
    attempt = 0
    while True:
        try:
            return await op()
        except StorageError as exc:
            if attempt >= retries or not should_retry(exc):
                raise
            delay = backoff_delay(attempt, backoff_s)
            attempt += 1
            if on_retry is not None:
                on_retry(RetryNotice(label, attempt, retries, delay, exc.code, exc.message))
            await asyncio.sleep(delay)
