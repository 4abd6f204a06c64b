"""Hostile vector files: property-based tests through the library and the CLI (the harness is
``tests/hostile.py``)."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import embedstore
from embedstore.errors import InputError
from embedstore.inputs.vector_files import VectorTable, read_vectors
from embedstore.schema import SgnsSettings
from embedstore.training.pipeline import train_pairs
from embedstore.training.publish import publish_vectors
from embedstore.transfer import export_version, import_file
from tests.hostile import (
    budget,
    check_error,
    damaged,
    embed,
    line_bound,
    maybe_gzipped,
    nfc,
    parse,
    run_and_check_store,
    time_limit,
    versions_of,
)
from tests.pair_files import ITEMS, PairFile

# 4. Vector files (embedstore.inputs.vector_files.read_vectors, embed import)
# =============================================================================================

TEXT_ITEM = st.one_of(
    st.sampled_from(["cat", "';DROP_TABLE_items;--", "Robert');DROP/**/TABLE/**/versions;--",
                     "a\x00b", "日本", "1e400", "NaN", "%", "_", "12"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc")),
            min_size=1, max_size=6),
).filter(lambda s: not any(c.isspace() for c in s) and not s.startswith("\ufeff"))
NPY_ITEM = st.one_of(
    TEXT_ITEM, st.sampled_from(["New York", "'; DROP TABLE items; --", "tab\there", " padded "]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=6),
).filter(lambda s: s.strip("\r\n") == s and not s.startswith("\ufeff") and "\n" not in s)
VALUE_FORMATS = ["%.9g", "%.9e", "%+.9g", "repr"]


@dataclass
class VectorFile:
    format: str
    items: list[str]
    vectors: np.ndarray  # float32: what the file means
    counts: list[int] | None
    content: bytes
    vocab: bytes | None  # --vocab file for text/binary, the .vocab beside a .npy
    detectable: bool = True


def render_value(value: float, style: str) -> str:
    return repr(float(value)) if style == "repr" else style % value


@st.composite
def vector_files(draw: st.DrawFn, formats: tuple[str, ...] = ("word2vec", "glove",
                                                              "word2vec-binary", "npy")
                 ) -> VectorFile:
    format = draw(st.sampled_from(formats))
    n, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    items = draw(st.lists(NPY_ITEM if format == "npy" else TEXT_ITEM, min_size=n, max_size=n,
                          unique_by=nfc))
    width = 16 if format == "npy" and draw(st.booleans()) else 32
    values = draw(st.lists(st.floats(width=width, allow_nan=False, allow_infinity=False),
                           min_size=n * dim, max_size=n * dim))
    vectors = np.array(values, dtype=np.float32).reshape(n, dim)
    counts = draw(st.one_of(st.none(), st.lists(st.integers(0, 2**62), min_size=n, max_size=n)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = "\ufeff" if draw(st.booleans()) else ""
    vocab = None
    detectable = True
    if format == "npy":
        mode = draw(st.sampled_from(["plain", "tab", "space"]))
        if mode == "plain":
            counts = None
            assume(not any(" " in item or "\t" in item for item in items))
        if mode == "space":
            assume(not any("\t" in item for item in items))
        if counts is None and mode != "plain":
            counts = draw(st.lists(st.integers(0, 2**62), min_size=n, max_size=n))
        sep = {"plain": "", "tab": "\t", "space": " "}[mode]
        lines = [item + (f"{sep}{counts[i]}" if counts is not None else "")
                 for i, item in enumerate(items)]
        vocab = (bom + newline.join(lines) + (newline if draw(st.booleans()) else "")).encode()
        dtype = np.float16 if width == 16 else draw(st.sampled_from([np.float32, np.float64]))
        matrix = vectors.astype(dtype)
        if draw(st.booleans()):
            matrix = np.asfortranarray(matrix)
        buffer = __import__("io").BytesIO()
        np.save(buffer, matrix, allow_pickle=False)
        return VectorFile(format, items, vectors, counts, buffer.getvalue(), vocab)
    if counts is not None:
        vocab = (bom + newline.join(f"{item} {count}" for item, count in zip(items, counts,
                                                                               strict=True))
                 + newline).encode()
    if format == "word2vec-binary":
        newline_after = draw(st.booleans())
        body = f"{n} {dim}\n".encode() + b"".join(
            item.encode() + b" " + row.astype("<f4").tobytes() + (b"\n" if newline_after else b"")
            for item, row in zip(items, vectors, strict=True))
        return VectorFile(format, items, vectors, counts, body, vocab, detectable=False)
    style = draw(st.sampled_from(VALUE_FORMATS))
    gap = draw(st.sampled_from([" ", "  "]))
    trailing = draw(st.sampled_from(["", " "]))
    lines = [item + " " + gap.join(render_value(v, style) for v in row) + trailing
             for item, row in zip(items, vectors.tolist(), strict=True)]
    if format == "word2vec":
        lines.insert(0, f"{n} {dim}")
    elif re.fullmatch(r"\d+ \d+", lines[0].strip()):
        detectable = False  # a GloVe line that reads as a word2vec header: --format needed
    text = bom + newline.join(lines) + (newline if draw(st.booleans()) else "")
    content = text.encode("utf-8")
    if draw(st.booleans()):
        content = gzip.compress(content, mtime=0)
    return VectorFile(format, items, vectors, counts, content, vocab, detectable)


def write_vector_file(workdir: Path, vf: VectorFile, stem: str) -> tuple[Path, Path | None]:
    path = workdir / (f"{stem}.npy" if vf.format == "npy" else f"{stem}.vec")
    path.write_bytes(vf.content)
    vocab = None
    if vf.vocab is not None:
        vocab = path.with_suffix(".vocab")
        vocab.write_bytes(vf.vocab)
    return path, vocab


def check_table(table: VectorTable) -> None:
    n = len(table.items)
    assert len(set(table.items)) == n and all(table.items)
    for item in table.items:
        item.encode("utf-8")
    assert table.vectors.dtype == np.float32 and table.vectors.ndim == 2
    assert table.vectors.shape[0] == n and np.isfinite(table.vectors).all()
    if table.counts is not None:
        assert len(table.counts) == n and (table.counts >= 0).all()


@budget("formats", "oracle")
@given(vf=vector_files(), detect=st.booleans())
def test_vector_files_read_to_what_they_mean(workdir: Path, vf: VectorFile, detect: bool) -> None:
    path, vocab = write_vector_file(workdir, vf, "oracle")
    format = None if detect and vf.detectable else vf.format
    got, error = parse(lambda: read_vectors(path, format, vocab))
    assert error is None, error
    assert got.items == vf.items
    assert got.vectors.dtype == np.float32 and got.vectors.tobytes() == vf.vectors.tobytes()
    assert (None if got.counts is None else got.counts.tolist()) == vf.counts


@st.composite
def hostile_vector_files(draw: st.DrawFn) -> tuple[VectorFile, str | None]:
    vf = draw(vector_files())
    if vf.format == "npy":
        if draw(st.booleans()):
            vf.content = draw(damaged(vf.content))
        else:
            vf.vocab = draw(damaged(vf.vocab or b""))
        return vf, draw(st.sampled_from(["npy", None]))
    content = vf.content
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    head, _, rest = content.partition(b"\n")
    if vf.format != "glove" and draw(st.booleans()):  # a header that lies
        numbers = st.sampled_from([b"0", b"1", b"2", b"3", b"1000000", b"4294967297",
                                   b"99999999999999999999999"])
        head = draw(numbers) + b" " + draw(numbers)
    content = draw(damaged(head + b"\n" + rest))
    if vf.format != "word2vec-binary":
        content = draw(maybe_gzipped(content))
    if vf.vocab is not None and draw(st.booleans()):
        vf.vocab = draw(damaged(vf.vocab))
    vf.content = content
    return vf, draw(st.sampled_from([vf.format, None]))


@budget("formats", "hostile")
@given(case=hostile_vector_files())
def test_hostile_vector_files_read_or_fail_cleanly(workdir: Path,
                                                   case: tuple[VectorFile, str | None]) -> None:
    vf, format = case
    path, vocab = write_vector_file(workdir, vf, "hostile")
    got, error = parse(lambda: read_vectors(path, format, vocab))
    if error is not None:
        bound = max(line_bound(vf.content), line_bound(vf.vocab or b""))
        check_error(error, path, *([vocab] if vocab else []), max_line=bound,
                    max_byte=len(vf.content))
    else:
        check_table(got)


NPY_DESCRS = ["'<f4'", "'>f8'", "'<f2'", "'|O'", "'<c8'", "'<i8'", "'<U3'", "'|V8'", "'<f16'",
              "'bogus'", "[('x', '<f4')]", "1", "None"]
NPY_SHAPES = ["(2, 2)", "(0, 2)", "(2, 0)", "(2,)", "()", "(2, 2, 2)", "(-1, 2)",
              "(99999999999, 99999999999)", "(4611686018427387904, 4)", "'x'", "(2, 2"]


@budget("formats", "npy header")
@given(descr=st.sampled_from(NPY_DESCRS), fortran=st.sampled_from(["False", "True", "1"]),
       shape=st.sampled_from(NPY_SHAPES), payload=st.binary(max_size=64),
       version=st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x09\x09"]))
def test_hostile_npy_headers_fail_cleanly(workdir: Path, descr: str, fortran: str, shape: str,
                                          payload: bytes, version: bytes) -> None:
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    size = struct.pack("<H", len(header)) if version == b"\x01\x00" else \
        struct.pack("<I", len(header))
    path = workdir / "header.npy"
    path.write_bytes(b"\x93NUMPY" + version + size + header.encode("latin1") + payload)
    vocab = workdir / "header.vocab"
    vocab.write_text("a\nb\n")
    got, error = parse(lambda: read_vectors(path, "npy", vocab))
    if error is not None:
        check_error(error, path, vocab)
    else:
        check_table(got)


@budget("formats", "binary truncation")
@given(vf=vector_files(formats=("word2vec-binary",)), data=st.data())
def test_truncated_binary_files_fail_at_a_byte_offset(workdir: Path, vf: VectorFile,
                                                      data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(vf.content) - 1))
    path = workdir / "truncated.bin"
    path.write_bytes(vf.content[:cut])
    got, error = parse(lambda: read_vectors(path, "word2vec-binary"))
    if error is None:  # only the newline after the last vector was cut
        assert vf.content[cut:] == b"\n"
        assert got.items == vf.items and got.vectors.tobytes() == vf.vectors.tobytes()
        return
    message = check_error(error, path, max_byte=cut)
    assert re.search(r", byte \d+: ", message), message


class Explosive:
    """Unpickling this creates ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def explosive_npy(path: Path, marker: Path) -> None:
    matrix = np.empty((2, 2), dtype=object)
    matrix[:] = [[Explosive(marker), 1.0], [2.0, 3.0]]
    np.save(path, matrix, allow_pickle=True)


