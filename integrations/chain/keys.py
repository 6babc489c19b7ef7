"""Sui Ed25519 keys: addresses, key strings, and transaction signatures.

A ``SuiKeypair`` is the ``Signer`` of the ledger port. It speaks the Sui wire
formats: the address is ``0x`` + hex(blake2b-256(0x00 ‖ public key)), a key
string is base64(flag ‖ 32-byte secret) or its bech32 form ``suiprivkey1…``,
and a transaction signature is 97 bytes, flag ‖ Ed25519(blake2b-256([0,0,0] ‖
tx bytes)) ‖ public key. The secret never appears in ``repr``/``str``.

Example::

    kp = load_or_create_keypair(Path("~/.satya/keys/wallet.key").expanduser())
    sig = kp.sign_transaction(tx_bytes)
    assert verify_transaction_signature(tx_bytes, sig) == kp.address
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from integrations.chain.bech32 import bech32_decode, bech32_encode
from integrations.errors import ConfigurationError

ED25519_FLAG = 0
SUI_PRIVKEY_HRP = "suiprivkey"
TX_INTENT_PREFIX = bytes([0, 0, 0])  # scope TransactionData, version V0, app Sui
SIGNATURE_LEN = 97


def sui_address(public_key: bytes) -> str:
    """The Sui address of an Ed25519 public key: ``0x`` + hex blake2b-256(0x00 ‖ pk)."""
    return "0x" + hashlib.blake2b(bytes([ED25519_FLAG]) + public_key, digest_size=32).hexdigest()


def transaction_digest_to_sign(tx_bytes: bytes) -> bytes:
    """What a Sui user signature covers: blake2b-256 of the intent prefix and the tx bytes."""
    return hashlib.blake2b(TX_INTENT_PREFIX + tx_bytes, digest_size=32).digest()


class SuiKeypair:
    """An Ed25519 Sui key pair; implements the ledger port's ``Signer``.

    Example::

        kp = SuiKeypair.generate()
        again = SuiKeypair.from_bech32(kp.to_bech32())
        assert again.address == kp.address and kp.address.startswith("0x")
        sig = kp.sign_transaction(b"tx")          # 97 bytes
        assert verify_transaction_signature(b"tx", sig) == kp.address
    """

    __slots__ = ("_address", "_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self._public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._address = sui_address(self._public)

    @classmethod
    def generate(cls) -> SuiKeypair:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_secret(cls, secret: bytes) -> SuiKeypair:
        """From the raw 32-byte Ed25519 secret (seed)."""
        if len(secret) != 32:
            raise ConfigurationError("An Ed25519 secret key is 32 bytes.")
        return cls(Ed25519PrivateKey.from_private_bytes(secret))

    @classmethod
    def _from_flagged(cls, raw: bytes) -> SuiKeypair:
        if len(raw) != 33:
            raise ConfigurationError("A Sui key string holds a flag byte and a 32-byte secret.")
        if raw[0] != ED25519_FLAG:
            raise ConfigurationError(
                f"Only Ed25519 keys (flag 0) are supported; this key has flag {raw[0]}."
            )
        return cls.from_secret(raw[1:])

    @classmethod
    def from_keystring(cls, keystring: str) -> SuiKeypair:
        """From a Sui CLI key string, base64(flag ‖ secret); bech32 strings are accepted too."""
        text = keystring.strip()
        if text.startswith(SUI_PRIVKEY_HRP):
            return cls.from_bech32(text)
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("The key string is not valid base64.") from None
        return cls._from_flagged(raw)

    @classmethod
    def from_bech32(cls, text: str) -> SuiKeypair:
        """From a ``suiprivkey1…`` string (as ``sui keytool export`` prints)."""
        try:
            raw = bech32_decode(text.strip(), SUI_PRIVKEY_HRP)
        except ValueError as exc:
            raise ConfigurationError(
                f"The private key is not a valid suiprivkey string ({exc})."
            ) from None
        return cls._from_flagged(raw)

    def _secret(self) -> bytes:
        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def to_keystring(self) -> str:
        """base64(flag ‖ secret), the Sui CLI keystore format. Treat the result as a secret."""
        return base64.b64encode(bytes([ED25519_FLAG]) + self._secret()).decode("ascii")

    def to_bech32(self) -> str:
        """``suiprivkey1…``. Treat the result as a secret."""
        return bech32_encode(SUI_PRIVKEY_HRP, bytes([ED25519_FLAG]) + self._secret())

    @property
    def address(self) -> str:
        """``0x`` + 64 hex digits."""
        return self._address

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._public

    def sign_transaction(self, tx_bytes: bytes) -> bytes:
        """97-byte Sui signature: flag ‖ sig(64) ‖ pk(32) over blake2b-256([0,0,0] ‖ tx_bytes)."""
        sig = self._key.sign(transaction_digest_to_sign(tx_bytes))
        return bytes([ED25519_FLAG]) + sig + self._public

    @staticmethod
    def verify_transaction_signature(tx_bytes: bytes, signature: bytes) -> str | None:
        """The signer's address if the signature verifies, else None (see the module function)."""
        return verify_transaction_signature(tx_bytes, signature)

    def __repr__(self) -> str:
        return f"SuiKeypair(address={self._address})"

    __str__ = __repr__


