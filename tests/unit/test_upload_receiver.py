"""The HTTP upload receiver hashes and writes off the event loop: other requests are
answered while a large upload streams, and what it keeps is the file that was sent."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

from agent.server.files import UploadRefused, receive_upload

BOUNDARY = "satya-test-boundary"
CHUNK = 48 * 1024 * 1024
CHUNKS = 6


async def _body(piece: bytes) -> AsyncIterator[bytes]:
    yield (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.safetensors"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    for _ in range(CHUNKS):
        yield piece
        await asyncio.sleep(0.005)  # the next piece of the body arrives
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _blocking_work(piece: bytes, path: Path) -> float:
    """How long hashing and writing one piece takes when done on the calling thread."""
    began = time.perf_counter()
    hashlib.sha256(piece).digest()
    with path.open("wb") as fh:
        fh.write(piece)
    return time.perf_counter() - began


async def test_the_event_loop_answers_while_a_large_upload_streams(tmp_path: Path) -> None:
    gc.collect()
    piece = os.urandom(1024) * (CHUNK // 1024)
    blocking = min(_blocking_work(piece, tmp_path / "probe") for _ in range(3))
    gaps: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:  # another request's work: it needs the loop every 2 ms
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.01)
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    stored = await receive_upload(_body(piece), content_type, tmp_path / "up", max_bytes=1 << 40)
    done.set()
    await beat

    assert stored.size == CHUNK * CHUNKS
    expected = hashlib.sha256()
    for _ in range(CHUNKS):
        expected.update(piece)
    assert stored.sha256 == expected.hexdigest()
    assert stored.path.stat().st_size == CHUNK * CHUNKS
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    # Hashing and writing a piece on the loop would stop it for `blocking` seconds once per
    # piece; what is left on it (parsing none of it) stops it that long only by chance (a
    # loaded machine, a garbage collection), not once per piece.
    stops = [gap for gap in gaps if gap > blocking * 0.6]
    assert len(stops) <= CHUNKS // 3, (
        f"the event loop stopped {len(stops)} times for {max(gaps) * 1000:.0f} ms at most; "
        f"hashing and writing a piece takes {blocking * 1000:.0f} ms"
    )


async def _parts(*parts: tuple[str, str | None, bytes]) -> AsyncIterator[bytes]:
    for field, filename, data in parts:
        named = f'; filename="{filename}"' if filename is not None else ""
        yield (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"{named}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    yield f"--{BOUNDARY}--\r\n".encode()


async def _garbage() -> AsyncIterator[bytes]:
    yield b"--not-the-boundary\r\n\r\nweights"


async def _refused(body: AsyncIterator[bytes], content_type: str, folder: Path) -> str:
    try:
        await receive_upload(body, content_type, folder, max_bytes=1000)
    except UploadRefused as refused:
        assert list(folder.iterdir()) == [], "a refused upload keeps nothing"
        return f"{refused.status} {refused.code}"
    raise AssertionError("the upload was taken")


async def test_a_field_before_the_file_is_skipped_and_the_file_kept(tmp_path: Path) -> None:
    form = f"multipart/form-data; boundary={BOUNDARY}"
    body = _parts(("note", None, b"hello"), ("file", "m.onnx", b"weights"), ("file", "b", b"x"))
    stored = await receive_upload(body, form, tmp_path, max_bytes=1000)
    assert (stored.filename, stored.size, stored.path.read_bytes()) == ("m.onnx", 7, b"weights")
    assert stored.sha256 == hashlib.sha256(b"weights").hexdigest()
    assert [p.name for p in stored.path.parent.iterdir()] == ["m.onnx"]


async def test_bodies_that_are_no_upload_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    form = f"multipart/form-data; boundary={BOUNDARY}"
    assert await _refused(_parts(), "application/json", tmp_path) == "415 unsupported_media_type"
    assert await _refused(_parts(("note", None, b"hi")), form, tmp_path) == "400 no_file"
    too_big = _parts(("file", "m.bin", bytes(1001)))
    assert await _refused(too_big, form, tmp_path) == "413 upload_too_large"
    partial = _parts(("file", "m.bin.part", b"x"))
    assert await _refused(partial, form, tmp_path) == "400 partial_file"
    assert await _refused(_garbage(), form, tmp_path) == "400 bad_multipart"


async def _cut_short() -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\n\r\n'
    ).encode()
    yield b"the first half of the weights"  # the body ends here, inside the file


async def test_a_body_that_ends_inside_the_file_says_so(tmp_path: Path) -> None:
    form = f"multipart/form-data; boundary={BOUNDARY}"
    try:
        await receive_upload(_cut_short(), form, tmp_path, max_bytes=1000)
    except UploadRefused as refused:
        assert (refused.status, refused.code) == (400, "upload_incomplete")
        assert "'m.onnx'" in refused.message and "29 bytes" in refused.message
        assert "again" in refused.hint
        assert list(tmp_path.iterdir()) == []
    else:
        raise AssertionError("a file cut short was taken")
