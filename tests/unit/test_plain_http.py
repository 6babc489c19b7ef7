"""The zero-copy plain-http transport: framing, reuse, read-into-buffer, errors, over loopback."""

import asyncio
import contextlib
import hashlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from integrations.storage.plain_http import BODY_INTO, BODY_LENGTH, PlainHTTPTransport
from integrations.storage.port import FilePart
from integrations.storage.serving import BackgroundServer

BLOB = hashlib.shake_256(b"blob").digest(3 * 2**20 + 11)


async def _echo(request: Request) -> Response:
    body = await request.body()
    return Response(hashlib.sha256(body).hexdigest().encode(), media_type="text/plain")


async def _blob(_request: Request) -> Response:
    return Response(BLOB, media_type="application/octet-stream")


async def _streamed(_request: Request) -> StreamingResponse:
    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(BLOB), 100_000):
            yield BLOB[start : start + 100_000]

    return StreamingResponse(pieces(), media_type="application/octet-stream")


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    app = Starlette(
        routes=[
            Route("/echo", _echo, methods=["PUT"]),
            Route("/blob", _blob),
            Route("/streamed", _streamed),
        ]
    )
    with BackgroundServer(app) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(mounts={"http://": PlainHTTPTransport()}) as made:
        yield made


async def test_put_sends_memoryview_pieces_with_and_without_length(
    server: BackgroundServer, client: httpx.AsyncClient
) -> None:
    view = memoryview(BLOB)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(view), 2**20):
            yield cast(bytes, view[start : start + 2**20])  # sent as is, not copied

    want = hashlib.sha256(BLOB).hexdigest()
    sized = await client.put(
        f"{server.url}/echo", content=pieces(), headers={"content-length": str(len(BLOB))}
    )
    assert (sized.status_code, sized.text) == (200, want)
    chunked = await client.put(f"{server.url}/echo", content=pieces())  # transfer-encoding
    assert (chunked.status_code, chunked.text) == (200, want)


async def test_bodies_with_length_chunked_and_read_into_a_buffer(
    server: BackgroundServer, client: httpx.AsyncClient
) -> None:
    assert (await client.get(f"{server.url}/blob")).content == BLOB
    assert (await client.get(f"{server.url}/streamed")).content == BLOB

    buffer = bytearray(len(BLOB))
    async with client.stream(
        "GET", f"{server.url}/blob", extensions={BODY_INTO: memoryview(buffer)}
    ) as response:
        assert response.extensions[BODY_LENGTH] == len(BLOB)
    assert buffer == BLOB

    small = bytearray(1000)
    async with client.stream(
        "GET", f"{server.url}/blob", extensions={BODY_INTO: memoryview(small)}
    ) as response:
        assert response.extensions[BODY_LENGTH] == len(BLOB)  # too long: nothing read past it
    assert small == bytearray(1000)
    # The cut-off connection was dropped, not reused mid-body.
    assert (await client.get(f"{server.url}/blob")).content == BLOB


