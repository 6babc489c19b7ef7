"""Worker names, and telling at once that a worker on this machine has died.

A run records the worker that drives it. A worker killed mid-run stops beating,
and any worker frees the thread after ``STALE_AFTER_S``. When the dead worker
ran in the same process namespace on the same boot of this machine, its process
id says more, and says it now: no such process means the run is orphaned. That
check is only trusted inside one namespace (same kernel boot, same PID
namespace), so workers on other hosts or in other containers sharing the
database are always judged by their heartbeat. A process id reused by another
process reads as alive: the heartbeat rule still applies then.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import uuid
from pathlib import Path


@functools.cache
def namespace() -> str | None:
    """This process's boot and PID namespace, hashed; None where it cannot be known."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pids = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return hashlib.sha256(f"{boot}|{pids}".encode()).hexdigest()[:16]


def new_worker_name() -> str:
    """``host:pid:random``, with ``@namespace`` where the namespace is known."""
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    scope = namespace()
    return f"{name}@{scope}" if scope else name


def worker_gone(worker: str) -> bool:
    """True only when ``worker`` ran in this namespace and its process no longer exists."""
    name, _, scope = worker.rpartition("@")
    if not name or scope != namespace():
        return False
    try:
        pid = int(name.split(":")[-2])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed worker whose parent has not reaped it yet still has a process id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
