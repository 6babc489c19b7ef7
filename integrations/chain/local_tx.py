"""The local ledger's transaction envelope: canonical bytes to sign, and stored receipts.

The bytes a signer signs are sorted-key compact JSON of ``kind``, ``args``,
``sender``, ``request_id``, ``gas_budget``, ``package`` and ``network``;
the transaction digest is derived from exactly these bytes.

Example::

    tx = canonical_tx_bytes(kind="purchase_model", args={"listing_id": lid,
                            "payment_mist": 10}, sender=kp.address,
                            request_id="wf-1:buy", gas_budget=1_000_000,
                            package=pkg)
    sig = kp.sign_transaction(tx)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from integrations.chain.port import ChainEvent, TxReceipt


def _canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_tx_bytes(
    *,
    kind: str,
    args: Mapping[str, object],
    sender: str,
    request_id: str,
    gas_budget: int,
    package: str,
    network: str = "local",
) -> bytes:
    """The exact bytes a transaction's sender signs."""
    return _canonical_json(
        {
            "kind": kind,
            "args": dict(args),
            "sender": sender,
            "request_id": request_id,
            "gas_budget": gas_budget,
            "package": package,
            "network": network,
        }
    )


def args_hash(kind: str, args: Mapping[str, object]) -> str:
    """A fingerprint of what a request asked for, to catch a reused request id."""
    return hashlib.sha256(_canonical_json({"kind": kind, "args": dict(args)})).hexdigest()


def receipt_to_json(receipt: TxReceipt) -> str:
    """Store a receipt so a replayed request returns it unchanged."""
    return json.dumps(
        {
            "digest": receipt.digest,
            "created": list(receipt.created),
            "gas_used_mist": receipt.gas_used_mist,
            "events": [
                {
                    "seq": e.seq,
                    "type": e.type,
                    "tx_digest": e.tx_digest,
                    "fields": e.fields,
                    "timestamp_ms": e.timestamp_ms,
                }
                for e in receipt.events
            ],
        }
    )


def receipt_from_json(text: str, *, replayed: bool) -> TxReceipt:
    """Inverse of ``receipt_to_json``."""
    raw = json.loads(text)
    return TxReceipt(
        digest=raw["digest"],
        created=tuple(raw["created"]),
        events=tuple(
            ChainEvent(e["seq"], e["type"], e["tx_digest"], e["fields"], e["timestamp_ms"])
            for e in raw["events"]
        ),
        gas_used_mist=raw["gas_used_mist"],
        replayed=replayed,
    )
