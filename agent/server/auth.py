"""Bearer API keys on the HTTP server: each request's key looked up with a short cache.

The keys themselves (how they are made, stored as digests, listed and revoked, and
their roles) live in ``agent/keys.py``; the server reaches them through
``Assistant.keys``, never through the store.

Example::

    ring = KeyRing(assistant.keys)
    caller = await ring.caller_for(key)      # Caller('ana', 'user'), or None
"""

from __future__ import annotations

import time

from agent.keys import ApiKeys, Caller, digest, well_formed

__all__ = ["KeyRing"]


class KeyRing:
    """Key -> caller with a short cache (revocations take effect within ``ttl_s``)."""

    def __init__(self, keys: ApiKeys, *, ttl_s: float = 10.0, max_entries: int = 10_000) -> None:
        self.keys = keys
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._cache: dict[str, tuple[Caller | None, float]] = {}

    async def caller_for(self, key: str) -> Caller | None:
        """The user and role of a key, or None for an unknown key."""
        if not well_formed(key):
            return None
        d = digest(key)
        now = time.monotonic()
        hit = self._cache.get(d)
        if hit is not None and hit[1] > now:
            return hit[0]
        caller = await self.keys.caller_for(key)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[d] = (caller, now + self.ttl_s)
        return caller
