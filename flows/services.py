"""What the graph's nodes are given: adapters and settings, as a typed runtime context.

Nodes read these through ``Runtime[Services]``; nothing is looked up from
module globals. ``agent.wiring`` builds a ``Services`` from ``Settings``;
tests and scripted journeys build their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from integrations.chain.port import Ledger, Signer
from integrations.storage.port import BlobStore
from integrations.tee.attestation import TrustedEnclaves
from integrations.tee.port import Verifier


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """The knobs of the journey (from ``Settings``)."""

    home: Path
    size_threshold_bytes: int = 100 * 1000 * 1000
    chunk_size: int = 8 * 1024 * 1024
    upload_concurrency: int = 4
    bulk_concurrency: int = 2  # files of a bulk upload in flight at once
    upload_retries: int = 3
    upload_backoff_s: float = 0.2
    epochs: int = 1
    price_frost_per_mib_epoch: int = 2100
    auto_cap_frost: int = 5 * 10**9
    auto_cap_mist: int = 5 * 10**9
    max_auto_retries: int = 1
    retry_backoff_s: float = 2.0  # the wait before the first automatic retry; doubles after
    deadline_factor: float = 3.0  # a long step is overdue past this many times its estimate
    deadline_min_s: float = 30.0  # ... and never before this
    call_timeout_s: float = 30.0  # one call to the enclave, or a chain query, at most
    tx_estimate_s: float = 5.0  # a ledger transaction's estimate until durations are recorded
    unsold_days: float = 14.0  # advice names a listing with no sale after this many days
    price_gap_percent: int = 30  # a price this far from comparables is advised on, and noticed
    result_max_age_s: float = 600.0
    verify_poll_s: float = 0.05
    verify_foreground_s: float = 10.0
    assumed_upload_bytes_per_s: float = 50e6
    assumed_verify_bytes_per_s: float = 200e6

    @property
    def journal_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def support_dir(self) -> Path:
        return self.home / "support"

    @property
    def downloads_dir(self) -> Path:
        return self.home / "downloads"


@dataclass(slots=True)
class Services:
    """The adapters one graph run uses."""

    storage: BlobStore
    ledger: Ledger
    verifier: Verifier
    wallet_for: Callable[[str], Awaitable[Signer]]
    trusted_enclaves: TrustedEnclaves
    config: FlowConfig
    extras: dict[str, object] = field(default_factory=dict)
