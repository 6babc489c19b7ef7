"""A private key or API key pasted into the chat is dropped before anything keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import Assistant, Settings, TextEvent
from agent.redaction import scrub_secrets
from agent.understanding.classifier import IntentClassifier
from agent.understanding.dialogue import Dialogue
from agent.understanding.pipeline import Reading, Understanding
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


def _formats() -> dict[str, str]:
    pair = SuiKeypair.generate()
    return {
        "bech32": pair.to_bech32(),
        "keystore base64": pair.to_keystring(),
        "labelled hex": "private key is " + pair.to_keystring().encode().hex()[:64],
        "bearer": "Authorization: Bearer tok_3b1f7c9e2d4a5b6c",
        "api key assignment": "OPENAI_API_KEY=abc123def456ghi789",
        "github": "ghp_" + "Z9" * 18,
        "aws": "AKIA" + "Q7" * 8,
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    }


@pytest.mark.parametrize("name", list(_formats()))
def test_every_key_format_is_removed(name: str) -> None:
    secret = _formats()[name]
    out = scrub_secrets(f"here it is: {secret} -- check status")
    assert "[secret removed]" in out and "check status" in out
    value = secret.split()[-1].split("=")[-1]
    assert value not in out, out


def test_ids_digests_and_words_are_kept() -> None:
    for text in (
        "buy 0x" + "ab" * 32,
        "show listing 0x" + "5c" * 32,
        "blob 3fJ2k-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "sha256 " + "cd" * 32,
        "upload ./sk-model.onnx at 2 SUI",
        "token classification models under 2 SUI",
        "I forgot my password, what now?",
        "tag it with nlp, bearer of good news",
    ):
        assert scrub_secrets(text) == text


class _Recording(Understanding):
    """The embedded interpreter, keeping every text it was given (the language model's view)."""

    seen: list[str]

    def read(self, text: str, d: Dialogue, *, at_gate: bool = False) -> Reading:
        self.seen.append(text)
        return super().read(text, d, at_gate=at_gate)


@pytest.mark.parametrize("name", ["keystore base64", "labelled hex", "bearer"])
async def test_a_pasted_key_in_any_format_is_kept_nowhere(tmp_path: Path, name: str) -> None:
    secret = _formats()[name]
    value = secret.split()[-1].split("=")[-1]
    home = tmp_path / "home"
    settings = Settings(_env_file=None, home=home)  # type: ignore[call-arg]
    reader = _Recording(IntentClassifier.train())
    reader.seen = []
    async with Assistant.open(settings, interpreter=reader) as assistant:
        thread = await assistant.new_thread()
        events = [e async for e in assistant.send(thread, f"{secret} blorp")]
        kinds = [e.kind for e in events if isinstance(e, TextEvent)]
        assert kinds[0] == "secret_removed"
        assert value not in repr(events)  # no echo ("Not understood: …")
        assert value not in repr(await assistant.state(thread))
        assert reader.seen and all(value not in t for t in reader.seen)
    for path in home.rglob("*"):
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path
