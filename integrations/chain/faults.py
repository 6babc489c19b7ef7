"""A ``Ledger`` wrapper that makes chosen queries fail, for scripted journeys and tests.

It forwards every call to a real ledger, except the queries named in
``unavailable``, which raise ``ChainUnavailable`` as a node that stopped
answering them would (an indexer down, a rate limit). Writes are never
failed here: a journey that needs a failed write uses the real ledger's rules.

Example::

    ledger = FaultyLedger(LocalLedger(path), unavailable={"events"})
    await ledger.listings()        # answered
    await ledger.events()          # ChainUnavailable
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from integrations.chain.port import ChainEvent, ChainObject, Ledger
from integrations.chain.wrapper import LedgerWrapper
from integrations.errors import ChainUnavailable

Query = Literal["balance", "get_object", "owned_objects", "listings", "events"]
QUERIES: tuple[Query, ...] = ("balance", "get_object", "owned_objects", "listings", "events")


class FaultyLedger(LedgerWrapper):
    """A real ledger whose named queries raise ``ChainUnavailable`` (see the module docstring)."""

    def __init__(self, inner: Ledger, *, unavailable: Iterable[Query]) -> None:
        super().__init__(inner)
        self.unavailable = frozenset(unavailable)
        self.refused: list[str] = []  # queries refused so far, in order

    def _check(self, query: Query) -> None:
        if query in self.unavailable:
            self.refused.append(query)
            raise ChainUnavailable(
                f"The {self.inner.network} ledger did not answer the {query} query "
                "(service unavailable).",
                hint="The other sources are unaffected; say 'refresh my dashboard' to try again.",
            )

    async def balance(self, address: str) -> int:
        self._check("balance")
        return await super().balance(address)

    async def get_object(self, object_id: str) -> ChainObject:
        self._check("get_object")
        return await super().get_object(object_id)

    async def owned_objects(self, address: str, type_name: str) -> list[ChainObject]:
        self._check("owned_objects")
        return await super().owned_objects(address, type_name)

    async def listings(
        self,
        *,
        category: str | None = None,
        max_price_mist: int | None = None,
        min_quality: int | None = None,
        text: str | None = None,
    ) -> list[ChainObject]:
        self._check("listings")
        return await super().listings(
            category=category, max_price_mist=max_price_mist, min_quality=min_quality, text=text
        )

    async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
        self._check("events")
        return await super().events(after_seq=after_seq, limit=limit)
