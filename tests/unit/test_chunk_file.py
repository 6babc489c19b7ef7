"""ChunkFile: chunks written at their offsets, direct from aligned buffers where the disk
takes it, through the page cache otherwise, and the same bytes either way."""

import hashlib
import os
from pathlib import Path

import pytest

from integrations.storage.chunk_file import ALIGN, ChunkFile, aligned_buffer

MIB = 1024 * 1024


def _bytes(n: int, seed: bytes = b"c") -> bytes:
    return hashlib.shake_256(seed).digest(n)


def _direct_or_skip(path: Path) -> ChunkFile:
    out = ChunkFile.create(path)
    if out._direct is None:
        out.discard()
        pytest.skip(f"the filesystem of {path.parent} does not take O_DIRECT writes")
    return out


def test_aligned_chunks_go_direct_and_the_tail_through_the_page_cache(tmp_path: Path) -> None:
    data = _bytes(3 * MIB + 777)  # three whole chunks and a tail that is not block-aligned
    out = _direct_or_skip(tmp_path / "f")
    buffer = aligned_buffer(MIB)
    view = memoryview(buffer)
    # Out of order, as chunks finish: the last one first.
    for offset in (3 * MIB, MIB, 0, 2 * MIB):
        piece = data[offset : offset + MIB]
        view[: len(piece)] = piece
        out.write_at(view[: len(piece)], offset, aligned=True)
    out.finish()
    assert (tmp_path / "f").read_bytes() == data
    assert out.direct_bytes == 3 * MIB + (777 - 777 % ALIGN)


def test_unaligned_offsets_and_plain_bytes_go_through_the_page_cache(tmp_path: Path) -> None:
    data = _bytes(5 * 10_000 + 3)
    out = ChunkFile.create(tmp_path / "f")
    direct = out._direct is not None
    buffer = aligned_buffer(10_000)
    view = memoryview(buffer)
    for offset in range(0, len(data), 10_000):  # offsets that are not multiples of ALIGN
        piece = data[offset : offset + 10_000]
        view[: len(piece)] = piece
        out.write_at(view[: len(piece)], offset, aligned=True)
    out.write_at(memoryview(data), len(data), aligned=False)  # bytes: never direct
    out.finish()
    assert (tmp_path / "f").read_bytes() == data + data
    # Only the whole blocks of the chunk at offset 0 can go direct.
    assert out.direct_bytes == (10_000 - 10_000 % ALIGN if direct else 0)


def test_a_buffer_that_is_not_aligned_after_all_falls_back_and_writes_the_same_bytes(
    tmp_path: Path,
) -> None:
    """A direct write the kernel refuses (EINVAL: the address is not aligned) is written
    through the page cache instead, and the file's later writes too."""
    data = _bytes(4 * ALIGN * 16)
    out = _direct_or_skip(tmp_path / "f")
    buffer = aligned_buffer(len(data) + 1)
    misaligned = memoryview(buffer)[1 : 1 + len(data)]
    misaligned[:] = data
    out.write_at(misaligned, 0, aligned=True)
    assert out._direct is None and out.direct_bytes == 0
    out.write_at(misaligned, len(data), aligned=True)
    out.finish()
    assert (tmp_path / "f").read_bytes() == data + data


def test_discard_removes_the_file_and_creating_over_an_existing_one_is_refused(
    tmp_path: Path,
) -> None:
    out = ChunkFile.create(tmp_path / "f")
    out.write_at(memoryview(b"abc"), 0, aligned=False)
    out.discard()
    out.discard()  # twice is harmless
    assert not (tmp_path / "f").exists()
    (tmp_path / "g").write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        ChunkFile.create(tmp_path / "g")
    assert (tmp_path / "g").read_bytes() == b"keep"


def test_a_later_chunk_written_first_leaves_a_hole_the_earlier_ones_fill(tmp_path: Path) -> None:
    """Writing far past the end (a later chunk first) leaves a hole the earlier chunks fill."""
    out = ChunkFile.create(tmp_path / "f")
    buffer = aligned_buffer(ALIGN)
    memoryview(buffer)[:] = b"z" * ALIGN
    out.write_at(memoryview(buffer), 1024 * ALIGN, aligned=True)
    out.finish()
    assert os.path.getsize(tmp_path / "f") == 1025 * ALIGN
    with open(tmp_path / "f", "rb") as fh:
        fh.seek(1024 * ALIGN)
        assert fh.read() == b"z" * ALIGN
