"""``PysuiNode``: the ``SuiNode`` of ``SuiLedger`` over pysui's gRPC client.

``PysuiNode.connect`` builds a key-free pysui configuration (the ledger signs
with its own ``Signer``; no private key is ever handed to pysui or written to
its configuration file), opens a ``GrpcProtocolClient`` and asks the node for
the reference gas price, within a deadline. An unreachable endpoint therefore
fails at construction with ``ChainUnavailable`` saying what happened and what
to set, never with a hang or a traceback.

Reads map pysui's protobuf messages to the port's types (``ChainObject`` in
the Sui shape, ``TxReceipt``); those mappings are pure functions, tested
offline with real pysui messages. A full node's gRPC API has no query by
object type and no event query, so ``objects_of_type`` and ``events`` say so
(they need an indexer) instead of returning an empty, misleading answer.

Example::

    node = await PysuiNode.connect(url="fullnode.testnet.sui.io:443", network="testnet",
                                   config_dir=home / "sui")
    ledger = SuiLedger.from_settings(network="testnet", rpc_url=node.url,
                                     package_id=PKG, registry_id=REG, node=node)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pysui.sui.sui_grpc.suimsgs.sui.rpc.v2 as sui_prot
from pysui import PysuiConfiguration
from pysui.sui.sui_common.config import confgroup, pysui_config
from pysui.sui.sui_common.config.confmodel import PysuiConfigModel
from pysui.sui.sui_grpc import pgrpc_requests as rq
from pysui.sui.sui_grpc.pgrpc_absreq import PGRPC_Request
from pysui.sui.sui_grpc.pgrpc_clients import GrpcProtocolClient

from integrations.chain.port import ChainEvent, ChainObject, TxReceipt
from integrations.chain.sui_tx import GasConfig, ObjectRef, SharedRef
from integrations.errors import (
    ChainError,
    ChainUnavailable,
    ConfigurationError,
    InsufficientFunds,
    ObjectNotFound,
)

GROUP = "satya"
SUI_COIN = "0x2::coin::Coin<0x2::sui::SUI>"
_NETWORK_TYPES = {
    "mainnet": confgroup.NetworkType.PRODUCTION,
    "testnet": confgroup.NetworkType.TEST,
    "devnet": confgroup.NetworkType.DEVELOP,
}
_WHAT_TO_SET = (
    "Set SATYA_SUI_RPC_URL to a reachable gRPC full node (host:port, e.g. "
    "fullnode.testnet.sui.io:443), or unset SATYA_CHAIN_BACKEND to use the local ledger."
)


def write_pysui_config(config_dir: Path, *, url: str, network: str) -> PysuiConfiguration:
    """A pysui configuration with one gRPC profile and no keys, in ``config_dir`` (mode 0600)."""
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    profile = confgroup.Profile(
        network, url, None, None, _NETWORK_TYPES.get(network, confgroup.NetworkType.LOCAL)
    )
    group = confgroup.ProfileGroup(
        GROUP, network, "", [], [], [], [profile], confgroup.GroupProtocol.GRPC
    )
    # The current format version, so that loading does not migrate (and rewrite) the file.
    model = PysuiConfigModel(str(vars(pysui_config)["_CURRENT_CONFIG_VERSION"]), "")
    model.add_group(group=group, make_active=True)
    path = config_dir / "PysuiConfig.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(model.to_json(indent=2))
    config: PysuiConfiguration = PysuiConfiguration(
        from_cfg_path=str(config_dir), group_name=GROUP, profile_name=network
    )
    return config


def _fields(value: Any) -> dict[str, object]:
    if value is None:
        return {}
    data = value.to_dict()
    return data if isinstance(data, dict) else {"value": data}


def owner_of(owner: sui_prot.Owner | None) -> str:
    """An address, ``shared`` or ``immutable``, as the port shows owners."""
    if owner is None or owner.kind is None:
        return "unknown"
    kind = owner.kind
    if kind == sui_prot.OwnerOwnerKind.SHARED:
        return "shared"
    if kind == sui_prot.OwnerOwnerKind.IMMUTABLE:
        return "immutable"
    return str(owner.address or "unknown")


def object_from_proto(obj: sui_prot.Object) -> ChainObject:
    """A pysui ``Object`` (with ``json``) as the port's ``ChainObject``."""
    return ChainObject(
        object_id=str(obj.object_id),
        type=str(obj.object_type or ""),
        owner=owner_of(obj.owner),
        version=int(obj.version or 0),
        fields=_fields(obj.json),
    )


