"""A signed result is trusted only if key, PCRs, signature, time and digest all check out."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from integrations.errors import ResultRejected
from integrations.tee.attestation import TrustedEnclaves, verify_result
from integrations.tee.enclave import Enclave
from integrations.tee.port import SignedResult, VerificationRequest

NOW = 1_744_041_600_000


async def _signed(tmp_path: Path) -> tuple[Enclave, SignedResult]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    model = tmp_path / "m.safetensors"
    save_file({"w": np.ones(4, np.float32)}, str(model))

    async def fetch(_blob: str, dest: Path) -> None:
        shutil.copyfile(model, dest)

    enclave = Enclave(fetch, workdir=tmp_path / "w", clock_ms=lambda: NOW)
    return enclave, await enclave.process(VerificationRequest(model_blob_id="b1"))


def _check(result: SignedResult, trusted: TrustedEnclaves, **kw: object) -> object:
    args: dict[str, object] = {
        "expected_model_digest": str(result.data["model_hash"]),
        "expected_blob_id": "b1",
        "max_age_s": 60.0,
        "now_ms": NOW + 1000,
    }
    args.update(kw)
    return verify_result(result, trusted=trusted, **args)  # type: ignore[arg-type]


async def test_valid_result_passes(tmp_path: Path) -> None:
    enclave, signed = await _signed(tmp_path)
    verified = _check(signed, TrustedEnclaves.of(enclave.info()))
    assert getattr(verified, "quality_score", None) == signed.data["quality_score"]


async def test_tampered_score_is_rejected(tmp_path: Path) -> None:
    enclave, signed = await _signed(tmp_path)
    forged = dataclasses.replace(signed, data={**signed.data, "quality_score": 100 - 1})
    with pytest.raises(ResultRejected, match="tampered"):
        _check(forged, TrustedEnclaves.of(enclave.info()))


async def test_replayed_for_another_digest(tmp_path: Path) -> None:
    enclave, signed = await _signed(tmp_path)
    with pytest.raises(ResultRejected, match="different model digest"):
        _check(signed, TrustedEnclaves.of(enclave.info()), expected_model_digest="ab" * 32)


async def test_replayed_for_another_blob(tmp_path: Path) -> None:
    enclave, signed = await _signed(tmp_path)
    with pytest.raises(ResultRejected, match="different blob"):
        _check(signed, TrustedEnclaves.of(enclave.info()), expected_blob_id="b2")


async def test_stale_and_future(tmp_path: Path) -> None:
    enclave, signed = await _signed(tmp_path)
    trusted = TrustedEnclaves.of(enclave.info())
    with pytest.raises(ResultRejected, match="stale"):
        _check(signed, trusted, now_ms=NOW + 61_000)
    with pytest.raises(ResultRejected, match="future"):
        _check(signed, trusted, now_ms=NOW - 60_000)


async def test_unknown_key(tmp_path: Path) -> None:
    _, signed = await _signed(tmp_path)
    other, _ = await _signed(tmp_path / "other")
    with pytest.raises(ResultRejected, match="unknown enclave key"):
        _check(signed, TrustedEnclaves.of(other.info()))


async def test_pcrs_not_allowed(tmp_path: Path) -> None:
    enclave, signed = await _signed(tmp_path)
    trusted = TrustedEnclaves()
    with pytest.raises(ResultRejected, match="allow-list"):
        trusted.register(enclave.info())
    trusted = TrustedEnclaves.of(enclave.info())
    trusted.revoke_pcrs(enclave.info().pcrs)
    with pytest.raises(ResultRejected, match="no longer allowed"):
        _check(signed, trusted)
