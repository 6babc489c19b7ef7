"""Sui keys: addresses, key strings and signatures agree with pysui; key files stay private."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pysui_fastcrypto as pfc
import pytest
from pysui.abstracts.client_keypair import SignatureScheme
from pysui.sui.sui_crypto import create_new_keypair, keypair_from_keystring

from integrations.chain.keys import (
    SuiKeypair,
    load_or_create_keypair,
    load_sui_keystore,
    sui_address,
    verify_transaction_signature,
)
from integrations.errors import ConfigurationError


def _pysui_address(keystring: str) -> str:
    kp = keypair_from_keystring(keystring)
    pub = kp.public_key
    assert pub is not None
    return "0x" + hashlib.blake2b(bytes([0]) + pub.key_bytes, digest_size=32).hexdigest()


def test_address_and_key_strings_agree_with_pysui() -> None:
    _, pkp = create_new_keypair(SignatureScheme.ED25519, 12)
    ours = SuiKeypair.from_keystring(pkp.serialize())
    assert ours.to_keystring() == pkp.serialize()
    assert ours.to_bech32() == pkp.to_bech32()
    assert ours.public_key == pkp.public_key.key_bytes
    assert ours.address == _pysui_address(pkp.serialize())


def test_our_bech32_round_trips_through_pysui() -> None:
    kp = SuiKeypair.generate()
    pkp = keypair_from_keystring(kp.to_bech32())
    assert pkp.serialize() == kp.to_keystring()
    assert SuiKeypair.from_bech32(pkp.to_bech32()).address == kp.address
    assert kp.to_bech32().startswith("suiprivkey1")


def test_address_shape() -> None:
    kp = SuiKeypair.generate()
    assert kp.address == sui_address(kp.public_key)
    assert len(kp.address) == 66 and int(kp.address, 16) >= 0


def test_signature_is_97_bytes_and_verifies() -> None:
    kp = SuiKeypair.generate()
    sig = kp.sign_transaction(b"some tx bytes")
    assert len(sig) == 97 and sig[0] == 0 and sig[65:] == kp.public_key
    assert verify_transaction_signature(b"some tx bytes", sig) == kp.address
    assert SuiKeypair.verify_transaction_signature(b"some tx bytes", sig) == kp.address
    assert verify_transaction_signature(b"other tx bytes", sig) is None
    forged = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    assert verify_transaction_signature(b"some tx bytes", forged) is None
    assert verify_transaction_signature(b"some tx bytes", sig[:96]) is None
    other = SuiKeypair.generate()
    swapped = sig[:65] + other.public_key
    assert verify_transaction_signature(b"some tx bytes", swapped) is None


def test_signature_matches_pysui_signing() -> None:
    kp = SuiKeypair.generate()
    pkp = keypair_from_keystring(kp.to_keystring())
    tx = os.urandom(200)
    theirs = base64.b64decode(pkp.new_sign_secure(base64.b64encode(tx).decode()))
    # Ed25519 is deterministic: the same key signs the same message identically.
    assert theirs == kp.sign_transaction(tx)
    digest = hashlib.blake2b(bytes([0, 0, 0]) + tx, digest_size=32).digest()
    b64 = base64.b64encode
    assert pfc.verify_pubk(0, kp.public_key, b64(digest).decode(), b64(theirs[1:65]).decode())


def test_repr_hides_the_secret() -> None:
    kp = SuiKeypair.generate()
    secret_forms = (kp.to_bech32(), kp.to_keystring())
    for text in (repr(kp), str(kp), f"{kp}"):
        assert kp.address in text
        assert all(s not in text for s in secret_forms)


def test_bad_key_strings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        SuiKeypair.from_keystring("not base64!")
    with pytest.raises(ConfigurationError):
        SuiKeypair.from_keystring(base64.b64encode(b"\x00" * 10).decode())
    with pytest.raises(ConfigurationError, match="flag 1"):
        SuiKeypair.from_keystring(base64.b64encode(b"\x01" + b"\x00" * 32).decode())
    good = SuiKeypair.generate().to_bech32()
    with pytest.raises(ConfigurationError):
        SuiKeypair.from_bech32(good[:-1] + ("q" if good[-1] != "q" else "p"))


def test_load_or_create_writes_mode_0600_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "wallet.key"
    kp = load_or_create_keypair(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_keypair(path).address == kp.address
    assert path.read_text().strip().startswith("suiprivkey1")


def test_load_refuses_a_key_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "wallet.key"
    load_or_create_keypair(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="other users") as info:
        load_or_create_keypair(path)
    assert "chmod 600" in info.value.hint
    assert "suiprivkey" not in str(info.value)


def test_load_reads_a_base64_key_string(tmp_path: Path) -> None:
    kp = SuiKeypair.generate()
    path = tmp_path / "wallet.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(kp.to_keystring())
    assert load_or_create_keypair(path).address == kp.address


def test_sui_keystore(tmp_path: Path) -> None:
    a, b = SuiKeypair.generate(), SuiKeypair.generate()
    secp = base64.b64encode(b"\x01" + os.urandom(32)).decode()
    path = tmp_path / "sui.keystore"
    path.write_text(json.dumps([a.to_keystring(), secp, b.to_keystring()]))
    assert [k.address for k in load_sui_keystore(path)] == [a.address, b.address]
    path.write_text("{}")
    with pytest.raises(ConfigurationError):
        load_sui_keystore(path)
    with pytest.raises(ConfigurationError):
        load_sui_keystore(tmp_path / "missing")
