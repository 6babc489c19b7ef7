"""An httpx transport for plain ``http://`` that moves bodies without copying them in Python.

httpx's default transport frames every body piece through h11 (which joins it
into a new ``bytes``) and asyncio's stream buffer (which copies what the socket
did not take at once); a response body is read in 64 KiB pieces and joined.
For multi-GiB uploads through a self-run publisher or the local server that is
most of the client's CPU. This transport writes request pieces straight to a
non-blocking socket (``loop.sock_sendall`` on the caller's memoryview; a body piece
that is a ``FilePart`` goes from the file with ``sendfile``) and, when
the request carries the ``BODY_INTO`` extension, reads a 200 response's body
straight into the caller's buffer (``loop.sock_recv_into``); the number of body
bytes is then in the response's ``BODY_LENGTH`` extension (more than the
buffer's length if the body did not fit; nothing past the buffer is read).

Connections are kept alive and reused; an idle one the server has closed is
noticed before it is used, and one it closes just as it is taken (a race no check
can rule out) costs an idempotent in-memory request one more try on a new connection. Errors are httpx's (``ConnectError``, ``ReadTimeout``,
``RemoteProtocolError``…), so callers translate them as for any transport.
Only ``http://`` is served: TLS goes through httpx's own transport.

Example::

    client = httpx.AsyncClient(mounts={"http://": PlainHTTPTransport()})
    buffer = bytearray(8 * 2**20)
    async with client.stream("GET", url, extensions={BODY_INTO: memoryview(buffer)}) as r:
        n = r.extensions.get(BODY_LENGTH)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import httpx

from integrations.storage.port import FilePart

__all__ = ["BODY_INTO", "BODY_LENGTH", "PlainHTTPTransport"]

BODY_INTO: Final = "satya.body_into"
BODY_LENGTH: Final = "satya.body_length"
_MAX_HEAD = 64 * 1024
_READ = 256 * 1024
_MAX_IDLE = 16


class PlainHTTPTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over plain TCP with zero-copy bodies; see the module docstring."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[socket.socket]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the response head (and, with ``BODY_INTO``, the body)."""
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"{url.scheme!r} is not served by this transport")
        if self._closed:
            raise RuntimeError("the transport is closed")
        timeouts = request.extensions.get("timeout", {})
        address = (url.host, url.port or 80)
        sock, reused = await self._checkout(address, timeouts.get("connect"))
        try:
            try:
                status, headers, rest = await _exchange(sock, request, timeouts)
            except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
                if not (reused and _replayable(request)):
                    raise
                # the server closed the kept-alive connection as it was taken (no check
                # before sending can rule that out): the request goes once more, fresh
                sock.close()
                sock = await self._connect(address, timeouts.get("connect"))
                status, headers, rest = await _exchange(sock, request, timeouts)
            body = _Body(self, sock, address, request, status, headers, rest, timeouts)
            extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
            into = request.extensions.get(BODY_INTO)
            if into is not None and status == 200 and body.length is not None:
                extensions[BODY_LENGTH] = await body.read_into(into)
        except BaseException:
            sock.close()
            raise
        return httpx.Response(status, headers=headers, stream=body, extensions=extensions)

    async def aclose(self) -> None:
        """Close the idle connections; later requests are refused."""
        self._closed = True
        for socks in self._idle.values():
            for sock in socks:
                sock.close()
        self._idle.clear()

    async def _checkout(
        self, address: tuple[str, int], timeout: float | None
    ) -> tuple[socket.socket, bool]:
        """An idle connection still open (and True: reused), else a new one (False)."""
        idle = self._idle.get(address, [])
        while idle:
            sock = idle.pop()
            if _still_open(sock):
                return sock, True
            sock.close()
        return await self._connect(address, timeout), False

    async def _connect(self, address: tuple[str, int], timeout: float | None) -> socket.socket:
        loop = asyncio.get_running_loop()
        async with _deadline(timeout, httpx.ConnectTimeout):
            try:
                infos = await loop.getaddrinfo(*address, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpx.ConnectError(str(exc)) from None
            error: OSError | None = None
            for family, kind, proto, _, sockaddr in infos:
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, sockaddr)
                except OSError as exc:
                    sock.close()
                    error = exc
                    continue
                except BaseException:
                    sock.close()
                    raise
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
        raise httpx.ConnectError(str(error) if error else "no address to connect to")

    def _checkin(self, address: tuple[str, int], sock: socket.socket) -> None:
        idle = self._idle.setdefault(address, [])
        if self._closed or len(idle) >= _MAX_IDLE:
            sock.close()
        else:
            idle.append(sock)


