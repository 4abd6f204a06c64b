"""Mutation testing of the core: how many small deliberate bugs the tests catch, per module.

mutmut 3 (``pip install 'mutmut>=3.8,<4'``) puts each mutant behind a switch in a copy of the
code and runs, for each mutant, only the tests that call the function it changed, forked from
one warm pytest process (no new interpreter, no new imports per mutant). This script runs it
once per group of modules, each group with only its own test files, in a staging copy of the
repository under ``--workdir``: the CLI and the server are laid out there under the names they
install as (``embedstore_cli``, ``embedstore_server``), so the tests import the mutated copy.
A mutant *survives* when every test still passes with it; the score of a module is killed
among killed + survived + not reached by any test (a timeout counts as killed; a mutant whose
test process died of a signal is shown as crashed and counts in neither, as a forked process
can crash for reasons of its own, such as OpenMP threads started before the fork;
mutants shown equivalent count in none: those listed in :data:`EQUIVALENT` with the reason,
and those that only change the letter case of SQL, which SQLite and DuckDB read in any case).

Usage::

    nice -n 15 python benchmarks/mutation.py --workdir work/mutation            # every group
    nice -n 15 python benchmarks/mutation.py --workdir work/mutation names server
    python benchmarks/mutation.py --workdir work/mutation --report             # figures only

The per-module figures are printed as a Markdown table; ``--survivors`` also prints the diff
of each surviving mutant (``mutmut show``), for reading. Each run of a group starts afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "names": (["embedstore/names.py"], ["tests/test_names.py"]),
    "server": (["embedstore_server/auth.py", "embedstore_server/errors.py"],
               ["tests/server/test_auth.py", "tests/server/test_errors.py",
                "tests/server/test_server_live.py::"
                "test_an_unexpected_error_answers_one_line_500_and_logs"]),
    "query": (["embedstore/query/search.py", "embedstore/query/scoring.py",
               "embedstore/query/rescoring.py", "embedstore/query/results.py"],
              ["tests/query/test_search.py", "tests/query/test_scoring.py",
               "tests/query/test_rescoring.py", "tests/query/test_results.py",
               "tests/query/test_embeddings.py", "tests/query/test_similar_many.py",
               "tests/query/test_batch.py"]),
    "inputs": (["embedstore/inputs/pair_rows.py", "embedstore/inputs/pair_file.py",
                "embedstore/inputs/parquet.py", "embedstore/inputs/pieces.py",
                "embedstore/engines/bounded/pair_aggregation.py"],
               ["tests/inputs/test_pair_rows.py", "tests/inputs/test_pair_file.py",
                "tests/inputs/test_parquet.py", "tests/inputs/test_hostile_pair_files.py",
                "tests/inputs/test_pieces.py",
                "tests/inputs/test_pair_rows_everywhere.py::"
                "test_a_long_file_cut_into_many_pieces_reads_alike",
                "tests/engines/test_pair_aggregation.py"]),
    "store": (["embedstore/store/*.py"],
              ["tests/store/test_store.py", "tests/store/test_registry.py",
               "tests/store/test_migrations.py", "tests/store/test_faults.py",
               "tests/store/test_vocabulary.py", "tests/store/test_files.py",
               "tests/query/test_ann.py", "tests/query/test_embeddings.py"]),
}
"""Each group: the modules mutated (as laid out in the staging copy) and the tests run: the
tests of those modules, less the few that take many seconds each (Dask clusters, process
crashes, every step of every write), which would be run again for nearly every mutant."""
EQUIVALENT = {
    "embedstore.names.x_parse_version__mutmut_13":
        "a 20-digit reference instead of 19 passes the length guard, but int(text) > "
        "MAX_VERSION refuses it all the same: the guard only spares int() a huge string",
    "embedstore_server.auth.x_key_check__mutmut_6":
        "a missing header compared as 'XXXX' rather than '': only a key spelled XXXX tells "
        "them apart (an empty key, the one the original would match, is refused by Settings)",
    **{f"embedstore.query.scoring.x_top_k_rows__mutmut_{n}":
       "zip(..., strict=True) made lax: the sequences zipped have one length by construction"
       for n in (8, 10, 11, 123, 126, 127)},
    **{f"embedstore.query.scoring.x_top_k_rows__mutmut_{n}":
       "> for >= at the sampled threshold: when k cells still pass, the k best are among "
       "them; when fewer pass, the row is partitioned exactly, as before"
       for n in (54, 78)},
    **{f"embedstore.query.scoring.x_top_k_rows__mutmut_{n}":
       "<= for < in 'fewer than k passed': a row with exactly k is partitioned exactly, "
       "with the same answer" for n in (56, 91)},
    **{f"embedstore.query.scoring.x_top_k_rows__mutmut_{n}":
       "no cell taken from the sampled threshold: every row is partitioned exactly, with "
       "the same answer" for n in (53, 77)},
    **{f"embedstore.query.search.x__pool__mutmut_{n}":
       "the name of the pool's threads, which only a debugger shows" for n in (4, 6, 7, 8)},
    **{f"embedstore.query.scoring.x_top_k_thresholds__mutmut_{n}":
       "how the sampled threshold is read (sample size, rank, when to partition every row, "
       "the default axis): only how many cells pass it changes, and a row where fewer than k "
       "pass is partitioned exactly" for n in (6, 11, 14, 21, 22, 23, 25, 26, 27, 28, 29, 35,
                                                46)},
    **{f"embedstore.query.rescoring.x_exclude_cells__mutmut_{n}":
       "zip(..., strict=True) made lax: rows and columns come in pairs" for n in (9, 11, 12)},
    **{f"embedstore.query.rescoring.x_shortlist__mutmut_{n}":
       "a row scanned exactly a little more often, or a cell exactly at the floor left out: "
       "the floor is the k-th best less a margin 8 times the worst rounding, so no cell at "
       "it can be among the best k" for n in (75, 76, 79, 81)},
    **{f"embedstore.store.files.x_write_rows__mutmut_{n}":
       "how the rows are copied (reshape(-2) flattens as reshape(-1) does, blocks of at "
       "least 2 elements, the bytes viewed signed): the same bytes are written and hashed"
       for n in (37, 43, 57)},
    **{f"embedstore.store.registry.x__verify_one__mutmut_{n}":
       "np.load without mmap_mode or with allow_pickle=None: the file is read whole rather "
       "than mapped, and pickles stay refused (None is false)" for n in (33, 34, 36, 37)},
    **{f"embedstore.store.files.xǁFilesǁstarting_vectors__mutmut_{n}":
       "the mask built without dtype=bool from a list of bools: numpy makes it bool anyway"
       for n in (17, 19)},
    "embedstore.store.catalog.xǁCatalogǁset_alias__mutmut_27":
        "the case of an SQL assignment (updated = excluded.updated): SQLite reads names in "
        "any case",
    "embedstore.store.vocabulary.xǁVocabularyǁclose_items__mutmut_36":
        "difflib's cutoff left to its default, which is 0.6",
    "embedstore.query.scoring.x_top_k_rows__mutmut_88":
        "bincount without minlength: every row has a cell at or above its own threshold (the "
        "threshold is one of its cells), so the counts have a slot for every row anyway",
    "embedstore.query.scoring.x_top_k_rows__mutmut_98":
        "np.partition without axis=1: the default axis, -1, is axis 1 of a 2-D array",
    **{f"embedstore.query.rescoring.{name}__mutmut_{n}":
       "a dtype left to the input: the other operand is float64, so numpy computes in double "
       "precision all the same" for name, numbers in (
           ("x_exact_cosines", (3, 5, 17, 19)), ("x_rescored_top_k", (3, 5)))
       for n in numbers},
    **{f"embedstore.query.rescoring.x_rescored_top_k__mutmut_{n}":
       "zip(..., strict=True) made lax: starts and sizes have one length by construction"
       for n in (82, 85, 86, 94, 97, 98)},
    **{f"embedstore.query.rescoring.x_rescored_top_k__mutmut_{n}":
       "the dtype of an empty array that only exists when there are no shortlists at all, "
       "whose answer is two empty lists" for n in (28, 30)},
    **{f"embedstore.query.rescoring.x_shortlist__mutmut_{n}":
       "the sampled threshold made useless or stricter (no cells, > for >=, a row's slice "
       "empty): the row is then scanned exactly, with the same shortlist"
       for n in (25, 26, 50, 55)},
    "embedstore.query.rescoring.x_shortlist__mutmut_37":
        "bincount without minlength: every row has a cell at or above its own threshold",
    **{f"embedstore.query.search.xǁExactSearcherǁ_scratch_scores__mutmut_{n}":
       "the reused buffer of one target's scores not reused: a new one is allocated, the "
       "scores are the same" for n in (1, 2, 7, 8, 9, 10, 15)},
    **{f"embedstore.query.search.xǁExactSearcherǁ_shortlists__mutmut_{n}":
       "no buffer handed to the product, or one for every product: it is only a place to "
       "write the same scores" for n in (43, 44, 45, 46, 47, 52, 56)},
    **{f"embedstore.query.scoring.x_ranking_scores__mutmut_{n}":
       "the buffer for a single query's scores not used: the same scores in a new array"
       for n in (2, 3, 8, 11)},
    **{f"embedstore.query.search.xǁExactSearcherǁ_shortlists__mutmut_{n}":
       "how products are cut into blocks and over threads (block size at least 2, split "
       "below the threshold too, pools of other sizes): the same shortlists, found in other "
       "pieces" for n in (7, 11, 12, 13, 14, 24, 25, 27, 90, 91)},
    **{f"embedstore.query.search.xǁExactSearcherǁ_shortlists__mutmut_{n}":
       "exclusions shifted into a block even when there is one block, or one past its end: "
       "exclude_cells ignores columns out of range" for n in (37, 39, 42)},
    **{f"embedstore.query.search.x__pool__mutmut_{n}":
       "a pool of the default size rather than the one asked: the same work, more idle "
       "threads" for n in (3, 5)},
    "embedstore.query.search.xǁExactSearcherǁnearest__mutmut_24":
        "a tile of at least 2 targets: only differs for no targets at all, which yield none",
    **{f"embedstore.query.search.xǁExactSearcherǁnearest__mutmut_{n}":
       "targets kept in their own dtype: the shortlist's margin covers the ranking's "
       "rounding in any precision and the rescoring is in double precision"
       for n in (6, 8)},
    "embedstore.query.scoring.x_top_k__mutmut_11":
        "np.array(scores) without copy=True: copying is np.array's default",
    **{f"embedstore.query.scoring.x_inverse__mutmut_{n}":
       "norms kept as given: the result array is float32 either way (stored norms are "
       "float32 already)" for n in (3, 5)},
}
"""Surviving mutants that behave as the original for every input a user can give, and why."""
LAYOUT = {"embedstore": "embedstore", "cli": "embedstore_cli", "server": "embedstore_server",
          "tests": "tests", "data": "data"}
"""The repository's folders and their names in the staging copy (the installed names)."""


