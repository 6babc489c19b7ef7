"""One retry rule: every error class is retried, or not, alike in single and bulk publication."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.journey_faults import VerifierWrapper
from agent.journey_files import make_model_file
from agent.wiring import build_services
from flows.failures import retry_rule
from integrations.errors import (
    ChainUnavailable,
    EnclaveUnavailable,
    NetworkTimeout,
    SatyaError,
    ServiceUnavailable,
    VerificationFailed,
    error_class,
    error_classes,
)
from integrations.tee.port import VerificationRequest, Verifier

MAX_AUTO_RETRIES = 1
# The documented tree (subclasses elsewhere share their parent's code and rule).
TREE = [cls for cls in error_classes() if cls.__module__ == "integrations.errors"]


class RaisingVerifier(VerifierWrapper):
    """A real verifier whose ``submit`` raises ``error`` every time; it counts the calls."""

    def __init__(self, inner: Verifier) -> None:
        super().__init__(inner)
        self.error: type[SatyaError] = SatyaError
        self.calls = 0

    async def submit(self, request: VerificationRequest, *, idempotency_key: str) -> str:
        self.calls += 1
        raise self.error(f"injected {self.error.code}")


def test_the_rule_reads_the_error_class_alone() -> None:
    assert retry_rule(NetworkTimeout.code) == "automatic"
    assert retry_rule(ServiceUnavailable.code) == "automatic"
    assert retry_rule(ChainUnavailable.code) == "automatic"  # a Sui node outage, too
    assert retry_rule(EnclaveUnavailable.code) == "automatic"
    assert retry_rule(VerificationFailed.code) == "final"
    assert retry_rule("insufficient_funds") == "on_request"
    assert retry_rule("no_such_code") == "on_request"
    for cls in TREE:
        assert error_class(cls.code) is cls
        assert retry_rule(cls.code) == (
            "automatic" if cls.retryable else "final" if cls.final else "on_request"
        )


async def test_every_error_class_is_retried_alike_in_single_and_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.05)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        home=tmp_path / "home",
        mode="auto",
        max_auto_retries=MAX_AUTO_RETRIES,
        verify_foreground_s=5.0,
    )
    calls: dict[str, dict[str, int]] = {}
    async with contextlib.AsyncExitStack() as stack:
        real = await build_services(settings, stack)
        verifier = RaisingVerifier(real.verifier)
        services = dataclasses.replace(real, verifier=verifier)
        async with Assistant.open(settings, services=services) as assistant:
            for cls in TREE:
                verifier.error = cls
                seen: dict[str, int] = {}
                for way, text in (
                    ("single", "quick upload m.safetensors"),
                    ("bulk", "bulk upload m.safetensors"),
                ):
                    verifier.calls = 0
                    thread = await assistant.new_thread()
                    events = [e async for e in assistant.send(thread, text)]
                    kinds = [e.kind for e in events if isinstance(e, TextEvent)]
                    assert "verification_passed" not in kinds and "bulk_file_done" not in kinds
                    seen[way] = verifier.calls
                calls[cls.__name__] = seen
    expected = {cls.__name__: 1 + (MAX_AUTO_RETRIES if cls.retryable else 0) for cls in TREE}
    assert {name: c["single"] for name, c in calls.items()} == expected
    assert {name: c["bulk"] for name, c in calls.items()} == expected
