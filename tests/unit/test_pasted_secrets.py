"""A private key or API key pasted into the chat is dropped before anything keeps it."""

from __future__ import annotations

from pathlib import Path

from agent import Assistant, Settings, TextEvent
from agent.redaction import scrub_secrets
from integrations.chain.keys import SuiKeypair


def test_scrub_removes_sui_and_api_keys_and_nothing_else() -> None:
    sui = SuiKeypair.generate().to_bech32()
    text = f"my key is {sui} and sk-proj-abcdefghijklmnop1234, price 2 SUI"
    assert scrub_secrets(text) == ("my key is [secret removed] and [secret removed], price 2 SUI")
    assert scrub_secrets("upload ./sk-model.onnx at 2 SUI") == "upload ./sk-model.onnx at 2 SUI"


async def test_a_pasted_key_is_kept_nowhere(tmp_path: Path) -> None:
    sui = SuiKeypair.generate().to_bech32()
    home = tmp_path / "home"
    settings = Settings(_env_file=None, home=home)  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread()
        events = [e async for e in assistant.send(thread, f"here is my key {sui}, check status")]
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert kinds[0] == "secret_removed" and "status" in kinds
        assert sui not in repr(await assistant.state(thread))
    for path in home.rglob("*"):
        if path.is_file():
            assert sui.encode() not in path.read_bytes(), path
