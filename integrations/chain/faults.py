"""A ``Ledger`` wrapper that makes chosen calls fail, for scripted journeys and tests.

It forwards every call to a real ledger, except the queries named in
``unavailable``, which raise ``ChainUnavailable`` as a node that stopped
answering them would (an indexer down, a rate limit), and the first
``writes_down[name]`` calls of the writes named there, which raise
``ChainUnavailable`` before reaching the ledger (the transaction never got to a
node, so nothing was executed), and the first ``writes_late[name]`` calls of the
writes named there, which execute and then never confirm (the caller's deadline
ends them; the transaction did land). A write refused for its content uses the
real ledger's rules.

Example::

    ledger = FaultyLedger(LocalLedger(path), unavailable={"events"})
    await ledger.listings()        # answered
    await ledger.events()          # ChainUnavailable
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Literal

from integrations.chain.port import (
    ChainEvent,
    ChainObject,
    Ledger,
    ListingMetadata,
    ModelDraft,
    Signer,
    TxReceipt,
)
from integrations.chain.wrapper import LedgerWrapper
from integrations.errors import ChainUnavailable

Query = Literal["balance", "get_object", "owned_objects", "listings", "events"]
QUERIES: tuple[Query, ...] = ("balance", "get_object", "owned_objects", "listings", "events")
Write = Literal["upload_model", "list_on_marketplace", "reprice"]


class FaultyLedger(LedgerWrapper):
    """A real ledger whose named queries raise ``ChainUnavailable`` (see the module docstring)."""

    def __init__(
        self,
        inner: Ledger,
        *,
        unavailable: Iterable[Query] = (),
        writes_down: Mapping[Write, int] | None = None,
        writes_late: Mapping[Write, int] | None = None,
    ) -> None:
        super().__init__(inner)
        self.unavailable = frozenset(unavailable)
        self.writes_down: dict[Write, int] = dict(writes_down or {})
        self.writes_late: dict[Write, int] = dict(writes_late or {})
        self.refused: list[str] = []  # calls refused so far, in order

    def _check_write(self, write: Write) -> None:
        if self.writes_down.get(write, 0) > 0:
            self.writes_down[write] -= 1
            self.refused.append(write)
            raise ChainUnavailable(
                f"The {self.inner.network} node did not answer the {write} transaction "
                "(connection refused); nothing was executed."
            )

    async def _late(self, write: Write, receipt: TxReceipt) -> TxReceipt:
        """Hold a receipt back for good, the first ``writes_late[write]`` times."""
        if self.writes_late.get(write, 0) > 0:
            self.writes_late[write] -= 1
            self.refused.append(write)
            await asyncio.Event().wait()  # never set: the confirmation never comes
        return receipt

    async def upload_model(
        self, signer: Signer, draft: ModelDraft, *, request_id: str
    ) -> TxReceipt:
        self._check_write("upload_model")
        receipt = await super().upload_model(signer, draft, request_id=request_id)
        return await self._late("upload_model", receipt)

    async def list_on_marketplace(
        self,
        signer: Signer,
        pending_id: str,
        verification_id: str,
        *,
        request_id: str,
        price_mist: int | None = None,
        metadata: ListingMetadata | None = None,
    ) -> TxReceipt:
        self._check_write("list_on_marketplace")
        receipt = await super().list_on_marketplace(
            signer,
            pending_id,
            verification_id,
            request_id=request_id,
            price_mist=price_mist,
            metadata=metadata,
        )
        return await self._late("list_on_marketplace", receipt)

    async def reprice(
        self, signer: Signer, listing_id: str, price_mist: int, *, request_id: str
    ) -> TxReceipt:
        self._check_write("reprice")
        receipt = await super().reprice(signer, listing_id, price_mist, request_id=request_id)
        return await self._late("reprice", receipt)

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
