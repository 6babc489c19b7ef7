"""Offline building of the Satya marketplace transactions for a real Sui network.

Builds ``TransactionData`` with pysui's low-level ``ProgrammableTransactionBuilder``
and BCS types, so nothing here touches a node: the caller supplies object
references (id, version, digest) and gas coins. Pure arguments are encoded
with the project's own BCS encoder, so ``u64`` is always 8 bytes, ``vector<u8>``
is length-prefixed bytes and options carry their 0/1 tag.

The Move signatures follow ``satya::marketplace``: ``complete_verification``,
``list_on_marketplace`` and ``purchase_model`` are public functions whose
results the transaction transfers to the sender (or shares, for a listing).

Example::

    b = MarketplaceTxBuilder(package_id=PKG, registry=SharedRef(REG, 12, True))
    kind = b.upload_model_entry(draft)
    tx = transaction_data(kind, sender=kp.address, gas=GasConfig((coin,), 1000, 10_000_000))
    tx_bytes = serialize(tx)
    signature = kp.sign_transaction(tx_bytes)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from pysui.sui.sui_bcs import bcs
from pysui.sui.sui_common.txn_transaction_builder import ProgrammableTransactionBuilder

from integrations.chain.port import ModelDraft
from integrations.tee.bcs import FieldType, encode_value

MODULE = "marketplace"
CLOCK_ID = "0x" + "00" * 31 + "06"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An owned (or immutable) object at a version, as a node reports it."""

    object_id: str
    version: int
    digest: str  # base58


@dataclass(frozen=True, slots=True)
class SharedRef:
    """A shared object by id and the version at which it became shared."""

    object_id: str
    initial_shared_version: int
    mutable: bool


CLOCK = SharedRef(CLOCK_ID, 1, False)


@dataclass(frozen=True, slots=True)
class GasConfig:
    """Gas coins, price per unit and budget (MIST) of one transaction."""

    payment: tuple[ObjectRef, ...]
    price: int
    budget: int


def _pure(value: object, t: FieldType) -> bcs.BuilderArg:
    return bcs.BuilderArg("Pure", list(encode_value(value, t)))


def _owned(ref: ObjectRef) -> bcs.ObjectArg:
    return bcs.ObjectArg(
        "ImmOrOwnedObject",
        bcs.ObjectReference(
            bcs.Address.from_str(ref.object_id), ref.version, bcs.Digest.from_str(ref.digest)
        ),
    )


def _shared(ref: SharedRef) -> bcs.ObjectArg:
    return bcs.ObjectArg(
        "SharedObject",
        bcs.SharedObjectReference(
            bcs.Address.from_str(ref.object_id), ref.initial_shared_version, ref.mutable
        ),
    )


def _finish(builder: ProgrammableTransactionBuilder) -> bcs.TransactionKind:
    return cast(bcs.TransactionKind, builder.finish_for_inspect())


def _address_bytes(address: str) -> bytes:
    return bytes(bcs.Address.from_str(address).Address)


