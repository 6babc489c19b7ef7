"""A process killed between two transactions of a journey leaves a state the journey resumes from.

A child process registers a model and submits it for verification on a ledger
file, reports that, and is killed with SIGKILL before the next transaction.
The resumed journey (a new ledger object on the same file) runs its steps from
the start with the same request ids, as a resumed graph node does: the steps
that had run are replayed without a second object or a second gas charge, and
the journey goes on to a listing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from integrations.chain.keys import SuiKeypair
from integrations.chain.local import LocalLedger, wall_clock_ms
from integrations.chain.port import STATUS_VERIFIED, STATUS_VERIFYING, ModelDraft
from integrations.chain.testing import debug_enclave_info, signed_quality_result

GAS = 1_000_000
DIGEST = hashlib.sha256(b"crash test model").hexdigest()

CHILD = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from pathlib import Path
    from integrations.chain.keys import SuiKeypair
    from integrations.chain.local import LocalLedger
    from integrations.chain.port import ModelDraft

    async def main() -> None:
        ledger = LocalLedger(Path(sys.argv[1]), gas_mist=int(sys.argv[2]))
        kp = SuiKeypair.from_bech32(os.environ["CRASH_TEST_KEY"])
        draft = ModelDraft("Crash", "d", "nlp", ("t",), "blob", sys.argv[3], 10, "onnx", 5_000)
        up = await ledger.upload_model(kp, draft, request_id="wf-1:register")
        await ledger.submit_for_verification(kp, up.created[0], request_id="wf-1:submit")
        print("submitted", up.created[0], flush=True)
        time.sleep(60)  # killed here, before complete_verification

    asyncio.run(main())
    """
)


def _draft() -> ModelDraft:
    return ModelDraft("Crash", "d", "nlp", ("t",), "blob", DIGEST, 10, "onnx", 5_000)


async def test_kill_between_transactions_then_resume(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    author, operator = SuiKeypair.generate(), SuiKeypair.generate()
    enclave = Ed25519PrivateKey.generate()
    setup = LocalLedger(db, gas_mist=GAS)
    reg = await setup.register_enclave(operator, debug_enclave_info(enclave), request_id="e")
    funded = await setup.balance(author.address)
    await setup.aclose()

    env = {**os.environ, "CRASH_TEST_KEY": author.to_bech32()}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(GAS), DIGEST],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 30)
        assert line.startswith("submitted"), line
        pending_id = line.split()[1]
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    ledger = LocalLedger(db, gas_mist=GAS)
    # The state the crash left: the model is registered and submitted, nothing more.
    assert (await ledger.get_object(pending_id)).fields["status"] == STATUS_VERIFYING
    assert await ledger.balance(author.address) == funded - 2 * GAS

    # The journey resumes from its first chain step with the same request ids.
    up = await ledger.upload_model(author, _draft(), request_id="wf-1:register")
    assert up.replayed and up.created[0] == pending_id
    sub = await ledger.submit_for_verification(author, pending_id, request_id="wf-1:submit")
    assert sub.replayed
    result = signed_quality_result(
        enclave,
        model_hash=DIGEST,
        quality_score=80,
        timestamp_ms=wall_clock_ms(),
        enclave_id=reg.created[0],
    )
    cv = await ledger.complete_verification(author, pending_id, result, request_id="wf-1:cv")
    assert (await ledger.get_object(pending_id)).fields["status"] == STATUS_VERIFIED
    lst = await ledger.list_on_marketplace(
        author, pending_id, cv.created[0], request_id="wf-1:list"
    )

    assert [o.object_id for o in await ledger.listings()] == [lst.created[0]]
    # Listing hands the pending model back to its creator (as the contract does), listed once.
    assert [o.object_id for o in await ledger.owned_objects(author.address, "PendingModel")] == [
        pending_id
    ]
    assert await ledger.balance(author.address) == funded - 4 * GAS  # replays charged nothing
    uploads = [e for e in await ledger.events() if e.type.endswith("::ModelUploaded")]
    assert len(uploads) == 1
    await ledger.aclose()
