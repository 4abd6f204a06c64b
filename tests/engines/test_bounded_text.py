"""Counting a corpus and PPMI + SVD within a memory limit: spilled counts and PPMI blocks on
disk give the same pair file and the same vectors, bit for bit, as the in-memory run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

import embedstore
import embedstore.engines.bounded.counts
from embedstore.counting.token_ids import corpus_from_sentences
from embedstore.counting.windows import write_pair_file
from embedstore.engines.bounded.text_counts import DiskCooccurrence, count_text_within
from embedstore.errors import InputError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import read_parquet_pairs
from embedstore.schema import TextOptions
from embedstore.training.pipeline import train_file
from embedstore.training.sources import count_text

LIMIT = "16MB"


def corpus(path: Path, lines: int = 1500, seed: int = 5) -> Path:
    """Lines of Zipf-distributed tokens, with two topics that co-occur within a line."""
    rng = np.random.default_rng(seed)
    text = []
    for _ in range(lines):
        topic = rng.integers(2)
        tokens = rng.zipf(1.3, rng.integers(3, 14)) % 150 * 2 + topic
        text.append(" ".join(f"w{token}" for token in tokens))
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny_budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Under a limit of 16MB, budgets so small that this corpus spills while counting and its
    PPMI matrix is built on disk and read in many blocks; above it, everything in memory."""
    def tiny(limit: int) -> bool:
        return limit <= 16 * 10**6

    monkeypatch.setattr("embedstore.engines.bounded.text_counts.merge_keys_for",
                        lambda limit: 500 if tiny(limit) else 10**9)
    monkeypatch.setattr("embedstore.engines.bounded.text_counts.block_bytes_for",
                        lambda limit: 2000 if tiny(limit) else 1 << 20)
    monkeypatch.setattr("embedstore.engines.bounded.counts.ppmi_fits",
                        lambda pairs, limit: not tiny(limit))
    monkeypatch.setattr("embedstore.engines.bounded.disk_rows.BLOCK_SHARE", 1e-5)
    streamed: list[int] = []
    original = embedstore.engines.bounded.counts.disk_ppmi

    def recorded(cooc: object, settings: object, limit: int, *rest: object) -> object:
        streamed.append(limit)
        return original(cooc, settings, limit, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr("embedstore.engines.bounded.counts.disk_ppmi", recorded)
    yield streamed


def test_spilled_counts_are_the_in_memory_counts(tmp_path: Path, tiny_budgets: list[int]) -> None:
    path = corpus(tmp_path / "c.txt")
    unbounded = count_text(path, min_count=2)
    with count_text_within(path, memory_limit=16 * 10**6, min_count=2) as spilled:
        assert isinstance(spilled, DiskCooccurrence)
        loaded = spilled.load()
    assert loaded.items == unbounded.items
    for name in ("item_counts", "left", "right", "weight"):
        assert np.array_equal(getattr(loaded, name), getattr(unbounded, name)), name


def test_pairs_file_under_a_tiny_limit_is_the_same(tmp_path: Path, tiny_budgets: list[int]) -> None:
    path = corpus(tmp_path / "c.txt")
    runner = CliRunner()
    for name, extra in (("free.csv", []), ("bounded.csv", ["--memory-limit", LIMIT])):
        result = runner.invoke(cli, ["pairs", str(path), "-o", str(tmp_path / name),
                                     "--min-count", "2", "--quiet", *extra])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "bounded.csv").read_bytes() == (tmp_path / "free.csv").read_bytes()
    assert result.output.startswith("wrote ") and "pairs of" in result.output


@pytest.mark.parametrize("extra", [[], ["--context-vectors", "--eigen-weight", "0.5"]])
def test_train_text_under_a_tiny_limit_gives_the_same_vectors(
        tmp_path: Path, tiny_budgets: list[int], extra: list[str]) -> None:
    path = corpus(tmp_path / "c.txt")
    runner = CliRunner()
    vectors = []
    for limit in ([], ["--memory-limit", LIMIT]):
        store = tmp_path / f"store{len(limit)}"
        result = runner.invoke(cli, ["--store", str(store), "train", str(path), "--text",
                                     "--method", "svd", "--min-count", "2", "--dim", "12",
                                     "--seed", "4", "--quiet", *extra, *limit])
        assert result.exit_code == 0, result.output
        with embedstore.open(store) as opened:
            vectors.append(opened.row_vectors(list(range(len(opened)))))
    assert vectors[0].shape[1] == 12 and np.abs(vectors[0]).sum() > 0
    assert tiny_budgets == [16 * 10**6]  # only the bounded run built its PPMI on disk
    assert vectors[0].tobytes() == vectors[1].tobytes()


