"""The enclave application: fetch a model, inspect it, score it, sign the result.

The same code runs in-process (``LocalVerifier``) and behind HTTP
(``integrations.tee.server``). Outside real Nitro hardware it is a *debug*
enclave: all-zero PCRs and a self-described, unsigned attestation document.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from integrations.errors import InvalidModelFormat, SatyaError
from integrations.tee.evaluation import evaluate_onnx
from integrations.tee.failures import ModelRejected
from integrations.tee.inspect import InspectionReport, inspect_model
from integrations.tee.inspect.digest import sha256_file
from integrations.tee.port import EnclaveInfo, SignedResult, VerificationRequest
from integrations.tee.quality import AccuracyMetrics, QualityScore, score_quality
from integrations.tee.schemas import PRODUCT, SATYA, ResultSchema, to_satya
from integrations.tee.signing import (
    INTENT_PROCESS_DATA,
    public_key_hex,
    sign_intent,
)

FetchModel = Callable[[str, Path], Awaitable[None]]
Progress = Callable[[float, str], None]
DEBUG_PCR = "00" * 48
ATTESTATION_KIND = "satya-local-debug-attestation"


def _now_ms() -> int:
    """Wall-clock milliseconds."""
    return time.time_ns() // 1_000_000


class Enclave:
    """Verifies one model per ``process`` call and signs the result the Nautilus way.

    ``fetch_model(blob_id, path)`` must write the blob's bytes to ``path``.
    A fresh Ed25519 key is generated unless ``key`` is given. ``response_schema``
    chooses what is signed: the product's ``MLQualityResponse`` (default) or
    Satya's (``schemas.SATYA``, figures it cannot express sent as 0).

    Example::

        enclave = Enclave(fetch, workdir=Path("/tmp/enclave"))
        signed = await enclave.process(VerificationRequest(model_blob_id="blob-1"))
        assert signed.data["security_assessment"] == "passed"
    """

    def __init__(
        self,
        fetch_model: FetchModel,
        *,
        key: Ed25519PrivateKey | None = None,
        workdir: Path,
        clock_ms: Callable[[], int] = _now_ms,
        max_tensor_stats_bytes: int | None = None,
        response_schema: ResultSchema = PRODUCT,
    ) -> None:
        self._fetch = fetch_model
        self._schema = response_schema
        self._key = key if key is not None else Ed25519PrivateKey.generate()
        self._workdir = workdir
        self._clock_ms = clock_ms
        self._max_stats = max_tensor_stats_bytes
        self.public_key = public_key_hex(self._key)
        self.last_throughput: tuple[int, float] | None = None  # (bytes, seconds)

    def info(self) -> EnclaveInfo:
        """Public key, all-zero PCRs and the local debug attestation document (hex JSON)."""
        doc = {
            "kind": ATTESTATION_KIND,
            "warning": "NOT a Nitro attestation: no hardware guarantees, debug mode",
            "debug": True,
            "public_key": self.public_key,
            "pcrs": {"pcr0": DEBUG_PCR, "pcr1": DEBUG_PCR, "pcr2": DEBUG_PCR},
            "timestamp_ms": self._clock_ms(),
        }
        return EnclaveInfo(
            public_key=self.public_key,
            pcrs=(DEBUG_PCR, DEBUG_PCR, DEBUG_PCR),
            debug=True,
            attestation=json.dumps(doc, sort_keys=True).encode().hex(),
            extra={"model-inspection": True},
        )

    async def process(
        self,
        request: VerificationRequest,
        *,
        on_progress: Progress | None = None,
        on_size: Callable[[int], None] | None = None,
    ) -> SignedResult:
        """Fetch, inspect, score and sign; ``ModelRejected`` for a dangerous or invalid model.

        ``on_progress(fraction, message)`` follows the steps; ``on_size(bytes)`` is
        called once the model is fetched (callers use it for ETAs).
        """

        def report(fraction: float, message: str) -> None:
            if on_progress is not None:
                on_progress(fraction, message)

        self._workdir.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", request.model_blob_id)[:64]
        model_path = self._workdir / f"{stem}-{secrets.token_hex(4)}.model"
        dataset_path = model_path.with_suffix(".dataset")
        try:
            report(0.0, "fetching the model")
            await self._fetch(request.model_blob_id, model_path)
            if on_size is not None:
                on_size(model_path.stat().st_size)
            if request.dataset_blob_id:
                await self._fetch(request.dataset_blob_id, dataset_path)
            report(0.1, "inspecting the model")
            started = time.perf_counter()
            inspection = await asyncio.to_thread(
                self._inspect, model_path, lambda f: report(0.1 + 0.8 * f, "inspecting")
            )
            self.last_throughput = (inspection.file_size, time.perf_counter() - started)
            if inspection.dangerous:
                raise ModelRejected(tuple(f.message for f in inspection.critical_findings))
            accuracy, dataset_hash = None, ""
            if request.dataset_blob_id:
                report(0.9, "evaluating on the dataset")
                accuracy, dataset_hash = await asyncio.to_thread(
                    self._evaluate, inspection, model_path, dataset_path
                )
            quality = score_quality(inspection, accuracy)
            data = self._response(request, inspection, quality, accuracy, dataset_hash)
            if self._schema is SATYA:
                size = dataset_path.stat().st_size if request.dataset_blob_id else 0
                data = to_satya(data, dataset_size_bytes=size)
            timestamp_ms = self._clock_ms()
            signature = sign_intent(
                self._key, INTENT_PROCESS_DATA, timestamp_ms, data, self._schema.bcs
            )
            report(1.0, "signed")
            return SignedResult(
                intent=INTENT_PROCESS_DATA,
                timestamp_ms=timestamp_ms,
                data=data,
                signature=signature,
                public_key=self.public_key,
                schema=self._schema.id,
                findings=quality.findings,
            )
        finally:
            model_path.unlink(missing_ok=True)
            dataset_path.unlink(missing_ok=True)

    def _inspect(self, path: Path, progress: Callable[[float], None]) -> InspectionReport:
        """Inspect, turning a malformed file into a rejection."""
        try:
            if self._max_stats is None:
                return inspect_model(path, on_progress=progress)
            return inspect_model(path, max_tensor_stats_bytes=self._max_stats, on_progress=progress)
        except InvalidModelFormat as exc:
            raise ModelRejected((exc.message,)) from exc

    def _evaluate(
        self, inspection: InspectionReport, model: Path, dataset: Path
    ) -> tuple[AccuracyMetrics | None, str]:
        """Accuracy for ONNX classifiers; other formats leave it unmeasured."""
        dataset_hash = sha256_file(dataset)
        if inspection.format != "onnx":
            return None, dataset_hash
        try:
            return evaluate_onnx(model, dataset), dataset_hash
        except SatyaError as exc:
            raise ModelRejected((exc.message,)) from exc

    @staticmethod
    def _response(
        request: VerificationRequest,
        inspection: InspectionReport,
        quality: QualityScore,
        accuracy: AccuracyMetrics | None,
        dataset_hash: str,
    ) -> dict[str, object]:
        """The ``MLQualityResponse`` to sign; unmeasured figures are ``None``."""
        integrity = quality.components["integrity"]
        return {
            "model_blob_id": request.model_blob_id,
            "model_hash": inspection.sha256,
            "dataset_hash": dataset_hash,
            "quality_score": quality.score,
            "accuracy_metrics": (accuracy or AccuracyMetrics()).as_signed(),
            "performance_metrics": {
                "file_size_bytes": inspection.file_size,
                "parameter_count": inspection.parameter_count,
                "tensor_count": inspection.tensor_count,
                "inspection_ms": round(inspection.elapsed_s * 1000),
            },
            "data_integrity_score": round(100 * integrity / 20),
            "bias_assessment": {
                "fairness_score": None,
                "demographic_parity": None,
                "equal_opportunity": None,
            },
            "security_assessment": "passed",
            "model_type": inspection.format,
            "dataset_format": "npz" if dataset_hash else "",
        }
