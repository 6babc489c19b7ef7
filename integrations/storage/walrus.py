"""The live ``BlobStore``: a Walrus publisher (writes) and aggregator (reads) over HTTP.

``PUT {publisher}/v1/blobs?epochs=N[&permanent=true][&send_object_to=0x…]`` with
the raw bytes; ``GET {aggregator}/v1/blobs/{blob_id}``. Answers are parsed into
``integrations.storage.walrus_wire`` models and failures translated into the
error hierarchy:

==============================  ========================
400, 451, ``markedInvalid``     ``BlobRejected``
413                             ``BlobTooLarge``
insufficient WAL (any status)   ``InsufficientStorage``
5xx, 504, connection failures   ``ServiceUnavailable``
timeouts                        ``NetworkTimeout``
404 on read                     ``BlobNotFound``
==============================  ========================

Error messages name the service and its host, never a full URL, credentials
or headers.

Example::

    async with httpx.AsyncClient() as client:
        store = WalrusBlobStore(
            "https://publisher.walrus-testnet.walrus.space",
            "https://aggregator.walrus-testnet.walrus.space",
            client=client, epochs=5,
        )
        blob = await store.put_blob(b"weights")
        assert await store.get_blob(blob.blob_id) == b"weights"
"""

from __future__ import annotations

import asyncio
import os
import re
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar, cast

import httpx
from pydantic import ValidationError

from integrations.errors import (
    BlobNotFound,
    BlobRejected,
    BlobTooLarge,
    InsufficientStorage,
    NetworkTimeout,
    ServiceUnavailable,
    StorageError,
)
from integrations.storage.ids import decode_blob_id
from integrations.storage.plain_http import BODY_INTO, BODY_LENGTH, PlainHTTPTransport
from integrations.storage.port import BlobData, FilePart, StoredBlob
from integrations.storage.sizes import human_size
from integrations.storage.walrus_wire import ApiErrorBody, parse_store_response

TESTNET_PUBLISHER = "https://publisher.walrus-testnet.walrus.space"
TESTNET_AGGREGATOR = "https://aggregator.walrus-testnet.walrus.space"
DEFAULT_MAX_BLOB_SIZE = 10 * 1024 * 1024

T = TypeVar("T")
_SLICE = 1024 * 1024  # bytes handed to the HTTP layer at a time


async def _slices(data: BlobData, size: int = _SLICE) -> AsyncIterator[bytes]:
    """The body in slices of the caller's buffer (no copy of the whole blob)."""
    view = memoryview(data).cast("B")
    for start in range(0, len(view), size):
        # httpx and h11 only take len() of each piece and join them into the socket
        # buffer, and the plain-http transport sends it as is, which any bytes-like
        # object allows; the annotation says bytes.
        yield cast(bytes, view[start : start + size])


async def _one(part: FilePart) -> AsyncIterator[bytes]:
    """The part as the body's one piece, for the zero-copy transport to ``sendfile``."""
    yield cast(bytes, part)


async def _file_slices(part: FilePart, size: int = _SLICE) -> AsyncIterator[bytes]:
    """The part read in slices (for a transport that takes only bytes)."""
    for start in range(0, part.size, size):
        want = min(size, part.size - start)
        piece = await asyncio.to_thread(os.pread, part.fd, want, part.offset + start)
        if len(piece) < want:
            raise httpx.WriteError(f"the file ended {part.size - start - len(piece)} bytes early")
        yield piece


_INSUFFICIENT = re.compile(
    r"insufficient[ _-]*(wal|balance|funds)|not enough (wal|coins|balance|funds)|"
    r"sufficient balance",
    re.IGNORECASE,
)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_MAX_DETAIL = 200


def looks_like_insufficient_balance(message: str) -> bool:
    """True if a publisher's error text says the wallet cannot pay for storage."""
    return bool(_INSUFFICIENT.search(message))


def scrub(text: str) -> str:
    """Server text made safe to show: URLs removed (they may carry credentials), shortened."""
    cleaned = _URL.sub("<url>", text).strip()
    return cleaned if len(cleaned) <= _MAX_DETAIL else cleaned[: _MAX_DETAIL - 1] + "…"