def test_object_npy_files_are_never_unpickled(cli_store: Path, tmp_path: Path) -> None:
    # The payload is live: numpy with pickling allowed runs it.
    armed, fired = tmp_path / "armed.npy", tmp_path / "fired"
    explosive_npy(armed, fired)
    np.load(armed, allow_pickle=True)
    assert fired.exists()

    marker = tmp_path / "marker"
    path = tmp_path / "objects.npy"
    explosive_npy(path, marker)
    path.with_suffix(".vocab").write_text("a\nb\n")
    for format in ("npy", None):
        with pytest.raises(InputError) as error:
            read_vectors(path, format)
        message = check_error(error.value, path)
        assert "Python objects" in message and "never unpickled" in message
    result = run_and_check_store(cli_store, ["import", str(path)], path)
    assert result.exit_code == 1 and "Python objects" in result.stderr
    result = run_and_check_store(cli_store, ["import", str(path), "--format", "npy", "--vocab",
                                             str(path.with_suffix(".vocab"))], path)
    assert result.exit_code == 1
    assert not marker.exists()


@budget("formats", "cli", seconds=20)
@given(case=hostile_vector_files())
def test_hostile_vector_files_through_embed_import(cli_store: Path, workdir: Path,
                                                   case: tuple[VectorFile, str | None]) -> None:
    vf, format = case
    path, vocab = write_vector_file(workdir, vf, "import")
    args = ["import", str(path), "--model", "imported"]
    if format is not None:
        args += ["--format", format]
    if vocab is not None:
        args += ["--vocab", str(vocab)]
    run_and_check_store(cli_store, args, path, *([vocab] if vocab else []), model="imported")