class _Body(httpx.AsyncByteStream):
    """The response body, read from the socket as the caller iterates; then the socket is reused."""

    def __init__(
        self,
        transport: PlainHTTPTransport,
        sock: socket.socket,
        address: tuple[str, int],
        request: httpx.Request,
        status: int,
        headers: list[tuple[bytes, bytes]],
        rest: bytes,
        timeouts: dict[str, float | None],
    ) -> None:
        self._transport = transport
        self._sock: socket.socket | None = sock
        self._address = address
        self._rest = rest
        self._read_timeout = timeouts.get("read")
        fields = {k.lower(): v.lower() for k, v in headers}
        self._keep_alive = fields.get(b"connection") != b"close"
        self._chunked = b"chunked" in fields.get(b"transfer-encoding", b"")
        self.length: int | None = None
        if request.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self.length = 0
        elif not self._chunked:
            declared = fields.get(b"content-length")
            if declared is None:
                self._keep_alive = False  # the body ends when the server closes
            elif declared.isdigit():
                self.length = int(declared)
            else:
                raise httpx.RemoteProtocolError("malformed Content-Length")
        self._left = self.length

    async def read_into(self, into: memoryview) -> int:
        """Read the whole (Content-Length) body into ``into``; its length even if it did not fit."""
        assert self.length is not None and self._sock is not None
        total = self.length
        if total > len(into):
            self._drop()
            return total
        have = min(len(self._rest), total)
        into[:have] = self._rest[:have]
        self._rest = self._rest[have:]
        if have < total:
            sock = self._sock
            try:
                await asyncio.to_thread(_recv_all, sock, into[have:total], self._read_timeout)
            except BaseException:
                # Wake a receive still blocked in its thread (a cancelled download).
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                raise
        self._left = 0
        self._release()
        return total

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._chunked:
            async for piece in self._chunks():
                yield piece
        else:
            while self._left is None or self._left > 0:
                piece = await self._read(_READ if self._left is None else min(self._left, _READ))
                if not piece:
                    if self._left is None:
                        break
                    raise httpx.RemoteProtocolError("the server closed the connection mid-body")
                if self._left is not None:
                    self._left -= len(piece)
                yield piece
        self._left = 0
        self._release()

    async def aclose(self) -> None:
        if self._left != 0:
            self._drop()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            line = await self._line()
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httpx.RemoteProtocolError("malformed chunk size") from None
            if size == 0:
                while await self._line():  # trailers, up to the empty line
                    pass
                return
            while size:
                piece = await self._read(min(size, _READ))
                if not piece:
                    raise httpx.RemoteProtocolError("the server closed the connection mid-body")
                size -= len(piece)
                yield piece
            await self._line()

    async def _line(self) -> bytes:
        while b"\r\n" not in self._rest:
            more = await self._recv(_READ)
            if not more or len(self._rest) > _MAX_HEAD:
                raise httpx.RemoteProtocolError("the server closed the connection mid-body")
            self._rest += more
        line, _, self._rest = self._rest.partition(b"\r\n")
        return line

    async def _read(self, n: int) -> bytes:
        if self._rest:
            piece, self._rest = self._rest[:n], self._rest[n:]
            return piece
        return await self._recv(n)

    async def _recv(self, n: int) -> bytes:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        async with _deadline(self._read_timeout, httpx.ReadTimeout):
            try:
                return await loop.sock_recv(self._sock, n)
            except OSError as exc:
                raise httpx.ReadError(str(exc)) from None

    def _release(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._keep_alive and not self._rest:
            self._transport._checkin(self._address, sock)
        else:
            sock.close()

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def _replayable(request: httpx.Request) -> bool:
    """Safe to send again: an idempotent method with a body held in memory."""
    return request.method in _IDEMPOTENT and isinstance(request.stream, httpx.ByteStream)


async def _exchange(
    sock: socket.socket, request: httpx.Request, timeouts: dict[str, float | None]
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Send ``request`` on ``sock`` and read the response head."""
    async with _deadline(timeouts.get("write"), httpx.WriteTimeout):
        await _send_request(sock, request)
    return await _read_head(sock, timeouts.get("read"))


async def _send_request(sock: socket.socket, request: httpx.Request) -> None:
    url = request.url
    target = url.raw_path or b"/"
    lines = [request.method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    chunked = False
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        lines.append(name + b": " + value)
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_sendall(sock, head)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        piece: bytes | FilePart
        async for piece in request.stream:
            size = piece.size if isinstance(piece, FilePart) else len(piece)
            if not size:
                continue
            if chunked:
                await loop.sock_sendall(sock, b"%x\r\n" % size)
            if isinstance(piece, FilePart):
                await _send_file(sock, piece)
            else:
                await loop.sock_sendall(sock, piece)
            if chunked:
                await loop.sock_sendall(sock, b"\r\n")
        if chunked:
            await loop.sock_sendall(sock, b"0\r\n\r\n")
    except OSError as exc:
        raise httpx.WriteError(str(exc)) from None


async def _send_file(sock: socket.socket, part: FilePart) -> None:
    """Send ``part`` with ``sendfile``: page cache to socket, no copy through Python."""
    loop = asyncio.get_running_loop()
    sent = 0
    while sent < part.size:
        try:
            n = os.sendfile(sock.fileno(), part.fd, part.offset + sent, part.size - sent)
        except BlockingIOError:
            await _writable(loop, sock)
            continue
        if not n:
            raise httpx.WriteError(f"the file ended {part.size - sent} bytes early")
        sent += n


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


async def _read_head(
    sock: socket.socket, timeout: float | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and the bytes read past the head; 1xx interim answers are skipped."""
    loop = asyncio.get_running_loop()
    data = b""
    async with _deadline(timeout, httpx.ReadTimeout) as deadline:
        while True:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > _MAX_HEAD:
                    raise httpx.RemoteProtocolError("the response head is too long")
                try:
                    more = await loop.sock_recv(sock, _READ)
                except OSError as exc:
                    raise httpx.ReadError(str(exc)) from None
                if not more:
                    raise httpx.RemoteProtocolError("the server closed the connection")
                data += more
                deadline.push()
                continue
            head, data = data[:end], data[end + 4 :]
            status_line, *header_lines = head.split(b"\r\n")
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise httpx.RemoteProtocolError("malformed status line")
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                continue
            headers: list[tuple[bytes, bytes]] = []
            for line in header_lines:
                name, sep, value = line.partition(b":")
                if not sep:
                    raise httpx.RemoteProtocolError("malformed header line")
                headers.append((name.strip(), value.strip()))
            return status, headers, data


def _recv_all(sock: socket.socket, view: memoryview, timeout: float | None) -> None:
    """Fill ``view`` from ``sock`` in a blocking receive that waits for all of it.

    One ``recv(MSG_WAITALL)`` fills a chunk while the thread sleeps in the kernel;
    the event loop would wake for every segment the server wrote (64 KiB each).
    ``SO_RCVTIMEO`` bounds each wait without progress, as httpx's read timeout does.
    """
    seconds = 0.0 if timeout is None else max(timeout, 0.001)
    whole, micro = divmod(int(seconds * 1_000_000), 1_000_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, micro))
    sock.setblocking(True)
    try:
        have = 0
        while have < len(view):
            try:
                n = sock.recv_into(view[have:], len(view) - have, socket.MSG_WAITALL)
            except BlockingIOError:
                raise httpx.ReadTimeout(f"no progress in {timeout:g} s") from None
            except OSError as exc:
                raise httpx.ReadError(str(exc)) from None
            if not n:
                raise httpx.RemoteProtocolError("the server closed the connection mid-body")
            have += n
    finally:
        sock.setblocking(False)


def _still_open(sock: socket.socket) -> bool:
    """An idle keep-alive socket is usable only if nothing (an EOF, a stray byte) arrived on it."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class _Deadline:
    def __init__(self, timeout: asyncio.Timeout | None, seconds: float | None) -> None:
        self._timeout = timeout
        self._seconds = seconds

    def push(self) -> None:
        """Progress was made: the timeout counts again from now (per-operation, as httpx's)."""
        if self._timeout is not None and self._seconds is not None:
            self._timeout.reschedule(asyncio.get_running_loop().time() + self._seconds)


@asynccontextmanager
async def _deadline(
    seconds: float | None, error: type[httpx.TimeoutException]
) -> AsyncIterator[_Deadline]:
    if seconds is None:
        yield _Deadline(None, None)
        return
    try:
        async with asyncio.timeout(seconds) as timeout:
            yield _Deadline(timeout, seconds)
    except TimeoutError:
        raise error(f"no progress in {seconds:g} s") from None
