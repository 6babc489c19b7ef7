"""API keys in the product's store (``agent/keys.py``), and the server's cached look-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.keys import ApiKeys, Caller, KeyEntry
from agent.server.auth import KeyRing
from agent.settings import Settings


def test_keys_are_made_listed_looked_up_and_revoked(tmp_path: Path) -> None:
    async def run() -> None:
        async with ApiKeys.open(Settings(home=tmp_path / "home")) as keys:
            ana = await keys.add("ana", label="laptop")
            ops = await keys.add("ops", role="operator")
            assert await keys.caller_for(ana) == Caller("ana")
            caller = await keys.caller_for(ops)
            assert caller == Caller("ops", "operator") and caller.operator
            assert await keys.caller_for(ana + "x") is None
            assert await keys.caller_for("not-a-key") is None

            listed = sorted(await keys.entries(), key=lambda e: e.user_id)
            assert [(e.user_id, e.label, e.hint, e.role) for e in listed] == [
                ("ana", "laptop", ana[-4:], "user"),
                ("ops", "", ops[-4:], "operator"),
            ]
            assert all(isinstance(e, KeyEntry) and len(e.id) == 12 for e in listed)
            assert ana not in repr(listed) and ops not in repr(listed)

            assert await keys.revoke(listed[1].id[:7]) == 0  # too short to name one key
            assert await keys.revoke(listed[1].id[:8]) == 1  # by id
            assert await keys.revoke("ana") == 1  # by user
            assert await keys.entries() == []
            assert await keys.caller_for(ana) is None and await keys.caller_for(ops) is None

            with pytest.raises(ValueError, match="not a valid user id"):
                await keys.add("../etc")
            with pytest.raises(ValueError, match="not a role"):
                await keys.add("ana", role="admin")

    asyncio.run(run())


def test_the_key_ring_caches_for_its_ttl_and_never_caches_junk(tmp_path: Path) -> None:
    async def run() -> None:
        async with ApiKeys.open(Settings(home=tmp_path / "home")) as keys:
            key = await keys.add("ana")
            cached, fresh = KeyRing(keys, ttl_s=3600), KeyRing(keys, ttl_s=0)
            assert await cached.caller_for(key) == await fresh.caller_for(key) == Caller("ana")
            await keys.revoke("ana")
            assert await cached.caller_for(key) == Caller("ana")  # until its ttl passes
            assert await fresh.caller_for(key) is None  # at once
            for junk in ("", "Bearer x", "sk-satya-" + "a" * 300):
                assert await cached.caller_for(junk) is None
            assert len(cached._cache) == 1  # only the real key's look-up was kept

    asyncio.run(run())
