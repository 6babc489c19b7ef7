"""``LedgerWrapper``: a ``Ledger`` that forwards every call to another one.

Wrappers that change one behaviour (a fault, a contract rule) subclass it and
override only that method, calling ``super()`` for the real work.

Example::

    class Counting(LedgerWrapper):
        async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
            self.calls += 1
            return await super().events(after_seq=after_seq, limit=limit)
"""

from __future__ import annotations

from integrations.chain.port import (
    ChainEvent,
    ChainObject,
    Ledger,
    ListingMetadata,
    ModelDraft,
    Signer,
    TxReceipt,
)
from integrations.tee.port import EnclaveInfo, SignedResult


class LedgerWrapper:
    """Forwards the whole ``Ledger`` port to ``inner``."""

    def __init__(self, inner: Ledger) -> None:
        self.inner = inner

    @property
    def network(self) -> str:
        return self.inner.network

    @property
    def listing_terms_fixed_at_upload(self) -> bool:
        return self.inner.listing_terms_fixed_at_upload

    async def balance(self, address: str) -> int:
        return await self.inner.balance(address)

    async def upload_model(
        self, signer: Signer, draft: ModelDraft, *, request_id: str
    ) -> TxReceipt:
        return await self.inner.upload_model(signer, draft, request_id=request_id)

    async def submit_for_verification(
        self, signer: Signer, pending_id: str, *, request_id: str
    ) -> TxReceipt:
        return await self.inner.submit_for_verification(signer, pending_id, request_id=request_id)

    async def complete_verification(
        self, signer: Signer, pending_id: str, result: SignedResult, *, request_id: str
    ) -> TxReceipt:
        return await self.inner.complete_verification(
            signer, pending_id, result, request_id=request_id
        )

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
        return await self.inner.list_on_marketplace(
            signer,
            pending_id,
            verification_id,
            request_id=request_id,
            price_mist=price_mist,
            metadata=metadata,
        )

    async def purchase(
        self, signer: Signer, listing_id: str, *, payment_mist: int, request_id: str
    ) -> TxReceipt:
        return await self.inner.purchase(
            signer, listing_id, payment_mist=payment_mist, request_id=request_id
        )

    async def register_enclave(
        self, signer: Signer, info: EnclaveInfo, *, request_id: str
    ) -> TxReceipt:
        return await self.inner.register_enclave(signer, info, request_id=request_id)

    async def withdraw_model(
        self, signer: Signer, pending_id: str, *, reason: str, request_id: str
    ) -> TxReceipt:
        return await self.inner.withdraw_model(
            signer, pending_id, reason=reason, request_id=request_id
        )

    async def delist(self, signer: Signer, listing_id: str, *, request_id: str) -> TxReceipt:
        return await self.inner.delist(signer, listing_id, request_id=request_id)

    async def reprice(
        self, signer: Signer, listing_id: str, price_mist: int, *, request_id: str
    ) -> TxReceipt:
        return await self.inner.reprice(signer, listing_id, price_mist, request_id=request_id)

    async def get_object(self, object_id: str) -> ChainObject:
        return await self.inner.get_object(object_id)

    async def owned_objects(self, address: str, type_name: str) -> list[ChainObject]:
        return await self.inner.owned_objects(address, type_name)

    async def listings(
        self,
        *,
        category: str | None = None,
        max_price_mist: int | None = None,
        min_quality: int | None = None,
        text: str | None = None,
    ) -> list[ChainObject]:
        return await self.inner.listings(
            category=category, max_price_mist=max_price_mist, min_quality=min_quality, text=text
        )

    async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
        return await self.inner.events(after_seq=after_seq, limit=limit)

    async def aclose(self) -> None:
        await self.inner.aclose()
