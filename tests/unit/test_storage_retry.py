"""``with_retries``: retryable storage errors are tried again, each retry announced first."""

from __future__ import annotations

import pytest

from integrations.errors import BlobRejected, NetworkTimeout, StorageError
from integrations.storage.retry import MAX_BACKOFF_S, RetryNotice, with_retries


class Flaky:
    """Fails with ``errors`` in turn, then answers ``done``."""

    def __init__(self, *errors: StorageError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


async def test_each_retry_is_announced_with_its_attempt_and_delay() -> None:
    notices: list[RetryNotice] = []
    op = Flaky(NetworkTimeout("slow"), NetworkTimeout("slow again"))
    got = await with_retries(
        op, retries=3, backoff_s=0.01, on_retry=notices.append, label="chunk 2/5"
    )
    assert got == "done" and op.calls == 3
    assert [(n.label, n.attempt, n.of) for n in notices] == [
        ("chunk 2/5", 1, 3),
        ("chunk 2/5", 2, 3),
    ]
    assert [n.message for n in notices] == ["slow", "slow again"]
    # base * 2**attempt, jittered to 50-150 %
    assert 0.005 <= notices[0].delay_s <= 0.015 and 0.01 <= notices[1].delay_s <= 0.03
    assert all(n.delay_s <= MAX_BACKOFF_S * 1.5 for n in notices)


async def test_the_last_error_is_raised_as_is_after_the_retries() -> None:
    notices: list[RetryNotice] = []
    last = NetworkTimeout("third time")
    op = Flaky(NetworkTimeout("one"), NetworkTimeout("two"), last)
    with pytest.raises(NetworkTimeout) as raised:
        await with_retries(op, retries=2, backoff_s=0.001, on_retry=notices.append)
    assert raised.value is last and op.calls == 3 and len(notices) == 2


async def test_a_refusal_is_never_retried() -> None:
    notices: list[RetryNotice] = []
    op = Flaky(BlobRejected("no"))
    with pytest.raises(BlobRejected):
        await with_retries(op, retries=5, backoff_s=0.001, on_retry=notices.append)
    assert op.calls == 1 and notices == []


async def test_should_retry_decides_what_is_tried_again() -> None:
    op = Flaky(BlobRejected("not yet"), BlobRejected("still not"))
    got = await with_retries(op, retries=2, backoff_s=0.001, should_retry=lambda e: True)
    assert got == "done" and op.calls == 3
