"""JSON shapes shared by the enclave server and its clients (Nautilus wire format)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations.tee.port import SignedResult, VerificationRequest


class RequestPayload(BaseModel):
    """The model-marketplace request payload."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_blob_id: str = Field(min_length=1, max_length=512)
    dataset_blob_id: str = Field(default="", max_length=512)
    assessment_type: Literal[
        "BasicValidation", "QualityAnalysis", "ComprehensiveBenchmark", "BiasAudit"
    ] = "QualityAnalysis"
    quality_metrics: list[str] = Field(default_factory=list, max_length=32)
    model_type_hint: str | None = None
    dataset_format_hint: str | None = None

    def to_request(self) -> VerificationRequest:
        """As the port's dataclass."""
        return VerificationRequest(
            model_blob_id=self.model_blob_id,
            dataset_blob_id=self.dataset_blob_id,
            assessment_type=self.assessment_type,
            quality_metrics=tuple(self.quality_metrics),
            model_type_hint=self.model_type_hint,
            dataset_format_hint=self.dataset_format_hint,
        )


class ProcessDataRequest(BaseModel):
    """``POST /process_data`` body: ``{"payload": {...}}``."""

    payload: RequestPayload


def payload_of(request: VerificationRequest) -> dict[str, object]:
    """A request as the JSON payload of ``/process_data``."""
    return {
        "model_blob_id": request.model_blob_id,
        "dataset_blob_id": request.dataset_blob_id,
        "assessment_type": request.assessment_type,
        "quality_metrics": list(request.quality_metrics),
        "model_type_hint": request.model_type_hint,
        "dataset_format_hint": request.dataset_format_hint,
    }


def response_of(result: SignedResult) -> dict[str, object]:
    """A signed result as the ``ProcessedDataResponse`` JSON of Nautilus."""
    # Nautilus's shape: the schema is recognised by the data's fields. ``findings``
    # (unsigned words explaining the score) is added only when there are some.
    body: dict[str, object] = {
        "response": {
            "intent": result.intent,
            "timestamp_ms": result.timestamp_ms,
            "data": result.data,
        },
        "signature": result.signature,
    }
    if result.findings:
        body["findings"] = list(result.findings)
    return body


def result_of(body: object, public_key: str) -> SignedResult:
    """Parse a ``ProcessedDataResponse``; ``ValueError`` if it is not one."""
    if not isinstance(body, dict):
        raise ValueError("the response is not a JSON object")
    response, signature = body.get("response"), body.get("signature")
    if not isinstance(response, dict) or not isinstance(signature, str):
        raise ValueError("the response lacks 'response' or 'signature'")
    intent, ts, data = response.get("intent"), response.get("timestamp_ms"), response.get("data")
    if not isinstance(intent, int) or not isinstance(ts, int) or not isinstance(data, dict):
        raise ValueError("the response has no intent, timestamp_ms or data")
    schema = body.get("schema", "")
    findings = body.get("findings")
    return SignedResult(
        intent=intent,
        timestamp_ms=ts,
        data=data,
        signature=signature,
        public_key=public_key,
        schema=schema if isinstance(schema, str) else "",
        findings=tuple(str(f) for f in findings) if isinstance(findings, list) else (),
    )
