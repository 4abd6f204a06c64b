"""Opening input files: plain or gzip-compressed (told by their bytes), UTF-8, BOM dropped.

Every reader of user files (pair files, text corpora, vector files, vocabulary files,
evaluation sets) opens them here, so they all accept the same files and fail the same way: an
:class:`InputError` naming the file and the line.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ..errors import InputError, LocatedError

GZIP_MAGIC = b"\x1f\x8b"
BOM = codecs.BOM_UTF8
READ_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a damaged or truncated (gzip) stream raises."""


def without_bom(first_line: bytes) -> bytes:
    """The first line of a file without a UTF-8 byte order mark."""
    return first_line.removeprefix(BOM)


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading bytes, transparently decompressing gzip.

    Raises
    ------
    InputError
        When the file is missing, a directory or unreadable.
    """
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; give a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check its permissions") from None
    if raw.peek(2)[:2] == GZIP_MAGIC:
        raw.close()  # a GzipFile does not close a file object it was given: let it own one
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return raw


def read_head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of ``path`` after decompression, without a byte order mark."""
    try:
        with open_binary(path) as stream:
            return without_bom(stream.read(size))
    except READ_ERRORS as exc:
        raise InputError(f"{path}, byte 0: damaged gzip data ({exc})") from None


def decoded_lines(path: Path, stream: Iterable[bytes], *, bom: bool = True) -> Iterator[str]:
    """Yield the lines of ``stream`` decoded as strict UTF-8 (a leading BOM is dropped, unless
    ``bom`` is False: for a stream that starts inside a file).

    Raises :class:`LocatedError` naming the line (counted from the stream's first) of the
    first undecodable byte, or of a damaged gzip stream.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    line_number = 0
    try:
        for raw_line in stream:
            line_number += 1
            try:
                text = decoder.decode(without_bom(raw_line) if line_number == 1 and bom
                                      else raw_line)
            except UnicodeDecodeError:
                raise LocatedError(path, line_number,
                                   "not valid UTF-8; save the file as UTF-8") from None
            yield text
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise LocatedError(path, line_number, "not valid UTF-8 (the file ends inside a "
                               "character); save the file as UTF-8") from None
    except READ_ERRORS as exc:
        raise LocatedError(path, line_number + 1,
                           f"cannot read ({exc}); the file may be damaged") from None


def read_lines(path: Path) -> list[tuple[int, str]]:
    """Every line of a small text file with its number (for evaluation sets)."""
    with open_binary(path) as stream:
        return list(enumerate((line.rstrip("\r\n") for line in decoded_lines(path, stream)),
                              start=1))
