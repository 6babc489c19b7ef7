"""Every response shape documented for the Walrus publisher parses into typed models."""

import json

import pytest
from pydantic import ValidationError

from integrations.storage.walrus_wire import ApiErrorBody, parse_store_response

BLOB_ID = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"
NEWLY_CREATED = {
    "newlyCreated": {
        "blobObject": {
            "id": "0xe91eee8c5b6f35b9a250cfc29e30f0d9e5463a21fd8d1ddb0fc22d44db4eac50",
            "registeredEpoch": 34,
            "blobId": BLOB_ID,
            "size": 17,
            "encodingType": "RS2",
            "certifiedEpoch": 34,
            "storage": {
                "id": "0x4748cd83217b5ce7aa77e7f1ad6fc5f7f694e26a157381b9391ac65c47815faf",
                "startEpoch": 34,
                "endEpoch": 35,
                "storageSize": 66034000,
            },
            "deletable": False,
        },
        "resourceOperation": {"registerFromScratch": {"encodedLength": 66034000, "epochsAhead": 1}},
        "cost": 132300,
    }
}


def test_newly_created_reference_example() -> None:
    answer = parse_store_response(json.dumps(NEWLY_CREATED))
    created = answer.newly_created
    assert created is not None
    assert created.blob_object.blob_id == BLOB_ID
    assert created.blob_object.size == 17
    assert created.blob_object.encoding_type == "RS2"
    assert created.blob_object.certified_epoch == 34
    assert created.blob_object.storage.storage_size == 66_034_000
    assert created.blob_object.storage.end_epoch == 35
    assert not created.blob_object.deletable
    assert created.cost == 132_300
    op = created.resource_operation.register_from_scratch
    assert op is not None
    assert op.epochs_ahead == 1
    assert created.resource_operation.encoded_length == 66_034_000
    assert answer.already_certified is None


def test_round_trip_to_camel_case() -> None:
    answer = parse_store_response(json.dumps(NEWLY_CREATED))
    assert answer.to_wire() == NEWLY_CREATED


def test_newly_created_with_shared_object_and_uncertified() -> None:
    body = json.loads(json.dumps(NEWLY_CREATED))
    body["newlyCreated"]["sharedBlobObject"] = "0xabc"
    body["newlyCreated"]["blobObject"]["certifiedEpoch"] = None
    created = parse_store_response(json.dumps(body)).newly_created
    assert created is not None
    assert created.shared_blob_object == "0xabc"
    assert created.blob_object.certified_epoch is None


@pytest.mark.parametrize(
    ("variant", "fields", "attr"),
    [
        ("registerFromScratch", {"encodedLength": 10, "epochsAhead": 3}, "register_from_scratch"),
        ("reuseStorage", {"encodedLength": 10}, "reuse_storage"),
        ("reuseRegistration", {"encodedLength": 10}, "reuse_registration"),
        ("reuseAndExtend", {"encodedLength": 10, "epochsExtended": 2}, "reuse_and_extend"),
        (
            "reuseAndExtendNonCertified",
            {"encodedLength": 10, "epochsExtended": 2},
            "reuse_and_extend_non_certified",
        ),
    ],
)
def test_every_resource_operation(variant: str, fields: dict[str, int], attr: str) -> None:
    body = json.loads(json.dumps(NEWLY_CREATED))
    body["newlyCreated"]["resourceOperation"] = {variant: fields}
    created = parse_store_response(json.dumps(body)).newly_created
    assert created is not None
    op = created.resource_operation
    assert getattr(op, attr) is not None
    assert op.encoded_length == 10
    assert op.to_wire() == {variant: fields}


def test_two_resource_operations_are_rejected() -> None:
    body = json.loads(json.dumps(NEWLY_CREATED))
    body["newlyCreated"]["resourceOperation"] = {
        "reuseStorage": {"encodedLength": 1},
        "reuseRegistration": {"encodedLength": 1},
    }
    with pytest.raises(ValidationError):
        parse_store_response(json.dumps(body))


def test_already_certified_with_event() -> None:
    raw = {
        "alreadyCertified": {
            "blobId": BLOB_ID,
            "event": {"txDigest": "4XQHFa9S324wTzYHF3vsBSwpjMHbR4KaA1ZDyrUDQSwk", "eventSeq": "0"},
            "endEpoch": 35,
        }
    }
    done = parse_store_response(json.dumps(raw)).already_certified
    assert done is not None
    assert done.event is not None
    assert done.event.tx_digest.startswith("4XQH")
    assert done.event.event_seq == "0"
    assert done.object is None
    assert done.end_epoch == 35


def test_already_certified_with_object() -> None:
    raw = {"alreadyCertified": {"blobId": BLOB_ID, "object": "0x1234", "endEpoch": 40}}
    done = parse_store_response(json.dumps(raw)).already_certified
    assert done is not None
    assert done.object == "0x1234"
    assert done.event is None


def test_already_certified_needs_event_or_object() -> None:
    with pytest.raises(ValidationError):
        parse_store_response(json.dumps({"alreadyCertified": {"blobId": BLOB_ID, "endEpoch": 1}}))


def test_marked_invalid() -> None:
    raw = {"markedInvalid": {"blobId": BLOB_ID, "event": {"txDigest": "abc", "eventSeq": 7}}}
    invalid = parse_store_response(json.dumps(raw)).marked_invalid
    assert invalid is not None
    assert invalid.blob_id == BLOB_ID
    assert invalid.event.event_seq == 7


@pytest.mark.parametrize("blob_id", [BLOB_ID, None])
def test_error_with_and_without_blob_id(blob_id: str | None) -> None:
    inner: dict[str, object] = {"failurePhase": "store", "errorMsg": "not enough storage nodes"}
    if blob_id is not None:
        inner["blobId"] = blob_id
    error = parse_store_response(json.dumps({"error": inner})).error
    assert error is not None
    assert error.blob_id == blob_id
    assert error.failure_phase == "store"
    assert error.error_msg == "not enough storage nodes"


def test_exactly_one_top_level_key() -> None:
    with pytest.raises(ValidationError):
        parse_store_response("{}")
    two = {
        **NEWLY_CREATED,
        "alreadyCertified": {"blobId": BLOB_ID, "object": "0x1", "endEpoch": 1},
    }
    with pytest.raises(ValidationError):
        parse_store_response(json.dumps(two))


def test_snake_case_is_not_what_the_wire_speaks_but_unknown_fields_are_ignored() -> None:
    body = json.loads(json.dumps(NEWLY_CREATED))
    body["newlyCreated"]["futureField"] = {"x": 1}
    assert parse_store_response(json.dumps(body)).newly_created is not None


def test_api_error_body() -> None:
    raw = {
        "error": {
            "status": "INTERNAL",
            "code": 500,
            "message": "could not find WAL coins with sufficient balance",
            "details": [{"@type": "ErrorInfo", "reason": "INSUFFICIENT_WAL", "domain": "x"}],
        }
    }
    body = ApiErrorBody.model_validate_json(json.dumps(raw))
    assert body.error.code == 500
    assert body.error.details[0].type == "ErrorInfo"
    assert body.error.details[0].reason == "INSUFFICIENT_WAL"
