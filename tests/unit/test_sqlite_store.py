"""The SQLite store runs each call in one hop to its thread, and answers as LangGraph's
``AsyncSqliteStore`` does on the same operations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore
from langgraph.store.sqlite.aio import AsyncSqliteStore

from agent.persistence import open_persistence
from agent.settings import Settings
from agent.sqlite_store import OneHopSqliteStore, open_sqlite_store


async def _hops(call: Callable[[], Any]) -> int:
    """How many times the event loop is woken from another thread while ``call`` runs."""
    loop = asyncio.get_running_loop()
    original = loop.call_soon_threadsafe
    count = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return original(*args, **kwargs)

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign,assignment]
    try:
        await call()
    finally:
        del loop.call_soon_threadsafe
    return count


async def test_a_store_call_is_one_hop(tmp_path: Path) -> None:
    async with open_persistence(Settings(home=tmp_path)) as persistence:
        store = persistence.store
        assert isinstance(store, OneHopSqliteStore)
        await store.aput(("threads", "ana"), "t1", {"n": 1})
        assert await _hops(lambda: store.aget(("threads", "ana"), "t1")) == 1
        assert await _hops(lambda: store.aput(("threads", "ana"), "t2", {"n": 2})) == 1
        assert await _hops(lambda: store.asearch(("threads", "ana"), limit=10)) == 1
        item = await store.aget(("threads", "ana"), "t1")
        assert item is not None and item.value == {"n": 1}


async def _script(store: BaseStore) -> list[Any]:
    """The same operations, concurrent ones included; what each answered."""
    out: list[Any] = []
    await asyncio.gather(
        *(store.aput(("users", f"u{i % 7}"), f"k{i}", {"i": i, "odd": i % 2}) for i in range(60))
    )
    got = await asyncio.gather(*(store.aget(("users", f"u{i % 7}"), f"k{i}") for i in range(60)))
    out.append([(g.key, g.value, g.namespace) if g else None for g in got])
    await store.adelete(("users", "u3"), "k3")
    out.append(await store.aget(("users", "u3"), "k3"))
    found = await store.asearch(("users",), filter={"odd": 1}, limit=100)
    out.append(sorted((f.namespace, f.key, f.value["i"]) for f in found))
    found = await store.asearch(("users", "u2"), limit=3, offset=1)
    out.append(len(found))
    out.append(sorted(await store.alist_namespaces(prefix=("users",))))
    await store.aput(("users", "u1"), "k1", {"i": 100})
    changed = await store.aget(("users", "u1"), "k1")
    out.append(changed.value if changed else None)
    return out


async def test_it_answers_as_langgraphs_async_store(tmp_path: Path) -> None:
    async with open_sqlite_store(tmp_path / "ours.sqlite") as ours:
        mine = await _script(ours)
    async with AsyncSqliteStore.from_conn_string(str(tmp_path / "theirs.sqlite")) as theirs:
        await theirs.setup()
        expected = await _script(theirs)
    assert mine == expected
    assert mine[0][5] == ("k5", {"i": 5, "odd": 1}, ("users", "u5"))
    assert mine[1] is None


async def test_what_it_kept_is_there_after_reopening(tmp_path: Path) -> None:
    async with open_sqlite_store(tmp_path / "store.sqlite") as store:
        await store.aput(("keys",), "abc", {"user_id": "ana"})
    async with open_sqlite_store(tmp_path / "store.sqlite") as store:
        item = await store.aget(("keys",), "abc")
        assert item is not None and item.value == {"user_id": "ana"}
        journal = await asyncio.get_running_loop().run_in_executor(
            store.executor, lambda: store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        )
        assert journal == "wal"
