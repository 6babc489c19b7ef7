"""Listing terms fixed at upload: the check a live ledger makes, and a ledger that makes it.

The deployed Satya contract stores a model's title, description, category,
tags and price in ``upload_model_entry``; its ``list_on_marketplace`` takes no
price and no text, so a listing shows exactly what was uploaded. A ledger on
such a network refuses a listing whose price or text differs from the pending
model's (``check_terms_unchanged``) instead of listing other terms than the
author approved. ``SuiLedger`` makes this check; ``FixedTermsLedger`` wraps any
other ledger (the embedded one, in tests and scripted journeys) so that it
behaves the same way.

Example::

    ledger = FixedTermsLedger(LocalLedger(path))
    assert ledger.listing_terms_fixed_at_upload
    await ledger.list_on_marketplace(w, pid, vid, request_id="l", price_mist=other)
    # ChainError: ... cannot change a model's price at listing.
"""

from __future__ import annotations

from collections.abc import Mapping

from integrations.chain.port import (
    ListingMetadata,
    Signer,
    TxReceipt,
)
from integrations.chain.wrapper import LedgerWrapper
from integrations.errors import ChainError


def changed_terms(
    fields: Mapping[str, object], price_mist: int | None, metadata: ListingMetadata | None
) -> list[str]:
    """Which of price, title, description and tags differ from a pending model's ``fields``.

    ``None`` for ``price_mist`` or ``metadata`` asks for no change.
    """
    changed: list[str] = []
    if price_mist is not None and str(fields.get("price", "")) != str(price_mist):
        changed.append("price")
    if metadata is not None:
        if fields.get("title") != metadata.title:
            changed.append("title")
        if fields.get("description") != metadata.description:
            changed.append("description")
        tags = fields.get("tags")
        if (list(tags) if isinstance(tags, list | tuple) else []) != list(metadata.tags):
            changed.append("tags")
    return changed


def check_terms_unchanged(
    fields: Mapping[str, object], price_mist: int | None, metadata: ListingMetadata | None
) -> None:
    """Raise ``ChainError`` when the listing would change terms fixed at upload."""
    changed = changed_terms(fields, price_mist, metadata)
    if changed:
        raise ChainError(
            "The deployed marketplace contract cannot change a model's "
            f"{', '.join(changed)} at listing.",
            hint="Upload the model again with the approved listing details.",
        )


class FixedTermsLedger(LedgerWrapper):
    """A ledger whose listings keep the upload terms, as on a live Sui network.

    Every call goes to ``inner``; ``list_on_marketplace`` first refuses
    different terms with ``check_terms_unchanged``, then lists with the
    terms given at upload, as the deployed contract does.
    """

    @property
    def listing_terms_fixed_at_upload(self) -> bool:
        """Always True: the price and text are those of ``upload_model``."""
        return True

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
        """Refuses terms other than the upload's, then lists with the upload's."""
        if price_mist is not None or metadata is not None:
            pending = await self.inner.get_object(pending_id)
            check_terms_unchanged(pending.fields, price_mist, metadata)
        return await self.inner.list_on_marketplace(
            signer, pending_id, verification_id, request_id=request_id
        )