def verify_transaction_signature(tx_bytes: bytes, signature: bytes) -> str | None:
    """The signer's address if ``signature`` is a valid 97-byte Ed25519 Sui signature, else None.

    Example::

        assert verify_transaction_signature(b"tx", kp.sign_transaction(b"tx")) == kp.address
        assert verify_transaction_signature(b"other", kp.sign_transaction(b"tx")) is None
    """
    if len(signature) != SIGNATURE_LEN or signature[0] != ED25519_FLAG:
        return None
    sig, public = signature[1:65], signature[65:]
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, transaction_digest_to_sign(tx_bytes))
    except (InvalidSignature, ValueError):
        return None
    return sui_address(public)


def _check_private_mode(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"The key file {path} can be read by other users (mode {stat.S_IMODE(mode):o}).",
            hint=f"Run 'chmod 600 {path}' and start again.",
        )


def create_private_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new file at ``path`` with mode 0600 (its folder 0700 if made now).

    The bytes are written whole under a private name, then linked into place, so a
    process starting at the same moment sees either no file or the complete one,
    never an empty one. Returns False, writing nothing, when ``path`` already exists
    (another process made it first: use theirs).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create_keypair(path: Path) -> SuiKeypair:
    """The key stored at ``path``, or a new one written there with mode 0600.

    The file holds one ``suiprivkey1…`` line (a base64 key string is read too).
    A file that group or others may access is refused with ``ConfigurationError``.

    Example::

        kp = load_or_create_keypair(home / "keys" / "wallet.key")
        assert load_or_create_keypair(home / "keys" / "wallet.key").address == kp.address
    """
    if not path.exists():
        kp = SuiKeypair.generate()
        if create_private_file(path, (kp.to_bech32() + "\n").encode("ascii")):
            return kp
    _check_private_mode(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"The key file {path} cannot be read ({type(exc).__name__})."
        ) from None
    return SuiKeypair.from_keystring(text)


def load_sui_keystore(path: Path) -> list[SuiKeypair]:
    """The Ed25519 keys of a Sui CLI keystore (a JSON array of base64 key strings).

    Keys of other schemes (secp256k1/r1) are not supported and are left out.

    Example::

        keys = load_sui_keystore(Path("~/.sui/sui_config/sui.keystore").expanduser())
        addresses = [k.address for k in keys]
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"The keystore {path} cannot be read ({type(exc).__name__})."
        ) from None
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ConfigurationError(f"The keystore {path} is not a JSON array of key strings.")
    keys: list[SuiKeypair] = []
    for entry in entries:
        try:
            raw = base64.b64decode(entry, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"The keystore {path} holds an entry that is not base64."
            ) from None
        if raw[:1] == bytes([ED25519_FLAG]):
            keys.append(SuiKeypair._from_flagged(raw))
    return keys


__all__ = [
    "SuiKeypair",
    "load_or_create_keypair",
    "load_sui_keystore",
    "sui_address",
    "transaction_digest_to_sign",
    "verify_transaction_signature",
]
