"""Test-wide guards: a clean environment and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_ORIGINAL_CONNECT = socket.socket.connect


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # unix sockets


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise ConnectionRefusedError(f"tests may only reach loopback, not {address!r}")
    return _ORIGINAL_CONNECT(self, address)


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No SATYA_/OPENAI_/SUI_ settings leak in; SATYA_HOME is a fresh directory; loopback only."""
    for name in list(os.environ):
        if name.startswith(("SATYA_", "OPENAI_", "SUI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SATYA_HOME", str(tmp_path_factory.mktemp("satya-home")))
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield
