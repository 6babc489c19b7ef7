"""``SuiLedger``: the ``Ledger`` port against a real Sui network.

Transactions are built offline (``sui_tx``), signed by the caller's
``Signer``, checked locally (the signature must verify and come from the
sender), then handed to a ``SuiNode`` that reads object references and
executes. Nothing touches the network at import or construction: without a
node every call that needs one raises ``ChainError`` saying so.

Because the deployed contract does not check enclave signatures, this adapter
checks them itself before submitting ``complete_verification``: only results
signed by one of ``trusted_enclave_keys`` over the pending model's digest go out.

Example::

    ledger = SuiLedger(network="testnet", package_id=PKG,
                       registry=SharedRef(REG, 12, True), node=node,
                       trusted_enclave_keys={"ab12…"})
    receipt = await ledger.upload_model(wallet, draft, request_id="wf-1:register")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from pysui.sui.sui_bcs import bcs

from integrations.chain.fixed_terms import check_terms_unchanged
from integrations.chain.keys import verify_transaction_signature
from integrations.chain.listing_filter import listing_matches
from integrations.chain.local import wall_clock_ms
from integrations.chain.port import (
    ChainEvent,
    ChainObject,
    ListingMetadata,
    ModelDraft,
    Signer,
    TxReceipt,
)
from integrations.chain.result_check import attestation_hash, check_signed_result
from integrations.chain.sui_tx import (
    GasConfig,
    MarketplaceTxBuilder,
    ObjectRef,
    SharedRef,
    serialize,
    transaction_data,
)
from integrations.errors import (
    ChainError,
    ConfigurationError,
    NotSupported,
    ResultRejected,
    SignatureRejected,
)
from integrations.tee.port import EnclaveInfo, SignedResult
from integrations.tee.schemas import security_assessment


class SuiNode(Protocol):
    """What ``SuiLedger`` needs from a full node (gRPC or GraphQL)."""

    async def object_ref(self, object_id: str) -> ObjectRef:
        """The current reference of an owned object."""
        ...

    async def shared_ref(self, object_id: str, *, mutable: bool) -> SharedRef:
        """The reference of a shared object."""
        ...

    async def gas_for(self, owner: str, budget: int) -> GasConfig:
        """Gas coins of ``owner`` covering ``budget`` and the reference gas price."""
        ...

    async def execute(self, tx_bytes: bytes, signature: bytes) -> TxReceipt:
        """Execute a signed transaction and wait for its effects."""
        ...

    async def get_object(self, object_id: str) -> ChainObject:
        """An object in the Sui shape."""
        ...

    async def owned_objects(self, address: str, struct_type: str) -> list[ChainObject]:
        """Objects of a full struct type owned by an address."""
        ...

    async def objects_of_type(self, struct_type: str) -> list[ChainObject]:
        """All live objects of a full struct type (for listings)."""
        ...

    async def events(self, event_type_prefix: str, after_seq: int, limit: int) -> list[ChainEvent]:
        """Events of a package module, in order."""
        ...

    async def balance(self, address: str) -> int:
        """SUI balance in MIST."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class SuiLedger:
    """The ``Ledger`` port on a live Sui network (see the module docstring).

    Example::

        ledger = SuiLedger(network="testnet", package_id=PKG,
                           registry=SharedRef(REG, 12, True))
        await ledger.balance(addr)   # ChainError: no Sui node is configured
    """

    def __init__(
        self,
        *,
        network: str,
        package_id: str,
        registry: SharedRef | str,
        node: SuiNode | None = None,
        trusted_enclave_keys: Iterable[str] = (),
        gas_budget_mist: int = 50_000_000,
        max_result_age_ms: int = 10 * 60 * 1000,
        clock_ms: Callable[[], int] = wall_clock_ms,
        default_signer: Signer | None = None,
        rpc_url: str | None = None,
    ) -> None:
        registry_id = registry if isinstance(registry, str) else registry.object_id
        if not package_id.startswith("0x") or not registry_id.startswith("0x"):
            raise ConfigurationError("The Satya package id and registry id must be 0x… ids.")
        self._network = network
        self._package_id = package_id
        self._registry_id = registry_id
        self._node = node
        self._rpc_url = rpc_url
        self._builder = (
            None
            if isinstance(registry, str)
            else MarketplaceTxBuilder(package_id=package_id, registry=registry)
        )
        self._trusted = {k.lower() for k in trusted_enclave_keys}
        self._attestations: dict[str, bytes] = {}  # key -> sha256 of its attestation document
        self._gas_budget = gas_budget_mist
        self._max_age_ms = max_result_age_ms
        self._clock_ms = clock_ms
        self.default_signer = default_signer
        self._receipts: dict[tuple[str, str], TxReceipt] = {}

    @classmethod
    def from_settings(
        cls,
        *,
        network: str,
        rpc_url: str | None,
        package_id: str,
        registry_id: str,
        signer: Signer | None = None,
        node: SuiNode | None = None,
    ) -> SuiLedger:
        """The live ledger as configured; nothing is contacted until a method needs the node.

        Example::

            ledger = SuiLedger.from_settings(network="testnet", rpc_url=None,
                                             package_id=PKG, registry_id=REG)
        """
        return cls(
            network=network,
            package_id=package_id,
            registry=registry_id,
            node=node,
            default_signer=signer,
            rpc_url=rpc_url,
        )

    @property
    def network(self) -> str:
        """The configured network name."""
        return self._network

    @property
    def listing_terms_fixed_at_upload(self) -> bool:
        """True: the deployed contract lists a model with its upload price and text."""
        return True

    async def builder(self) -> MarketplaceTxBuilder:
        """The transaction builder, once the registry's shared version is known."""
        if self._builder is None:
            ref = await self._require_node().shared_ref(self._registry_id, mutable=True)
            self._builder = MarketplaceTxBuilder(package_id=self._package_id, registry=ref)
        return self._builder

    def _require_node(self) -> SuiNode:
        if self._node is None:
            where = f" at {self._rpc_url}" if self._rpc_url else ""
            raise ChainError(
                f"No Sui node is configured for {self._network}{where}; the live ledger cannot "
                "reach the chain.",
                hint="Use the local ledger (unset SATYA_CHAIN_BACKEND) until a node is configured.",
            )
        return self._node

    def _type(self, name: str) -> str:
        return f"{self._package_id}::marketplace::{name}"

    async def sign_checked(
        self, signer: Signer, kind: bcs.TransactionKind, gas: GasConfig
    ) -> tuple[bytes, bytes]:
        """Serialize ``kind`` for ``signer`` and sign it, refusing a signature that fails."""
        tx_bytes = serialize(transaction_data(kind, sender=signer.address, gas=gas))
        signature = signer.sign_transaction(tx_bytes)
        if verify_transaction_signature(tx_bytes, signature) != signer.address:
            raise SignatureRejected("The transaction signature does not verify for the sender.")
        return tx_bytes, signature

    async def _submit(
        self, signer: Signer, kind: bcs.TransactionKind, request_id: str
    ) -> TxReceipt:
        key = (signer.address, request_id)
        if key in self._receipts:
            first = self._receipts[key]
            return TxReceipt(first.digest, first.created, first.events, first.gas_used_mist, True)
        node = self._require_node()
        gas = await node.gas_for(signer.address, self._gas_budget)
        tx_bytes, signature = await self.sign_checked(signer, kind, gas)
        receipt = await node.execute(tx_bytes, signature)
        self._receipts[key] = receipt
        return receipt

    async def balance(self, address: str) -> int:
        """SUI balance in MIST, from the node."""
        return await self._require_node().balance(address)

    async def upload_model(
        self, signer: Signer, draft: ModelDraft, *, request_id: str
    ) -> TxReceipt:
        """``upload_model_entry``; the model digest, size and format are not stored on chain."""
        return await self._submit(
            signer, (await self.builder()).upload_model_entry(draft), request_id
        )

    async def submit_for_verification(
        self, signer: Signer, pending_id: str, *, request_id: str
    ) -> TxReceipt:
        """``submit_for_verification`` (the contract checks the owner)."""
        ref = await self._require_node().object_ref(pending_id)
        return await self._submit(
            signer, (await self.builder()).submit_for_verification(ref), request_id
        )

    async def complete_verification(
        self, signer: Signer, pending_id: str, result: SignedResult, *, request_id: str
    ) -> TxReceipt:
        """Checks the enclave result locally, then calls ``complete_verification``."""
        node = self._require_node()
        if result.public_key.lower() not in self._trusted:
            raise ResultRejected("The result was signed by an enclave this ledger does not trust.")
        pending = await node.get_object(pending_id)
        digest = str(pending.fields.get("model_digest", result.data.get("model_hash", "")))
        # The deployed contract stores no digest; then the signed digest is taken as is.
        score = check_signed_result(
            result,
            enclave_key=result.public_key,
            model_digest=digest,
            now_ms=self._clock_ms(),
            max_age_ms=self._max_age_ms,
        )
        kind = (await self.builder()).complete_verification(
            await node.object_ref(pending_id),
            enclave_id=result.enclave_id or result.public_key,
            quality_score=score,
            security_assessment=security_assessment(result),
            attestation_hash=self._attestations[result.public_key.lower()],
            verifier_signature=bytes.fromhex(result.signature),
            recipient=signer.address,
        )
        return await self._submit(signer, kind, request_id)

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
        """``list_on_marketplace`` then shares the new ``MarketplaceModel``.

        The deployed contract keeps the upload price and text, so a different
        ``price_mist`` or ``metadata`` is refused rather than silently ignored.
        """
        node = self._require_node()
        if price_mist is not None or metadata is not None:
            check_terms_unchanged((await node.get_object(pending_id)).fields, price_mist, metadata)
        kind = (await self.builder()).list_on_marketplace(
            await node.object_ref(pending_id), await node.object_ref(verification_id)
        )
        return await self._submit(signer, kind, request_id)

    async def withdraw_model(
        self, signer: Signer, pending_id: str, *, reason: str, request_id: str
    ) -> TxReceipt:
        """The deployed contract cannot take back a pending model: ``NotSupported``."""
        raise NotSupported(
            f"The deployed Satya contract on {self.network} has no entry point to withdraw "
            f"pending model {pending_id}; it stays on chain as it is."
        )

    async def delist(self, signer: Signer, listing_id: str, *, request_id: str) -> TxReceipt:
        """The deployed contract cannot delist: ``NotSupported``."""
        raise NotSupported(
            f"The deployed Satya contract on {self.network} has no entry point to delist "
            f"listing {listing_id}; it stays on the market."
        )

    async def reprice(
        self, signer: Signer, listing_id: str, price_mist: int, *, request_id: str
    ) -> TxReceipt:
        """The deployed contract cannot change a listing's price: ``NotSupported``."""
        raise NotSupported(
            f"The deployed Satya contract on {self.network} has no entry point to change the "
            f"price of listing {listing_id}; it keeps the price it was listed at."
        )

    async def purchase(
        self, signer: Signer, listing_id: str, *, payment_mist: int, request_id: str
    ) -> TxReceipt:
        """Pays ``payment_mist`` (at least the price) from the gas coin.

        As the contract does with the coin it is given, the whole payment less
        the fee goes to the seller, exactly as on the embedded ledger.
        """
        node = self._require_node()
        listing = await node.get_object(listing_id)
        price = int(str(listing.fields["price"]))
        if payment_mist < price:
            raise ChainError(f"The payment of {payment_mist} MIST is below the price {price}.")
        ref = await node.shared_ref(listing_id, mutable=True)
        kind = (await self.builder()).purchase_model(
            ref, price_mist=payment_mist, buyer=signer.address
        )
        return await self._submit(signer, kind, request_id)

    def trust_enclave_key(self, public_key: str, attestation: str = "") -> None:
        """Accept results signed by ``public_key`` (hex) in ``complete_verification``.

        The deployed contract keeps no enclave registry, so trust is held here,
        by the caller who checked the enclave's attestation and PCRs. The sha256
        of ``attestation`` (the document as ``/get_attestation`` returned it) is
        what ``complete_verification`` records as ``attestation_hash``, as the
        embedded ledger records it.
        """
        self._trusted.add(public_key.lower())
        self._attestations[public_key.lower()] = attestation_hash(attestation)

    async def register_enclave(
        self, signer: Signer, info: EnclaveInfo, *, request_id: str
    ) -> TxReceipt:
        """Not done by this adapter: enclaves register through the Nautilus enclave package."""
        raise ConfigurationError(
            "On a live network, register the enclave with the Nautilus enclave package and add "
            "its public key to the trusted enclave keys.",
        )

    async def get_object(self, object_id: str) -> ChainObject:
        """Any object by id, from the node."""
        return await self._require_node().get_object(object_id)

    async def owned_objects(self, address: str, type_name: str) -> list[ChainObject]:
        """Marketplace objects of a short type name owned by an address."""
        return await self._require_node().owned_objects(address, self._type(type_name))

    async def listings(
        self,
        *,
        category: str | None = None,
        max_price_mist: int | None = None,
        min_quality: int | None = None,
        text: str | None = None,
    ) -> list[ChainObject]:
        """Shared ``MarketplaceModel`` objects matching every given filter."""
        found = await self._require_node().objects_of_type(self._type("MarketplaceModel"))
        return [o for o in found if listing_matches(o, category, max_price_mist, min_quality, text)]

    async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
        """Marketplace events, in order."""
        return await self._require_node().events(
            f"{self._package_id}::marketplace::", after_seq, limit
        )

    async def aclose(self) -> None:
        """Close the node connection, if any."""
        if self._node is not None:
            await self._node.aclose()