@pytest.mark.parametrize(
    ("content", "format", "message"),
    [
        (b"2 99999999999999999999999\na 1\n", "word2vec-binary",
         "byte 26: file ends inside vector 1 of 2;"),
        (b"9999999999 2\na 1\n", "word2vec-binary", "byte 13: file ends inside vector 1 of"),
        (b"3 1\na \x00\x00\x80\x3f\n", "word2vec-binary", "byte 11: file ends inside vector 2 of"),
        (b"2 0\na \nb \n", "word2vec-binary", "byte 0: the header announces 2 vectors of 0"),
        (b"0 2\n", "word2vec-binary", "byte 0: the header announces 0 vectors of 2"),
        (b"2 0\na\nb\n", "word2vec", "line 1: dimension 0"),
        (gzip.compress(b"1 1\na \x00\x00\x80\x3f\n"), "word2vec-binary", "gzip"),
        (b"\xef\xbb\xbf2 2\na 1 2\nb 3 4\n\n", None, "line 4: empty line"),
        (b"a 1 2\nb 3 1e39\n", "glove", "line 2: '1e39' is not a finite float32"),
        (b"a 1 2\nb 3 1_0\n", "glove", "line 2: '1_0' is not a number"),
        (b"a 1 2\n", "glove", "at least two items; got shape (1, 2) for 1 items"),
        (b"a 1e17 1e17\nb 1e18 1e18\n", "glove", "the vector of 'b' has length"),
    ],
)
def test_bad_vector_files_through_embed_import(cli_store: Path, workdir: Path, content: bytes,
                                               format: str | None, message: str) -> None:
    path = workdir / "bad-import.vec"
    path.write_bytes(content)
    args = ["import", str(path)] + (["--format", format] if format else [])
    result = run_and_check_store(cli_store, args, path)
    assert result.exit_code == 1
    assert message in result.stderr


