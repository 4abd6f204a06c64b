from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from embedstore.errors import InputError
from embedstore.inputs.pair_file import read_pairs

Write = Callable[[str, str | bytes], Path]


def pairs_of(data) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    return {
        tuple(sorted((data.items[a], data.items[b]))): float(w)
        for a, b, w in zip(data.left, data.right, data.weight, strict=True)
    }


def test_weights_default_to_one_and_repeated_rows_add_up_symmetrically(write: Write) -> None:
    data = read_pairs(write("p.csv", "cat,dog\ndog,cat,2.5\ncat,car\n"))
    assert pairs_of(data) == {("cat", "dog"): 3.5, ("car", "cat"): 1.0}
    # items by count: cat 4.5, dog 3.5, car 1
    assert data.items == ["cat", "dog", "car"]
    assert data.item_counts.tolist() == [4.5, 3.5, 1.0]
    assert np.all(data.left <= data.right)


def test_zero_weight_is_an_explicit_negative_unless_the_pair_is_also_positive(write: Write) -> None:
    data = read_pairs(write("p.csv", "a,b\nb,c\na,c,0\nb,a,0\n"))
    negatives = {tuple(sorted((data.items[x], data.items[y])))
                 for x, y in zip(data.negative_left, data.negative_right, strict=True)}
    assert negatives == {("a", "c")}
    assert pairs_of(data) == {("a", "b"): 1.0, ("b", "c"): 1.0}


def test_tsv_with_header_gzip_bom_crlf_and_quotes(write: Write) -> None:
    content = '\ufeffitem_a\titem_b\tweight\r\n"New\tYork"\tcity\t2\r\nParis\tcity\t1\r\n'
    path = write("p.tsv.gz", gzip.compress(content.encode("utf-8")))
    data = read_pairs(path)
    assert pairs_of(data) == {("New\tYork", "city"): 2.0, ("Paris", "city"): 1.0}


def test_header_detection_and_override(write: Write) -> None:
    assert read_pairs(write("a.csv", "source,target\nx,y\n")).items == ["x", "y"]
    # Two plain items in the first row are data...
    assert sorted(read_pairs(write("b.csv", "p,q\nx,y\n")).items) == ["p", "q", "x", "y"]
    # ...unless --header says otherwise.
    assert read_pairs(write("c.csv", "p,q\nx,y\n"), header=True).items == ["x", "y"]


def test_min_count_drops_rare_items_and_their_pairs(write: Write) -> None:
    data = read_pairs(write("p.csv", "a,b,5\na,c,1\nb,c,0\n"), min_count=2)
    assert data.items == ["a", "b"]
    assert pairs_of(data) == {("a", "b"): 5.0}
    assert data.n_negative_pairs == 0


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("a,b\nc\n", 2, "expected 2 or 3 columns"),
        ("a,b\nc,d,1,2\n", 2, "expected 2 or 3 columns"),
        ("a,b\n,d\n", 2, "empty item"),
        ("a,b\nc,d,-1\n", 2, "not a finite number >= 0"),
        ("a,b\nc,d,nan\n", 2, "not a finite number >= 0"),
        ("a,b\nc,d,inf\n", 2, "not a finite number >= 0"),
        ("a,b,1\nc,d,lots\n", 2, "not a finite number >= 0"),
        ('a,b\n"c,d\n', 2, "check the quoting"),
        ("", 1, "empty file"),
        ("item_a,item_b\n", 2, "no pairs found"),
    ],
)
def test_bad_rows_name_the_file_and_line(write: Write, content: str, line: int,
                                         message: str) -> None:
    path = write("bad.csv", content)
    with pytest.raises(InputError, match=message) as error:
        read_pairs(path)
    assert f"bad.csv, line {line}:" in str(error.value)


def test_undecodable_bytes_name_the_line(write: Write) -> None:
    path = write("bad.csv", b"a,b\nc,d\n\xff\xfe,x\n")
    with pytest.raises(InputError, match=r"bad\.csv, line 3: not valid UTF-8"):
        read_pairs(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_pairs(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_pairs(tmp_path)


def test_fewer_than_two_items_after_min_count(write: Write) -> None:
    with pytest.raises(InputError, match="fewer than two items"):
        read_pairs(write("p.csv", "a,b\n"), min_count=5)


def test_memory_follows_distinct_pairs_not_rows(write: Write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Force tiny chunks: the accumulator must reduce repeatedly and still sum correctly.
    monkeypatch.setattr("embedstore.inputs.pair_file._CHUNK_ROWS", 7)
    rows = "".join(f"a{i % 5},b{i % 3},1\n" for i in range(1000))
    data = read_pairs(write("p.csv", rows))
    assert data.n_pairs == 15
    assert float(data.weight.sum()) == 1000.0
