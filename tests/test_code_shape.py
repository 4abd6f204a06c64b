"""The shape of the code that the developers' guide asks for, checked on every run."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from embedstore_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "embedstore"
STORE = PACKAGE / "store"
MAX_LINES = 450
MAX_COMMAND_BODY = 25


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The embedstore modules ``path`` imports at run time (anywhere in it, functions
    included; imports for type checkers only are left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else \
        module_name(path).rpartition(".")[0]
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only or not isinstance(node, ast.ImportFrom | ast.Import):
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known}
    return found - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def test_no_import_circle_inside_embedstore() -> None:
    graph = import_graph()
    assert "embedstore.store" in graph
    assert "embedstore.query.batch" in graph["embedstore.query.embeddings"]
    # The package root only re-exports, lazily; no module may import it back.
    importers_of_root = sorted(name for name, targets in graph.items() if "embedstore" in targets
                               and name != "embedstore")
    assert importers_of_root == []
    graph.pop("embedstore")
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if target == name or target not in graph:
                continue
            if target.startswith(name + "."):  # a package imports its own parts
                continue
            assert state.get(target) != "open", f"import circle: {' -> '.join([*trail, target])}"
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


SQL = re.compile(r"\.execute(many)?\(|\bsqlite3\b|\bSELECT\b|\bINSERT INTO\b|\bDELETE FROM\b")


ENGINES = (PACKAGE / "engines" / "bounded" / "pair_aggregation.py",
           PACKAGE / "engines" / "bounded" / "spilled_counts.py")
"""DuckDB's aggregation of pair data and of a corpus's spilled counts: SQL on their own
temporary databases, never the store's."""


def test_no_sql_outside_the_store_package() -> None:
    offenders = [str(path.relative_to(ROOT)) for path in [*PACKAGE.rglob("*.py"),
                                                           *(ROOT / "cli").rglob("*.py")]
                 if STORE not in path.parents and path not in ENGINES
                 and SQL.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
    for path in ENGINES:
        engine = path.read_text(encoding="utf-8")
        assert SQL.search(engine) and "duckdb" in engine
        assert not re.search(r"import sqlite|sqlite_utils|from \.store", engine)  # DuckDB only
    assert SQL.search((STORE / "catalog.py").read_text(encoding="utf-8"))  # the check can fire


def test_no_file_in_the_library_cli_or_server_is_over_450_lines() -> None:
    sizes = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
             for folder in ("embedstore", "cli", "server")
             for path in (ROOT / folder).rglob("*.py")}
    assert max(sizes.values()) > 100  # the measure sees real files
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def commands(group: click.Group, prefix: str = "embed") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        found[f"{prefix} {name}"] = command
        if isinstance(command, click.Group):
            found |= commands(command, f"{prefix} {name}")
    return found


def body_lines(callback: Callable[..., Any]) -> int:
    """Lines of a function's body after its docstring (blank lines not counted)."""
    function = inspect.unwrap(callback)
    source = Path(inspect.getsourcefile(function) or "").read_text(encoding="utf-8")
    tree = ast.parse(source)
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
               and n.name == function.__name__]
    body = node.body[1:] if ast.get_docstring(node) else node.body
    if not body:
        return 0
    lines = source.splitlines()[body[0].lineno - 1 : node.end_lineno]
    return sum(1 for line in lines if line.strip())


def test_every_command_body_is_short() -> None:
    found = commands(cli)
    assert {"embed train", "embed eval analogies", "embed batch"} <= set(found)
    lengths = {name: body_lines(command.callback) for name, command in found.items()
               if command.callback is not None}
    assert lengths["embed train"] > 3  # the measure sees code
    assert {name: n for name, n in lengths.items() if n > MAX_COMMAND_BODY} == {}