# =============================================================================================
# Items that look like SQL, and other strange items, survive every path
# =============================================================================================

SQL_ITEMS = ["'; DROP TABLE items; --", "Robert'); DROP TABLE versions;--", '" OR 1=1 --',
             "x'); DELETE FROM aliases WHERE ('1'='1", "%", "_", "?", ":name", "cat", "dog"]


def test_sql_lookalike_items_round_trip_through_train_similar_import_export(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    rows = [(a, b) for i, a in enumerate(SQL_ITEMS) for b in SQL_ITEMS[i + 1 :]]
    pairs = tmp_path / "sql.csv"
    pairs.write_text("".join(f'"{a.replace(chr(34), 2 * chr(34))}",'
                             f'"{b.replace(chr(34), 2 * chr(34))}"\n' for a, b in rows),
                     encoding="utf-8")
    result = embed(store, "train", str(pairs), "--quiet", "--dim", "4", "--method", "sgns",
                   "--epochs", "2")
    assert result.exit_code == 0, result.output
    for item in SQL_ITEMS:
        result = embed(store, "similar", item, "--k", "100", "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["query"]["item"] == item
        assert sorted(r["item"] for r in payload["results"]) == sorted(set(SQL_ITEMS) - {item})
    batch = "".join(json.dumps({"op": "similarity", "a": a, "b": b, "id": a}) + "\n"
                    for a, b in itertools.pairwise(SQL_ITEMS))
    result = embed(store, "batch", "-", input=batch)
    assert result.exit_code == 0 and "error" not in result.stdout
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == SQL_ITEMS[:-1]
    # npy keeps items with spaces; export, import into another model, export again.
    first, second = tmp_path / "first.npy", tmp_path / "second.npy"
    assert embed(store, "export", "--format", "npy", "-o", str(first)).exit_code == 0
    assert embed(store, "import", str(first), "--model", "copy").exit_code == 0
    assert embed(store, "export", "--format", "npy", "-o", str(second), "--model",
                 "copy").exit_code == 0
    one, two = read_vectors(first), read_vectors(second)
    assert sorted(one.items) == sorted(SQL_ITEMS) and one.items == two.items
    assert one.vectors.tobytes() == two.vectors.tobytes()
    assert one.counts is not None and two.counts is not None
    assert one.counts.tolist() == two.counts.tolist()
    # Every table is still there and holds what it should.
    assert embed(store, "verify", "--all").exit_code == 0
    assert versions_of(store) == [1] and versions_of(store, "copy") == [1]


@budget("round trip", "train and similar", seconds=30)
@given(items=st.lists(ITEMS, min_size=2, max_size=6, unique_by=nfc))
def test_any_items_round_trip_through_train_and_similar(workdir: Path, items: list[str]) -> None:
    pf = PairFile(rows=[(a, b, None) for a, b in itertools.pairwise(items)],
                  delimiter=",", quote_all=True)
    path = workdir / "round-trip.csv"
    path.write_bytes(pf.content())
    store = workdir / f"round-trip-{abs(hash(tuple(items)))}"
    with time_limit(60):
        train_pairs(path, store=store, settings=SgnsSettings(dim=4, epochs=1))
        with embedstore.open(store) as vectors:
            assert sorted(vectors.known_rows(items)) == sorted(items)
            for item in items:
                neighbours = vectors.similar(item, k=len(items))
                assert sorted(n.item for n in neighbours) == sorted(
                    {nfc(other) for other in items} - {nfc(item)})


@budget("round trip", "import and export", seconds=10)
@given(items=st.lists(NPY_ITEM | ITEMS, min_size=2, max_size=6, unique_by=nfc))
def test_any_items_round_trip_through_import_and_export(workdir: Path, items: list[str]) -> None:
    store = workdir / f"export-{abs(hash(tuple(items)))}"
    vectors = np.arange(len(items) * 3, dtype=np.float32).reshape(-1, 3) + 1
    publish_vectors(items, vectors, store=store)
    out = workdir / "export.npy"
    breaks = any(c in item for item in items for c in "\r\n")
    try:
        export_version(out, format="npy", store=store)
    except InputError as error:
        assert breaks and "line break" in str(error)
        return
    assert not breaks
    record = import_file(out, store=store, model="back")
    assert record.n_items == len(items)
    with embedstore.open(store, model="back") as back:
        rows = back.known_rows(items)
        assert sorted(rows) == sorted(items)
        for index, item in enumerate(items):
            assert back.vector(item).tolist() == vectors[index].tolist()

