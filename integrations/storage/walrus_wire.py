"""Typed models of the Walrus publisher's JSON (camelCase on the wire).

A store response has exactly one top-level key: ``newlyCreated``,
``alreadyCertified``, ``markedInvalid`` or ``error``. ``resourceOperation``
likewise has exactly one of its five variants. Unknown extra fields are
ignored so that newer publishers still parse; missing required ones fail.

Example::

    response = parse_store_response(raw_bytes)
    if response.newly_created is not None:
        print(response.newly_created.blob_object.blob_id, response.newly_created.cost)
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )

    def to_wire(self) -> dict[str, object]:
        """The camelCase JSON object, without unset optional keys."""
        return self.model_dump(by_alias=True, exclude_none=True)


def _exactly_one(model: BaseModel, what: str) -> None:
    present = [name for name in type(model).model_fields if getattr(model, name) is not None]
    if len(present) != 1:
        raise ValueError(f"{what} must have exactly one variant, found {len(present)}")


class StorageResource(WireModel):
    """The storage reservation backing a blob object."""

    id: str
    start_epoch: int
    end_epoch: int
    storage_size: int


class BlobObject(WireModel):
    """The Sui blob object of a stored blob."""

    id: str
    registered_epoch: int
    blob_id: str
    size: int
    encoding_type: str
    certified_epoch: int | None = None
    storage: StorageResource
    deletable: bool


class EventId(WireModel):
    """A Sui event: transaction digest and sequence number (a string of digits)."""

    tx_digest: str
    event_seq: str | int


class RegisterFromScratch(WireModel):
    """New storage was bought and the blob registered."""

    encoded_length: int
    epochs_ahead: int


class ReuseStorage(WireModel):
    """Existing storage of the wallet was reused."""

    encoded_length: int


class ReuseRegistration(WireModel):
    """An existing, uncertified registration was reused."""

    encoded_length: int


class ReuseAndExtend(WireModel):
    """A certified blob's lifetime was extended."""

    encoded_length: int
    epochs_extended: int


class ReuseAndExtendNonCertified(WireModel):
    """An uncertified registration was reused and extended."""

    encoded_length: int
    epochs_extended: int


class ResourceOperation(WireModel):
    """How storage was obtained for a newly created blob (exactly one variant)."""

    register_from_scratch: RegisterFromScratch | None = None
    reuse_storage: ReuseStorage | None = None
    reuse_registration: ReuseRegistration | None = None
    reuse_and_extend: ReuseAndExtend | None = None
    reuse_and_extend_non_certified: ReuseAndExtendNonCertified | None = None

    @model_validator(mode="after")
    def _one_variant(self) -> Self:
        _exactly_one(self, "resourceOperation")
        return self

    @property
    def encoded_length(self) -> int:
        """Encoded size of the blob, whichever the variant."""
        for variant in (
            self.register_from_scratch,
            self.reuse_storage,
            self.reuse_registration,
            self.reuse_and_extend,
            self.reuse_and_extend_non_certified,
        ):
            if variant is not None:
                return variant.encoded_length
        raise AssertionError("validated to have one variant")


class NewlyCreated(WireModel):
    """The blob was stored and certified by this request."""

    blob_object: BlobObject
    resource_operation: ResourceOperation
    cost: int
    shared_blob_object: str | None = None


class AlreadyCertified(WireModel):
    """The blob was already certified; ``event`` or (for an owned deletable blob) ``object``."""

    blob_id: str
    event: EventId | None = None
    object: str | None = None
    end_epoch: int

    @model_validator(mode="after")
    def _event_or_object(self) -> Self:
        if (self.event is None) == (self.object is None):
            raise ValueError("alreadyCertified carries exactly one of event and object")
        return self


class MarkedInvalid(WireModel):
    """The blob was marked invalid on chain."""

    blob_id: str
    event: EventId


class StoreError(WireModel):
    """The publisher failed to store the blob."""

    blob_id: str | None = None
    failure_phase: str
    error_msg: str


class BlobStoreResponse(WireModel):
    """Body of a 200 answer to ``PUT /v1/blobs`` (exactly one variant)."""

    newly_created: NewlyCreated | None = None
    already_certified: AlreadyCertified | None = None
    marked_invalid: MarkedInvalid | None = None
    error: StoreError | None = None

    @model_validator(mode="after")
    def _one_variant(self) -> Self:
        _exactly_one(self, "the store response")
        return self


class ApiErrorDetail(BaseModel):
    """One entry of an error body's ``details``."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    type: str | None = Field(default=None, alias="@type")
    reason: str | None = None
    domain: str | None = None


class ApiErrorStatus(BaseModel):
    """The ``error`` object of a non-200 answer."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: str | None = None
    code: int | None = None
    message: str = ""
    details: list[ApiErrorDetail] = Field(default_factory=list)


class ApiErrorBody(BaseModel):
    """A non-200 answer: ``{"error": {"status", "code", "message", "details"}}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    error: ApiErrorStatus


def parse_store_response(raw: bytes | str) -> BlobStoreResponse:
    """Parse the body of a successful ``PUT /v1/blobs``; raises pydantic's ``ValidationError``."""
    return BlobStoreResponse.model_validate_json(raw)
