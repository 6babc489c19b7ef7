"""Retrying storage calls: jittered exponential backoff, retryable errors only."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from integrations.errors import StorageError

T = TypeVar("T")
MAX_BACKOFF_S = 10.0
_RNG = random.Random()


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
) -> T:
    """Run ``op``; on a ``StorageError`` that ``should_retry`` accepts, try again up to
    ``retries`` more times. The last error is raised as is."""
    attempt = 0
    while True:
        try:
            return await op()
        except StorageError as exc:
            if attempt >= retries or not should_retry(exc):
                raise
            await asyncio.sleep(backoff_delay(attempt, backoff_s))
            attempt += 1
