"""The local Walrus-compatible server speaks the reference wire format."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integrations.storage.ids import exact_blob_id, fast_blob_id
from integrations.storage.server import create_app
from integrations.storage.serving import BackgroundServer
from integrations.storage.walrus_wire import parse_store_response

ADDRESS = "0x" + "12" * 32


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(data_dir=tmp_path, max_body_size=4096)) as running:
        yield running


def _put(server: BackgroundServer, data: bytes, query: str = "") -> httpx.Response:
    return httpx.put(f"{server.url}/v1/blobs{query}", content=data)


def test_newly_created_then_already_certified_with_object(server: BackgroundServer) -> None:
    first = _put(server, b"some other string")
    assert first.status_code == 200
    created = parse_store_response(first.content).newly_created
    assert created is not None
    blob = created.blob_object
    assert blob.blob_id == fast_blob_id(b"some other string")
    assert blob.id.startswith("0x") and len(blob.id) == 66
    assert blob.encoding_type == "RS2"
    assert blob.deletable  # deletable by default
    assert blob.storage.storage_size == 66_034_000
    assert created.cost == 132_300
    assert created.resource_operation.register_from_scratch is not None
    assert set(first.json()["newlyCreated"]["blobObject"]) >= {
        "id",
        "registeredEpoch",
        "blobId",
        "size",
        "encodingType",
        "certifiedEpoch",
        "storage",
        "deletable",
    }

    again = parse_store_response(_put(server, b"some other string").content).already_certified
    assert again is not None
    assert again.object == blob.id
    assert again.end_epoch == blob.storage.end_epoch


def test_permanent_repeat_reports_an_event(server: BackgroundServer) -> None:
    created = parse_store_response(_put(server, b"perm", "?permanent=true").content).newly_created
    assert created is not None
    assert not created.blob_object.deletable
    again = parse_store_response(_put(server, b"perm", "?permanent=true").content)
    assert again.already_certified is not None
    assert again.already_certified.event is not None


def test_more_epochs_extend_the_blob(server: BackgroundServer) -> None:
    _put(server, b"extend me", "?epochs=1")
    answer = parse_store_response(_put(server, b"extend me", "?epochs=4").content).newly_created
    assert answer is not None
    op = answer.resource_operation.reuse_and_extend
    assert op is not None
    assert op.epochs_extended == 3
    assert answer.cost == 3 * 132_300


def test_share_adds_a_shared_object_and_force_stores_again(server: BackgroundServer) -> None:
    shared = parse_store_response(_put(server, b"s", "?share=true").content).newly_created
    assert shared is not None and shared.shared_blob_object is not None
    forced = parse_store_response(_put(server, b"s", "?force=true").content).newly_created
    assert forced is not None
    assert forced.blob_object.id != shared.blob_object.id
    sent = parse_store_response(_put(server, b"t", f"?send_object_to={ADDRESS}").content)
    assert sent.newly_created is not None


@pytest.mark.parametrize(
    "query",
    [
        "?permanent=true&deletable=true",
        f"?share=true&send_object_to={ADDRESS}",
        "?send_object_to=alice",
        "?epochs=0",
        "?epochs=many",
        "?epochs=54",
        "?encoding_type=RS1",
        "?force=maybe",
    ],
)
def test_malformed_queries_are_400(server: BackgroundServer, query: str) -> None:
    response = _put(server, b"x", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_body_limit_413_with_and_without_content_length(server: BackgroundServer) -> None:
    assert _put(server, b"x" * 4097).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"y" * 1000

    streamed = httpx.put(f"{server.url}/v1/blobs", content=chunks())
    assert streamed.status_code == 413
    assert _put(server, b"x" * 4096).status_code == 200


def test_read_blob_and_404(server: BackgroundServer) -> None:
    blob_id = _put(server, b"read me").json()["newlyCreated"]["blobObject"]["blobId"]
    got = httpx.get(f"{server.url}/v1/blobs/{blob_id}")
    assert got.status_code == 200
    assert got.content == b"read me"
    assert httpx.get(f"{server.url}/v1/blobs/{'A' * 43}").status_code == 404
    assert httpx.get(f"{server.url}/v1/blobs/nonsense").status_code == 404


def test_openapi_document(server: BackgroundServer) -> None:
    doc = httpx.get(f"{server.url}/v1/api").json()
    assert "/v1/blobs" in doc["paths"]
    params = {p["name"] for p in doc["paths"]["/v1/blobs"]["put"]["parameters"]}
    assert {"epochs", "permanent", "force", "send_object_to", "share"} <= params


def test_exact_blob_ids_mode(tmp_path: Path) -> None:
    app = create_app(data_dir=tmp_path, max_body_size=4096, exact_blob_ids=True)
    with BackgroundServer(app) as srv:
        body = _put(srv, b"some other string").json()
    blob_id = body["newlyCreated"]["blobObject"]["blobId"]
    assert blob_id == "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"
    assert blob_id == exact_blob_id(b"some other string")


def test_serve_help_says_which_blob_ids_are_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["walrus", "serve", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--exact-blob-ids" in text
    assert "real RS2 blob ids" in text and "default: fast content-derived ids" in text
