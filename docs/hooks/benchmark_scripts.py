"""MkDocs hook: the benchmarks page lists every script in ``benchmarks/`` from its docstring.

Where ``benchmarks.md`` says ``<!-- benchmark scripts -->``, each ``bench_*.py`` (and the
settings sweeps) gets its first paragraph and its usage block, so a new script or a changed
option shows on the page without anyone copying it there.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
PAGE = "benchmarks.md"
MARKER = "<!-- benchmark scripts -->"


def script_entry(path: Path) -> str:
    """A script's heading, the first paragraph of its docstring and its usage block."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    summary = " ".join(docstring.split("\n\n")[0].split())
    summary = re.sub(r"``([^`]+)``", r"`\1`", summary)
    lines = [f"### `{path.name}`", "", summary, ""]
    usage = re.search(r"Usage::\n\n((?:    .*\n?|\n)+)", docstring + "\n")
    if usage:
        lines += ["```", textwrap.dedent(usage.group(1)).strip(), "```", ""]
    return "\n".join(lines)


def scripts_markdown() -> str:
    found = sorted(ROOT.glob("benchmarks/*.py"))
    return "\n".join(script_entry(path) for path in found
                     if path.name.startswith(("bench_", "sweep_")))


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lacks the marker {MARKER} where the scripts go")
    return markdown.replace(MARKER, scripts_markdown())
