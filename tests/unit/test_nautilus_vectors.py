"""The signing code speaks Nautilus: both public test vectors of the reference."""

from integrations.tee.bcs import Schema, encode_struct, uleb128
from integrations.tee.signing import intent_message_bytes, verify_intent_signature

WEATHER: Schema = (("location", "string"), ("temperature", "u64"))
PK = "e8e62201dbe293b703c759f653107acbc2c911fa1d2e66f2c747bec95971a2af"
SIG = (
    "77b6d8be225440d00f3d6eb52e91076a8927cebfb520e58c19daf31ecf06b379"
    "8ec3d3ce9630a9eceee46d24f057794a60dd781657cb06d952269cfc5ae19500"
)


def test_bcs_of_intent_message_matches_the_nautilus_vector() -> None:
    msg = intent_message_bytes(
        0, 1744038900000, {"location": "San Francisco", "temperature": 13}, WEATHER
    )
    assert msg.hex() == "0020b1d110960100000d53616e204672616e636973636f0d00000000000000"


def test_the_published_signature_verifies() -> None:
    msg = intent_message_bytes(
        0, 1744683300000, {"location": "San Francisco", "temperature": 13}, WEATHER
    )
    assert verify_intent_signature(PK, msg, SIG)


def test_a_tampered_payload_fails() -> None:
    msg = intent_message_bytes(
        0, 1744683300000, {"location": "San Francisco", "temperature": 14}, WEATHER
    )
    assert not verify_intent_signature(PK, msg, SIG)


def test_garbage_signature_is_false_not_an_exception() -> None:
    msg = encode_struct({"location": "x", "temperature": 1}, WEATHER)
    assert not verify_intent_signature(PK, msg, "zz")
    assert not verify_intent_signature("00", msg, SIG)


def test_uleb128_multi_byte() -> None:
    assert uleb128(0) == b"\x00"
    assert uleb128(127) == b"\x7f"
    assert uleb128(128) == b"\x80\x01"
    assert uleb128(300) == b"\xac\x02"
