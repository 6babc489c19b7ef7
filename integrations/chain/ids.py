"""Sui-shaped identifiers: transaction digests (base58 of 32 bytes) and object ids (0x + 64 hex).

Example::

    digest = tx_digest(tx_bytes)               # e.g. "9fJ3…", 43-44 characters
    first = derive_object_id(digest, 0)        # "0x" + 64 hex digits
"""

from __future__ import annotations

import hashlib
import re

import base58

_HEX_ID = re.compile(r"^0x[0-9a-f]{64}$")


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, as Sui prints transaction digests."""
    return base58.b58encode(data).decode("ascii")


def b58decode(text: str) -> bytes:
    """Inverse of ``b58encode``; ``ValueError`` on a character outside the alphabet."""
    return base58.b58decode(text)


def blake2b256(data: bytes) -> bytes:
    """The 32-byte blake2b digest Sui uses everywhere."""
    return hashlib.blake2b(data, digest_size=32).digest()


def tx_digest(tx_bytes: bytes) -> str:
    """base58 of blake2b-256 over the transaction bytes."""
    return b58encode(blake2b256(b"TransactionData::" + tx_bytes))


def derive_object_id(digest: str, index: int) -> str:
    """The id of the ``index``-th object created by a transaction, as Sui derives it."""
    raw = blake2b256(b58decode(digest) + index.to_bytes(8, "little"))
    return "0x" + raw.hex()


def is_sui_id(text: str) -> bool:
    """True for a canonical ``0x`` + 64 lowercase hex digits id or address."""
    return bool(_HEX_ID.match(text))
