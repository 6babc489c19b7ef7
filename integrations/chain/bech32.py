"""Bech32 (BIP-173) Sui private keys (``suiprivkey1…``), by pysui's own codec."""

from __future__ import annotations

import pysui_fastcrypto as pfc

_INVALID = 255  # the flag pysui's decoder answers for a string that is not a valid key


def bech32_encode(hrp: str, payload: bytes) -> str:
    """Encode a flagged key (flag byte ‖ 32-byte secret) under ``hrp``, e.g. ``suiprivkey``."""
    return pfc.encode_bech32(payload, hrp)


def bech32_decode(text: str, hrp: str) -> bytes:
    """The flagged key (flag byte ‖ secret) a bech32 string under ``hrp`` holds;
    ``ValueError`` when it is not one (wrong prefix, bad character or checksum)."""
    flag, _public, secret = pfc.decode_bech32(text, hrp)
    if flag == _INVALID or not secret:
        raise ValueError(f"not a {hrp} string, or its checksum does not match")
    return bytes([flag]) + secret
