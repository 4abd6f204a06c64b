from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedstore
from embedstore.errors import InputError
from embedstore.inputs.vector_files import (
    FORMATS,
    VectorTable,
    detect_format,
    read_vectors,
    write_vectors,
)

Run = Callable[..., Result]
Write = Callable[[str, str | bytes], Path]

TABLE = VectorTable(
    items=["cat", "dög", "猫", "a_b"],
    vectors=np.array([[1e-30, -0.0, 3.4e38], [0.1, -2.5, 1 / 3], [7.0, 8.0, 9.0],
                      [-1e-7, 123456.789, 0.0]], dtype=np.float32),
    counts=np.array([40, 30, 20, 10], dtype=np.int64),
)


@pytest.mark.parametrize("format", FORMATS)
def test_every_format_round_trips_bit_for_bit(tmp_path: Path, format: str) -> None:
    path = tmp_path / ("v.npy" if format == "npy" else "v.txt")
    vocab = tmp_path / "counts.txt"
    write_vectors(TABLE, path, format, vocab_path=vocab if format != "npy" else None)
    assert detect_format(path) == format
    back = read_vectors(path, vocab_path=vocab if format != "npy" else None)
    assert back.items == TABLE.items
    assert back.vectors.dtype == np.float32
    assert back.vectors.tobytes() == TABLE.vectors.tobytes()
    assert back.counts is not None and back.counts.tolist() == [40, 30, 20, 10]


def test_gzip_text_and_fasttext_style_files(write: Write) -> None:
    text = "2 2\ncat 1 2 \ndog 3 4\n"
    path = write("v.vec.gz", gzip.compress(text.encode()))
    table = read_vectors(path)
    assert table.items == ["cat", "dog"] and table.vectors.tolist() == [[1, 2], [3, 4]]
    assert table.counts is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("3 2\ncat 1 2\ndog 3 4\n", r"v\.txt, line 3: the header says 3 vectors but the file has"),
        ("2 2\ncat 1 2\ndog 3 4\nemu 5 6\n", r"header says 2 vectors but the file has 3"),
        ("2 2\ncat 1 2\ndog 3\n", r"v\.txt, line 3: 1 values, expected 2"),
        ("2 2\ncat 1 2\ncat 3 4\n", r"v\.txt, line 3: duplicate item 'cat' \(first at line 2\)"),
        ("2 2\ncat 1 nan\ndog 3 4\n", r"v\.txt, line 2: non-finite value 'nan'"),
        ("2 2\ncat 1 inf\ndog 3 4\n", r"line 2: non-finite value 'inf'"),
        ("2 2\ncat 1 2\ndog 3 x\n", r"v\.txt, line 3: 'x' is not a number"),
        ("", r"v\.txt: no vectors found|line 1: expected a header"),
    ],
)
def test_bad_text_files_name_the_line(write: Write, content: str, message: str) -> None:
    path = write("v.txt", content)
    with pytest.raises(InputError, match=message):
        read_vectors(path, "word2vec")


def test_bad_glove_and_utf8(write: Write) -> None:
    with pytest.raises(InputError, match=r"g\.txt, line 2: 3 values, expected 2"):
        read_vectors(write("g.txt", "cat 1 2\ndog 3 4 5\n"), "glove")
    with pytest.raises(InputError, match=r"line 2: item is not valid UTF-8"):
        read_vectors(write("u.txt", b"1 1\n\xff\xfe 1\n"), "word2vec")


def binary(rows: list[tuple[bytes, list[float]]], header: bytes) -> bytes:
    return header + b"".join(item + b" " + struct.pack(f"<{len(v)}f", *v) + b"\n"
                             for item, v in rows)


def test_bad_binary_files_name_the_byte(write: Write) -> None:
    good = binary([(b"cat", [1, 2]), (b"dog", [3, 4])], b"2 2\n")
    with pytest.raises(InputError, match=r"b\.bin, byte 17: file ends inside vector 2 of 2"):
        read_vectors(write("b.bin", good[:-5]), "word2vec-binary")
    with pytest.raises(InputError, match=r"file ends inside vector 3 of 3"):
        read_vectors(write("b.bin", b"3 2\n" + good[4:]), "word2vec-binary")
    with pytest.raises(InputError, match=r"data after the 1 vectors"):
        read_vectors(write("b.bin", b"1 2\n" + good[4:]), "word2vec-binary")
    nan = binary([(b"cat", [1, float("nan")]), (b"dog", [3, 4])], b"2 2\n")
    with pytest.raises(InputError, match=r"byte 4: non-finite value in the vector of 'cat'"):
        read_vectors(write("b.bin", nan), "word2vec-binary")
    twice = binary([(b"cat", [1, 2]), (b"cat", [3, 4])], b"2 2\n")
    with pytest.raises(InputError, match=r"byte 17: duplicate item 'cat' \(first at byte 4\)"):
        read_vectors(write("b.bin", twice), "word2vec-binary")
    with pytest.raises(InputError, match=r"byte 0: empty file"):
        read_vectors(write("b.bin", b""), "word2vec-binary")


