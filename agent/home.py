"""SATYA_HOME: made private (0700 folders, 0600 files) and checked to be a usable folder.

Everything under it is the user's own: checkpoints, the ledger, uploaded models, downloads
and keys. ``prepare_home`` creates it readable by its owner alone and tightens an existing
one (the folder and what sits at its top, so a home made by an older version is private
too); ``private_umask`` makes what the process creates afterwards private as well.

Example::

    prepare_home(settings.home)  # ConfigurationError naming SATYA_HOME if it cannot be used
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from integrations.errors import ConfigurationError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_umask() -> None:
    """Files and folders the process creates from now on are its user's alone."""
    os.umask(0o077)


def prepare_home(home: Path) -> None:
    """Create ``home`` private, or tighten it; a path that cannot be a home is refused."""
    try:
        home.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        if not home.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder")
        _tighten(home, PRIVATE_DIR)
        for entry in home.iterdir():
            _tighten(entry, PRIVATE_DIR if entry.is_dir() else PRIVATE_FILE)
        probe = home / f".write-check-{os.getpid()}"
        probe.touch(mode=PRIVATE_FILE)
        probe.unlink()
    except OSError as exc:
        raise _unusable(home, exc) from None


def _tighten(path: Path, mode: int) -> None:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return  # a link or another user's file: left as it is
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(stat.S_IMODE(info.st_mode) & ~0o077 | (mode & 0o700))


def _unusable(home: Path, exc: OSError) -> ConfigurationError:
    why = {
        errno.ENOTDIR: "it is not a folder (or a part of the path is a file)",
        errno.EEXIST: "a file of that name is in the way",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOENT: "a part of the path does not exist and cannot be created",
        errno.ENOSPC: "the disk is full",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return ConfigurationError(
        f"SATYA_HOME ({home}) cannot be used: {why}.",
        hint="Set SATYA_HOME (environment or .env) to a folder you can write to, "
        "e.g. ~/.satya, then start again.",
    )
