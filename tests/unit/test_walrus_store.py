"""WalrusBlobStore maps every HTTP outcome into the error hierarchy, without leaking secrets."""

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from integrations.errors import (
    BlobNotFound,
    BlobRejected,
    BlobTooLarge,
    InsufficientStorage,
    NetworkTimeout,
    ServiceUnavailable,
    StorageError,
)
from integrations.storage.server import ServerFaults, create_app
from integrations.storage.serving import BackgroundServer
from integrations.storage.walrus import WalrusBlobStore, looks_like_insufficient_balance, scrub

BLOB_ID = "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk"


def _store(handler: Callable[[httpx.Request], httpx.Response]) -> WalrusBlobStore:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WalrusBlobStore("http://publisher.test", "http://aggregator.test", client=client)


def _answer(status: int, body: object) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    return handler


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": {"code": 400, "message": "bad query"}}, BlobRejected),
        (451, "blocked", BlobRejected),
        (413, "too big", BlobTooLarge),
        (500, "boom", ServiceUnavailable),
        (504, {"error": {"code": 504, "message": "not enough nodes"}}, ServiceUnavailable),
        (500, {"error": {"message": "insufficient WAL balance to pay"}}, InsufficientStorage),
        (
            200,
            {"markedInvalid": {"blobId": BLOB_ID, "event": {"txDigest": "x", "eventSeq": "0"}}},
            BlobRejected,
        ),
        (
            200,
            {"error": {"failurePhase": "register", "errorMsg": "Not enough WAL coins"}},
            InsufficientStorage,
        ),
        (200, {"error": {"failurePhase": "store", "errorMsg": "nodes gone"}}, StorageError),
        (200, {"unexpected": 1}, ServiceUnavailable),
    ],
)
async def test_put_outcomes_map_to_errors(
    status: int, body: object, error: type[StorageError]
) -> None:
    store = _store(_answer(status, body))
    with pytest.raises(error):
        await store.put_blob(b"data")
    await store.aclose()


async def test_query_parameters_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"alreadyCertified": {"blobId": BLOB_ID, "object": "0x9", "endEpoch": 9}}
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    owner = "0x" + "ab" * 32
    store = WalrusBlobStore(
        "http://p.test/base/",
        "http://a.test",
        client=client,
        epochs=5,
        permanent=True,
        send_object_to=owner,
    )
    blob = await store.put_blob(b"abc", epochs=2)
    assert not blob.newly_created
    assert blob.end_epoch == 9
    assert blob.object_id == "0x9"
    assert blob.cost_frost == 0
    request = seen[0]
    assert request.method == "PUT"
    assert request.url.path == "/base/v1/blobs"
    assert dict(request.url.params) == {"epochs": "5", "permanent": "true", "send_object_to": owner}
    assert request.content == b"abc"
    await client.aclose()


async def test_timeout_is_network_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(NetworkTimeout):
        await _store(handler).put_blob(b"x")


async def test_get_errors() -> None:
    with pytest.raises(BlobNotFound):
        await _store(_answer(404, "nope")).get_blob(BLOB_ID)
    with pytest.raises(ServiceUnavailable):
        await _store(_answer(503, "down")).get_blob(BLOB_ID)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_messages_never_carry_credentials() -> None:
    port = _free_port()  # nothing listens there: connection refused
    url = f"http://alice:hunter2@127.0.0.1:{port}"
    store = WalrusBlobStore(url, url)
    with pytest.raises(ServiceUnavailable) as info:
        await store.put_blob(b"x")
    assert "hunter2" not in str(info.value)
    assert "alice" not in str(info.value)
    await store.aclose()

    leaky = "failed at https://bob:s3cret@relay.example/v1 with token"
    store2 = _store(_answer(500, {"error": {"message": leaky}}))
    with pytest.raises(ServiceUnavailable) as info2:
        await store2.put_blob(b"x")
    assert "s3cret" not in str(info2.value)


def test_insufficient_balance_detection_and_scrub() -> None:
    assert looks_like_insufficient_balance("could not find WAL coins with sufficient balance")
    assert looks_like_insufficient_balance("Insufficient funds for gas")
    assert not looks_like_insufficient_balance("blob too large")
    assert scrub("see https://u:p@h/x now") == "see <url> now"
    assert len(scrub("x" * 1000)) == 200


# Against the local server over loopback, with its fault switches.


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., BackgroundServer]]:
    started: list[BackgroundServer] = []

    def start(
        *,
        faults: ServerFaults | None = None,
        wal_balance_frost: int | None = None,
        max_body_size: int = 1024 * 1024,
    ) -> BackgroundServer:
        app = create_app(
            data_dir=tmp_path / f"srv{len(started)}",
            max_body_size=max_body_size,
            wal_balance_frost=wal_balance_frost,
            faults=faults,
        )
        server = BackgroundServer(app)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def test_server_504_fault_is_service_unavailable(
    server_factory: Callable[..., BackgroundServer],
) -> None:
    faults = ServerFaults(fail_after_requests=1, fail_requests=1)
    server = server_factory(faults=faults)
    store = WalrusBlobStore(server.url, server.url)
    await store.put_blob(b"first")
    with pytest.raises(ServiceUnavailable, match="504"):
        await store.put_blob(b"second")
    assert (await store.put_blob(b"third")).newly_created
    await store.aclose()


async def test_server_dropped_connection_is_service_unavailable(
    server_factory: Callable[..., BackgroundServer],
) -> None:
    server = server_factory(faults=ServerFaults(drop_after_bytes=100_000))
    store = WalrusBlobStore(server.url, server.url)
    await store.put_blob(b"a" * 50_000)
    with pytest.raises(ServiceUnavailable):
        await store.put_blob(b"b" * 200_000)
    assert (await store.put_blob(b"c" * 200_000)).newly_created
    await store.aclose()


async def test_slow_server_is_network_timeout(
    server_factory: Callable[..., BackgroundServer],
) -> None:
    server = server_factory(faults=ServerFaults(response_delay_s=1.0))
    store = WalrusBlobStore(server.url, server.url, timeout_s=0.2)
    with pytest.raises(NetworkTimeout):
        await store.put_blob(b"x")
    await store.aclose()


async def test_insufficient_wal_on_the_server(
    server_factory: Callable[..., BackgroundServer],
) -> None:
    server = server_factory(wal_balance_frost=200_000)
    store = WalrusBlobStore(server.url, server.url)
    first = await store.put_blob(b"one")
    assert first.cost_frost == 132_300
    with pytest.raises(InsufficientStorage, match="sufficient balance"):
        await store.put_blob(b"two")
    await store.aclose()


async def test_server_body_limit_is_blob_too_large(
    server_factory: Callable[..., BackgroundServer],
) -> None:
    server = server_factory(max_body_size=1000)
    store = WalrusBlobStore(server.url, server.url)
    with pytest.raises(BlobTooLarge, match="413"):
        await store.put_blob(b"x" * 1001)
    await store.aclose()


def test_json_error_body_shape_from_server(
    server_factory: Callable[..., BackgroundServer],
) -> None:
    server = server_factory()
    response = httpx.put(f"{server.url}/v1/blobs?epochs=0", content=b"x")
    assert response.status_code == 400
    assert json.loads(response.text)["error"]["code"] == 400