def test_every_long_step_reports_progress(tmp_path: Path, tiny_budgets: list[int]) -> None:
    path = corpus(tmp_path / "c.txt")
    stages: list[str] = []
    train_file(path, text=True, store=tmp_path / "s", memory_limit=16 * 10**6,
               given={"dim": 6, "epochs": 1}, progress=lambda stage, *_: stages.append(stage))
    seen = set(stages)
    assert {"vocabulary", "counting", "spilling", "aggregating", "ppmi", "svd"} <= seen
    assert {"svd pass 1", "svd pass 8"} <= seen  # 3 power iterations: 8 products
    assert "training" in seen  # the skip-gram stage of the default svd+sgns
    assert not list((tmp_path / "s").glob("embedstore-count-*"))


def test_other_methods_take_spilled_pairs_back_into_memory(tmp_path: Path,
                                                          tiny_budgets: list[int]) -> None:
    path = corpus(tmp_path / "c.txt")
    records = [train_file(path, text=True, store=tmp_path / "s", method="propagate",
                          memory_limit=limit, given={"dim": 6}) for limit in (None, 16 * 10**6)]
    vectors = []
    for record in records:
        with embedstore.open(tmp_path / "s", version=record.version) as opened:
            vectors.append(opened.row_vectors(list(range(len(opened)))))
    assert vectors[0].tobytes() == vectors[1].tobytes()
    assert any("loaded back" in note for note in records[1].notes)


def test_spilling_without_duckdb_says_what_to_install(tmp_path: Path, tiny_budgets: list[int],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)
    path = corpus(tmp_path / "c.txt")
    with pytest.raises(InputError, match=r"pip install 'embedstore\[scale\]'"):
        count_text_within(path, memory_limit=16 * 10**6, min_count=2)
    result = CliRunner().invoke(cli, ["pairs", str(path), "-o", str(tmp_path / "p.csv"),
                                      "--memory-limit", LIMIT])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "embedstore[scale]" in result.output


def test_svd_of_a_pair_file_streams_from_disk_to_the_same_vectors(
        tmp_path: Path, tiny_budgets: list[int]) -> None:
    path = tmp_path / "pairs.csv"
    counted = count_text(corpus(tmp_path / "c.txt"), min_count=2)
    write_pair_file(counted, path)
    runner = CliRunner()
    vectors = []
    for limit in ([], ["--memory-limit", LIMIT]):
        store = tmp_path / f"store{len(limit)}"
        result = runner.invoke(cli, ["--store", str(store), "train", str(path), "--method",
                                     "svd", "--dim", "10", "--quiet", *limit])
        assert result.exit_code == 0, result.output
        with embedstore.open(store) as opened:
            vectors.append(opened.row_vectors(list(range(len(opened)))))
    assert tiny_budgets == [16 * 10**6]
    assert vectors[0].tobytes() == vectors[1].tobytes()


