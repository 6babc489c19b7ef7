"""Bearer API keys mapped to users, kept as SHA-256 digests in the shared store.

A key is 256 random bits, shown once when created; only its digest is stored
(namespace ``("api_keys",)`` of the LangGraph store: SQLite or PostgreSQL, so
every worker sees the same keys). A random key of that size needs no slow
hash: the digest cannot be reversed and lookup stays one indexed read.

A key has a role: ``user`` (the default: the caller's own threads, uploads, insights and
notifications) or ``operator`` (the same, plus what concerns the whole platform:
``GET /insights/platform``), chosen when it is made (``satya serve keys add USER
--operator``) and never changed: to change it, revoke the key and make another.

Example::

    key = await add_key(store, "ana")            # 'sk-satya-…', printed once
    assert await user_for_key(store, key) == "ana"
    ops = await add_key(store, "ops", role="operator")
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from langgraph.store.base import BaseStore

from flows.users import valid_user_id

KEYS_NAMESPACE = ("api_keys",)
PREFIX = "sk-satya-"
ROLES = ("user", "operator")


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def add_key(store: BaseStore, user_id: str, *, label: str = "", role: str = "user") -> str:
    """Create a key for ``user_id`` with ``role`` (``user`` or ``operator``); returns the
    key itself (never stored)."""
    if not valid_user_id(user_id):
        raise ValueError(
            f"{user_id!r} is not a valid user id (letters, digits and _.@-, at most 64)."
        )
    if role not in ROLES:
        raise ValueError(f"{role!r} is not a role: use one of {', '.join(ROLES)}.")
    key = PREFIX + secrets.token_urlsafe(32)
    await store.aput(
        KEYS_NAMESPACE,
        digest(key),
        {
            "user_id": user_id,
            "label": label,
            "hint": key[-4:],
            "role": role,
            "created": time.time(),
        },
    )
    return key


async def list_keys(store: BaseStore) -> list[dict[str, object]]:
    """Every key's owner, label and last four characters (never the key)."""
    items = await store.asearch(KEYS_NAMESPACE, limit=10_000)
    return [
        {
            "id": item.key[:12],
            **{k: item.value.get(k) for k in ("user_id", "label", "hint")},
            "role": item.value.get("role") or "user",
        }
        for item in items
    ]


async def revoke(store: BaseStore, key_id: str) -> int:
    """Delete keys whose id (digest prefix, at least 8 characters) or user matches."""
    removed = 0
    for item in await store.asearch(KEYS_NAMESPACE, limit=10_000):
        by_id = len(key_id) >= 8 and item.key.startswith(key_id)
        if by_id or item.value.get("user_id") == key_id:
            await store.adelete(KEYS_NAMESPACE, item.key)
            removed += 1
    return removed


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a key speaks for, and with which role."""

    user_id: str
    role: str = "user"

    @property
    def operator(self) -> bool:
        return self.role == "operator"


class KeyRing:
    """Key -> caller with a short cache (revocations take effect within ``ttl_s``)."""

    def __init__(self, store: BaseStore, *, ttl_s: float = 10.0, max_entries: int = 10_000) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._cache: dict[str, tuple[Caller | None, float]] = {}

    async def caller_for(self, key: str) -> Caller | None:
        """The user and role of a key, or None for an unknown key."""
        if not key.startswith(PREFIX) or len(key) > 200:
            return None
        d = digest(key)
        now = time.monotonic()
        hit = self._cache.get(d)
        if hit is not None and hit[1] > now:
            return hit[0]
        item = await self.store.aget(KEYS_NAMESPACE, d)
        caller = (
            Caller(str(item.value["user_id"]), str(item.value.get("role") or "user"))
            if item is not None
            else None
        )
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[d] = (caller, now + self.ttl_s)
        return caller

    async def user_for(self, key: str) -> str | None:
        """The user a key belongs to, or None for an unknown key."""
        caller = await self.caller_for(key)
        return caller.user_id if caller is not None else None


async def user_for_key(store: BaseStore, key: str) -> str | None:
    """One uncached lookup."""
    return await KeyRing(store, ttl_s=0).user_for(key)
