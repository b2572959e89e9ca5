"""File helpers shared by the readers and writers."""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from pathlib import Path


class FormatError(ValueError):
    """Malformed input, with the file and line where it was found."""

    def __init__(self, path, message: str, line: int | None = None):
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {message}")
        self.path, self.line = str(path), line


def existing(path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    return p


def open_text(path):
    """Open a text file for reading, gunzipping by magic number rather than by name."""
    p = existing(path)
    with open(p, "rb") as f:
        magic = f.read(2)
    return gzip.open(p, "rt") if magic == b"\x1f\x8b" else open(p, "rt")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; finished files get the usual mode
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
