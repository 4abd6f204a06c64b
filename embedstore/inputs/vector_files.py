"""The ecosystem's vector file formats, in and out: word2vec text and binary, GloVe, .npy.

- ``word2vec``: a header line ``count dim``, then ``item v1 ... vd`` per line (fastText's
  ``.vec`` files are this format). Values are written with 9 significant digits, which
  round-trips every float32 exactly.
- ``word2vec-binary``: the header line, then per item its UTF-8 bytes, a space and ``dim``
  little-endian float32 values; the C tool ends each vector with a newline, gensim does not,
  and both are read (a newline before an item is skipped). We write the C tool's layout.
- ``glove``: ``item v1 ... vd`` per line, no header.
- ``npy``: a ``.npy`` float matrix (never unpickled) and a vocabulary file beside it, one item
  per line, optionally followed by a tab or space and its count.

Counts: word2vec files hold none; a vocabulary file (gensim's ``fvocab``: ``item count`` per
line) may supply them. Text inputs may be gzip-compressed. Every problem raises
:class:`InputError` naming the file and the line (text) or byte offset (binary).
"""

from __future__ import annotations

import itertools
import math
import mmap
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..names import normalize_item
from .textio import GZIP_MAGIC, READ_ERRORS, open_binary, read_head, without_bom

FORMATS = ("word2vec", "word2vec-binary", "glove", "npy")
_BLOCK_LINES = 20_000
_MAX_COUNT = 2**63 - 1


@dataclass(frozen=True)
class VectorTable:
    """Items in file order, a float32 matrix (one row each) and optional int64 counts."""

    items: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None


def detect_format(path: Path) -> str:
    """``npy`` by its magic bytes, ``word2vec`` or ``word2vec-binary`` by a ``count dim``
    header (binary when the bytes after it are not text), else ``glove``."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path") from None
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    first, _, rest = read_head(path).partition(b"\n")
    fields = first.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        try:
            rest.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(rest) - 4:  # not just a character cut at the 4 KiB mark
                return "word2vec-binary"
        if b"\x00" in rest and not _text_row(rest, int(fields[1])):
            return "word2vec-binary"
        return "word2vec"
    return "glove"


def _text_row(head: bytes, dim: int) -> bool:
    """Whether the first line of ``head`` reads as a text row ``item v1 ... v<dim>`` (its end
    may be cut off): a NUL byte in a text file is then part of an item, not binary data."""
    line, newline, _ = head.partition(b"\n")
    values = line.rstrip(b"\r").partition(b" ")[2].split()
    if not newline:  # cut at the 4 KiB mark: the last value may be partial
        values = values[:-1]
    try:
        return (len(values) == dim if newline else len(values) <= dim) and all(
            math.isfinite(float(value)) for value in values)
    except ValueError:
        return False


def read_vectors(path: str | Path, format: str | None = None,
                 vocab_path: str | Path | None = None) -> VectorTable:
    """Read a vector file in ``format`` (detected when None); see the module docstring."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path")
    format = format or detect_format(path)
    if format not in FORMATS:
        raise InputError(f"{path}: unknown format {format!r}; use one of {', '.join(FORMATS)}")
    counts_by_item = _read_vocab(Path(vocab_path)) if vocab_path and format != "npy" else None
    if format == "npy":
        table = _read_npy(path, Path(vocab_path) if vocab_path else None)
    elif format == "word2vec-binary":
        table = _read_binary(path)
    else:
        table = _read_text(path, header=format == "word2vec")
    if not table.items:
        raise InputError(f"{path}: no vectors found; the file is empty")
    if counts_by_item is not None:
        missing = [item for item in table.items if item not in counts_by_item]
        if missing:
            raise InputError(f"{vocab_path}: no count for item {missing[0]!r}; "
                             "the vocabulary file must list every item")
        table = VectorTable(table.items, table.vectors,
                            np.array([counts_by_item[i] for i in table.items], dtype=np.int64))
    return table


