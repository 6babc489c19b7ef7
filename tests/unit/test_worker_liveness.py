"""A worker's name tells, on its own machine, whether its process still exists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from agent.server.liveness import namespace, new_worker_name, worker_gone

pytestmark = pytest.mark.skipif(namespace() is None, reason="needs /proc (Linux)")


def _name(pid: int, scope: str | None) -> str:
    return f"host:{pid}:abc123@{scope}"


def test_a_living_worker_is_not_gone() -> None:
    assert not worker_gone(new_worker_name())  # this process
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not worker_gone(_name(child.pid, namespace()))
    finally:
        child.kill()
        child.wait()


def test_an_exited_or_killed_worker_is_gone() -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()  # reaped: no such process
    assert worker_gone(_name(exited.pid, namespace()))
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(killed.pid, signal.SIGKILL)
    os.waitid(os.P_PID, killed.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped: a zombie
    try:
        assert worker_gone(_name(killed.pid, namespace()))
    finally:
        killed.wait()


def test_workers_elsewhere_are_left_to_the_heartbeat() -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    assert not worker_gone(_name(exited.pid, "another-machine"))
    assert not worker_gone(f"host:{exited.pid}:abc123")  # a name without a namespace
    assert not worker_gone("not a worker name@" + str(namespace()))
