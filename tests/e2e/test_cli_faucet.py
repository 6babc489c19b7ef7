"""`satya faucet` tops up a wallet on the local ledger, and says where SUI comes from otherwise."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from integrations.chain.keys import load_or_create_keypair
from integrations.chain.local import LocalLedger

SATYA = str(Path(sys.executable).parent / "satya")


def _satya(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SATYA_")}
    return subprocess.run(
        [SATYA, "faucet", *args],
        env={**clean, "SATYA_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _balance(home: Path, user: str) -> int:
    async def read() -> int:
        ledger = LocalLedger(home / "ledger.sqlite")
        try:
            return await ledger.balance(
                load_or_create_keypair(home / "keys" / f"{user}.key").address
            )
        finally:
            await ledger.aclose()

    return asyncio.run(read())


def test_the_faucet_credits_the_users_wallet(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _satya(home)
    assert first.returncode == 0, first.stderr
    assert "Credited 50 SUI" in first.stdout and "(user local)" in first.stdout
    assert _balance(home, "local") == 100 * 10**9  # the first sight's 50, then the faucet's
    more = _satya(home, "--user", "ana", "--sui", "2.5")
    assert more.returncode == 0, more.stderr
    address = load_or_create_keypair(home / "keys" / "ana.key").address
    assert f"Credited 2.5 SUI to {address} (user ana)" in more.stdout
    assert _balance(home, "ana") == 52_500_000_000


def test_bad_amounts_and_the_live_network_are_explained(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for amount, says in [
        ("lots", "'lots' is not an amount of SUI."),
        ("0.0000000001", "finer than 1 MIST"),
        ("0", "between 0 and"),
    ]:
        done = _satya(home, "--sui", amount)
        assert done.returncode == 2 and says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    live = _satya(home, SATYA_CHAIN_BACKEND="sui")
    assert live.returncode == 2
    assert "funded by its network" in live.stderr and "faucet.sui.io" in live.stderr
    assert not (home / "ledger.sqlite").exists()  # nothing credited anywhere
