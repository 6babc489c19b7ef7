"""A Sui node double for the live ``SuiLedger``: the ``SuiNode`` protocol on the contract rules.

``ContractNode`` executes the transactions ``SuiLedger`` builds and signs with
pysui's BCS types: it checks the 97-byte signature against the sender, decodes
the programmable transaction (its pure arguments byte by byte), and applies the
Move call with the embedded ledger's contract rules (``local_rules.contract_*``,
``submit_for_verification``, ``list_on_marketplace``, ``purchase``) on an
embedded ledger's database, as the deployed contract would: no enclave check
(that is the adapter's own), objects without the embedded ledger's extra
fields. Gas is charged to the sender; reads come from the same database.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from integrations.chain import local_rules as rules
from integrations.chain.ids import b58encode, tx_digest
from integrations.chain.keys import verify_transaction_signature
from integrations.chain.local import LocalLedger
from integrations.chain.local_db import TxContext, debit, load_object, meta_add
from integrations.chain.port import ChainEvent, ChainObject, ModelDraft, TxReceipt
from integrations.chain.sui_tx import GasConfig, ObjectRef, SharedRef, deserialize
from integrations.errors import ChainError, InsufficientFunds, SignatureRejected


class _Reader:
    """BCS values read from one pure argument; the whole input must be consumed."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.at = raw, 0

    def _take(self, n: int) -> bytes:
        if self.at + n > len(self.raw):
            raise ChainError("A pure argument is shorter than its type.")
        out = self.raw[self.at : self.at + n]
        self.at += n
        return out

    def uleb(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self._take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def u64(self) -> int:
        return int.from_bytes(self._take(8), "little")

    def bytes_(self) -> bytes:
        return self._take(self.uleb())

    def string(self) -> str:
        return self.bytes_().decode("utf-8")

    def tag(self) -> bool:
        return self._take(1) == b"\x01"

    def done(self) -> None:
        if self.at != len(self.raw):
            raise ChainError("A pure argument is longer than its type.")


def _pure(raw: list[int], read: str) -> object:
    r = _Reader(bytes(raw))
    value: object
    if read == "string":
        value = r.string()
    elif read == "u64":
        value = r.u64()
    elif read == "bytes":
        value = r.bytes_()
    elif read == "strings":
        value = tuple(r.string() for _ in range(r.uleb()))
    elif read == "option_string":
        value = r.string() if r.tag() else None
    elif read == "option_u64":
        value = r.u64() if r.tag() else None
    else:
        raise AssertionError(read)
    r.done()
    return value


class ContractNode:
    """``SuiNode`` backed by an embedded ledger file and the contract's rules."""

    def __init__(self, ledger: LocalLedger, *, gas_price: int = 1_000) -> None:
        self.ledger = ledger
        self.gas_price = gas_price
        self._gas_versions: dict[str, int] = {}  # a gas coin's version moves with every use

    @property
    def package_id(self) -> str:
        return self.ledger.package_id

    async def object_ref(self, object_id: str) -> ObjectRef:
        obj = await self.ledger.get_object(object_id)
        digest = hashlib.blake2b(f"{object_id}:{obj.version}".encode(), digest_size=32).digest()
        return ObjectRef(object_id, obj.version, b58encode(digest))

    async def shared_ref(self, object_id: str, *, mutable: bool) -> SharedRef:
        await self.ledger.get_object(object_id)
        return SharedRef(object_id, 1, mutable)

    async def gas_for(self, owner: str, budget: int) -> GasConfig:
        held = await self.ledger.balance(owner)
        if held < budget:
            raise InsufficientFunds(f"{owner} holds {held} MIST, below the gas budget {budget}.")
        coin = "0x" + hashlib.blake2b(f"gas:{owner}".encode(), digest_size=32).hexdigest()
        version = self._gas_versions.get(owner, 1)
        digest = hashlib.blake2b(f"{coin}:{version}".encode(), digest_size=32).digest()
        return GasConfig((ObjectRef(coin, version, b58encode(digest)),), self.gas_price, budget)

    async def execute(self, tx_bytes: bytes, signature: bytes) -> TxReceipt:
        tx = deserialize(tx_bytes).value
        sender = tx.Sender.to_address_str()
        if verify_transaction_signature(tx_bytes, signature) != sender:
            raise SignatureRejected("The transaction is not signed by its sender.")
        pt = tx.TransactionKind.value
        gas = self.ledger.gas_mist
        digest = tx_digest(tx_bytes)
        now = self.ledger._clock_ms()
        registry = self.ledger.registry_id

        def run(conn: sqlite3.Connection) -> TxReceipt:
            ctx = TxContext(conn, sender, digest, now, self.package_id, gas)
            splits: list[int] = []
            for command in pt.Command:
                if command.enum_name == "SplitCoin":
                    amount = command.value.Amount[0]
                    splits.append(int(str(_pure(pt.Inputs[amount.value].value, "u64"))))
                elif command.enum_name == "MoveCall" and str(command.value.Module) == "marketplace":
                    args = [a.value for a in command.value.Arguments]
                    self._call(ctx, registry, str(command.value.Function), args, pt.Inputs, splits)
            debit(conn, sender, gas, "gas")
            self._gas_versions[sender] = self._gas_versions.get(sender, 1) + 1
            meta_add(conn, "gas_burnt", gas)
            return TxReceipt(digest, tuple(ctx.created), ctx.write_events(), gas)

        return await self.ledger._run(run, write=True)

    @staticmethod
    def _object_id(inputs: list[Any], index: object) -> str:
        arg = inputs[int(str(index))].value
        ref = arg.value
        return str(ref.ObjectID.to_address_str())

    def _call(
        self,
        ctx: TxContext,
        registry: str,
        function: str,
        args: list[object],
        inputs: list[Any],
        splits: list[int],
    ) -> None:
        def pure(i: int, read: str) -> Any:
            return _pure(inputs[int(str(args[i]))].value, read)

        if function == "upload_model_entry":
            draft = ModelDraft(
                title=str(pure(0, "string")),
                description=str(pure(1, "string")),
                category=str(pure(2, "string")),
                tags=pure(3, "strings"),
                model_blob_id=str(pure(4, "string")),
                model_digest="",
                size_bytes=0,
                file_format="",
                price_mist=int(str(pure(8, "u64"))),
                dataset_blob_id=pure(5, "option_string"),
                encryption_policy_id=str(pure(6, "string")),
                seal_metadata=pure(7, "bytes"),
                max_downloads=pure(9, "option_u64"),
            )
            rules.contract_upload(ctx, registry, draft, extras={})
        elif function == "submit_for_verification":
            rules.submit_for_verification(ctx, self._object_id(inputs, args[0]))
        elif function == "complete_verification":
            rules.contract_complete(
                ctx,
                registry,
                self._object_id(inputs, args[0]),
                enclave_id=str(pure(2, "string")),
                quality_score=int(str(pure(3, "u64"))),
                security=str(pure(4, "string")),
                attestation_hash=pure(5, "bytes").hex(),
                verifier_signature=pure(6, "bytes").hex(),
                extras={},
            )
        elif function == "list_on_marketplace":
            rules.list_on_marketplace(
                ctx, registry, self._object_id(inputs, args[0]), self._object_id(inputs, args[1])
            )
        elif function == "purchase_model":
            rules.purchase(ctx, registry, self._object_id(inputs, args[0]), splits[-1])
        else:
            raise ChainError(f"The contract has no entry point {function}.")

    async def get_object(self, object_id: str) -> ChainObject:
        return await self.ledger.get_object(object_id)

    async def owned_objects(self, address: str, struct_type: str) -> list[ChainObject]:
        return await self.ledger.owned_objects(address, struct_type.rsplit("::", 1)[1])

    async def objects_of_type(self, struct_type: str) -> list[ChainObject]:
        assert struct_type.endswith("::MarketplaceModel")
        return await self.ledger.listings()

    async def events(self, event_type_prefix: str, after_seq: int, limit: int) -> list[ChainEvent]:
        found = await self.ledger.events(after_seq=after_seq, limit=10_000)
        return [e for e in found if e.type.startswith(event_type_prefix)][:limit]

    async def balance(self, address: str) -> int:
        return await self.ledger.balance(address)

    async def aclose(self) -> None:
        await self.ledger.aclose()


def load(conn: sqlite3.Connection, object_id: str) -> ChainObject:
    """An object straight from the ledger file (for assertions)."""
    return load_object(conn, object_id, None)