def ref_from_proto(obj: sui_prot.Object) -> ObjectRef:
    """The reference an owned-object argument needs."""
    if obj.object_id is None or obj.version is None or obj.digest is None:
        raise ChainError("The node returned an object without id, version or digest.")
    return ObjectRef(str(obj.object_id), int(obj.version), str(obj.digest))


def shared_from_proto(obj: sui_prot.Object, *, mutable: bool) -> SharedRef:
    """The reference a shared-object argument needs (its initial shared version)."""
    owner = obj.owner
    if owner is None or owner.kind != sui_prot.OwnerOwnerKind.SHARED or owner.version is None:
        raise ChainError(f"The object {obj.object_id} is not shared on this network.")
    return SharedRef(str(obj.object_id), int(owner.version), mutable)


def pick_gas(coins: Iterable[sui_prot.Object], *, budget: int, price: int) -> GasConfig:
    """The fewest largest SUI coins covering ``budget``; ``InsufficientFunds`` otherwise."""
    ranked = sorted(coins, key=lambda c: int(c.balance or 0), reverse=True)
    chosen: list[ObjectRef] = []
    total = 0
    for coin in ranked:
        if total >= budget:
            break
        chosen.append(ref_from_proto(coin))
        total += int(coin.balance or 0)
    if total < budget:
        raise InsufficientFunds(
            f"The wallet's SUI coins hold {total} MIST, below the gas budget of {budget} MIST."
        )
    return GasConfig(tuple(chosen), price, budget)


def receipt_from_proto(tx: sui_prot.ExecutedTransaction, *, after_seq: int = 0) -> TxReceipt:
    """An executed transaction as the port's ``TxReceipt``; a failed one raises ``ChainError``."""
    effects = tx.effects
    if effects is None or effects.status is None:
        raise ChainError("The node returned a transaction without effects.")
    digest = str(tx.digest or effects.transaction_digest or "")
    if not effects.status.success:
        error = effects.status.error
        reason = (error.description if error is not None else None) or "no reason given"
        raise ChainError(f"Transaction {digest} failed on chain: {reason}.")
    created = [
        c
        for c in effects.changed_objects
        if c.id_operation == sui_prot.ChangedObjectIdOperation.CREATED
    ]
    # The marketplace object first (the port's "main object"), coins and others after.
    created.sort(key=lambda c: "::marketplace::" not in str(c.object_type or ""))
    gas = effects.gas_used
    gas_mist = 0
    if gas is not None:
        gas_mist = (
            int(gas.computation_cost or 0)
            + int(gas.storage_cost or 0)
            - int(gas.storage_rebate or 0)
        )
    events = tuple(
        ChainEvent(
            seq=after_seq + i + 1,
            type=str(e.event_type or ""),
            tx_digest=digest,
            fields=_fields(e.json),
            timestamp_ms=0,
        )
        for i, e in enumerate(tx.events.events if tx.events is not None else [])
    )
    return TxReceipt(
        digest=digest,
        created=tuple(str(c.object_id) for c in created),
        events=events,
        gas_used_mist=gas_mist,
    )