class MarketplaceTxBuilder:
    """Builds the ``TransactionKind`` of each marketplace entry point.

    Example::

        b = MarketplaceTxBuilder(package_id=PKG, registry=SharedRef(REG, 12, True))
        kind = b.purchase_model(SharedRef(listing, 40, True), price_mist=10**9,
                                buyer=kp.address)
    """

    def __init__(self, *, package_id: str, registry: SharedRef) -> None:
        self._package = bcs.Address.from_str(package_id)
        self._package_id = package_id
        self._registry = registry

    def _call(
        self,
        builder: ProgrammableTransactionBuilder,
        function: str,
        arguments: list[object],
    ) -> bcs.Argument:
        result = builder.move_call(
            target=self._package,
            arguments=arguments,
            type_arguments=[],
            module=MODULE,
            function=function,
        )
        assert isinstance(result, bcs.Argument)
        return result

    def upload_model_entry(self, draft: ModelDraft) -> bcs.TransactionKind:
        """``upload_model_entry(title, …, max_downloads, clock)``; the entry transfers the model."""
        b = ProgrammableTransactionBuilder()
        self._call(
            b,
            "upload_model_entry",
            [
                _pure(draft.title, "string"),
                _pure(draft.description, "string"),
                _pure(draft.category, "string"),
                _pure(list(draft.tags), ("vector", "string")),
                _pure(draft.model_blob_id, "string"),
                _pure(draft.dataset_blob_id, ("option", "string")),
                _pure(draft.encryption_policy_id, "string"),
                _pure(draft.seal_metadata, "bytes"),
                _pure(draft.price_mist, "u64"),
                _pure(draft.max_downloads, ("option", "u64")),
                _shared(CLOCK),
            ],
        )
        return _finish(b)

    def submit_for_verification(self, pending: ObjectRef) -> bcs.TransactionKind:
        """``submit_for_verification(&mut PendingModel, &mut Registry, clock)``."""
        b = ProgrammableTransactionBuilder()
        self._call(
            b,
            "submit_for_verification",
            [_owned(pending), _shared(self._registry), _shared(CLOCK)],
        )
        return _finish(b)

    def complete_verification(
        self,
        pending: ObjectRef,
        *,
        enclave_id: str,
        quality_score: int,
        security_assessment: str,
        attestation_hash: bytes,
        verifier_signature: bytes,
        recipient: str,
    ) -> bcs.TransactionKind:
        """``complete_verification(…)``; the ``VerificationResult`` goes to ``recipient``."""
        b = ProgrammableTransactionBuilder()
        result = self._call(
            b,
            "complete_verification",
            [
                _owned(pending),
                _shared(self._registry),
                _pure(enclave_id, "string"),
                _pure(quality_score, "u64"),
                _pure(security_assessment, "string"),
                _pure(attestation_hash, "bytes"),
                _pure(verifier_signature, "bytes"),
                _shared(CLOCK),
            ],
        )
        b.transfer_objects(bcs.BuilderArg("Pure", list(_address_bytes(recipient))), [result])
        return _finish(b)

    def list_on_marketplace(
        self, pending: ObjectRef, verification: ObjectRef
    ) -> bcs.TransactionKind:
        """``list_on_marketplace(model, verification, &mut Registry, clock)``, then shares it."""
        b = ProgrammableTransactionBuilder()
        listing = self._call(
            b,
            "list_on_marketplace",
            [_owned(pending), _owned(verification), _shared(self._registry), _shared(CLOCK)],
        )
        b.move_call(
            target=bcs.Address.from_str("0x2"),
            arguments=[listing],
            type_arguments=[
                bcs.TypeTag.type_tag_from(f"{self._package_id}::{MODULE}::MarketplaceModel")
            ],
            module="transfer",
            function="public_share_object",
        )
        return _finish(b)

    def purchase_model(
        self, listing: SharedRef, *, price_mist: int, buyer: str
    ) -> bcs.TransactionKind:
        """Splits ``price_mist`` from the gas coin, calls ``purchase_model``, keeps the record."""
        b = ProgrammableTransactionBuilder()
        coin = b.split_coin(bcs.Argument("GasCoin"), [_pure(price_mist, "u64")])
        record = self._call(
            b,
            "purchase_model",
            [_shared(listing), _shared(self._registry), coin, _shared(CLOCK)],
        )
        b.transfer_objects(bcs.BuilderArg("Pure", list(_address_bytes(buyer))), [record])
        return _finish(b)


def transaction_data(
    kind: bcs.TransactionKind, *, sender: str, gas: GasConfig
) -> bcs.TransactionData:
    """Wrap a kind into ``TransactionData::V1`` with sender, gas and no expiration."""
    payment = [
        bcs.ObjectReference(
            bcs.Address.from_str(c.object_id), c.version, bcs.Digest.from_str(c.digest)
        )
        for c in gas.payment
    ]
    data = bcs.TransactionData(
        "V1",
        bcs.TransactionDataV1(
            kind,
            bcs.Address.from_str(sender),
            bcs.GasData(payment, bcs.Address.from_str(sender), gas.price, gas.budget),
            bcs.TransactionExpiration("None", None),
        ),
    )
    return data


def serialize(tx: bcs.TransactionData) -> bytes:
    """The BCS bytes a Sui signature covers (after the intent prefix)."""
    return bytes(tx.serialize())


def deserialize(tx_bytes: bytes) -> bcs.TransactionData:
    """Inverse of ``serialize``."""
    return cast(bcs.TransactionData, bcs.TransactionData.deserialize(tx_bytes))
