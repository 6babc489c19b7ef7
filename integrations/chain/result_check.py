"""Checks a Nautilus-signed verification result before the ledger accepts it.

A result is accepted only if it was signed by the given enclave key over
``IntentMessage{intent, timestamp_ms, MLQualityResponse}`` (the product's or
Satya's, ``integrations.tee.schemas``), is fresh, and
attests the expected model digest. Failures raise ``SignatureRejected`` (the
signature does not verify) or ``ResultRejected`` (anything else), each with
the reason.

Example::

    score = check_signed_result(result, enclave_key=pk_hex, model_digest=d,
                                now_ms=now, max_age_ms=600_000)
"""

from __future__ import annotations

import hashlib

from integrations.errors import ResultRejected, SignatureRejected
from integrations.tee.port import SignedResult
from integrations.tee.schemas import schema_for
from integrations.tee.signing import (
    INTENT_PROCESS_DATA,
    intent_message_bytes,
    verify_intent_signature,
)

FUTURE_SKEW_MS = 60_000  # tolerated clock difference between enclave and ledger


def attestation_hash(attestation: str) -> bytes:
    """The ``attestation_hash`` recorded with a verification: sha256 of the enclave's
    attestation document as it returned it (the hex text of ``/get_attestation``)."""
    return hashlib.sha256(attestation.encode()).digest()


def check_signed_result(
    result: SignedResult,
    *,
    enclave_key: str,
    model_digest: str,
    now_ms: int,
    max_age_ms: int,
) -> int:
    """Validate ``result``; returns its quality score (0-100)."""
    if result.public_key.lower() != enclave_key.lower():
        raise ResultRejected("The result was signed by a different enclave key.")
    if result.intent != INTENT_PROCESS_DATA:
        raise ResultRejected(f"The result has intent {result.intent}, expected process-data (0).")
    try:
        message = intent_message_bytes(
            result.intent, result.timestamp_ms, result.data, schema_for(result).bcs
        )
    except ValueError as exc:
        raise ResultRejected(f"The signed data is not an MLQualityResponse ({exc}).") from None
    if not verify_intent_signature(enclave_key, message, result.signature):
        raise SignatureRejected("The enclave signature on the verification result does not verify.")
    age = now_ms - result.timestamp_ms
    if age > max_age_ms:
        raise ResultRejected(f"The verification result is stale ({age // 1000} s old).")
    if age < -FUTURE_SKEW_MS:
        raise ResultRejected("The verification result is dated in the future.")
    signed_digest = str(result.data["model_hash"]).lower()
    if signed_digest != model_digest.lower():
        raise ResultRejected("The enclave verified a different file than the one registered.")
    score = result.data["quality_score"]
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise ResultRejected(f"The quality score {score!r} is outside 0-100.")
    return score
