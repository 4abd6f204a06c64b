"""The approximate index: built as a derived file of a version, answering through the search
seam, exact answers one flag away, and looked after by verify, rm and gc."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import embedstore
from embedstore.errors import NotFoundError, StoreError
from embedstore.query.indexing import build_index, remove_index
from embedstore.store import INDEXES_DIR, TMP_DIR, Store
from embedstore.store.registry import garbage_collect, verify

pytest.importorskip("usearch", reason="the ann extra is not installed")
pytest.importorskip("faiss", reason="the ann extra is not installed")

KINDS = ["ivf", "hnsw"]
LIBRARIES = {"ivf": "faiss", "hnsw": "usearch"}
N_ITEMS, DIM, CENTRES = 3000, 24, 60


def clustered(seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Items around a few dozen centres: every item has true near neighbours."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CENTRES, DIM))
    vectors = centres[rng.integers(0, CENTRES, N_ITEMS)] + 0.35 * rng.standard_normal(
        (N_ITEMS, DIM))
    return [f"item{i}" for i in range(N_ITEMS)], vectors.astype(np.float32)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def indexed(store: Path, kind: str) -> Path:
    items, vectors = clustered()
    embedstore.publish_vectors(items, vectors, store=store)
    build_index(store, kind=kind, threads=1)
    return store


def neighbours(answers: list[embedstore.Neighbor]) -> list[str]:
    return [n.item for n in answers]


def test_recall_against_exact_on_clustered_items(indexed: Path) -> None:
    queries = [f"item{i}" for i in range(0, N_ITEMS, 37)]
    with embedstore.open(indexed) as vectors:
        assert vectors.approximate() and not vectors.approximate(exact=True)
        found = 0
        for item in queries:
            approximate = vectors.similar(item, k=10)
            exact = vectors.similar(item, k=10, exact=True)
            found += len(set(neighbours(approximate)) & set(neighbours(exact)))
            exact_scores = {n.item: n.score for n in exact}
            for n in approximate:  # scores are exact cosines, rescored from the vectors
                if n.item in exact_scores:
                    assert n.score == pytest.approx(exact_scores[n.item], abs=1e-5)
    assert found / (10 * len(queries)) >= 0.95


def test_query_items_are_left_out_and_restrict_holds(indexed: Path) -> None:
    with embedstore.open(indexed) as vectors:
        for i in range(0, N_ITEMS, 101):
            item = f"item{i}"
            assert item not in neighbours(vectors.similar(item, k=20))
            basket = [f"item{i}", f"item{(i + 1) % N_ITEMS}"]
            answer = neighbours(vectors.similar(*basket, minus=["item7"], k=15))
            assert len(answer) == 15 and not set(answer) & {*basket, "item7"}
            a, b, c = f"item{i}", f"item{(i + 5) % N_ITEMS}", f"item{(i + 9) % N_ITEMS}"
            assert not set(neighbours(vectors.analogy(a, b, c, k=10))) & {a, b, c}
            restricted = neighbours(vectors.similar(item, k=10, restrict=2000))
            assert len(restricted) == 10
            assert all(int(name[4:]) < 2000 and name != item for name in restricted)
        # so few candidates that exact search is cheaper: the whole, exact answer
        assert vectors.similar("item3", k=5, restrict=40) == vectors.similar(
            "item3", k=5, restrict=40, exact=True)
        assert neighbours(vectors.similar("item0", k=N_ITEMS)) == neighbours(
            vectors.similar("item0", k=N_ITEMS, exact=True))  # every row but the query


def test_exact_answers_equal_those_before_the_index(run: Callable[..., Result],
                                                    store: Path, kind: str) -> None:
    items, vectors = clustered(1)
    embedstore.publish_vectors(items, vectors, store=store)
    questions = [("similar", "item5", "--k", "7"), ("similar", "item9", "item2", "--minus",
                                                     "item4", "--restrict", "500"),
                 ("analogy", "item1", "item2", "item3", "--k", "4")]
    before = [json.loads(run(*q, "--json").output) for q in questions]
    assert {answer["approximate"] for answer in before} == {False}
    assert run("index", "build", "--kind", kind, "--threads", "1", "--quiet").exit_code == 0
    after = [json.loads(run(*q, "--json", "--exact").output) for q in questions]
    assert after == before
    approximate = [json.loads(run(*q, "--json").output) for q in questions]
    assert {answer["approximate"] for answer in approximate} == {True}


def test_batch_lines_choose_exact_and_say_approximate(indexed: Path,
                                                      run: Callable[..., Result]) -> None:
    lines = [{"op": "similar", "item": "item3", "k": 3, "id": 1},
             {"op": "similar", "item": "item3", "k": 3, "id": 2, "exact": True},
             {"op": "analogy", "a": "item1", "b": "item2", "c": "item3", "method": "mul"},
             {"op": "vector", "item": "item1"},
             {"op": "similar", "item": "item3", "exact": "yes"}]
    result = run("batch", "-", input="\n".join(json.dumps(line) for line in lines))
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a.get("approximate") for a in answers] == [True, False, False, False, None]
    assert answers[4]["error"] == "line 5: exact must be true or false"
    assert not {"item3"} & {r["item"] for r in answers[0]["results"]}
    everything_exact = run("batch", "-", "--exact", input=json.dumps(lines[0]))
    assert json.loads(everything_exact.output)["approximate"] is False


def test_train_and_import_build_the_index(run: Callable[..., Result], store: Path,
                                          tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[2] / "data"
    assert run("train", str(data / "sample.csv"), "--index", "--quiet").exit_code == 0
    vec = tmp_path / "small.vec"
    vec.write_text("3 2\na 1 0\nb 0.9 0.1\nc 0 1\n", encoding="utf-8")
    assert run("import", str(vec), "--model", "small", "--index").exit_code == 0
    for model in ("default", "small"):
        info = json.loads(run("info", "--model", model, "--json").output)
        assert info["index"]["library"] == "faiss"  # the default kind
        assert info["index"]["settings"]["kind"] == "ivf"
        assert (store / info["index"]["path"]).is_file()
    answer = json.loads(run("similar", "a", "--model", "small", "--json").output)
    assert answer["approximate"] is True
    assert [r["item"] for r in answer["results"]] == ["b", "c"]


def test_a_build_with_one_thread_is_the_same_every_time(store: Path, kind: str) -> None:
    items, vectors = clustered(2)
    embedstore.publish_vectors(items, vectors, store=store)
    first = build_index(store, kind=kind, threads=1).index
    second = build_index(store, kind=kind, threads=1).index
    assert first.sha256 == second.sha256 and first.path != second.path
    assert sorted(p.name for p in (store / INDEXES_DIR).iterdir()) == [Path(second.path).name]
    if kind == "ivf":  # another k-means seed makes other lists
        assert build_index(store, seed=1, threads=1).index.sha256 != first.sha256


def test_verify_finds_a_damaged_index_and_opening_refuses_a_truncated_one(indexed: Path
                                                                         ) -> None:
    with Store.open(indexed) as handle:
        assert [r.problems for r in verify(handle)] == [[]]
        record = handle.index_record(handle.version_info("default"))
    assert record is not None
    path = indexed / record.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with Store.open(indexed) as handle:
        assert verify(handle)[0].problems == [
            f"index {record.path} checksum differs from the one recorded"]
    path.write_bytes(bytes(data[:-10]))
    with pytest.raises(StoreError, match="index of model 'default' version 1 is damaged"):
        embedstore.open(indexed)
    remove_index(indexed)
    with embedstore.open(indexed) as vectors:  # the version itself was never touched
        assert not vectors.approximate() and len(vectors.similar("item1", k=3)) == 3


def test_index_rm_version_rm_and_gc_remove_index_files(indexed: Path, kind: str,
                                                       run: Callable[..., Result]) -> None:
    index_dir = indexed / INDEXES_DIR
    assert len(list(index_dir.iterdir())) == 1
    assert run("index", "rm", "1").exit_code == 0
    assert list(index_dir.iterdir()) == []
    with pytest.raises(NotFoundError, match="has no index"):
        remove_index(indexed)
    build_index(indexed, kind=kind)
    orphans = [index_dir / "0123.usearch", indexed / TMP_DIR / "4567.faiss"]
    for orphan in orphans:
        orphan.write_bytes(b"left by a crash")
    with Store.open(indexed) as handle:
        collected = garbage_collect(handle)
    assert sorted(collected.paths) == [f"{INDEXES_DIR}/0123.usearch", f"{TMP_DIR}/4567.faiss"]
    assert len(list(index_dir.iterdir())) == 1  # the owned index stays
    assert run("rm", "1").exit_code == 0
    assert list(index_dir.iterdir()) == []


def test_an_index_sits_behind_the_search_seam(indexed: Path) -> None:
    from embedstore.query.ann import IndexSearcher

    with embedstore.open(indexed) as vectors:
        assert isinstance(vectors.searcher, IndexSearcher)
        rows, scores = vectors.searcher.nearest(vectors.row_vectors([4, 5]), 3, [[4], [5]])
        assert [len(r) for r in rows] == [3, 3] and 4 not in rows[0] and 5 not in rows[1]
        assert all(np.all(np.diff(s) <= 0) for s in scores)


def test_the_server_routes_say_whether_the_index_answered(indexed: Path) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from embedstore_server import Settings

    from tests.server.test_server_live import in_process

    similar = "/v1/models/default/similar?item=item3&k=4"
    analogy = "/v1/models/default/analogy?a=item1&b=item2&c=item3&k=4"
    answers = in_process(Settings(store=indexed), (similar, {}), (similar + "&exact=true", {}),
                         (analogy, {}), (analogy + "&method=mul", {}))
    assert [a.status_code for a in answers] == [200] * 4
    bodies = [a.json() for a in answers]
    assert [b["approximate"] for b in bodies] == [True, False, True, False]
    with embedstore.open(indexed) as vectors:
        exact = vectors.similar("item3", k=4, exact=True)
    assert bodies[1]["results"] == [{"item": n.item, "score": n.score} for n in exact]
    assert "item3" not in {r["item"] for r in bodies[0]["results"]}


def test_only_a_version_with_an_index_loads_its_library(indexed: Path, kind: str,
                                                         tmp_path: Path) -> None:
    import subprocess
    import sys

    plain = tmp_path / "plain"
    embedstore.publish_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32), store=plain)
    script = ("import sys, embedstore\n"
              "with embedstore.open(sys.argv[1]) as vectors:\n"
              "    vectors.similar(sys.argv[2], k=2)\n"
              "print('faiss' in sys.modules, 'usearch' in sys.modules)")
    loaded = [subprocess.run([sys.executable, "-c", script, str(path), item], check=True,
                             capture_output=True, text=True).stdout.strip()
              for path, item in ((plain, "a"), (indexed, "item1"))]
    assert loaded == ["False False", "True False" if kind == "ivf" else "False True"]


def test_the_server_sees_an_index_built_or_removed_by_another_process(indexed: Path,
                                                                     kind: str) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from embedstore_server.access import StoreAccess

    access = StoreAccess(indexed)
    with access.version("default", None) as vectors:
        assert vectors.approximate()
    remove_index(indexed)
    with access.version("default", None) as vectors:
        assert not vectors.approximate()
    build_index(indexed, kind=kind)
    with access.version("default", None) as vectors:
        assert vectors.approximate()


def test_settings_of_the_other_kind_are_refused_in_one_line(run: Callable[..., Result],
                                                            store: Path) -> None:
    items, vectors = clustered()
    embedstore.publish_vectors(items, vectors, store=store)
    for args, message in (
            (["--connectivity", "8"], "--connectivity is a setting of --kind hnsw"),
            (["--kind", "hnsw", "--probes", "4"], "--probes is a setting of --kind ivf"),
            (["--lists", "4000"], "--lists must be between 1 and the version's 3000 items")):
        result = run("index", "build", *args)
        assert result.exit_code != 0 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (store / INDEXES_DIR).exists() or list((store / INDEXES_DIR).iterdir()) == []


def test_ivf_settings_are_recorded_and_lists_follow_the_items(run: Callable[..., Result],
                                                              store: Path) -> None:
    items, vectors = clustered()
    embedstore.publish_vectors(items, vectors, store=store)
    built = json.loads(run("index", "build", "--quiet", "--json").output)["index"]
    assert built["library"] == "faiss" and built["path"].endswith(".faiss")
    settings = built["settings"]
    # 4 x sqrt(3000) is about 219: 256 lists, halved until each averages 39 items or more
    assert (settings["kind"], settings["lists"], settings["probes"], settings["seed"]) == (
        "ivf", 64, 32, 0)
    chosen = json.loads(run("index", "build", "--lists", "8", "--probes", "2", "--seed", "3",
                            "--quiet", "--json").output)["index"]["settings"]
    assert (chosen["lists"], chosen["probes"], chosen["seed"]) == (8, 2, 3)
    with embedstore.open(store) as opened:  # few probes of few lists: still k answers
        assert len(opened.similar("item1", k=10, restrict=1500)) == 10


def test_an_index_recorded_without_a_kind_is_read_as_hnsw(store: Path) -> None:
    """Stores written before IVF existed record no kind: their indexes still answer."""
    items, vectors = clustered()
    embedstore.publish_vectors(items, vectors, store=store)
    build_index(store, kind="hnsw", threads=1)
    with Store.open(store) as handle:
        record = handle.index_record(handle.version_info("default"))
        assert record is not None
        old = {k: v for k, v in record.settings.items() if k != "kind"}
        with handle.write_transaction() as connection:
            connection.execute("UPDATE indexes SET settings = ?", [json.dumps(old)])
    with embedstore.open(store) as opened:
        assert opened.approximate()
        assert neighbours(opened.similar("item1", k=5)) == neighbours(
            opened.similar("item1", k=5, exact=True))


def test_the_help_states_the_defaults_the_index_is_built_with(
        run: Callable[..., Result]) -> None:
    """`embed index build --help` names the defaults the library applies."""
    from embedstore.query.ann import hnsw, ivf

    help_text = " ".join(run("index", "build", "--help").output.split())
    assert ("lists searched per query (more: better recall, slower queries) [default: "
            f"{ivf.DEFAULT_PROBES}]") in help_text
    assert ("graph edges per item (more: better recall, larger index, slower build) "
            f"[default: {hnsw.DEFAULT_CONNECTIVITY}]") in help_text
