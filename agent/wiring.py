"""Builds the adapters named by ``Settings``: embedded by default, live when configured.

Live clients are constructed only when selected (the Sui client never at import).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.settings import Settings
from agent.understanding.bounds import head
from agent.understanding.dialogue import Dialogue
from agent.understanding.llm import LLMInterpreter
from agent.understanding.pipeline import Understanding, load_understanding
from agent.understanding.rules import RuleInterpreter
from flows.intents import Intent
from flows.services import FlowConfig, Services
from integrations.chain.keys import SuiKeypair, create_private_file, load_or_create_keypair
from integrations.chain.local import LocalLedger
from integrations.chain.port import Ledger, Signer
from integrations.errors import ChainError, ConfigurationError, EnclaveUnavailable
from integrations.storage.chunked import download_file
from integrations.storage.local import LocalBlobStore
from integrations.storage.port import BlobStore
from integrations.tee.attestation import TrustedEnclaves
from integrations.tee.enclave import Enclave
from integrations.tee.local import LocalVerifier
from integrations.tee.port import Verifier
from prompts import load_text


class AsyncRules:
    """The rule interpreter behind the async interface the Assistant uses."""

    def __init__(self) -> None:
        self.rules = RuleInterpreter()

    async def interpret(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Intent:
        gate = context.gate if context is not None else None
        at_gate = at_gate or gate is not None
        return await asyncio.to_thread(self.rules.interpret, head(text), at_gate=at_gate, gate=gate)


def build_interpreter(settings: Settings) -> Understanding | LLMInterpreter:
    """The embedded interpreter (example-trained, offline); with a key or base URL, an
    OpenAI-compatible model reads what it is unsure of, grounded, and falls back to it."""
    embedded = load_understanding(settings.home / "cache", background=True)
    if not settings.llm_enabled:
        return embedded
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return LLMInterpreter(
        api_key=key,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        system_prompt=load_text("system_interpreter.md"),
        deadline_s=settings.llm_timeout_s,
        embedded=embedded,
    )


def flow_config(settings: Settings) -> FlowConfig:
    """The journey's knobs from the settings."""
    return FlowConfig(
        home=settings.home,
        size_threshold_bytes=settings.size_threshold_bytes,
        chunk_size=settings.chunk_size,
        upload_concurrency=settings.upload_concurrency,
        bulk_concurrency=settings.bulk_concurrency,
        upload_retries=settings.upload_retries,
        max_auto_retries=settings.max_auto_retries,
        retry_backoff_s=settings.retry_backoff_s,
        deadline_factor=settings.deadline_factor,
        deadline_min_s=settings.deadline_min_s,
        call_timeout_s=settings.call_timeout_s,
        tx_estimate_s=settings.tx_estimate_s,
        unsold_days=settings.unsold_days,
        price_gap_percent=settings.price_gap_percent,
        epochs=settings.epochs,
        price_frost_per_mib_epoch=settings.price_frost_per_mib_epoch,
        auto_cap_frost=int(settings.auto_cap_wal * 10**9),
        auto_cap_mist=int(settings.auto_cap_sui * 10**9),
        result_max_age_s=settings.result_max_age_s,
        verify_foreground_s=settings.verify_foreground_s,
    )


def build_storage(settings: Settings) -> BlobStore:
    """The configured blob store."""
    if settings.storage_backend == "walrus":
        from integrations.storage.walrus import WalrusBlobStore

        return WalrusBlobStore(
            settings.walrus_publisher_url,
            settings.walrus_aggregator_url,
            epochs=settings.epochs,
            permanent=settings.walrus_permanent,
            send_object_to=settings.walrus_send_object_to,
        )
    quota = settings.local_storage_quota_mb
    return LocalBlobStore(
        settings.home / "blobs", quota_bytes=None if quota is None else quota * 1000 * 1000
    )


async def build_ledger(settings: Settings) -> Ledger:
    """The configured ledger; the live one only after its node has answered."""
    if settings.chain_backend == "local":
        return LocalLedger(settings.home / "ledger.sqlite")
    if not (settings.sui_package_id and settings.sui_registry_id):
        raise ConfigurationError(
            "The live Sui ledger needs SATYA_SUI_PACKAGE_ID and SATYA_SUI_REGISTRY_ID.",
            hint="Set them (and SUI_PRIVATE_KEY), or unset SATYA_CHAIN_BACKEND for the local ledger.",
        )
    return await _sui_ledger(settings)


async def _sui_ledger(settings: Settings) -> Ledger:
    from integrations.chain.sui import SuiLedger
    from integrations.chain.sui_node import PysuiNode

    node = await PysuiNode.connect(
        url=settings.sui_rpc_url, network=settings.sui_network, config_dir=settings.home / "sui"
    )
    return SuiLedger.from_settings(
        network=settings.sui_network,
        rpc_url=settings.sui_rpc_url,
        package_id=str(settings.sui_package_id),
        registry_id=str(settings.sui_registry_id),
        signer=_configured_key(settings),
        node=node,
    )