def test_npy_needs_matching_vocabulary(tmp_path: Path) -> None:
    np.save(tmp_path / "m.npy", np.ones((3, 2), np.float32))
    with pytest.raises(InputError, match="no vocabulary file beside it"):
        read_vectors(tmp_path / "m.npy")
    (tmp_path / "m.vocab").write_text("a\nb\n")
    with pytest.raises(InputError, match="2 items for 3 rows"):
        read_vectors(tmp_path / "m.npy")
    (tmp_path / "m.vocab").write_text("a\t5\nb\t4\nc\t3\n")
    assert read_vectors(tmp_path / "m.npy").counts.tolist() == [5, 4, 3]  # type: ignore[union-attr]
    np.save(tmp_path / "o.npy", np.array([{"x": 1}], dtype=object))
    with pytest.raises(InputError, match=r"o\.npy, byte 0: not a readable \.npy matrix"):
        read_vectors(tmp_path / "o.npy", vocab_path=tmp_path / "m.vocab")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    items=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Z", "C")), min_size=1,
                           max_size=8), min_size=1, max_size=6, unique=True),
    dim=st.integers(1, 5),
    data=st.data(),
)
def test_random_tables_round_trip(tmp_path: Path, items: list[str], dim: int, data) -> None:  # type: ignore[no-untyped-def]
    values = data.draw(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False),
                                min_size=len(items) * dim, max_size=len(items) * dim))
    table = VectorTable(items, np.array(values, dtype=np.float32).reshape(len(items), dim))
    for format in FORMATS:
        path = tmp_path / f"r-{format}.{'npy' if format == 'npy' else 'txt'}"
        write_vectors(table, path, format)
        back = read_vectors(path, format)
        assert back.items == items
        assert back.vectors.tobytes() == table.vectors.tobytes()


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), format=st.sampled_from(FORMATS))
def test_random_bytes_parse_or_fail_cleanly(tmp_path: Path, content: bytes, format: str) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(content)
    (tmp_path / "random.vocab").write_text("a\nb\n")
    try:
        table = read_vectors(path, format)
    except InputError as error:
        assert str(error).startswith(str(path)) or str(error).startswith(str(tmp_path))
    else:
        assert len(table.items) == table.vectors.shape[0]


STORABLE = VectorTable(TABLE.items, np.where(TABLE.vectors > 1e30, 1e17, TABLE.vectors),
                       TABLE.counts)


def test_import_and_export_through_the_cli(run: Run, store: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    write_vectors(STORABLE, source, "word2vec-binary", vocab_path=tmp_path / "counts.txt")
    result = run("import", str(source), "--vocab", str(tmp_path / "counts.txt"), "--name", "w2v",
                 "--json")
    record = json.loads(result.stdout)
    assert (record["origin"], record["import_format"], record["n_items"]) == (
        "import", "word2vec-binary", 4)
    assert run("similar", "cat", "--k", "1").exit_code == 0
    for format in FORMATS:
        out = tmp_path / f"out-{format}.{'npy' if format == 'npy' else 'txt'}"
        result = run("export", "--format", format, "-o", str(out))
        assert result.stdout == f"wrote 4 vectors to {out} ({format})\n"
        back = read_vectors(out, format)
        assert back.items == TABLE.items and back.vectors.tobytes() == STORABLE.vectors.tobytes()
    assert not list(tmp_path.glob(".*partial*"))
    huge = tmp_path / "huge.txt"
    write_vectors(TABLE, huge, "word2vec")
    result = run("import", str(huge))
    assert result.exit_code == 1 and "the vector of 'cat' has length 3.4e+38" in result.stderr


def test_bad_import_stores_nothing(run: Run, store: Path, write: Write) -> None:
    result = run("import", str(write("bad.txt", "2 2\ncat 1 2\ndog 3\n")))
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: " + str(write("bad.txt", "2 2\ncat 1 2\ndog 3\n")) + \
        ", line 3: 1 values, expected 2"
    assert not store.exists()


def test_export_refuses_items_with_spaces(store: Path, tmp_path: Path) -> None:
    embedstore.publish_vectors(["new york", "paris"], np.eye(2, dtype=np.float32), store=store)
    with pytest.raises(InputError, match="white space"):
        embedstore.transfer.export_version(tmp_path / "x.txt", store=store)  # type: ignore[attr-defined]
    assert not (tmp_path / "x.txt").exists()


gensim = pytest.importorskip("gensim", reason="gensim is not installed; pip install -e '.[test]'")


@pytest.mark.parametrize("binary_format", [False, True])
def test_gensim_reads_ours_and_we_read_gensims(tmp_path: Path, binary_format: bool) -> None:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=3, count=0, dtype=np.float32)
    kv.add_vectors(TABLE.items, TABLE.vectors)
    for index, item in enumerate(TABLE.items):
        kv.set_vecattr(item, "count", int(TABLE.counts[index]))  # type: ignore[index]
    theirs, fvocab = tmp_path / "gensim.out", tmp_path / "gensim.vocab"
    kv.save_word2vec_format(str(theirs), fvocab=str(fvocab), binary=binary_format)
    ours = read_vectors(theirs, vocab_path=fvocab)
    assert ours.items == TABLE.items and ours.counts.tolist() == [40, 30, 20, 10]  # type: ignore[union-attr]
    assert ours.vectors.tobytes() == TABLE.vectors.tobytes()
    mine = tmp_path / "mine.out"
    format = "word2vec-binary" if binary_format else "word2vec"
    write_vectors(TABLE, mine, format, vocab_path=tmp_path / "mine.vocab")
    loaded = KeyedVectors.load_word2vec_format(str(mine), fvocab=str(tmp_path / "mine.vocab"),
                                               binary=binary_format)
    assert loaded.index_to_key == TABLE.items
    assert loaded.vectors.astype(np.float32).tobytes() == TABLE.vectors.tobytes()
    assert [loaded.get_vecattr(i, "count") for i in TABLE.items] == [40, 30, 20, 10]