FORKSERVER = {"store"}
"""Groups whose tests start OpenMP threads (faiss, in the index tests) before mutmut forks a
process per mutant: their processes are forked from a fork server that has not run them."""


def stage(group: str, workdir: Path) -> Path:
    """A fresh copy of the repository for one group, with mutmut's settings for it."""
    modules, tests = GROUPS[group]
    place = workdir / group
    if place.exists():  # mutmut would keep a mutant's old verdict though its tests changed
        shutil.rmtree(place)
    for source, target in LAYOUT.items():
        shutil.copytree(ROOT / source, place / target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    isolation = "forkserver" if group in FORKSERVER else "fork"
    (place / "pyproject.toml").write_text(settings(modules, tests, isolation))
    return place


def settings(modules: list[str], tests: list[str], isolation: str) -> str:
    def strings(values: list[str]) -> str:
        return json.dumps(values)

    return (
        "[tool.mutmut]\n"
        f'source_paths = {strings(["embedstore", "embedstore_server", "embedstore_cli"])}\n'
        f"only_mutate = {strings(modules)}\n"
        f"pytest_add_cli_args_test_selection = {strings(tests)}\n"
        'also_copy = ["data"]\n'
        "timeout_multiplier = 5.0\n"
        f'process_isolation = "{isolation}"\n'
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        "use_git_change_detection = false\n"
        "\n[tool.pytest.ini_options]\n"
        'addopts = "--import-mode=importlib"\n'
    )


def run(group: str, workdir: Path, children: int) -> None:
    place = stage(group, workdir)
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "run", "--max-children", str(children)], cwd=place,
                   env=environment, check=True)


SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|VALUES|COPY|TRY_CAST|"
                       r"ORDER BY|GROUP BY|LIMIT|JOIN)\b", re.IGNORECASE)


def changed_text(place: Path, name: str) -> tuple[str, str]:
    """The lines a mutant removes and adds (``mutmut show``)."""
    shown = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=place,
                           capture_output=True, text=True, check=False).stdout.splitlines()
    removed = "\n".join(line[1:] for line in shown if line.startswith("-")
                        and not line.startswith("---"))
    added = "\n".join(line[1:] for line in shown if line.startswith("+")
                      and not line.startswith("+++"))
    return removed, added


def only_sql_case(place: Path, name: str) -> bool:
    """Whether a mutant only changes the letter case of SQL (no quoted literal in it): SQLite
    and DuckDB read keywords and the names of tables and columns in any case."""
    removed, added = changed_text(place, name)
    return (removed != added and removed.lower() == added.lower() and "'" not in removed
            and SQL_WORDS.search(removed) is not None)


def tally(place: Path) -> dict[str, Counter[str]]:
    """Per module: how many mutants ended how, from mutmut's own records (a survivor listed
    in :data:`EQUIVALENT`, or one that only changes the case of SQL, counts as
    equivalent)."""
    figures: dict[str, Counter[str]] = {}
    for meta in sorted((place / "mutants").rglob("*.py.meta")):
        module = meta.relative_to(place / "mutants").as_posix()[: -len(".meta")]
        exits = json.loads(meta.read_text())["exit_code_by_key"]
        found = {name: outcome(code) for name, code in exits.items()}
        for name, status in found.items():
            if status == "survived" and (name in EQUIVALENT or only_sql_case(place, name)):
                found[name] = "equivalent"
        figures[module] = Counter(found.values())
    return figures


