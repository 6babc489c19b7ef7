"""The signed-result schemas a verifier understands, each declared by name and version.

An enclave signs ``IntentMessage{intent, timestamp_ms, data}``; what ``data``
is depends on the enclave application. Two are understood:

* ``PRODUCT`` — ``satya-agent/MLQualityResponse@1``, the product's own enclave
  (``integrations.tee.enclave``): it names the blob it verified, says what it
  found about safety, and marks every figure it did not measure as an absent
  option (``None``).
* ``SATYA`` — ``satya/ml-marketplace/MLQualityResponse@1``, the response of
  Satya's enclave app (``nautilus-server/src/apps/ml-marketplace``). Its
  precision, recall, F1, performance figures, fairness score and
  ``bias_detected`` are plain numbers and a bool: the schema cannot say "not
  measured". When the product answers in this schema, a figure it did not
  measure is sent as ``0`` (``false`` for ``bias_detected``); the optional ones
  (``auc``, ``rmse``, ``mae``, ``bias_type``, ``demographic_parity``,
  ``equalized_odds``) are absent. ``shown_figures`` shows such a 0 as
  "0 (not measured, or not reported: Satya's schema cannot tell)".

A ``SignedResult`` declares its schema in ``schema``; an empty declaration
(a plain Nautilus response, which carries none) is recognised by its field set.

Example::

    schema = schema_for(signed)            # PRODUCT or SATYA
    message = intent_message_bytes(signed.intent, signed.timestamp_ms, signed.data, schema.bcs)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from integrations.errors import ResultRejected
from integrations.tee.bcs import Schema
from integrations.tee.port import SignedResult
from integrations.tee.signing import ML_QUALITY_RESPONSE

MIB = 1024 * 1024

SATYA_ACCURACY_METRICS: Schema = (
    ("precision", "u64"),
    ("recall", "u64"),
    ("f1_score", "u64"),
    ("auc", ("option", "u64")),
    ("rmse", ("option", "u64")),
    ("mae", ("option", "u64")),
)
SATYA_PERFORMANCE_METRICS: Schema = (
    ("inference_time_ms", "u64"),
    ("memory_usage_mb", "u64"),
    ("model_size_mb", "u64"),
    ("dataset_size_mb", "u64"),
    ("throughput_samples_per_second", "u64"),
)
SATYA_BIAS_ASSESSMENT: Schema = (
    ("fairness_score", "u64"),
    ("bias_detected", "bool"),
    ("bias_type", ("option", "string")),
    ("demographic_parity", ("option", "u64")),
    ("equalized_odds", ("option", "u64")),
)
# Satya's MLQualityResponse (Rust serde/BCS field order).
SATYA_ML_QUALITY_RESPONSE: Schema = (
    ("model_hash", "string"),
    ("dataset_hash", "string"),
    ("quality_score", "u64"),
    ("accuracy_metrics", SATYA_ACCURACY_METRICS),
    ("performance_metrics", SATYA_PERFORMANCE_METRICS),
    ("data_integrity_score", "u64"),
    ("bias_assessment", SATYA_BIAS_ASSESSMENT),
    ("model_type", "string"),
    ("dataset_format", "string"),
)


@dataclass(frozen=True, slots=True)
class ResultSchema:
    """One signed-data layout: its name, version and BCS struct."""

    name: str
    version: int
    bcs: Schema
    names_blob: bool  # whether the signed data names the verified blob (``model_blob_id``)

    @property
    def id(self) -> str:
        """``name@version``, as ``SignedResult.schema`` declares it."""
        return f"{self.name}@{self.version}"

    def fields(self) -> frozenset[str]:
        """The top-level field names."""
        return frozenset(name for name, _ in self.bcs)


PRODUCT = ResultSchema("satya-agent/MLQualityResponse", 1, ML_QUALITY_RESPONSE, names_blob=True)
SATYA = ResultSchema(
    "satya/ml-marketplace/MLQualityResponse", 1, SATYA_ML_QUALITY_RESPONSE, names_blob=False
)
SCHEMAS: dict[str, ResultSchema] = {s.id: s for s in (PRODUCT, SATYA)}


def schema_named(schema_id: str) -> ResultSchema:
    """The schema ``name@version``; ``ResultRejected`` naming the known ones otherwise."""
    found = SCHEMAS.get(schema_id)
    if found is None:
        known = ", ".join(sorted(SCHEMAS))
        raise ResultRejected(f"The result declares schema {schema_id!r}; known: {known}.")
    return found


def schema_for(result: SignedResult) -> ResultSchema:
    """The declared schema, or the one whose fields the data has exactly."""
    if result.schema:
        return schema_named(result.schema)
    keys = frozenset(result.data)
    for schema in SCHEMAS.values():
        if keys == schema.fields():
            return schema
    raise ResultRejected(
        "The signed data fits no known result schema "
        f"({', '.join(sorted(SCHEMAS))}); its fields are {sorted(keys)}."
    )


def to_satya(data: Mapping[str, object], *, dataset_size_bytes: int = 0) -> dict[str, object]:
    """The product's response as Satya's: unmeasured required figures become 0 / false."""
    accuracy = _mapping(data.get("accuracy_metrics"))
    performance = _mapping(data.get("performance_metrics"))
    file_size = performance.get("file_size_bytes")
    return {
        "model_hash": data["model_hash"],
        "dataset_hash": data["dataset_hash"],
        "quality_score": data["quality_score"],
        "accuracy_metrics": {
            "precision": accuracy.get("precision") or 0,
            "recall": accuracy.get("recall") or 0,
            "f1_score": accuracy.get("f1_score") or 0,
            "auc": accuracy.get("auc"),
            "rmse": accuracy.get("rmse"),
            "mae": accuracy.get("mae"),
        },
        "performance_metrics": {
            "inference_time_ms": 0,  # the product inspects; it does not time inference
            "memory_usage_mb": 0,
            "model_size_mb": (file_size if isinstance(file_size, int) else 0) // MIB,
            "dataset_size_mb": dataset_size_bytes // MIB,
            "throughput_samples_per_second": 0,
        },
        "data_integrity_score": data["data_integrity_score"],
        "bias_assessment": {
            "fairness_score": 0,
            "bias_detected": False,
            "bias_type": None,
            "demographic_parity": None,
            "equalized_odds": None,
        },
        "model_type": data["model_type"],
        "dataset_format": data["dataset_format"],
    }


NOT_MEASURED = "not measured"
ZERO_IN_SATYA = "0 (not measured, or not reported: Satya's schema cannot tell)"


def shown_figures(result: SignedResult) -> dict[str, str]:
    """Each signed figure as text; absent options are "not measured", never a number.

    In Satya's schema a required figure of 0 may mean "not measured": it is shown so.
    """
    schema = schema_for(result)
    shown: dict[str, str] = {}
    for group, inner in schema.bcs:
        value = result.data.get(group)
        if not isinstance(inner, tuple) or not isinstance(value, Mapping):
            continue
        for pair in inner:
            name, kind = str(pair[0]), pair[1]
            figure = value.get(name)
            if figure is None:
                shown[f"{group}.{name}"] = NOT_MEASURED
            elif schema is SATYA and kind in ("u64", "bool") and not figure:
                shown[f"{group}.{name}"] = ZERO_IN_SATYA
            else:
                shown[f"{group}.{name}"] = str(figure)
    return shown


def security_assessment(result: SignedResult) -> str:
    """The signed security verdict; Satya's schema has none, and that is said."""
    if schema_for(result) is SATYA:
        return "not reported (Satya's ml-marketplace response has no security field)"
    return str(result.data.get("security_assessment", ""))


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}
