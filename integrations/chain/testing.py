"""Test kit for the chain port: a settable clock and enclave-signed results.

Used by the ledger's own tests and by anyone who drives a ``LocalLedger``
through a full journey without running the enclave.

Example::

    clock = ManualClock(1_744_041_600_000)
    ledger = LocalLedger(tmp / "l.sqlite3", clock_ms=clock)
    enclave = Ed25519PrivateKey.generate()
    await ledger.register_enclave(wallet, debug_enclave_info(enclave), request_id="e")
    result = signed_quality_result(enclave, model_hash=digest, quality_score=87,
                                   timestamp_ms=clock())
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from integrations.tee.port import EnclaveInfo, SignedResult
from integrations.tee.schemas import PRODUCT, SATYA, ResultSchema, to_satya
from integrations.tee.signing import (
    INTENT_PROCESS_DATA,
    public_key_hex,
    sign_intent,
)


class ManualClock:
    """A clock in milliseconds that only moves when told to."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        """Move the clock forward."""
        self.now_ms += ms


def debug_enclave_info(key: Ed25519PrivateKey) -> EnclaveInfo:
    """What a debug-mode enclave with this key reports (all-zero PCRs)."""
    return EnclaveInfo(public_key=public_key_hex(key), pcrs=("00" * 48,) * 3, debug=True)


def quality_response(
    *, model_hash: str, quality_score: int, model_blob_id: str = "blob", size_bytes: int = 1024
) -> dict[str, object]:
    """An ``MLQualityResponse`` with the given digest and score; unmeasured fields are None."""
    return {
        "model_blob_id": model_blob_id,
        "model_hash": model_hash,
        "dataset_hash": "",
        "quality_score": quality_score,
        "accuracy_metrics": {
            "precision": None,
            "recall": None,
            "f1_score": None,
            "auc": None,
            "rmse": None,
            "mae": None,
        },
        "performance_metrics": {
            "file_size_bytes": size_bytes,
            "parameter_count": None,
            "tensor_count": None,
            "inspection_ms": 5,
        },
        "data_integrity_score": 100,
        "bias_assessment": {
            "fairness_score": None,
            "demographic_parity": None,
            "equal_opportunity": None,
        },
        "security_assessment": "no dangerous opcodes",
        "model_type": "test",
        "dataset_format": "",
    }


def signed_quality_result(
    key: Ed25519PrivateKey,
    *,
    model_hash: str,
    quality_score: int,
    timestamp_ms: int,
    enclave_id: str = "",
    schema: ResultSchema = PRODUCT,
) -> SignedResult:
    """A result signed exactly as a Nautilus enclave signs it, in the product's or Satya's schema."""
    data = quality_response(model_hash=model_hash, quality_score=quality_score)
    if schema is SATYA:
        data = to_satya(data)
    signature = sign_intent(key, INTENT_PROCESS_DATA, timestamp_ms, data, schema.bcs)
    return SignedResult(
        intent=INTENT_PROCESS_DATA,
        timestamp_ms=timestamp_ms,
        data=data,
        signature=signature,
        public_key=public_key_hex(key),
        enclave_id=enclave_id,
        schema=schema.id,
    )
