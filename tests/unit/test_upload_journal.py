"""The upload journal's flushes: each returns once its chunks are on disk, and chunks that
finish while a write is in progress share the next write instead of queueing one each;
each appends only what is new, and a line a crash cut short is the only one ignored."""

import asyncio
import threading
from pathlib import Path

import pytest

from integrations.errors import FileProblem
from integrations.storage.journal import JournalChunk, UploadJournal, read_journal

BLAKE3_HEX = "ab" * 32


class _CountedJournal(UploadJournal):
    """The real journal, counting its disk writes; the first one waits for ``release``."""

    writes: list[int]
    sizes: list[int]
    release: threading.Event

    def _write(self, data: bytes, version: int, whole: bool) -> None:
        self.writes.append(version)
        self.sizes.append(len(data))
        if len(self.writes) == 1:
            assert self.release.wait(10)
        super()._write(data, version, whole)


def _open(tmp_path: Path) -> _CountedJournal:
    src = tmp_path / "model.bin"
    src.write_bytes(b"x" * 40)
    journal = _CountedJournal.open(
        tmp_path / "j", "s", file=src, size=40, mtime_ns=src.stat().st_mtime_ns, chunk_size=10
    )
    assert isinstance(journal, _CountedJournal)
    journal.writes, journal.sizes, journal.release = [], [], threading.Event()
    return journal


def _chunk(index: int) -> JournalChunk:
    return JournalChunk(
        index=index, offset=10 * index, size=10, blake3=BLAKE3_HEX, blob_id=f"b{index}"
    )


def _on_disk(journal: UploadJournal) -> set[int]:
    return set(read_journal(journal.path)[0].chunks)


async def test_chunks_finishing_during_a_write_share_the_next_one(tmp_path: Path) -> None:
    journal = _open(tmp_path)
    journal.record(_chunk(0))
    first = asyncio.ensure_future(journal.flush())
    await asyncio.sleep(0.05)  # the first write is now in progress (held)
    waiting = []
    for index in (1, 2, 3):
        journal.record(_chunk(index))
        waiting.append(asyncio.ensure_future(journal.flush()))
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in [first, *waiting])
    journal.release.set()
    await asyncio.gather(first, *waiting)
    assert journal.writes == [1, 4]  # chunk 0's write, then one write for chunks 1-3
    assert _on_disk(journal) == {0, 1, 2, 3}


async def test_a_flush_returns_only_once_its_chunk_is_on_disk(tmp_path: Path) -> None:
    journal = _open(tmp_path)
    journal.release.set()
    for index in range(4):
        journal.record(_chunk(index))
        await journal.flush()
        assert _on_disk(journal) == set(range(index + 1))
    await journal.flush()  # nothing new: no write
    assert journal.writes == [1, 2, 3, 4]


async def test_a_failed_write_reaches_every_caller_waiting_on_it(tmp_path: Path) -> None:
    journal = _open(tmp_path)
    journal.release.set()
    journal.path = tmp_path / "not-a-folder" / "journal.json"
    (tmp_path / "not-a-folder").write_text("a file where the journal's folder should be")
    journal.record(_chunk(0))
    results = await asyncio.gather(journal.flush(), journal.flush(), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    journal.path = tmp_path / "j" / "journal.json"  # the disk is writable again: next flush writes
    await journal.flush()
    assert _on_disk(journal) == {0}


async def test_a_cancelled_caller_does_not_cancel_the_write(tmp_path: Path) -> None:
    journal = _open(tmp_path)
    journal.record(_chunk(0))
    task = asyncio.ensure_future(journal.flush())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    journal.release.set()
    await journal.flush()
    assert _on_disk(journal) == {0}
    assert journal.writes == [1]


async def test_journaling_a_chunk_costs_the_same_however_many_came_before(
    tmp_path: Path,
) -> None:
    journal = await _with_chunks(tmp_path, 200)
    _whole_first, *appends = journal.sizes
    assert len(appends) == 199
    assert max(appends) < 1.1 * min(appends)  # one line each (only digits differ)
    journal.record_manifest("m")
    await journal.flush()
    state, torn = read_journal(journal.path)
    assert (sorted(state.chunks), state.manifest_blob_id, torn) == (list(range(200)), "m", False)
    assert state.chunks[7] == _chunk(7)


async def _with_chunks(tmp_path: Path, count: int) -> _CountedJournal:
    """A journal with ``count`` chunks flushed one at a time."""
    journal = _open(tmp_path)
    journal.release.set()
    for index in range(count):
        journal.record(_chunk(index))
        await journal.flush()
    return journal


def _reopen(tmp_path: Path) -> UploadJournal:
    src = tmp_path / "model.bin"
    return UploadJournal.open(
        tmp_path / "j", "s", file=src, size=40, mtime_ns=src.stat().st_mtime_ns, chunk_size=10
    )


async def test_a_line_cut_short_by_a_crash_is_dropped_and_the_journal_written_whole(
    tmp_path: Path,
) -> None:
    journal = await _with_chunks(tmp_path, 3)
    raw = journal.path.read_bytes()
    journal.path.write_bytes(raw[:-20])  # the last append was cut short
    again = _reopen(tmp_path)
    assert sorted(again.state.chunks) == [0, 1]  # chunk 2 is sent again
    again.record(_chunk(2))
    again.record(_chunk(3))
    await again.flush()
    state, torn = read_journal(again.path)
    assert (sorted(state.chunks), torn) == ([0, 1, 2, 3], False)


async def test_a_damaged_line_before_the_last_makes_the_journal_unreadable(
    tmp_path: Path,
) -> None:
    journal = await _with_chunks(tmp_path, 3)
    lines = journal.path.read_bytes().split(b"\n")
    lines[2] = lines[2][:30]
    journal.path.write_bytes(b"\n".join(lines))
    with pytest.raises(FileProblem, match="unreadable"):
        _reopen(tmp_path)
