"""API keys: who a bearer key speaks for, kept as SHA-256 digests in the product's store.

A key is 256 random bits, shown once when created; only its digest is stored
(namespace ``("api_keys",)`` of the LangGraph store: SQLite or PostgreSQL, so
every worker sees the same keys). A random key of that size needs no slow
hash: the digest cannot be reversed and lookup stays one indexed read.

A key has a role: ``user`` (the default: the caller's own threads, uploads, insights and
notifications) or ``operator`` (the same, plus what concerns the whole platform:
``GET /insights/platform``), chosen when it is made (``satya serve keys add USER
--operator``) and never changed: to change it, revoke the key and make another.

The HTTP server reaches the keys through ``Assistant.keys`` (and caches lookups in
``agent/server/auth.py``); ``satya serve keys`` opens them alone with ``ApiKeys.open``.

Example::

    async with ApiKeys.open(Settings()) as keys:
        key = await keys.add("ana")                 # 'sk-satya-…', printed once
        assert (await keys.caller_for(key)) == Caller("ana")
        ops = await keys.add("ops", role="operator")
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from langgraph.store.base import BaseStore

from agent.settings import Settings
from flows.users import valid_user_id

__all__ = [
    "KEYS_NAMESPACE",
    "PREFIX",
    "ROLES",
    "ApiKeys",
    "Caller",
    "KeyEntry",
    "digest",
    "well_formed",
]

KEYS_NAMESPACE = ("api_keys",)
PREFIX = "sk-satya-"
ROLES = ("user", "operator")


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def well_formed(key: str) -> bool:
    """Whether ``key`` could be a key at all (checked before any lookup or hashing)."""
    return key.startswith(PREFIX) and len(key) <= 200


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a key speaks for, and with which role."""

    user_id: str
    role: str = "user"

    @property
    def operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A key as listed: its id (digest prefix), owner, label, last four characters and
    role; never the key."""

    id: str
    user_id: str
    label: str
    hint: str
    role: str


class ApiKeys:
    """The API keys kept in the product's store: make, list, revoke, look up."""

    def __init__(self, store: BaseStore) -> None:
        self._store = store

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[ApiKeys]:
        """The keys of ``settings``' store (SQLite under home, or ``DATABASE_URL``'s
        database) without opening an Assistant; closed after."""
        from agent.persistence import open_persistence

        async with open_persistence(settings) as persistence:
            yield cls(persistence.store)

    async def add(self, user_id: str, *, label: str = "", role: str = "user") -> str:
        """Create a key for ``user_id`` with ``role`` (``user`` or ``operator``); returns
        the key itself (never stored)."""
        if not valid_user_id(user_id):
            raise ValueError(
                f"{user_id!r} is not a valid user id (letters, digits and _.@-, at most 64)."
            )
        if role not in ROLES:
            raise ValueError(f"{role!r} is not a role: use one of {', '.join(ROLES)}.")
        key = PREFIX + secrets.token_urlsafe(32)
        await self._store.aput(
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

    async def entries(self) -> list[KeyEntry]:
        """Every key's owner, label and last four characters (never the key)."""
        items = await self._store.asearch(KEYS_NAMESPACE, limit=10_000)
        return [
            KeyEntry(
                id=item.key[:12],
                user_id=str(item.value.get("user_id") or ""),
                label=str(item.value.get("label") or ""),
                hint=str(item.value.get("hint") or ""),
                role=str(item.value.get("role") or "user"),
            )
            for item in items
        ]

    async def revoke(self, key_id: str) -> int:
        """Delete keys whose id (digest prefix, at least 8 characters) or user matches;
        returns how many."""
        removed = 0
        for item in await self._store.asearch(KEYS_NAMESPACE, limit=10_000):
            by_id = len(key_id) >= 8 and item.key.startswith(key_id)
            if by_id or item.value.get("user_id") == key_id:
                await self._store.adelete(KEYS_NAMESPACE, item.key)
                removed += 1
        return removed

    async def caller_for(self, key: str) -> Caller | None:
        """The user and role of a key (one read, uncached), or None for an unknown key."""
        if not well_formed(key):
            return None
        item = await self._store.aget(KEYS_NAMESPACE, digest(key))
        if item is None:
            return None
        return Caller(str(item.value["user_id"]), str(item.value.get("role") or "user"))
