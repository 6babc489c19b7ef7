"""Both signed-result schemas: the product's own and Satya's ml-marketplace response.

Satya's layout is written out here byte by byte (``struct``), independently of the
BCS encoder, from its Rust definition (``apps/ml-marketplace/mod.rs``).
"""

from __future__ import annotations

import asyncio
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from safetensors.numpy import save_file

from integrations.chain.testing import debug_enclave_info, signed_quality_result
from integrations.errors import ResultRejected
from integrations.tee.attestation import TrustedEnclaves, verify_result
from integrations.tee.enclave import Enclave
from integrations.tee.inspect import inspect_model
from integrations.tee.nautilus import NautilusVerifier
from integrations.tee.port import SignedResult, VerificationRequest
from integrations.tee.schemas import (
    NOT_MEASURED,
    PRODUCT,
    SATYA,
    ZERO_IN_SATYA,
    schema_for,
    security_assessment,
    shown_figures,
)
from integrations.tee.server import create_app
from integrations.tee.signing import intent_message_bytes
from integrations.tee.wire import RequestPayload, payload_of

T0 = 1_744_041_600_000
DIGEST = "ab" * 32


def _s(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 128
    return bytes([len(raw)]) + raw


def _u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def test_satya_layout_byte_by_byte() -> None:
    data: dict[str, object] = {
        "model_hash": "mh",
        "dataset_hash": "dh",
        "quality_score": 87,
        "accuracy_metrics": {
            "precision": 9500,
            "recall": 9400,
            "f1_score": 9450,
            "auc": 9700,
            "rmse": None,
            "mae": None,
        },
        "performance_metrics": {
            "inference_time_ms": 12,
            "memory_usage_mb": 256,
            "model_size_mb": 3,
            "dataset_size_mb": 1,
            "throughput_samples_per_second": 667,
        },
        "data_integrity_score": 90,
        "bias_assessment": {
            "fairness_score": 80,
            "bias_detected": True,
            "bias_type": "gender",
            "demographic_parity": None,
            "equalized_odds": 120,
        },
        "model_type": "onnx",
        "dataset_format": "csv",
    }
    expected = (
        b"\x00"
        + _u64(T0)
        + _s("mh")
        + _s("dh")
        + _u64(87)
        + _u64(9500)
        + _u64(9400)
        + _u64(9450)
        + b"\x01"
        + _u64(9700)
        + b"\x00"
        + b"\x00"
        + _u64(12)
        + _u64(256)
        + _u64(3)
        + _u64(1)
        + _u64(667)
        + _u64(90)
        + _u64(80)
        + b"\x01"
        + b"\x01"
        + _s("gender")
        + b"\x00"
        + b"\x01"
        + _u64(120)
        + _s("onnx")
        + _s("csv")
    )
    assert intent_message_bytes(0, T0, data, SATYA.bcs) == expected
    probe = SignedResult(0, T0, data, "", "")
    assert schema_for(probe) is SATYA


def _flip(hex_text: str, index: int) -> str:
    raw = bytearray(bytes.fromhex(hex_text))
    raw[index] ^= 0x01
    return raw.hex()


def test_a_satya_response_by_a_registered_key_verifies_and_one_changed_byte_fails() -> None:
    key = Ed25519PrivateKey.generate()
    trusted = TrustedEnclaves.of(debug_enclave_info(key))
    signed = signed_quality_result(
        key, model_hash=DIGEST, quality_score=81, timestamp_ms=T0, schema=SATYA
    )
    assert signed.schema == "satya/ml-marketplace/MLQualityResponse@1"
    assert "model_blob_id" not in signed.data and "security_assessment" not in signed.data

    def check(result: SignedResult) -> int:
        return verify_result(
            result,
            trusted=trusted,
            expected_model_digest=DIGEST,
            expected_blob_id="manifest-blob",  # Satya's schema names no blob: the digest binds it
            max_age_s=600,
            now_ms=T0 + 1_000,
        ).quality_score

    assert check(signed) == 81
    undeclared = replace(signed, schema="")  # a plain Nautilus response: known by its fields
    assert check(undeclared) == 81
    for index in (0, 31, 63):  # one changed byte of the signature
        with pytest.raises(ResultRejected, match="does not verify"):
            check(replace(signed, signature=_flip(signed.signature, index)))
    tampered = dict(signed.data)
    tampered["model_type"] = "tesu"  # one changed byte of the signed data
    with pytest.raises(ResultRejected, match="does not verify"):
        check(replace(signed, data=tampered))
    with pytest.raises(ResultRejected, match="known:"):
        check(replace(signed, schema="satya/ml-marketplace/MLQualityResponse@9"))


def test_a_product_response_still_binds_its_blob() -> None:
    key = Ed25519PrivateKey.generate()
    signed = signed_quality_result(key, model_hash=DIGEST, quality_score=81, timestamp_ms=T0)
    assert schema_for(signed) is PRODUCT and signed.schema == "satya-agent/MLQualityResponse@1"
    with pytest.raises(ResultRejected, match="different blob id"):
        verify_result(
            signed,
            trusted=TrustedEnclaves.of(debug_enclave_info(key)),
            expected_model_digest=DIGEST,
            expected_blob_id="another",
            max_age_s=600,
            now_ms=T0,
        )


async def test_the_enclave_answers_in_satyas_schema(tmp_path: Path) -> None:
    model = tmp_path / "m.safetensors"
    save_file({"w": np.linspace(-1, 1, 100, dtype=np.float32)}, str(model), {"format": "np"})

    async def fetch(blob_id: str, dest: Path) -> None:
        shutil.copyfile(model, dest)

    enclave = Enclave(fetch, workdir=tmp_path / "w", clock_ms=lambda: T0, response_schema=SATYA)
    signed = await enclave.process(VerificationRequest(model_blob_id="b1"))
    assert signed.schema == SATYA.id and set(signed.data) == SATYA.fields()
    digest = inspect_model(model).sha256
    verified = verify_result(
        signed,
        trusted=TrustedEnclaves.of(enclave.info()),
        expected_model_digest=digest,
        expected_blob_id="b1",
        max_age_s=600,
        now_ms=T0,
    )
    assert verified.quality_score == signed.data["quality_score"]
    # Not measured: 0 where Satya's schema demands a number, absent where it allows it.
    shown = shown_figures(signed)
    assert shown["accuracy_metrics.precision"] == ZERO_IN_SATYA
    assert shown["bias_assessment.bias_detected"] == ZERO_IN_SATYA
    assert shown["accuracy_metrics.auc"] == NOT_MEASURED
    assert shown["bias_assessment.bias_type"] == NOT_MEASURED
    assert "no security field" in security_assessment(signed)
    product = signed_quality_result(
        Ed25519PrivateKey.generate(), model_hash=DIGEST, quality_score=1, timestamp_ms=T0
    )
    assert shown_figures(product)["accuracy_metrics.precision"] == NOT_MEASURED


def test_satyas_request_is_understood_both_ways() -> None:
    """The request Satya's enclave takes (``MLQualityRequest``) is the product's payload."""
    satya_request = {
        "model_blob_id": "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk",
        "dataset_blob_id": "dataset-blob",
        "assessment_type": "ComprehensiveBenchmark",
        "quality_metrics": ["accuracy", "f1"],
        "model_type_hint": None,
        "dataset_format_hint": "csv",
    }
    request = RequestPayload.model_validate(satya_request).to_request()
    assert payload_of(request) == satya_request
    assert set(payload_of(VerificationRequest(model_blob_id="b"))) == set(satya_request)


async def test_the_nautilus_verifier_takes_a_satya_schema_enclave_over_http(tmp_path: Path) -> None:
    """``SATYA_VERIFIER_BACKEND=nautilus`` against an enclave answering in Satya's schema."""
    model = tmp_path / "m.safetensors"
    save_file({"w": np.linspace(-1, 1, 100, dtype=np.float32)}, str(model), {"format": "np"})

    async def fetch(blob_id: str, dest: Path) -> None:
        shutil.copyfile(model, dest)

    enclave = Enclave(fetch, workdir=tmp_path / "w", response_schema=SATYA)
    transport = httpx.ASGITransport(app=create_app(enclave))
    async with httpx.AsyncClient(transport=transport, base_url="http://enclave") as client:
        verifier = NautilusVerifier("http://enclave", client=client)
        info = await verifier.info()
        job = await verifier.submit(VerificationRequest("b1"), idempotency_key="k")
        for _ in range(500):
            if (await verifier.status(job)).state in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.01)
        signed = await verifier.result(job)
        await verifier.aclose()
    assert signed.schema == "" and schema_for(signed) is SATYA  # Nautilus's wire: no declaration
    verified = verify_result(
        signed,
        trusted=TrustedEnclaves.of(info),
        expected_model_digest=inspect_model(model).sha256,
        expected_blob_id="b1",
        max_age_s=600,
        now_ms=signed.timestamp_ms,
    )
    assert verified.quality_score == signed.data["quality_score"]


def test_the_user_reads_each_figure_as_measured_not_measured_or_a_zero_that_cannot_tell() -> None:
    from flows.publication import figures_text

    text = figures_text(
        {
            "accuracy_metrics.precision": "0.91",
            "accuracy_metrics.recall": NOT_MEASURED,
            "performance_metrics.inference_time_ms": ZERO_IN_SATYA,
        }
    )
    assert text == (
        "precision 0.91; not measured: recall; signed as 0 (Satya's schema cannot tell 0 "
        "from not measured): inference time ms"
    )