class WalrusBlobStore:
    """``BlobStore`` over the Walrus HTTP API; see the module docstring."""

    def __init__(
        self,
        publisher_url: str,
        aggregator_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        epochs: int = 1,
        permanent: bool = False,
        send_object_to: str | None = None,
        max_blob_size: int = DEFAULT_MAX_BLOB_SIZE,
        timeout_s: float = 60,
    ) -> None:
        self._publisher = httpx.URL(publisher_url.rstrip("/") + "/")
        self._aggregator = httpx.URL(aggregator_url.rstrip("/") + "/")
        self._owns_client = client is None
        # Without a proxy to go through, plain-http requests take the zero-copy transport,
        # which sends a body piece straight from the buffer (one piece is best); h11 copies
        # each piece, so it gets slices.
        zero_copy = client is None and not urllib.request.getproxies()
        # sendfile too, but only the zero-copy transport takes a file part (not TLS).
        self._sends_file = zero_copy and self._publisher.scheme == "http"
        self._slice = 2**62 if zero_copy else _SLICE
        if client is not None:
            self._client = client
        elif zero_copy:
            self._client = httpx.AsyncClient(mounts={"http://": PlainHTTPTransport()})
        else:
            self._client = httpx.AsyncClient()
        self._timeout = httpx.Timeout(timeout_s)
        self._epochs = epochs
        self._permanent = permanent
        self._send_object_to = send_object_to
        self._max_blob_size = max_blob_size

    @property
    def max_blob_size(self) -> int:
        """The largest blob one request may carry (public publishers: 10 MiB)."""
        return self._max_blob_size

    async def put_blob(self, data: BlobData, *, epochs: int = 1) -> StoredBlob:
        """Store ``data`` for ``max(epochs, the store's default)`` epochs through the publisher."""
        return await self._put(_slices(data, self._slice), memoryview(data).nbytes, epochs)

    async def put_file_part(self, part: FilePart, *, epochs: int = 1) -> StoredBlob:
        """Store a part of a file as ``put_blob`` stores bytes: with ``sendfile`` through
        the zero-copy transport, else read in slices (``PutsFromFile``)."""
        body = _one(part) if self._sends_file else _file_slices(part)
        return await self._put(body, part.size, epochs)

    async def _put(self, body: AsyncIterator[bytes], length: int, epochs: int) -> StoredBlob:
        if length > self._max_blob_size:
            raise BlobTooLarge(
                f"The blob is {human_size(length)}; the publisher takes at most "
                f"{human_size(self._max_blob_size)} per request."
            )
        params: dict[str, str] = {"epochs": str(max(epochs, self._epochs))}
        if self._permanent:
            params["permanent"] = "true"
        if self._send_object_to is not None:
            params["send_object_to"] = self._send_object_to
        response = await self._call(
            "publisher",
            self._publisher,
            lambda: self._client.put(
                self._publisher.join("v1/blobs"),
                params=params,
                content=body,
                # An explicit length: the body is sent as is, not chunk-encoded.
                headers={
                    "content-type": "application/octet-stream",
                    "content-length": str(length),
                },
                timeout=self._timeout,
            ),
        )
        if response.status_code != 200:
            error = self._status_error("publisher", response)
            if isinstance(error, BlobTooLarge):
                error.hint = (
                    f"This publisher takes less than {human_size(length)} per "
                    "request: lower SATYA_CHUNK_SIZE_MIB (for example to half) and say 'retry'."
                )
            raise error
        try:
            answer = parse_store_response(response.content)
        except ValidationError:
            raise ServiceUnavailable(
                f"The publisher at {self._publisher.host} sent an answer that is not a "
                "Walrus store response."
            ) from None
        if answer.newly_created is not None:
            blob = answer.newly_created.blob_object
            return StoredBlob(
                blob_id=blob.blob_id,
                size=blob.size,
                newly_created=True,
                cost_frost=answer.newly_created.cost,
                end_epoch=blob.storage.end_epoch,
                object_id=answer.newly_created.shared_blob_object or blob.id,
            )
        if answer.already_certified is not None:
            done = answer.already_certified
            return StoredBlob(
                blob_id=done.blob_id,
                size=length,
                newly_created=False,
                cost_frost=0,
                end_epoch=done.end_epoch,
                object_id=done.object,
            )
        if answer.marked_invalid is not None:
            raise BlobRejected(f"Walrus marked blob {answer.marked_invalid.blob_id} invalid.")
        assert answer.error is not None
        detail = scrub(answer.error.error_msg)
        if looks_like_insufficient_balance(detail):
            raise InsufficientStorage(f"The publisher cannot pay for storage: {detail}")
        raise StorageError(
            f"The publisher failed to store the blob ({scrub(answer.error.failure_phase)}): "
            f"{detail}"
        )

    async def get_blob(self, blob_id: str) -> bytes:
        """Read a blob from the aggregator."""
        url = self._blob_url(blob_id)
        response = await self._call(
            "aggregator", self._aggregator, lambda: self._client.get(url, timeout=self._timeout)
        )
        if response.status_code == 404:
            raise BlobNotFound(f"The aggregator at {self._aggregator.host} has no blob {blob_id}.")
        if response.status_code != 200:
            raise self._status_error("aggregator", response)
        return response.content

    async def get_blob_into(self, blob_id: str, buffer: memoryview) -> int:
        """Read a blob into ``buffer``; its length (more than ``len(buffer)`` if it did not fit,
        and then nothing past the buffer is read)."""
        url = self._blob_url(blob_id)

        async def fetch() -> int:
            async with self._client.stream(
                "GET", url, timeout=self._timeout, extensions={BODY_INTO: buffer}
            ) as response:
                if response.status_code == 404:
                    raise BlobNotFound(
                        f"The aggregator at {self._aggregator.host} has no blob {blob_id}."
                    )
                if response.status_code != 200:
                    await response.aread()
                    raise self._status_error("aggregator", response)
                length = response.extensions.get(BODY_LENGTH)
                if isinstance(length, int):
                    return length
                # A transport that cannot read into the buffer (https): copy its pieces.
                filled = 0
                async for piece in response.aiter_raw():
                    end = filled + len(piece)
                    if end > len(buffer):
                        return end
                    buffer[filled:end] = piece
                    filled = end
                return filled

        return await self._call("aggregator", self._aggregator, fetch)

    async def has_blob(self, blob_id: str) -> bool:
        """True if the aggregator serves the blob (the body is not downloaded)."""
        try:
            url = self._blob_url(blob_id)
        except BlobNotFound:
            return False

        async def probe() -> int:
            async with self._client.stream("GET", url, timeout=self._timeout) as response:
                return response.status_code

        return await self._call("aggregator", self._aggregator, probe) == 200

    async def aclose(self) -> None:
        """Close the HTTP client if this store created it."""
        if self._owns_client:
            await self._client.aclose()

    def _blob_url(self, blob_id: str) -> httpx.URL:
        if decode_blob_id(blob_id) is None:
            raise BlobNotFound(f"{blob_id!r} is not a Walrus blob id.")
        return self._aggregator.join(f"v1/blobs/{blob_id}")

    async def _call(self, service: str, base: httpx.URL, request: Callable[[], Awaitable[T]]) -> T:
        try:
            return await request()
        except httpx.TimeoutException:
            raise NetworkTimeout(f"The {service} at {base.host} did not answer in time.") from None
        except httpx.TransportError as exc:
            raise ServiceUnavailable(
                f"The {service} at {base.host} could not be reached ({type(exc).__name__})."
            ) from None

    def _status_error(self, service: str, response: httpx.Response) -> StorageError:
        host = (self._publisher if service == "publisher" else self._aggregator).host
        detail = _error_detail(response)
        where = f"The {service} at {host} answered {response.status_code}"
        if detail and not detail.endswith((".", "!", "?")):
            detail += "."
        message = f"{where}: {detail}" if detail else f"{where}."
        status = response.status_code
        if looks_like_insufficient_balance(detail):
            return InsufficientStorage(message)
        if status == 413:
            return BlobTooLarge(message)
        if status in (400, 451):
            return BlobRejected(message)
        if status >= 500:
            return ServiceUnavailable(message)
        return BlobRejected(message)


def _error_detail(response: httpx.Response) -> str:
    """The human part of an error body (JSON ``error.message`` or plain text), scrubbed."""
    try:
        body = ApiErrorBody.model_validate_json(response.content)
    except ValidationError:
        text = response.content[:1000].decode("utf-8", errors="replace")
        return scrub(text)
    if body.error.message:
        return scrub(body.error.message)
    return scrub(" ".join(d.reason for d in body.error.details if d.reason))