class PysuiNode:
    """``SuiNode`` over pysui's ``GrpcProtocolClient`` (see the module docstring).

    Example::

        node = await PysuiNode.connect(url="fullnode.testnet.sui.io:443",
                                       network="testnet", config_dir=home / "sui")
        print(await node.balance(address))
    """

    def __init__(
        self, client: GrpcProtocolClient, *, url: str, network: str, timeout_s: float
    ) -> None:
        self._client = client
        self.url = url
        self.network = network
        self._timeout_s = timeout_s
        self._gas_price: int | None = None

    @classmethod
    async def connect(
        cls, *, url: str, network: str, config_dir: Path, timeout_s: float = 10.0
    ) -> PysuiNode:
        """Open the client and check the node answers; ``ChainUnavailable`` if it does not."""
        config = write_pysui_config(config_dir, url=url, network=network)
        try:
            client = GrpcProtocolClient(pysui_config=config)
        except ValueError:
            raise ConfigurationError(
                f"SATYA_SUI_RPC_URL={url!r} is not a gRPC endpoint pysui can use.",
                hint=_WHAT_TO_SET,
            ) from None
        node = cls(client, url=url, network=network, timeout_s=timeout_s)
        try:
            await node.reference_gas_price()
        except BaseException:
            await node.aclose()
            raise
        return node

    async def _call(self, request: PGRPC_Request, what: str) -> Any:
        try:
            result = await asyncio.wait_for(
                self._client.execute_grpc_request(request=request, timeout=self._timeout_s),
                self._timeout_s + 1,
            )
        except (OSError, TimeoutError) as exc:
            reason = "no answer in time" if isinstance(exc, TimeoutError) else type(exc).__name__
            if isinstance(exc, ConnectionRefusedError):
                reason = "connection refused"
            raise ChainUnavailable(
                f"The Sui node at {self.url} ({self.network}) could not be reached while "
                f"{what} ({reason}).",
                hint=_WHAT_TO_SET,
            ) from None
        if not result.is_ok():
            text = str(result.result_string)
            if "NOT_FOUND" in text or "not found" in text.lower():
                raise ObjectNotFound(f"The Sui node has no object for {what}.")
            raise ChainError(f"The Sui node refused {what}: {text[:300]}")
        return result.result_data

    async def reference_gas_price(self) -> int:
        """The epoch's reference gas price in MIST, cached after the first call."""
        if self._gas_price is None:
            data = await self._call(
                rq.GetEpoch(field_mask=["reference_gas_price"]), "reading the gas price"
            )
            self._gas_price = int(data.epoch.reference_gas_price)
        return self._gas_price

    async def _object(self, object_id: str, fields: list[str] | None = None) -> sui_prot.Object:
        data = await self._call(
            rq.GetObject(object_id=object_id, field_mask=fields), f"object {object_id}"
        )
        if data is None or data.object is None:
            raise ObjectNotFound(f"No object {object_id} on {self.network}.")
        obj: sui_prot.Object = data.object
        return obj

    async def object_ref(self, object_id: str) -> ObjectRef:
        """The current reference of an owned object."""
        return ref_from_proto(await self._object(object_id, ["object_id", "version", "digest"]))

    async def shared_ref(self, object_id: str, *, mutable: bool) -> SharedRef:
        """The reference of a shared object."""
        obj = await self._object(object_id, ["object_id", "owner"])
        return shared_from_proto(obj, mutable=mutable)

    async def gas_for(self, owner: str, budget: int) -> GasConfig:
        """SUI coins of ``owner`` covering ``budget`` at the reference gas price."""
        coins = await self._owned(owner, SUI_COIN, ["object_id", "version", "digest", "balance"])
        return pick_gas(coins, budget=budget, price=await self.reference_gas_price())

    async def execute(self, tx_bytes: bytes, signature: bytes) -> TxReceipt:
        """Execute a signed transaction and wait for its effects."""
        data = await self._call(
            rq.ExecuteTransaction(tx_bytestr=tx_bytes, sig_array=[signature]),
            "executing a transaction",
        )
        return receipt_from_proto(data)

    async def get_object(self, object_id: str) -> ChainObject:
        """An object in the Sui shape."""
        return object_from_proto(await self._object(object_id))

    async def _owned(
        self, address: str, struct_type: str, fields: list[str] | None = None
    ) -> list[sui_prot.Object]:
        found: list[sui_prot.Object] = []
        token: bytes | None = None
        while True:
            page = await self._call(
                rq.GetObjectsOwnedByAddress(
                    owner=address, object_type=struct_type, field_mask=fields, page_token=token
                ),
                f"objects of {address}",
            )
            found.extend(page.objects)
            token = page.next_page_token
            if not token:
                return found

    async def owned_objects(self, address: str, struct_type: str) -> list[ChainObject]:
        """Objects of a full struct type owned by an address."""
        return [object_from_proto(o) for o in await self._owned(address, struct_type)]

    async def objects_of_type(self, struct_type: str) -> list[ChainObject]:
        """Not offered by a full node's gRPC API; says so."""
        raise ChainError(
            f"A Sui full node cannot list all {struct_type} objects; browsing listings on "
            f"{self.network} needs an indexer.",
            hint="Open a listing by its id ('show listing 0x…'), or use the local ledger.",
        )

    async def events(self, event_type_prefix: str, after_seq: int, limit: int) -> list[ChainEvent]:
        """Not offered by a full node's gRPC API; says so."""
        raise ChainError(
            f"A Sui full node cannot query past events of {event_type_prefix}; that needs an "
            "indexer.",
            hint="Open the objects by id instead, or use the local ledger.",
        )

    async def balance(self, address: str) -> int:
        """SUI balance in MIST."""
        data = await self._call(
            rq.GetAddressCoinBalance(owner=address), f"the balance of {address}"
        )
        return int(data.balance.balance or 0)

    async def aclose(self) -> None:
        """Close the gRPC channel."""
        await self._client.close()
