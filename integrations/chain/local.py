"""The embedded ledger: Satya marketplace semantics on SQLite, with real Sui keys.

``LocalLedger`` implements the ``Ledger`` port. Every write is a transaction:
the ledger builds canonical bytes (``local_tx.canonical_tx_bytes``), the
signer signs them, the ledger checks the 97-byte signature and that it comes
from the sender, then runs the entry point (``local_rules``) inside one SQLite
``BEGIN IMMEDIATE`` transaction: a failing transaction changes nothing, a
repeated ``(sender, request_id)`` returns the first receipt with
``replayed=True`` and charges nothing, and several processes may share one file.

Money: integer MIST; each transaction burns ``gas_mist`` from its sender; a
sale sends ``price * 250 // 10000`` to the contract's platform address (0x0 as
published, so the fee is burned) and the rest of the payment to the seller.
Faucet: an address is credited ``faucet_mist`` once, the first time the ledger
sees it (its first ``balance`` query or transaction); ``fund`` adds more.
Set ``faucet_mist=0`` to turn automatic funding off.

Example::

    ledger = LocalLedger(home / "ledger.sqlite3")
    wallet = SuiKeypair.generate()
    receipt = await ledger.upload_model(wallet, draft, request_id="wf-1:register")
    pending = await ledger.get_object(receipt.created[0])
    assert pending.fields["status"] == 0

Over 500 lines: ``LocalLedger`` implements the whole ``Ledger`` port over one
transaction discipline; its rules and storage are already apart (``local_rules``, ``local_db``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from integrations.chain import local_rules as rules
from integrations.chain import local_undo as undo
from integrations.chain.ids import blake2b256, tx_digest
from integrations.chain.keys import verify_transaction_signature
from integrations.chain.listing_filter import listing_matches
from integrations.chain.local_db import (
    TxContext,
    balance_of,
    connect,
    credit,
    debit,
    load_object,
    meta_add,
    meta_get,
    row_to_object,
)
from integrations.chain.local_tx import (
    args_hash,
    canonical_tx_bytes,
    receipt_from_json,
    receipt_to_json,
)
from integrations.chain.port import (
    MIST_PER_SUI,
    ChainEvent,
    ChainObject,
    ListingMetadata,
    ModelDraft,
    Signer,
    TxReceipt,
)
from integrations.errors import ChainError, InsufficientFunds, SignatureRejected, UserInputError
from integrations.tee.port import EnclaveInfo, SignedResult

DEBUG_PCRS: tuple[str, str, str] = ("00" * 48, "00" * 48, "00" * 48)
GENESIS_SENDER = "0x" + "00" * 32
_T = TypeVar("_T")


def wall_clock_ms() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class PlatformStats:
    """Marketplace and money totals, for the dashboard and for audits."""

    listed_models: int
    pending_models: int
    verified_models: int
    purchases: int
    total_volume_mist: int
    platform_fees_mist: int
    platform_fee_bps: int
    gas_burnt_mist: int
    minted_mist: int
    circulating_mist: int  # all account balances but the fees burned at PLATFORM_ADDRESS

    def as_dict(self) -> dict[str, int]:
        """Plain numbers, e.g. for a raw-data view."""
        return {name: getattr(self, name) for name in self.__slots__}


class LocalLedger:
    """The ``Ledger`` port on a local SQLite file (see the module docstring).

    Example::

        ledger = LocalLedger(tmp / "ledger.sqlite3", gas_mist=1_000)
        await ledger.register_enclave(operator, enclave_info, request_id="boot")
        stats = await ledger.platform_stats()
    """

    def __init__(
        self,
        db_path: Path,
        *,
        allowed_pcrs: Iterable[tuple[str, str, str]] = (DEBUG_PCRS,),
        faucet_mist: int = 50 * MIST_PER_SUI,
        gas_mist: int = 1_000_000,
        clock_ms: Callable[[], int] = wall_clock_ms,
        max_result_age_ms: int = 10 * 60 * 1000,
    ) -> None:
        if faucet_mist < 0 or gas_mist < 0 or max_result_age_ms < 0:
            raise ValueError("faucet_mist, gas_mist and max_result_age_ms must be >= 0")
        self._path = db_path
        self._allowed: frozenset[tuple[str, str, str]] = frozenset(
            (a.lower(), b.lower(), c.lower()) for a, b, c in allowed_pcrs
        )
        self._faucet_mist = faucet_mist
        self._gas_mist = gas_mist
        self._clock_ms = clock_ms
        self._max_age_ms = max_result_age_ms
        self._lock = threading.Lock()
        try:
            self._conn = connect(db_path)
            self._package_id, self._registry_id = self._genesis()
        except sqlite3.Error as exc:
            raise ChainError(f"The local ledger at {db_path} cannot be opened ({exc}).") from None

    def _genesis(self) -> tuple[str, str]:
        """Publish the package and create the registry on the first open of a file."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            registry_id = meta_get(conn, "registry_id")
            package_id = meta_get(conn, "package_id")
            if registry_id is None or package_id is None:
                digest = tx_digest(b"genesis:" + os.urandom(32))
                package_id = "0x" + blake2b256(b"package:" + digest.encode()).hex()
                ctx = TxContext(conn, GENESIS_SENDER, digest, self._clock_ms(), package_id, 0)
                registry_id = rules.create_registry(ctx)
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("package_id", package_id), ("registry_id", registry_id)],
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return package_id, registry_id

    # -- properties -------------------------------------------------------------------------

    @property
    def network(self) -> str:
        """Always ``local``."""
        return "local"

    @property
    def listing_terms_fixed_at_upload(self) -> bool:
        """False: ``list_on_marketplace`` takes the price and text approved after verification."""
        return False

    @property
    def package_id(self) -> str:
        """The id this ledger file gives the marketplace package."""
        return self._package_id

    @property
    def registry_id(self) -> str:
        """The shared ``MarketplaceRegistry`` object id."""
        return self._registry_id

    @property
    def gas_mist(self) -> int:
        """Gas charged per executed transaction."""
        return self._gas_mist

    # -- plumbing ---------------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], _T], *, write: bool) -> _T:
        """Run ``fn`` on the connection in a worker thread, inside a transaction when writing."""

        def call() -> _T:
            with self._lock:
                conn = self._conn
                if not write:
                    return fn(conn)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                return out

        try:
            return await asyncio.to_thread(call)
        except sqlite3.Error as exc:
            raise ChainError(f"The local ledger file could not be updated ({exc}).") from None

    def _see(self, conn: sqlite3.Connection, address: str) -> int:
        """The balance of ``address``, crediting the faucet amount the first time it is seen."""
        held = balance_of(conn, address)
        if held is None:
            credit(conn, address, self._faucet_mist, faucet=True)
            meta_add(conn, "minted", self._faucet_mist)
            return self._faucet_mist
        return held

    async def _transact(
        self,
        signer: Signer,
        kind: str,
        args: Mapping[str, object],
        request_id: str,
        apply: Callable[[TxContext], None],
    ) -> TxReceipt:
        """Sign, verify and execute one transaction atomically and idempotently."""
        if not request_id:
            raise UserInputError("Every ledger write needs a request id.")
        sender = signer.address
        tx_bytes = canonical_tx_bytes(
            kind=kind,
            args=args,
            sender=sender,
            request_id=request_id,
            gas_budget=self._gas_mist,
            package=self._package_id,
        )
        signature = signer.sign_transaction(tx_bytes)
        signed_by = verify_transaction_signature(tx_bytes, signature)
        if signed_by is None:
            raise SignatureRejected("The transaction signature does not verify.")
        if signed_by != sender:
            raise SignatureRejected("The transaction was signed by a key other than the sender's.")
        digest = tx_digest(tx_bytes)
        fingerprint = args_hash(kind, args)

        def execute(conn: sqlite3.Connection) -> TxReceipt:
            row = conn.execute(
                "SELECT kind, args_hash, receipt FROM transactions "
                "WHERE sender = ? AND request_id = ?",
                (sender, request_id),
            ).fetchone()
            if row is not None:
                if row[0] != kind or row[1] != fingerprint:
                    raise ChainError(
                        f"Request id {request_id!r} was already used for a different transaction."
                    )
                return receipt_from_json(str(row[2]), replayed=True)
            held = self._see(conn, sender)
            if held < self._gas_mist:
                raise InsufficientFunds(
                    f"The wallet holds {held} MIST; gas needs {self._gas_mist} MIST."
                )
            ctx = TxContext(
                conn, sender, digest, self._clock_ms(), self._package_id, self._gas_mist
            )
            apply(ctx)
            debit(conn, sender, self._gas_mist, "gas")
            meta_add(conn, "gas_burnt", self._gas_mist)
            events = ctx.write_events()
            receipt = TxReceipt(digest, tuple(ctx.created), events, self._gas_mist)
            conn.execute(
                "INSERT INTO transactions (sender, request_id, digest, kind, args_hash, receipt, "
                "timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sender,
                    request_id,
                    digest,
                    kind,
                    fingerprint,
                    receipt_to_json(receipt),
                    ctx.now_ms,
                ),
            )
            return receipt

        return await self._run(execute, write=True)

    # -- the port: writes -------------------------------------------------------------------

    async def upload_model(
        self, signer: Signer, draft: ModelDraft, *, request_id: str
    ) -> TxReceipt:
        """``upload_model_entry``: a ``PendingModel`` (status 0) owned by the signer."""
        args: dict[str, object] = {
            "registry": self._registry_id,
            "title": draft.title,
            "description": draft.description,
            "category": draft.category,
            "tags": list(draft.tags),
            "model_blob_id": draft.model_blob_id,
            "model_digest": draft.model_digest,
            "size_bytes": draft.size_bytes,
            "file_format": draft.file_format,
            "price": draft.price_mist,
            "dataset_blob_id": draft.dataset_blob_id,
            "encryption_policy_id": draft.encryption_policy_id,
            "seal_metadata": draft.seal_metadata.hex(),
            "max_downloads": draft.max_downloads,
        }
        return await self._transact(
            signer,
            "upload_model_entry",
            args,
            request_id,
            lambda ctx: rules.upload_model(ctx, self._registry_id, draft),
        )

    async def submit_for_verification(
        self, signer: Signer, pending_id: str, *, request_id: str
    ) -> TxReceipt:
        """Status 0 -> 1; only the owner may submit (``PermissionDenied``)."""
        return await self._transact(
            signer,
            "submit_for_verification",
            {"pending_model": pending_id, "registry": self._registry_id},
            request_id,
            lambda ctx: rules.submit_for_verification(ctx, pending_id),
        )

    async def complete_verification(
        self, signer: Signer, pending_id: str, result: SignedResult, *, request_id: str
    ) -> TxReceipt:
        """Status 1 -> 2 with a ``VerificationResult``.

        The result must be signed by a registered enclave (``ResultRejected``
        otherwise), verify (``SignatureRejected``), be fresh and attest the
        pending model's digest (``ResultRejected``).
        """
        args: dict[str, object] = {
            "pending_model": pending_id,
            "registry": self._registry_id,
            "intent": result.intent,
            "timestamp_ms": result.timestamp_ms,
            "data": result.data,
            "signature": result.signature,
            "public_key": result.public_key,
            "enclave_id": result.enclave_id,
        }
        return await self._transact(
            signer,
            "complete_verification",
            args,
            request_id,
            lambda ctx: rules.complete_verification(
                ctx, self._registry_id, pending_id, result, max_age_ms=self._max_age_ms
            ),
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
        """A shared ``MarketplaceModel``; consumes the pending model and its verification.

        ``price_mist`` and ``metadata`` replace the upload price and text (the
        author approves them after verification); ``None`` keeps them.
        """
        args: dict[str, object] = {
            "pending_model": pending_id,
            "verification": verification_id,
            "price": price_mist,
        }
        if metadata is not None:
            args["metadata"] = {
                "title": metadata.title,
                "description": metadata.description,
                "tags": list(metadata.tags),
            }
        return await self._transact(
            signer,
            "list_on_marketplace",
            args,
            request_id,
            lambda ctx: rules.list_on_marketplace(
                ctx, self._registry_id, pending_id, verification_id, price_mist, metadata
            ),
        )

    async def purchase(
        self, signer: Signer, listing_id: str, *, payment_mist: int, request_id: str
    ) -> TxReceipt:
        """Pays the price (``price*250//10000`` to the platform); creates a ``PurchaseRecord``."""
        return await self._transact(
            signer,
            "purchase_model",
            {"listing": listing_id, "payment_mist": payment_mist, "registry": self._registry_id},
            request_id,
            lambda ctx: rules.purchase(ctx, self._registry_id, listing_id, payment_mist),
        )

    async def register_enclave(
        self, signer: Signer, info: EnclaveInfo, *, request_id: str
    ) -> TxReceipt:
        """A shared ``Enclave`` for ``info.public_key`` if its PCRs are allowed."""
        args: dict[str, object] = {
            "public_key": info.public_key,
            "pcrs": list(info.pcrs),
            "debug": info.debug,
            "attestation": info.attestation,
        }
        return await self._transact(
            signer,
            "register_enclave",
            args,
            request_id,
            lambda ctx: rules.register_enclave(ctx, info, self._allowed),
        )

    # -- the port: reads --------------------------------------------------------------------

    async def withdraw_model(
        self, signer: Signer, pending_id: str, *, reason: str, request_id: str
    ) -> TxReceipt:
        """Status 3 (withdrawn) with the reason in its description; owner only, not listed."""
        return await self._transact(
            signer,
            "withdraw_model",
            {"pending_model": pending_id, "reason": reason},
            request_id,
            lambda ctx: undo.withdraw_model(ctx, pending_id, reason),
        )

    async def delist(self, signer: Signer, listing_id: str, *, request_id: str) -> TxReceipt:
        """The creator's listing is taken off the market."""
        return await self._transact(
            signer,
            "delist",
            {"listing": listing_id, "registry": self._registry_id},
            request_id,
            lambda ctx: undo.delist(ctx, self._registry_id, listing_id),
        )

    async def reprice(
        self, signer: Signer, listing_id: str, price_mist: int, *, request_id: str
    ) -> TxReceipt:
        """A new price for the creator's listing."""
        return await self._transact(
            signer,
            "reprice",
            {"listing": listing_id, "price": price_mist},
            request_id,
            lambda ctx: undo.reprice(ctx, listing_id, price_mist),
        )

    async def balance(self, address: str) -> int:
        """SUI balance in MIST; the first query of a new address credits the faucet amount."""
        return await self._run(lambda conn: self._see(conn, address.lower()), write=True)

    async def get_object(self, object_id: str) -> ChainObject:
        """Any live object by id; ``ObjectNotFound`` if unknown or consumed."""
        return await self._run(lambda conn: load_object(conn, object_id, None), write=False)

    async def owned_objects(self, address: str, type_name: str) -> list[ChainObject]:
        """Live objects of a short type name (``PendingModel``…) owned by ``address``."""
        return await self._run(
            lambda conn: [
                row_to_object(r)
                for r in conn.execute(
                    "SELECT id, type, owner, version, fields FROM objects WHERE owner = ? "
                    "AND short_type = ? AND deleted_by IS NULL ORDER BY rowid",
                    (address.lower(), type_name),
                )
            ],
            write=False,
        )

    async def listings(
        self,
        *,
        category: str | None = None,
        max_price_mist: int | None = None,
        min_quality: int | None = None,
        text: str | None = None,
    ) -> list[ChainObject]:
        """Listed models matching every given filter, oldest listing first.

        ``category`` matches case-insensitively; ``text`` is a case-insensitive
        substring of the title, description or a tag.
        """
        everything = await self._run(
            lambda conn: [
                row_to_object(r)
                for r in conn.execute(
                    "SELECT id, type, owner, version, fields FROM objects "
                    "WHERE short_type = 'MarketplaceModel' AND deleted_by IS NULL ORDER BY rowid"
                )
            ],
            write=False,
        )
        return [
            o for o in everything if listing_matches(o, category, max_price_mist, min_quality, text)
        ]

    async def events(self, *, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
        """Events with ``seq > after_seq``, in order, at most ``limit``."""

        def read(conn: sqlite3.Connection) -> list[ChainEvent]:
            rows = conn.execute(
                "SELECT seq, type, tx_digest, fields, timestamp_ms FROM events WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
            return [ChainEvent(int(r[0]), r[1], r[2], json.loads(r[3]), int(r[4])) for r in rows]

        return await self._run(read, write=False)

    async def aclose(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    # -- extras (not in the port) -----------------------------------------------------------

    async def fund(self, address: str, mist: int | None = None) -> int:
        """The local faucet: credit ``mist`` (default ``faucet_mist``); returns the new balance."""
        amount = self._faucet_mist if mist is None else mist
        if amount < 0:
            raise UserInputError("The faucet cannot take money away.")

        def give(conn: sqlite3.Connection) -> int:
            credit(conn, address.lower(), amount, faucet=True)
            meta_add(conn, "minted", amount)
            return balance_of(conn, address.lower()) or 0

        return await self._run(give, write=True)

    async def registry(self) -> ChainObject:
        """The shared ``MarketplaceRegistry``."""
        return await self.get_object(self._registry_id)

    async def enclave_for_key(self, public_key: str) -> ChainObject | None:
        """The registered ``Enclave`` holding this hex public key, if any."""

        def find(conn: sqlite3.Connection) -> ChainObject | None:
            ctx = TxContext(conn, GENESIS_SENDER, "", 0, self._package_id, 0)
            return rules.find_enclave(ctx, public_key)

        return await self._run(find, write=False)

    async def platform_stats(self) -> PlatformStats:
        """Listing counts, sales volume, fees, gas burnt and money supply."""

        def read(conn: sqlite3.Connection) -> PlatformStats:
            reg = load_object(conn, self._registry_id, "MarketplaceRegistry").fields
            total = conn.execute(
                "SELECT COALESCE(SUM(mist), 0) FROM accounts WHERE address != ?",
                (rules.PLATFORM_ADDRESS,),
            ).fetchone()[0]
            return PlatformStats(
                listed_models=int(str(reg["listed_count"])),
                pending_models=int(str(reg["pending_count"])),
                verified_models=int(str(reg["verified_count"])),
                purchases=int(str(reg["purchase_count"])),
                total_volume_mist=int(str(reg["total_volume"])),
                platform_fees_mist=int(str(reg["fees_collected"])),
                platform_fee_bps=int(str(reg["platform_fee"])),
                gas_burnt_mist=int(meta_get(conn, "gas_burnt") or 0),
                minted_mist=int(meta_get(conn, "minted") or 0),
                circulating_mist=int(total),
            )

        return await self._run(read, write=False)