def test_a_query_loads_no_more_than_it_needs(tmp_path: Path) -> None:
    """Cold start is most of a single query's time: answering one must not import the
    writing side (pydantic records, hashing, file copying) or the batch parser."""
    import subprocess
    import sys

    import numpy as np

    import embedstore

    store = tmp_path / "store"
    embedstore.publish_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32), store=store)
    # What the interpreter and numpy load before us (a site hook, a distribution's start-up
    # modules) costs a query nothing more, so only the modules our import adds are counted.
    script = ("import sys, numpy\n"
              "already = set(sys.modules)\n"
              "import embedstore\n"
              "with embedstore.open(sys.argv[1]) as vectors:\n"
              "    vectors.similar('a', k=2)\n"
              "print(' '.join(sorted(set(sys.modules) - already)))")
    result = subprocess.run([sys.executable, "-c", script, str(store)], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    loaded = set(result.stdout.split())
    assert "embedstore.query.search" in loaded
    assert loaded & {"pydantic", "embedstore.schema", "hashlib", "shutil", "uuid", "difflib",
                     "embedstore.query.batch", "json", "unicodedata", "usearch", "faiss"} == set()


def test_every_package_folder_is_installed() -> None:
    """A folder with an ``__init__.py`` left out of pyproject's package list is missing from a
    non-editable install (``pip install .``), though every test of an editable one passes."""
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]
    installed_as = {folder: package for package, folder in setuptools["package-dir"].items()}
    found = set()
    for folder, package in installed_as.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([package, *parts]))
    assert {"embedstore", "embedstore.store", "embedstore_cli"} <= found
    assert sorted(found) == sorted(setuptools["packages"])


MAX_FUNCTION_LINES = 60
MAX_TOP_MODULES = 12


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Non-blank lines of a function, its docstring left out."""
    docstring = node.body[0] if ast.get_docstring(node) else None
    return sum(1 for number in range(node.lineno, (node.end_lineno or node.lineno) + 1)
               if lines[number - 1].strip() and not (
                   docstring is not None
                   and docstring.lineno <= number <= (docstring.end_lineno or 0)))


def test_no_function_in_the_library_cli_or_server_is_over_60_lines() -> None:
    lengths = {}
    for folder in ("embedstore", "cli", "server"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lengths[f"{path.relative_to(ROOT)}:{node.name}"] = code_lines(node, lines)
    assert max(lengths.values()) > 30  # the measure sees real functions
    assert {name: n for name, n in lengths.items() if n > MAX_FUNCTION_LINES} == {}


def test_the_library_root_holds_few_modules_and_every_package_says_what_it_holds() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert "errors.py" in top and len(top) <= MAX_TOP_MODULES, top
    for init in PACKAGE.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"{init.relative_to(ROOT)} has no docstring"
    for stage in ("inputs", "counting", "engines", "methods", "training", "query", "store"):
        assert (PACKAGE / stage / "__init__.py").exists()


def test_each_formula_has_one_home_that_every_engine_calls() -> None:
    """The PPMI entry and propagation's step operator are written once, in the methods, and
    each engine builds its matrices through them; Procrustes and unit rows live in one
    module."""
    engines = {"engines/memory.py", "engines/bounded/disk_rows.py",
               "engines/cluster/matrix.py"}
    for name in engines:
        assert "pmi_values(" in (PACKAGE / name).read_text(encoding="utf-8"), name
    for name in ("engines/memory.py", "engines/cluster/propagation.py"):
        assert "step_matrix(" in (PACKAGE / name).read_text(encoding="utf-8"), name
    writers = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if re.search(r"np\.log\(shift\)|np\.log\(settings\.shift\)",
                            path.read_text(encoding="utf-8"))}
    assert writers == {"methods/ppmi.py"}
    for pattern, home in ((r"np\.linalg\.svd\(cross\)", "geometry.py"),
                          (r"def (unit_rows|normalize_rows|procrustes\w*)\(", "geometry.py")):
        found = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if re.search(pattern, path.read_text(encoding="utf-8"))}
        assert found == {home}, (pattern, found)


def test_the_suite_tests_the_code_of_this_checkout() -> None:
    """An installed copy elsewhere (an old wheel in site-packages) must not be what passes."""
    import embedstore_cli
    import embedstore_server

    import embedstore

    for module in (embedstore, embedstore_cli, embedstore_server):
        assert Path(module.__file__ or "").resolve().is_relative_to(ROOT), module.__file__
