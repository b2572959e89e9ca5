"""File helpers shared by the readers and writers."""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import struct
import tempfile
import zlib
from pathlib import Path


class FormatError(ValueError):
    """Malformed input, with the file and line where it was found."""

    def __init__(self, path, message: str, line: int | None = None):
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {message}")
        self.path, self.line = str(path), line


class UnphasedError(FormatError):
    """A heterozygous call written unphased where phased haplotypes are required (``genofast phase`` fixes it)."""


def existing(path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    return p


# Errors Python raises for damaged gzip data: bad header (BadGzipFile, an
# OSError), bad deflate stream or CRC (zlib.error, BadGzipFile), cut short (EOFError).
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error)


def is_gzip(path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def read_line_blocks(path, block_size: int = 1 << 22):
    """Yield ``(number of the first line, [lines])`` of a plain or gzipped file, as bytes without newlines.

    Reading megabytes at a time and splitting them is several times faster
    than line by line. Damaged compressed data raise a one-line
    :class:`FormatError` naming the file and the line where reading stopped.
    """
    p = existing(path)
    check_bgzf_eof(p)
    lineno, rest = 1, b""
    try:
        with (gzip.open(p, "rb") if is_gzip(p) else open(p, "rb")) as f:
            while True:
                block = f.read(block_size)
                if not block:
                    break
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                yield lineno, lines
                lineno += len(lines)
    except DECOMPRESSION_ERRORS as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise FormatError(p, f"corrupt or truncated compressed data after line {lineno - 1} ({e})", lineno) from None
    if rest:
        yield lineno, [rest]


def read_lines(path):
    """Yield ``(line_number, line)`` of a plain or gzipped text file.

    Damaged compressed data, and bytes that are not UTF-8, raise a one-line
    :class:`FormatError` naming the file and the line where reading stopped.
    """
    p = existing(path)
    check_bgzf_eof(p)
    lineno = 0
    try:
        with (gzip.open(p, "rb") if is_gzip(p) else open(p, "rb")) as f:
            for lineno, line in enumerate(f, start=1):
                yield lineno, line.decode()
    except UnicodeDecodeError:
        raise FormatError(p, "not a text file (bytes that are not UTF-8)", lineno) from None
    except DECOMPRESSION_ERRORS as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise FormatError(p, f"corrupt or truncated compressed data after line {lineno} ({e})", lineno + 1) from None


# --- BGZF (blocked gzip, as bgzip and htslib write it) ------------------------

# The empty block htslib writes last; a BGZF file without it was cut short at
# a block boundary, which gzip readers cannot otherwise notice.
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_BGZF_BLOCK_INPUT = 0xFF00  # input per block; htslib's choice, so that even incompressible data fits 64 KiB


def is_bgzf(path) -> bool:
    with open(path, "rb") as f:
        head = f.read(16)
    return len(head) == 16 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def check_bgzf_eof(path) -> None:
    """Raise FormatError when a BGZF file lacks its end-of-file block (it was truncated)."""
    if not is_bgzf(path):
        return
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - len(BGZF_EOF)))
        if f.read() != BGZF_EOF:
            raise FormatError(path, "truncated: the BGZF end-of-file block is missing")


class BgzfWriter:
    """Writes BGZF (readable by gzip, indexable by tabix) to a binary file object.

    Written here rather than through htslib because htslib's writer drops
    write errors (full disk, file-size limit) silently; Python's file objects
    raise them.
    """

    def __init__(self, f, level: int = 6):
        self.f, self.level, self.pending = f, level, bytearray()

    def write(self, data: bytes) -> None:
        self.pending += data
        while len(self.pending) >= _BGZF_BLOCK_INPUT:
            self._block(bytes(self.pending[:_BGZF_BLOCK_INPUT]))
            del self.pending[:_BGZF_BLOCK_INPUT]

    def close(self) -> None:
        if self.pending:
            self._block(bytes(self.pending))
            self.pending.clear()
        self.f.write(BGZF_EOF)

    def _block(self, data: bytes) -> None:
        c = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        body = c.compress(data) + c.flush()
        # Header: gzip magic, deflate, FEXTRA, no mtime, XFL 0, OS unknown,
        # XLEN 6, subfield 'BC' of length 2 holding the block size minus 1.
        header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        size = len(header) + 2 + len(body) + 8
        self.f.write(header + struct.pack("<H", size - 1) + body
                     + struct.pack("<II", zlib.crc32(data), len(data)))


# --- writing ------------------------------------------------------------------

_UNSAFE_ID = re.compile(r"\s")


def check_ids(ids, what: str = "sample id") -> None:
    """Refuse ids that a text format could not read back: empty, with whitespace, or repeated."""
    ids = [str(i) for i in ids]
    joined = "\x00".join(ids)
    if _UNSAFE_ID.search(joined) or "" in ids:
        bad = next(i for i in ids if not i or _UNSAFE_ID.search(i))
        raise ValueError(f"{what} {bad!r} cannot be written: ids must be non-empty and contain no whitespace")
    if len(set(ids)) != len(ids):
        seen = set()
        bad = next(i for i in ids if i in seen or seen.add(i))
        raise ValueError(f"{what} {bad!r} appears more than once; ids must be unique to be read back")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file is synced before the rename, so write errors that
    surface late (full disk, quotas, network file systems) fail the write
    instead of replacing ``path``. On any error the temporary file is removed
    and ``path`` is left as it was.
    """
    with atomic_paths(path) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(*paths):
    """:func:`atomic_path` for files that belong together (PLINK's .bed/.bim/.fam).

    Every file is written and synced before the first rename, so a failed
    write replaces none of them.
    """
    paths = [Path(p) for p in paths]
    tmps = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            tmps.append(Path(tmp))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; finished files get the usual mode
        try:
            yield tuple(tmps)
            for tmp in tmps:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as e:
            # One line naming the file; OSError(errno, ...) keeps the subclass (FileNotFoundError, ...).
            raise OSError(e.errno, f"cannot write {paths[0] if len(paths) == 1 else ', '.join(map(str, paths))}: "
                          f"{e.strerror or e}") from e
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    except BaseException:
        for tmp in tmps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
