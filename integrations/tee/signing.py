"""Nautilus-format signing: Ed25519 over BCS(IntentMessage{intent, timestamp_ms, data}).

No hashing first and no Sui intent prefix: exactly what ``enclave::verify_signature``
checks on chain. ``ML_QUALITY_RESPONSE`` is the schema of the signed data of the
model-marketplace app; fields that were not measured are ``None`` (BCS options),
never a made-up number.

Example::

    key = Ed25519PrivateKey.generate()
    msg = intent_message_bytes(0, 1744041600000, data, ML_QUALITY_RESPONSE)
    sig = key.sign(msg)
    assert verify_intent_signature(public_key_hex(key), msg, sig.hex())
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from integrations.tee.bcs import Schema, encode_struct, encode_value

INTENT_PROCESS_DATA = 0

ACCURACY_METRICS: Schema = (
    ("precision", ("option", "u64")),
    ("recall", ("option", "u64")),
    ("f1_score", ("option", "u64")),
    ("auc", ("option", "u64")),
    ("rmse", ("option", "u64")),
    ("mae", ("option", "u64")),
)
PERFORMANCE_METRICS: Schema = (
    ("file_size_bytes", "u64"),
    ("parameter_count", ("option", "u64")),
    ("tensor_count", ("option", "u64")),
    ("inspection_ms", "u64"),
)
BIAS_ASSESSMENT: Schema = (
    ("fairness_score", ("option", "u64")),
    ("demographic_parity", ("option", "u64")),
    ("equal_opportunity", ("option", "u64")),
)
# Scores are 0-100; metrics are scaled by 10**4; hashes are lowercase sha256 hex.
ML_QUALITY_RESPONSE: Schema = (
    ("model_blob_id", "string"),
    ("model_hash", "string"),
    ("dataset_hash", "string"),
    ("quality_score", "u64"),
    ("accuracy_metrics", ACCURACY_METRICS),
    ("performance_metrics", PERFORMANCE_METRICS),
    ("data_integrity_score", "u64"),
    ("bias_assessment", BIAS_ASSESSMENT),
    ("security_assessment", "string"),
    ("model_type", "string"),
    ("dataset_format", "string"),
)


def intent_message_bytes(
    intent: int, timestamp_ms: int, data: Mapping[str, object], schema: Schema
) -> bytes:
    """BCS of ``IntentMessage{intent: u8, timestamp_ms: u64, data: T}``."""
    return (
        encode_value(intent, "u8") + encode_value(timestamp_ms, "u64") + encode_struct(data, schema)
    )


def public_key_hex(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key as hex."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign_intent(
    key: Ed25519PrivateKey,
    intent: int,
    timestamp_ms: int,
    data: Mapping[str, object],
    schema: Schema,
) -> str:
    """Sign an intent message; returns the 64-byte signature as hex."""
    return key.sign(intent_message_bytes(intent, timestamp_ms, data, schema)).hex()


def verify_intent_signature(public_key: str, message: bytes, signature: str) -> bool:
    """True if ``signature`` (hex) is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        pk = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        pk.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
