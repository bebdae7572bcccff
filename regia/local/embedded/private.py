"""Files and folders readable by their owner only: the one-machine data dir holds the
database, logs with people's names in them, caught mails with contacts' addresses and the
notifier's key. Modes are set on creation and tightened when an earlier run (or an older
Regia) left them looser; children start with umask 077 so what they create is the same."""

import os
import stat
from io import BufferedWriter
from pathlib import Path
from typing import Literal

OWNER_ONLY_UMASK = 0o077
DIR_MODE, FILE_MODE = 0o700, 0o600


def keep_private(data_dir: Path) -> Path:
    """For a whole run (`regia up`): umask 077 for this process and every child, and the
    data dir made, or tightened, to 0700."""
    os.umask(OWNER_ONLY_UMASK)
    return private_dir(data_dir)


def private_dir(path: Path) -> Path:
    """`path` made if missing, and 0700 (on a folder another user must traverse, as the
    embedded PostgreSQL's system user must when Regia runs as root, `traversable()` adds
    x afterwards: passing through, never listing or reading)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """An existing file made 0600 (a missing one is left to whoever creates it)."""
    if path.exists():
        _tighten(path, FILE_MODE)
    return path


def open_private(path: Path, mode: Literal["ab", "wb"] = "ab") -> BufferedWriter:
    """Open `path` for writing, created 0600, or tightened to 0600 if it already exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, mode)


TRAVERSE = stat.S_IXGRP | stat.S_IXOTH


def traversable(path: Path) -> None:
    """g+x and o+x on every folder from `path` up to the root, nothing more: what another
    user needs to reach a folder of its own inside (the wheel's helper adds r too). g+x as
    well because a child started with `user=` keeps root's group, whose bits then apply."""
    for folder in [path, *path.parents]:
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & TRAVERSE != TRAVERSE:
            folder.chmod(mode | TRAVERSE)


def _tighten(path: Path, allowed: int) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~allowed:  # only ever take permissions away
        path.chmod(mode & allowed)
