"""``satya faucet``: SUI for a wallet on the local ledger.

The local ledger credits every new address once (50 SUI). A user who spends it
(several purchases, many uploads) tops up here, as testnet users do at the Sui
faucet; on the live network this command says where to get SUI instead.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from agent.replies import sui
from agent.settings import Settings
from agent.wiring import build_ledger, make_wallets
from integrations.chain.local import LocalLedger
from integrations.chain.port import MIST_PER_SUI
from integrations.errors import ConfigurationError, UserInputError

MAX_SUI = Decimal(1_000_000)


def parse_sui(text: str) -> int:
    """'2.5' -> 2_500_000_000 MIST; a clear error for anything else."""
    try:
        amount = Decimal(text.strip().removesuffix("SUI").removesuffix("sui").strip())
    except InvalidOperation:
        raise UserInputError(
            f"'{text}' is not an amount of SUI.", hint="Give a number, e.g. --sui 25."
        ) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_SUI:
        raise UserInputError(
            f"The faucet gives between 0 and {MAX_SUI} SUI; {text} is outside that.",
            hint="Give a number, e.g. --sui 25.",
        )
    mist = amount * MIST_PER_SUI
    if mist != mist.to_integral_value():
        raise UserInputError(
            f"{text} SUI is finer than 1 MIST (10^-9 SUI).", hint="Use at most 9 decimals."
        )
    return int(mist)


async def faucet(settings: Settings, *, user: str, mist: int | None) -> str:
    """Credit ``user``'s wallet on the local ledger; the line to print."""
    wallet = await make_wallets(settings)(user)
    if settings.chain_backend != "local":
        raise ConfigurationError(
            f"The {settings.sui_network} ledger is funded by its network, not by Satya.",
            hint=f"Request SUI for {wallet.address} from the {settings.sui_network} faucet "
            "(https://faucet.sui.io, or 'sui client faucet'), then say 'retry' in the chat.",
        )
    ledger = await build_ledger(settings)
    assert isinstance(ledger, LocalLedger)  # the local backend: checked above
    try:
        before = await ledger.balance(wallet.address)
        after = await ledger.fund(wallet.address, mist)
    finally:
        await ledger.aclose()
    return (
        f"Credited {sui(after - before)} to {wallet.address} (user {user}) on the local "
        f"ledger. Balance: {sui(after)}."
    )
