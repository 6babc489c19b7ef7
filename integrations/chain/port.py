"""The ledger port: the Satya marketplace contract plus balances, objects and events.

Every write is a transaction signed by ``signer`` and carries a ``request_id``:
repeating a request id returns the first receipt instead of acting twice, so a
resumed journey node never pays twice. Amounts are integers in MIST
(1 SUI = 10**9 MIST). Objects are returned in the Sui shape
(``objectId``, ``type``, ``content.fields``) so they can be shown as raw data.

Example::

    receipt = await ledger.upload_model(wallet, draft, request_id="wf-1:register")
    pending_id = receipt.created[0]
    obj = await ledger.get_object(pending_id)
    assert obj.fields["status"] == 0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from integrations.tee.port import EnclaveInfo, SignedResult

MIST_PER_SUI = 1_000_000_000
PLATFORM_FEE_BPS = 250  # 2.5 %

# PendingModel.status values, as in the contract.
STATUS_PENDING = 0
STATUS_VERIFYING = 1
STATUS_VERIFIED = 2
STATUS_WITHDRAWN = 3  # embedded ledger only: taken back by its creator (``withdraw_model``)


class Signer(Protocol):
    """A key that signs Sui transactions (see ``integrations.chain.keys``)."""

    @property
    def address(self) -> str:
        """``0x`` + 64 hex digits."""
        ...

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        ...

    def sign_transaction(self, tx_bytes: bytes) -> bytes:
        """97-byte Sui signature: flag ‖ sig(64) ‖ pk(32) over blake2b-256([0,0,0] ‖ tx_bytes)."""
        ...


@dataclass(frozen=True, slots=True)
class ModelDraft:
    """Arguments of ``upload_model_entry`` plus the digest the enclave must sign."""

    title: str
    description: str
    category: str
    tags: tuple[str, ...]
    model_blob_id: str
    model_digest: str  # sha256 hex of the whole model file
    size_bytes: int
    file_format: str
    price_mist: int
    dataset_blob_id: str | None = None
    encryption_policy_id: str = ""
    seal_metadata: bytes = b""
    max_downloads: int | None = None


@dataclass(frozen=True, slots=True)
class ListingMetadata:
    """The text a listing shows, as the author approved it at the listing gate."""

    title: str
    description: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """An emitted Move event, e.g. ``ModelUploaded``."""

    seq: int
    type: str
    tx_digest: str
    fields: dict[str, object]
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class TxReceipt:
    """The effects of one executed transaction."""

    digest: str  # base58 of 32 bytes
    created: tuple[str, ...]  # object ids, the main object first
    events: tuple[ChainEvent, ...]
    gas_used_mist: int
    replayed: bool = False  # True when the request id had been executed before


@dataclass(frozen=True, slots=True)
class ChainObject:
    """An object as Sui shows it."""

    object_id: str
    type: str  # e.g. "0x…::marketplace::PendingModel"
    owner: str  # an address, or "shared"
    version: int
    fields: dict[str, object] = field(default_factory=dict)

    def as_sui_json(self) -> dict[str, object]:
        """The seed's raw shape: objectId, type, owner, version, content.fields."""
        return {
            "objectId": self.object_id,
            "type": self.type,
            "owner": self.owner,
            "version": self.version,
            "content": {"dataType": "moveObject", "type": self.type, "fields": self.fields},
        }


@runtime_checkable
class Ledger(Protocol):
    """Marketplace operations. Errors are ``integrations.errors.ChainError``s."""

    @property
    def network(self) -> str:
        """``local``, ``testnet``, ``mainnet``..."""
        ...

    @property
    def listing_terms_fixed_at_upload(self) -> bool:
        """Whether a listing keeps the price and text given to ``upload_model``.

        True on a live network (the deployed contract stores title, description,
        category, tags and price at upload and ``list_on_marketplace`` cannot
        change them): the author must approve the listing terms before the
        upload, and ``list_on_marketplace`` refuses a different ``price_mist`` or
        ``metadata``. False on the embedded ledger, where the terms are approved
        after verification and passed to ``list_on_marketplace``.
        """
        ...

    async def balance(self, address: str) -> int:
        """SUI balance in MIST."""
        ...

    async def upload_model(
        self, signer: Signer, draft: ModelDraft, *, request_id: str
    ) -> TxReceipt:
        """``upload_model_entry``: creates a ``PendingModel`` owned by the signer."""
        ...

    async def submit_for_verification(
        self, signer: Signer, pending_id: str, *, request_id: str
    ) -> TxReceipt:
        """Status 0 -> 1; only the owner may submit."""
        ...

    async def complete_verification(
        self, signer: Signer, pending_id: str, result: SignedResult, *, request_id: str
    ) -> TxReceipt:
        """Status 1 -> 2 with a ``VerificationResult``; the enclave signature must verify."""
        ...

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
        """Creates the shared ``MarketplaceModel``; only the owner may list.

        ``price_mist`` and ``metadata`` replace the price and text given at upload
        (the author approves them only after verification); ``None`` keeps them.
        Where ``listing_terms_fixed_at_upload`` is True, values that differ from
        the upload's are refused with ``ChainError`` and nothing is listed.
        """
        ...

    async def purchase(
        self, signer: Signer, listing_id: str, *, payment_mist: int, request_id: str
    ) -> TxReceipt:
        """Pays the price (2.5 % platform fee) and creates a ``PurchaseRecord`` for the buyer."""
        ...

    async def register_enclave(
        self, signer: Signer, info: EnclaveInfo, *, request_id: str
    ) -> TxReceipt:
        """Registers an enclave key after checking its PCRs against the allow-list."""
        ...

    async def withdraw_model(
        self, signer: Signer, pending_id: str, *, reason: str, request_id: str
    ) -> TxReceipt:
        """The creator takes back a ``PendingModel`` that is not listed: status 3, and its
        description says why. ``NotSupported`` where the contract has no such entry point."""
        ...

    async def delist(self, signer: Signer, listing_id: str, *, request_id: str) -> TxReceipt:
        """The creator takes a listing off the market (``NotSupported`` where the contract
        has no such entry point)."""
        ...

    async def reprice(
        self, signer: Signer, listing_id: str, price_mist: int, *, request_id: str
    ) -> TxReceipt:
        """The creator sets a listing's price (``NotSupported`` where the contract has no
        such entry point)."""
        ...

    async def get_object(self, object_id: str) -> ChainObject:
        """Any object by id; ``ObjectNotFound`` if unknown."""
        ...

    async def owned_objects(self, address: str, type_name: str) -> list[ChainObject]:
        """Objects of a short type name (``PendingModel``…) owned by an address."""
        ...

    async def listings(
        self,
        *,
        category: str | None = None,
        max_price_mist: int | None = None,
        min_quality: int | None = None,
        text: str | None = None,
    ) -> list[ChainObject]:
        """Listed ``MarketplaceModel`` objects matching every given filter."""
        ...

    async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
        """Events in order, after a sequence number."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