def test_parquet_pairs_under_a_tiny_limit_stream_the_pairs_of_the_csv_file(
        tmp_path: Path, tiny_budgets: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Spilled counts go to Parquet chunk by chunk, never loaded whole: the file reads back
    to the CSV file's pairs, pair for pair, and is the file the in-memory writer writes."""
    def refused(self: object) -> None:
        raise AssertionError("the spilled pairs were loaded into memory")

    monkeypatch.setattr(DiskCooccurrence, "load", refused)
    monkeypatch.setattr("embedstore.inputs.parquet.SHARD_ROWS", 700)  # several row groups
    path = corpus(tmp_path / "c.txt")
    runner = CliRunner()
    for name, extra in (("free.parquet", []), ("bounded.parquet", ["--memory-limit", LIMIT]),
                        ("bounded.csv", ["--memory-limit", LIMIT]),
                        ("shards/", ["--memory-limit", LIMIT])):
        result = runner.invoke(cli, ["pairs", str(path), "-o", f"{tmp_path}/{name}",
                                     "--min-count", "2", "--quiet", *extra])
        assert result.exit_code == 0, result.output
    expected = read_pairs(tmp_path / "bounded.csv", min_count=0)
    assert expected.n_pairs > 2000
    for name in ("bounded.parquet", "shards"):
        found = read_parquet_pairs(tmp_path / name, min_count=0)
        assert found.items == expected.items
        for column in ("item_counts", "left", "right", "weight"):
            assert np.array_equal(getattr(found, column), getattr(expected, column)), column
    assert len(list((tmp_path / "shards").glob("part-*.parquet"))) == -(-expected.n_pairs // 700)
    assert (tmp_path / "bounded.parquet").read_bytes() == \
        (tmp_path / "free.parquet").read_bytes()


def test_kept_counts_of_spilled_pairs_are_written_piece_by_piece(
        tmp_path: Path, tiny_budgets: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The version's pairs.npy and weights.npy are appended to, never memory-mapped (written
    pages of a map stay in memory), and hold what np.save writes for the counts."""
    def refused(*args: object, **options: object) -> None:
        raise AssertionError("the kept counts were written through a memory map")

    monkeypatch.setattr("numpy.lib.format.open_memmap", refused)
    monkeypatch.setattr("embedstore.counting.kept.WRITE_ROWS", 300)
    path = corpus(tmp_path / "c.txt")
    counted = count_text(path, min_count=2)
    record = train_file(path, text=True, store=tmp_path / "s", memory_limit=16 * 10**6,
                        reading=TextOptions(min_count=2), given={"dim": 4})
    expected = tmp_path / "expected"
    expected.mkdir()
    np.save(expected / "pairs.npy", np.column_stack([counted.left, counted.right])
            .astype(np.int32))
    np.save(expected / "weights.npy", counted.weight)
    for key in ("pairs", "weights"):
        kept = tmp_path / "s" / record.files[key].path
        assert kept.read_bytes() == (expected / f"{key}.npy").read_bytes(), key


def test_spilled_counts_go_through_duckdb_without_loading_pandas(tmp_path: Path) -> None:
    """pyarrow's conversions import pandas when it is installed (about 37 MB of resident
    memory, most of the headroom of a run under 256MB): spilled counts go to DuckDB and come
    back by their buffers instead. In a fresh process, as other tests load pandas."""
    pytest.importorskip("pandas")
    path = corpus(tmp_path / "c.txt")
    script = (
        "import sys\n"
        "import embedstore.engines.bounded.text_counts as counting\n"
        "counting.merge_keys_for = lambda limit: 500\n"
        f"with counting.count_text_within({str(path)!r}, memory_limit=16 * 10**6,\n"
        "                                min_count=2) as spilled:\n"
        "    assert isinstance(spilled, counting.DiskCooccurrence)\n"
        "    assert spilled.load().n_pairs > 500\n"
        "print('pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_kept_corpus_is_handed_over_once(tmp_path: Path) -> None:
    """The method that streams the corpus takes it; the counts then no longer hold it, so its
    tokens (4 bytes each) are not in memory while the version is published."""
    path = corpus(tmp_path / "c.txt")
    kept = corpus_from_sentences([[0, 1], [1, 0]])
    counts = embedstore.engines.bounded.counts.BoundedCounts(
        count_text(path, min_count=2), 16 * 10**6, text_corpus=kept)
    assert counts.corpus() is kept
    assert counts.corpus() is None


def test_svd_sgns_under_a_tiny_limit_gives_the_same_vectors_on_one_thread(
        tmp_path: Path, tiny_budgets: list[int]) -> None:
    """The default method for text: counts spilled to DuckDB and a PPMI matrix on disk give
    the SVD stage's start and then skip-gram's vectors bit for bit (one thread)."""
    pytest.importorskip("numba")
    path = corpus(tmp_path / "c.txt")
    vectors = []
    for limit in (None, 16 * 10**6):
        record = train_file(path, text=True, store=tmp_path / "s", method="svd+sgns",
                            memory_limit=limit, quiet=True, reading=TextOptions(min_count=2),
                            given={"dim": 8, "threads": 1, "epochs": 1})
        with embedstore.open(tmp_path / "s", version=record.version) as opened:
            vectors.append(opened.row_vectors(list(range(len(opened)))))
    assert tiny_budgets == [16 * 10**6]  # only the bounded run spilled and built PPMI on disk
    assert vectors[0].tobytes() == vectors[1].tobytes()
