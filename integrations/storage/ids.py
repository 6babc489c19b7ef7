"""Blob ids: 32 bytes shown as URL-safe base64 without padding (43 characters).

Two derivations share that shape:

* ``fast_blob_id`` — blake2b-256 of ``b"satya-local-blob/1" + data``. It is
  content-derived (same bytes, same id) and costs one hash pass, so the local
  store and the local server use it by default. It is *not* the id Walrus would
  give the same bytes.
* ``exact_blob_id`` — the real Walrus id (RS2 encoding with 1000 shards), via
  ``pysui_fastcrypto``. Slow (about 1.4 s per blob) and memory-hungry; for
  checking a publisher's answer or a server started with ``exact_blob_ids``.

Example::

    assert exact_blob_id(b"some other string") == "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"
    assert len(fast_blob_id(b"hello")) == 43
"""

from __future__ import annotations

import base64
import binascii
import hashlib

LOCAL_ID_DOMAIN = b"satya-local-blob/1"
N_SHARDS = 1000
BLOB_ID_BYTES = 32
BLOB_ID_CHARS = 43


def encode_blob_id(raw: bytes) -> str:
    """32 raw bytes -> the 43-character URL-safe base64 form."""
    if len(raw) != BLOB_ID_BYTES:
        raise ValueError(f"a blob id is {BLOB_ID_BYTES} bytes, got {len(raw)}")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_blob_id(blob_id: str) -> bytes | None:
    """The 32 raw bytes of ``blob_id``, or None if it is not a well-formed blob id."""
    if len(blob_id) != BLOB_ID_CHARS or not blob_id.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(blob_id + "=")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != BLOB_ID_BYTES or encode_blob_id(raw) != blob_id:
        return None
    return raw


def fast_blob_id(data: bytes | bytearray | memoryview) -> str:
    """Fast content-derived id: blake2b-256 over a domain prefix and the bytes."""
    digest = hashlib.blake2b(LOCAL_ID_DOMAIN, digest_size=BLOB_ID_BYTES)
    digest.update(data)
    return encode_blob_id(digest.digest())


def exact_blob_id(data: bytes) -> str:
    """The id Walrus gives ``data`` (RS2, 1000 shards); needs ``pysui_fastcrypto``."""
    import pysui_fastcrypto  # heavy native module: imported only when asked for

    raw = pysui_fastcrypto.redstuff_encode(data, N_SHARDS).blob_id
    return encode_blob_id(bytes(raw))