def _check_items(path: Path, items: list[str], where: list[str]) -> None:
    """Refuse empty items and items that repeat, also after Unicode normalisation (NFC)."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not item:
            raise InputError(f"{path}, {where[index]}: empty item")
        key = normalize_item(item)
        if key in seen:
            first = seen[key]
            if items[first] == item:
                raise InputError(f"{path}, {where[index]}: duplicate item {item!r} "
                                 f"(first at {where[first]}); items must be unique")
            raise InputError(f"{path}, {where[index]}: item {item!r} is the same text as "
                             f"{items[first]!r} (at {where[first]}) after Unicode "
                             "normalisation (NFC); keep one of them")
        seen[key] = index


def _read_text(path: Path, *, header: bool) -> VectorTable:
    try:
        return _read_text_stream(path, header=header)
    except READ_ERRORS as exc:  # a damaged or truncated gzip stream
        raise InputError(f"{path}: cannot read ({exc}); the file may be damaged") from None


def _read_text_stream(path: Path, *, header: bool) -> VectorTable:
    with open_binary(path) as stream:
        raw_lines = iter(stream)
        opening = next(raw_lines, None)  # without a byte order mark
        if opening is not None:
            raw_lines = itertools.chain([without_bom(opening)], raw_lines)
        line_number = 0
        declared: tuple[int, int] | None = None
        if header:
            first = next(raw_lines, b"")
            line_number = 1
            fields = first.split()
            if len(fields) != 2 or not all(f.isdigit() for f in fields):
                raise InputError(f"{path}, line 1: expected a header 'count dim'")
            declared = (int(fields[0]), int(fields[1]))
            if declared[1] == 0:
                raise InputError(f"{path}, line 1: dimension 0 in the header; vectors need at "
                                 "least one value")
        items: list[str] = []
        blocks: list[np.ndarray] = []
        dim = declared[1] if declared else None
        block_items: list[str] = []
        block_values: list[bytes] = []
        first_line = line_number + 1

        def flush() -> None:
            nonlocal block_items, block_values, first_line
            if block_items:
                blocks.append(_parse_block(path, block_values, dim or 0, first_line))
                items.extend(block_items)
                first_line += len(block_items)
                block_items, block_values = [], []

        for raw in raw_lines:
            line_number += 1
            stripped = raw.rstrip(b"\r\n")
            if not stripped.strip():
                raise InputError(f"{path}, line {line_number}: empty line; remove it")
            item_bytes, _, values = stripped.partition(b" ")
            try:
                item = item_bytes.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{path}, line {line_number}: item is not valid UTF-8") from None
            if dim is None:
                dim = len(values.split())
                if dim == 0:
                    raise InputError(f"{path}, line {line_number}: no values after the item")
            block_items.append(item)
            block_values.append(values)
            if len(block_items) >= _BLOCK_LINES:
                flush()
        flush()
    if not items:
        raise InputError(f"{path}: no vectors found; the file is empty")
    if declared and len(items) != declared[0]:
        raise InputError(f"{path}, line {line_number}: the header says {declared[0]} vectors "
                         f"but the file has {len(items)}")
    first_row = 2 if header else 1
    _check_items(path, items, [f"line {first_row + i}" for i in range(len(items))])
    return VectorTable(items, np.concatenate(blocks) if len(blocks) > 1 else blocks[0])


def _parse_floats(text: bytes) -> np.ndarray:
    """Space-separated float32 values; empty when numpy refuses the text (never warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.fromstring(text, dtype=np.float32, sep=" ")  # type: ignore[call-overload]
        except ValueError:
            return np.empty(0, dtype=np.float32)


def _parse_block(path: Path, values: list[bytes], dim: int, first_line: int) -> np.ndarray:
    """Parse many lines' values at once; on any doubt find the exact bad line."""
    parsed = _parse_floats(b" ".join(values))
    if parsed.size == len(values) * dim and np.isfinite(parsed).all():
        return parsed.reshape(len(values), dim)
    for offset, line_values in enumerate(values):
        number = first_line + offset
        fields = line_values.split()
        if len(fields) != dim:
            raise InputError(f"{path}, line {number}: {len(fields)} values, expected {dim}")
        for field in fields:  # read each as the block was read, so the culprit is found
            value = _parse_floats(field)
            text = field.decode(errors="replace")
            if value.size != 1:
                raise InputError(f"{path}, line {number}: {text!r} is not a number")
            if not np.isfinite(value[0]):
                if _finite_float64(text):
                    raise InputError(f"{path}, line {number}: {text!r} is not a finite float32 "
                                     "(at most 3.4e38 in size); rescale the vectors")
                raise InputError(f"{path}, line {number}: non-finite value {text!r}; vectors "
                                 "must be finite")
    raise InputError(f"{path}, line {first_line}: values cannot be read as float32")


def _finite_float64(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _read_binary(path: Path) -> VectorTable:
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if size == 0:
                raise InputError(f"{path}, byte 0: empty file")
            buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with buffer:
        if buffer[:2] == GZIP_MAGIC:
            raise InputError(f"{path}, byte 0: gzip-compressed; word2vec-binary files are read "
                             "uncompressed: gunzip it first")
        end_of_header = buffer.find(b"\n")
        fields = buffer[: max(end_of_header, 0)].split()
        if end_of_header < 0 or len(fields) != 2 or not all(f.isdigit() for f in fields):
            raise InputError(f"{path}, byte 0: expected a header 'count dim'")
        count, dim = int(fields[0]), int(fields[1])
        if dim == 0 or count == 0:
            raise InputError(f"{path}, byte 0: the header announces {count} vectors of {dim} "
                             "values; a file holds at least one vector of at least one value")
        position = end_of_header + 1
        width = 4 * dim
        # A vector takes at least its values and a space: a header that announces more than
        # the file holds fails below, at the first vector that does not fit, instead of
        # allocating what it announces.
        if position + width + 1 > size:
            raise InputError(f"{path}, byte {position}: file ends inside vector 1 of {count}; "
                             "it is truncated or the header is wrong")
        vectors = np.empty((min(count, (size - position) // (width + 1)), dim), dtype=np.float32)
        items: list[str] = []
        offsets: list[str] = []
        for row in range(count):
            while position < size and buffer[position : position + 1] == b"\n":
                position += 1
            space = buffer.find(b" ", position)
            if space < 0 or space + 1 + width > size:
                raise InputError(f"{path}, byte {position}: file ends inside vector {row + 1} "
                                 f"of {count}; it is truncated or the header is wrong")
            try:
                items.append(buffer[position:space].decode("utf-8"))
            except UnicodeDecodeError:
                raise InputError(f"{path}, byte {position}: item is not valid UTF-8") from None
            offsets.append(f"byte {position}")
            vectors[row] = np.frombuffer(buffer, dtype="<f4", count=dim, offset=space + 1)
            position = space + 1 + width
        while position < size and buffer[position : position + 1] in (b"\n", b" "):
            position += 1
        if position != size:
            raise InputError(f"{path}, byte {position}: data after the {count} vectors the "
                             "header announces; the header is wrong")
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if len(bad):
        raise InputError(f"{path}, {offsets[bad[0]]}: non-finite value in the vector of "
                         f"{items[bad[0]]!r}; vectors must be finite")
    _check_items(path, items, offsets)
    return VectorTable(items, vectors)


def _count(text: str) -> int | None:
    """A count: ASCII digits that fit int64, else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > _MAX_COUNT:
        return None
    return int(text)


def _read_vocab(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1:
                    raw = without_bom(raw)
                try:
                    fields = raw.decode("utf-8").split()
                except UnicodeDecodeError:
                    raise InputError(f"{path}, line {number}: not valid UTF-8") from None
                count = _count(fields[1]) if len(fields) == 2 else None
                if count is None:
                    raise InputError(f"{path}, line {number}: expected 'item count' (a whole "
                                     "number below 2**63)")
                counts[fields[0]] = count
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path") from None
    return counts


def npy_vocab_path(path: Path) -> Path:
    """The vocabulary file of ``path.npy``: ``path.vocab`` if it exists, else ``path.txt``."""
    for suffix in (".vocab", ".txt"):
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    raise InputError(f"{path}: no vocabulary file beside it ({path.with_suffix('.vocab').name} "
                     "or .txt); give one with --vocab")


def _holds_objects(path: Path) -> bool:
    """Whether the header of the .npy file ``path`` declares Python objects (pickled data)."""
    try:
        with path.open("rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            read = (np.lib.format.read_array_header_1_0 if major == 1
                    else np.lib.format.read_array_header_2_0)
            return bool(read(handle)[2].hasobject)
    except Exception:  # a damaged header: reported as unreadable by the caller
        return False


def _read_npy(path: Path, vocab_path: Path | None) -> VectorTable:
    try:
        matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # numpy raises many kinds (ValueError, EOFError, TokenError...)
        if _holds_objects(path):
            raise InputError(f"{path}, byte 0: not a readable .npy matrix: it holds Python "
                             "objects, which are never unpickled; save a float matrix") from None
        reason = " ".join(str(exc).split())  # numpy's messages may span lines
        raise InputError(f"{path}, byte 0: not a readable .npy matrix ({reason})") from None
    if matrix.ndim != 2 or matrix.dtype.kind != "f" or matrix.shape[1] == 0:
        raise InputError(f"{path}: expected a 2-D float matrix with at least one column, found "
                         f"{matrix.dtype}{matrix.shape}")
    vocab_path = vocab_path or npy_vocab_path(path)
    items: list[str] = []
    counts: list[int] = []
    try:
        with vocab_path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1:
                    raw = without_bom(raw)
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise InputError(f"{vocab_path}, line {number}: not valid UTF-8") from None
                item, separator, count = line.rpartition("\t")  # items may hold tabs
                if not separator:
                    item, count = line, ""
                    if " " in line:
                        item, _, count = line.rpartition(" ")
                if count and _count(count) is None:
                    raise InputError(f"{vocab_path}, line {number}: count {count!r} is not a "
                                     "whole number below 2**63")
                items.append(item)
                counts.append(int(count) if count else -1)
    except OSError as exc:
        raise InputError(f"{vocab_path}: cannot read ({exc.strerror})") from None
    if len(items) != matrix.shape[0]:
        raise InputError(f"{vocab_path}: {len(items)} items for {matrix.shape[0]} rows in {path}")
    _check_items(vocab_path, items, [f"line {i + 1}" for i in range(len(items))])
    with np.errstate(over="ignore"):
        vectors = np.asarray(matrix, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if len(bad):
        raise InputError(f"{path}: non-finite value in row {bad[0]} ({items[bad[0]]!r}), or one "
                         "beyond float32's range (3.4e38); vectors must be finite")
    has_counts = all(c >= 0 for c in counts)
    return VectorTable(items, vectors, np.array(counts, dtype=np.int64) if has_counts else None)


def write_vectors(table: VectorTable, path: str | Path, format: str,
                  vocab_path: str | Path | None = None) -> None:
    """Write ``table`` to ``path`` in ``format``; counts go to ``vocab_path`` when given
    (``item count`` lines; for ``npy`` the vocabulary file is always written, by default
    beside the matrix as ``.vocab``)."""
    path = Path(path)
    vectors = np.ascontiguousarray(table.vectors, dtype=np.float32)
    rows, dim = vectors.shape
    broken = next((item for item in table.items if "\n" in item or "\r" in item), None)
    if broken is not None:
        raise InputError(f"item {broken!r} contains a line break, which no vector file format "
                         "can hold")
    if format == "npy":
        with path.open("wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
        vocab = Path(vocab_path) if vocab_path else path.with_suffix(".vocab")
        with vocab.open("w", encoding="utf-8", newline="\n") as handle:
            for index, item in enumerate(table.items):
                count = f"\t{table.counts[index]}" if table.counts is not None else ""
                handle.write(f"{item}{count}\n")
        return
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    spaced = next((item for item in table.items if any(c.isspace() for c in item)), None)
    if spaced is not None:
        raise InputError(f"item {spaced!r} contains white space, which {format} files cannot "
                         "hold; export to npy instead")
    with path.open("wb") as handle:
        if format != "glove":
            handle.write(f"{rows} {dim}\n".encode())
        if format == "word2vec-binary":
            little = vectors.astype("<f4", copy=False)
            for item, row in zip(table.items, little, strict=True):
                handle.write(item.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            template = " ".join(["%.9g"] * dim)
            for item, row in zip(table.items, vectors.tolist(), strict=True):
                handle.write(f"{item} {template % tuple(row)}\n".encode())
    if vocab_path is not None and table.counts is not None:
        with Path(vocab_path).open("w", encoding="utf-8", newline="\n") as handle:
            for item, count in zip(table.items, table.counts.tolist(), strict=True):
                handle.write(f"{item} {count}\n")
