"""``embed extend``: the command's output, its notes, the index it extends, and bad input
refused with one line, the store unchanged."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from tests.conftest import DATA

Run = Callable[..., Result]
Write = Callable[[str, str], Path]


def store_state(store: Path) -> tuple[object, ...]:
    """What a failed run must leave as it was: the database's rows and the files."""
    if not store.exists():
        return ()
    with sqlite3.connect(store / "embedstore.db") as db:
        rows = tuple(tuple(db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())
                     for table in ("versions", "items", "version_numbers", "indexes"))
    files = tuple(sorted(str(path.relative_to(store)) for path in store.rglob("*")
                         if path.is_file() and "embedstore.db" not in path.name))
    return rows, files


def test_extend_prints_the_new_version_and_its_notes(run: Run, write: Write) -> None:
    run("train", str(DATA / "animals.csv"), "--quiet")
    new = write("new.csv", "lion,cat\nlion,kitten\ncub,lion\nfoo,bar\ncat,dog\n")
    result = run("extend", str(new), "--name", "big cats")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("default version 2 (big cats): 10 items x 100 dims, "
                                    "propagate, ")
    assert result.stderr.splitlines() == [
        "Note: propagate folded 2 new items into version 1 (its step operator over the new "
        "rows, the known rows fixed); its 8 vectors are unchanged",
        "Note: 2 items of new.csv have no path of positive pairs to an item of version 1: "
        "left out ('foo', 'bar')",
        "Note: 1 pair between items of version 1 ignored: their vectors do not move (train a "
        "new version to take them in)"]
    shown = json.loads(run("extend", str(write("more.csv", "tiger,lion\n")), "--from", "2",
                           "--json", "--quiet").stdout)
    assert (shown["origin"], shown["parent"], shown["n_items"]) == ("extend", 2, 11)
    assert set(shown["files"]) == {"vectors", "norms", "pairs", "weights"}
    assert "tiger" in run("similar", "lion", "--k", "10").stdout
    assert run("verify").stdout.count(": ok") == 3


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_the_parents_index_is_extended_not_rebuilt(run: Run, write: Write, store: Path,
                                                   kind: str) -> None:
    pytest.importorskip("faiss" if kind == "ivf" else "usearch")
    run("train", str(DATA / "sample.csv"), "--quiet")
    assert run("index", "build", "--kind", kind, "--threads", "1", "--quiet").exit_code == 0
    result = run("extend", str(write("new.csv", "kitty,cat\nkitty,kitten\n")), "--quiet")
    assert result.exit_code == 0, result.output
    info = json.loads(run("info", "--json").stdout)
    parent = json.loads(run("info", "--version", "1", "--json").stdout)
    assert info["index"]["settings"] == parent["index"]["settings"]
    answer = json.loads(run("similar", "kitty", "--k", "3", "--json").stdout)
    assert answer["approximate"] is True
    assert {n["item"] for n in answer["results"]} & {"cat", "kitten"}
    index_path = store / info["index"]["path"]
    if kind == "ivf":
        import faiss

        index, old = (faiss.read_index(str(path)) for path in
                      (index_path, store / parent["index"]["path"]))
        assert index.ntotal == old.ntotal + 1
        centres = [faiss.rev_swig_ptr(faiss.downcast_index(i.quantizer).get_xb(),
                                      i.nlist * i.d).copy() for i in (index, old)]
        assert np.array_equal(*centres)  # the lists are the parent's, not trained again
    assert run("verify").stdout.count(": ok") == 2


BAD = {
    "an empty store": ([], "no store at"),
    "a model with no versions": (["--model", "nothing"], "no model 'nothing'"),
    "an unknown --from": (["--from", "7"], "has no version 7; its versions are 1"),
    "an unknown alias": (["--from", "prod"], "has no version or alias 'prod'"),
    "no new item": ([], "every item is in model 'default' version 1 already"),
    "no reachable item": ([], "none of its 2 new items has a path of positive pairs"),
    "a missing file": ([], "missing.csv: file not found"),
    "a bad row": ([], "line 2: expected 2 or 3 columns"),
    "an imported version": (["--model", "imported"], "was imported from a vector file"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_1_and_the_store_unchanged(run: Run, write: Write,
                                                              store: Path, case: str) -> None:
    if case != "an empty store":
        run("train", str(DATA / "animals.csv"), "--quiet")
        run("import", str(write("vectors.txt", "2 2\na 1 0\nb 0 1\n")), "--model",
            "imported")
    pairs = {"no new item": "cat,dog\n", "no reachable item": "x,y\n",
             "a missing file": None, "a bad row": "lion,cat\nlion,cat,1,2\n"}.get(
        case, "lion,cat\nc,a\n")
    path = write("new.csv", pairs) if pairs is not None else store.parent / "missing.csv"
    before = store_state(store)
    args, message = BAD[case]
    result = run("extend", str(path), *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert store_state(store) == before