def outcome(code: int | None) -> str:
    """mutmut's own reading of a mutant's exit code."""
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[code]
    return {"timeout": "killed", "segfault": "crashed"}.get(status, status)


def report(workdir: Path, groups: list[str], survivors: bool) -> None:
    print("| module | mutants | killed | survived | no tests | equivalent | crashed | not run "
          "| score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for group in groups:
        place = workdir / group
        for module, counts in tally(place).items():
            killed = counts["killed"]
            missed = counts["survived"] + counts["no tests"]
            score = f"{100 * killed / (killed + missed):.1f}%" if killed + missed else "n/a"
            print(f"| `{module}` | {sum(counts.values())} | {killed} | {counts['survived']} "
                  f"| {counts['no tests']} | {counts['equivalent']} | {counts['crashed']} "
                  f"| {counts['not checked']} | {score} |")
        if survivors:
            names = subprocess.run([sys.executable, "-m", "mutmut", "results"], cwd=place,
                                   capture_output=True, text=True, check=True).stdout
            for line in names.splitlines():
                name = line.strip().split(":")[0]
                if name:
                    subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=place,
                                   check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", choices=[*GROUPS, []], default=[],
                        help="groups of modules (default: all)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--children", type=int, default=2, help="mutants run at once")
    parser.add_argument("--report", action="store_true", help="only print the last figures")
    parser.add_argument("--survivors", action="store_true", help="print surviving mutants")
    arguments = parser.parse_args()
    groups = arguments.groups or list(GROUPS)
    if not arguments.report:
        for group in groups:
            run(group, arguments.workdir.resolve(), arguments.children)
    report(arguments.workdir.resolve(), groups, arguments.survivors)


if __name__ == "__main__":
    main()