@contextlib.contextmanager
def _raw_server(serve: Callable[..., None], *args: object) -> Iterator[str]:
    """The URL of a loopback listener answered by ``serve(listener, stop, *args)`` on a
    thread; ``stop`` is set, and the thread joined, when the block ends. A listener
    gives up waiting to accept after 10 s, so a test that failed before connecting
    fails instead of hanging."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(10)
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(listener, stop, *args))
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        listener.close()


def _one_answer_per_connection(listener: socket.socket, stop: threading.Event) -> None:
    """Answer one request on each connection, then close it (as an idle timeout would)."""
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")


async def test_a_keep_alive_connection_the_server_closed_is_not_reused(
    client: httpx.AsyncClient,
) -> None:
    with _raw_server(_one_answer_per_connection) as url:
        for _ in range(3):
            assert (await client.get(url)).text == "ok"


def _closes_on_the_second_request(
    listener: socket.socket, stop: threading.Event, reset: bool, seen: list[str]
) -> None:
    """Answer the first request on each connection; on the second, close it unanswered
    (a keep-alive connection the server closes just as the client reuses it)."""
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            for turn in (1, 2):
                data = b""
                while b"\r\n\r\n" not in data:
                    piece = conn.recv(4096)
                    if not piece:
                        break
                    data += piece
                seen.append(data.split(b" ", 1)[0].decode() if data else "")
                if turn == 1:
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                elif reset:  # an RST rather than a FIN
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_a_connection_closed_as_it_is_reused_costs_an_idempotent_request_one_more_try(
    client: httpx.AsyncClient, reset: bool
) -> None:
    seen: list[str] = []
    with _raw_server(_closes_on_the_second_request, reset, seen) as url:
        assert (await client.get(url)).text == "ok"
        assert (await client.get(url)).text == "ok"  # sent again on a new connection
        assert (await client.put(url, content=b"abc")).text == "ok"
        # a body that cannot be sent twice, or a method that is not idempotent, is not
        with pytest.raises((httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError)):
            await client.post(url, content=b"abc")  # (a reset may come while it is sent)
    assert seen[:4] == ["GET", "GET", "GET", "PUT"]


async def test_silence_is_a_read_timeout_and_nobody_listening_a_connect_error(
    client: httpx.AsyncClient,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts the connection, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, timeout=0.2)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{port}/")


def _stall_mid_body(listener: socket.socket, stop: threading.Event) -> None:
    """Answer with a 1000-byte body, send 10 bytes of it, then say nothing more."""
    conn, _ = listener.accept()
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n" + b"x" * 10)
        stop.wait(10)


async def test_a_body_that_stalls_while_read_into_a_buffer_is_a_read_timeout(
    client: httpx.AsyncClient,
) -> None:
    with _raw_server(_stall_mid_body) as url, pytest.raises(httpx.ReadTimeout):
        async with client.stream(
            "GET", url, timeout=0.3, extensions={BODY_INTO: memoryview(bytearray(1000))}
        ):
            pass


def _read_head_then_stall(listener: socket.socket, stop: threading.Event) -> None:
    """Accept, read a little of the request, then read nothing more (the sender's buffers fill)."""
    try:
        conn, _ = listener.accept()
    except TimeoutError:  # the client never came: the test failed before it connected
        return
    with conn:
        conn.recv(4096)
        stop.wait(10)


# 64 MiB: far more than loopback's socket buffers hold.
_LARGE = bytes(64 * 2**20)
_LARGE_HEADERS = {"content-length": str(len(_LARGE))}


async def test_a_large_body_the_server_stops_reading_is_a_write_timeout(
    client: httpx.AsyncClient,
) -> None:
    with _raw_server(_read_head_then_stall) as url, pytest.raises(httpx.WriteTimeout):
        await client.put(url, content=_LARGE, headers=_LARGE_HEADERS, timeout=0.3)


async def test_a_cancelled_large_send_stops_at_once_and_leaves_the_client_usable(
    server: BackgroundServer, client: httpx.AsyncClient
) -> None:
    with _raw_server(_read_head_then_stall) as url:
        sending = asyncio.ensure_future(client.put(url, content=_LARGE, headers=_LARGE_HEADERS))
        await asyncio.sleep(0.3)  # the send waits on the full socket by now
        started = time.monotonic()
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        assert time.monotonic() - started < 2
    answer = await client.put(f"{server.url}/echo", content=BLOB)
    assert answer.text == hashlib.sha256(BLOB).hexdigest()


async def _parts(*parts: FilePart) -> AsyncIterator[bytes]:
    for part in parts:
        yield cast(bytes, part)  # the transport sends a file part with sendfile


async def test_file_parts_go_from_the_file_with_and_without_length(
    server: BackgroundServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"x" * 100 + BLOB + b"y" * 100)
    with open(path, "rb") as fh:
        first = FilePart(fh.fileno(), 100, 2**20)
        rest = FilePart(fh.fileno(), 100 + 2**20, len(BLOB) - 2**20)
        want = hashlib.sha256(BLOB).hexdigest()
        sized = await client.put(
            f"{server.url}/echo",
            content=_parts(first, rest),
            headers={"content-length": str(len(BLOB))},
        )
        assert (sized.status_code, sized.text) == (200, want)
        chunked = await client.put(f"{server.url}/echo", content=_parts(first, rest))
        assert (chunked.status_code, chunked.text) == (200, want)
        assert fh.tell() == 0  # sending never moved the file's position


@pytest.mark.parametrize(
    ("size", "past_end", "error", "match", "timeout"),
    [
        # the file is shorter than the part (cut short since it was hashed)
        (len(BLOB), 5, httpx.WriteError, "the file ended 5 bytes early", 5.0),
        # a part far larger than loopback's socket buffers, to a server that stops reading
        (len(_LARGE), 0, httpx.WriteTimeout, "no progress", 0.3),
    ],
)
async def test_a_file_part_that_cannot_all_be_sent_is_a_write_error(
    client: httpx.AsyncClient,
    tmp_path: Path,
    size: int,
    past_end: int,
    error: type[Exception],
    match: str,
    timeout: float,
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(size))
    part_size = size + past_end
    with (
        open(path, "rb") as fh,
        _raw_server(_read_head_then_stall) as url,
        pytest.raises(error, match=match),
    ):
        part = FilePart(fh.fileno(), 0, part_size)
        await client.put(
            url,
            content=_parts(part),
            headers={"content-length": str(part_size)},
            timeout=timeout,
        )