def _configured_key(settings: Settings) -> SuiKeypair | None:
    if settings.sui_private_key is not None:
        return SuiKeypair.from_keystring(settings.sui_private_key.get_secret_value())
    if settings.sui_keystore is not None:
        from integrations.chain.keys import load_sui_keystore

        keys = load_sui_keystore(settings.sui_keystore)
        return keys[0] if keys else None
    return None


def make_wallets(settings: Settings) -> Callable[[str], Awaitable[Signer]]:
    """user id -> Signer: the configured key, or a key generated into SATYA_HOME/keys (0600)."""
    configured = _configured_key(settings)
    cache: dict[str, Signer] = {}

    async def wallet_for(user_id: str) -> Signer:
        if configured is not None:
            return configured
        if user_id not in cache:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user_id) or "local"
            cache[user_id] = load_or_create_keypair(settings.home / "keys" / f"{safe}.key")
        return cache[user_id]

    return wallet_for


async def build_services(settings: Settings, stack: contextlib.AsyncExitStack) -> Services:
    """Every adapter the journey needs; closed when ``stack`` closes."""
    storage = build_storage(settings)
    stack.push_async_callback(storage.aclose)
    ledger = await build_ledger(settings)
    stack.push_async_callback(ledger.aclose)
    verifier: Verifier
    if settings.verifier_backend == "nautilus":
        from integrations.tee.nautilus import NautilusVerifier

        verifier = NautilusVerifier(
            settings.nautilus_url, state_dir=settings.home / "verifier-http"
        )
    else:
        verifier = local_verifier(storage, settings.home)
    stack.push_async_callback(verifier.aclose)
    wallet_for = make_wallets(settings)
    trusted = await trust_enclave(ledger, verifier, await wallet_for("satya-operator"))
    return Services(
        storage=storage,
        ledger=ledger,
        verifier=verifier,
        wallet_for=wallet_for,
        trusted_enclaves=trusted,
        config=flow_config(settings),
    )


def local_verifier(storage: BlobStore, home: Path) -> LocalVerifier:
    """The in-process enclave, fetching models from ``storage``."""

    async def fetch(blob_id: str, dest: Path) -> None:
        await download_file(storage, blob_id, dest)

    enclave = Enclave(
        fetch, key=_enclave_key(home / "enclave" / "enclave.key"), workdir=home / "enclave"
    )
    return LocalVerifier(enclave, state_dir=home / "verifier")


def _enclave_key(path: Path) -> Ed25519PrivateKey:
    """The embedded enclave's signing key, kept (mode 0600) so that a result signed
    before a restart still verifies after it; created on first use (workers starting
    together on a fresh home all end up with the same key)."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        if create_private_file(path, raw):
            return key
    try:
        return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    except ValueError:
        raise ConfigurationError(
            f"The enclave key file {path} is damaged.",
            hint="Delete it; a new key is made on the next start.",
        ) from None


async def trust_enclave(ledger: Ledger, verifier: Verifier, operator: Signer) -> TrustedEnclaves:
    """Register the enclave's key on the ledger (PCRs checked there) and trust it locally."""
    try:
        info = await verifier.info()
    except EnclaveUnavailable as error:  # at start nothing retries it: say how to get one
        raise EnclaveUnavailable(
            error.message,
            hint="Start it (satya enclave serve --port 3000) or set SATYA_NAUTILUS_URL to where "
            "it runs, then start again; without SATYA_VERIFIER_BACKEND=nautilus the embedded "
            "enclave is used.",
        ) from None
    if ledger.network == "local":
        known = isinstance(ledger, LocalLedger) and await ledger.enclave_for_key(info.public_key)
        if not known:  # a kept key was registered on an earlier start
            try:
                await ledger.register_enclave(
                    operator, info, request_id=f"enclave:{info.public_key}"
                )
            except ChainError:
                # workers starting together on a fresh SATYA_HOME: another one registered
                # this key (with its own attestation) between our look-up and our transaction
                if not isinstance(ledger, LocalLedger):
                    raise
                if not await ledger.enclave_for_key(info.public_key):
                    raise
    else:  # a live network keeps no enclave registry: the live ledger trusts the key itself
        from integrations.chain.sui import SuiLedger

        if isinstance(ledger, SuiLedger):
            ledger.trust_enclave_key(info.public_key, info.attestation)
    trusted = TrustedEnclaves(allowed_pcrs={info.pcrs})
    trusted.register(info)
    return trusted
