"""Owner-only files and folders: the data folder (0700), the SQLite database and the generated secrets (0600).

The modes are given when the file or folder is created, never set afterwards, so there is no moment where
another local user could read them. An existing file or folder is left as it is (an operator may have
chosen its mode).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a folder, created owner-only if it is missing (missing parents get the usual mode)."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=DIR_MODE, exist_ok=True)
    return path


def create_private_file(path: Path) -> bool:
    """An empty owner-only file at `path` (in an owner-only folder if that is missing too); False if it existed."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return False
    return True


def write_private_once(path: Path, text: str) -> str:
    """The content of `path`; written first (owner-only, atomically) when the file does not exist yet.

    Two processes starting together both read the same value: the file appears complete or not at all.
    """
    if not path.exists():
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(text)
            with contextlib.suppress(FileExistsError):  # another process wrote it first: theirs is kept
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
