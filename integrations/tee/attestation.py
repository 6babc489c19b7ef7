"""Deciding whether a signed verification result can be trusted.

A result is accepted only when all of these hold, checked in this order:
the signing key is registered; the PCRs it was registered with are still
allowed; the Ed25519 signature verifies over BCS(IntentMessage) with the
result's schema (the product's or Satya's ``MLQualityResponse``,
``integrations.tee.schemas``); the intent is ``process data``; the timestamp is
neither older than ``max_age_s`` nor in the future (beyond a small skew); the
signed model digest (and blob id, when given) are the ones expected.

Example::

    trusted = TrustedEnclaves()
    trusted.allow_pcrs(info.pcrs)
    trusted.register(info)
    verified = verify_result(signed, trusted=trusted, expected_model_digest=sha,
                             expected_blob_id=blob_id, max_age_s=600, now_ms=now)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.errors import ResultRejected
from integrations.tee.port import EnclaveInfo, SignedResult
from integrations.tee.schemas import schema_for
from integrations.tee.signing import (
    INTENT_PROCESS_DATA,
    intent_message_bytes,
    verify_intent_signature,
)

Pcrs = tuple[str, str, str]


@dataclass
class TrustedEnclaves:
    """Allow-listed PCR triples and the enclave keys registered under them.

    ``register`` mirrors the on-chain ``register_enclave``: the enclave's PCRs
    must be allowed at registration, and must still be allowed when a result
    is checked.

    Example::

        trusted = TrustedEnclaves()
        trusted.allow_pcrs(("00" * 48,) * 3)     # debug enclaves only in tests
        trusted.register(enclave.info())
    """

    allowed_pcrs: set[Pcrs] = field(default_factory=set)
    keys: dict[str, Pcrs] = field(default_factory=dict)

    def allow_pcrs(self, pcrs: Pcrs) -> None:
        """Allow enclaves measuring ``pcrs``."""
        self.allowed_pcrs.add(_norm(pcrs))

    def revoke_pcrs(self, pcrs: Pcrs) -> None:
        """Stop trusting enclaves measuring ``pcrs`` (their keys stop verifying)."""
        self.allowed_pcrs.discard(_norm(pcrs))

    def register(self, info: EnclaveInfo) -> None:
        """Register an enclave's key; ``ResultRejected`` if its PCRs are not allowed."""
        pcrs = _norm(info.pcrs)
        if pcrs not in self.allowed_pcrs:
            raise ResultRejected("The enclave's PCRs are not on the allow-list.")
        self.keys[info.public_key.lower()] = pcrs

    @classmethod
    def of(cls, *infos: EnclaveInfo) -> TrustedEnclaves:
        """Trust exactly these enclaves (allowing their PCRs), e.g. local debug ones."""
        trusted = cls()
        for info in infos:
            trusted.allow_pcrs(info.pcrs)
            trusted.register(info)
        return trusted


@dataclass(frozen=True, slots=True)
class VerifiedQuality:
    """A result that passed every check in ``verify_result``."""

    quality_score: int
    model_hash: str
    public_key: str
    timestamp_ms: int
    data: dict[str, object]


def verify_result(
    result: SignedResult,
    *,
    trusted: TrustedEnclaves,
    expected_model_digest: str,
    expected_blob_id: str | None,
    max_age_s: float,
    now_ms: int,
    max_future_skew_s: float = 5.0,
) -> VerifiedQuality:
    """Check a ``SignedResult``; return its figures or raise ``ResultRejected`` naming why.

    Example::

        verified = verify_result(signed, trusted=trusted, expected_model_digest=sha,
                                 expected_blob_id=None, max_age_s=600, now_ms=now)
        print(verified.quality_score)
    """
    key = result.public_key.lower()
    pcrs = trusted.keys.get(key)
    if pcrs is None:
        raise ResultRejected("The result was signed by an unknown enclave key.")
    if pcrs not in trusted.allowed_pcrs:
        raise ResultRejected("The signing enclave's PCRs are no longer allowed.")
    schema = schema_for(result)
    try:
        message = intent_message_bytes(result.intent, result.timestamp_ms, result.data, schema.bcs)
    except ValueError as exc:
        raise ResultRejected(f"The signed data does not fit the response schema ({exc}).") from exc
    if not verify_intent_signature(key, message, result.signature):
        raise ResultRejected("The signature does not verify: the result was tampered with.")
    if result.intent != INTENT_PROCESS_DATA:
        raise ResultRejected(f"The result has intent {result.intent}, not process-data.")
    age_ms = now_ms - result.timestamp_ms
    if age_ms > max_age_s * 1000:
        raise ResultRejected(f"The result is stale ({age_ms / 1000:.0f} s old).")
    if -age_ms > max_future_skew_s * 1000:
        raise ResultRejected("The result's timestamp is in the future.")
    model_hash = str(result.data["model_hash"])
    if model_hash != expected_model_digest.lower():
        raise ResultRejected("The result is for a different model digest (replayed).")
    # Satya's schema does not name the blob: the signed model digest binds it to the file.
    if (
        expected_blob_id is not None
        and schema.names_blob
        and result.data["model_blob_id"] != expected_blob_id
    ):
        raise ResultRejected("The result is for a different blob id (replayed).")
    score = result.data["quality_score"]
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise ResultRejected("The signed quality score is out of range.")
    return VerifiedQuality(score, model_hash, key, result.timestamp_ms, dict(result.data))


def _norm(pcrs: Pcrs) -> Pcrs:
    """Lowercase hex, so comparisons do not depend on spelling."""
    return (pcrs[0].lower(), pcrs[1].lower(), pcrs[2].lower())
