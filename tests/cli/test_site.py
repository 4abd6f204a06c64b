"""The documentation site builds with ``mkdocs build --strict`` (no broken link, anchor or
reference), and its generated references list every CLI command, every HTTP route and the
public Python API; the README stays a one-screen introduction that points at the site."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from embedstore_cli.main import cli

from tests.cli.test_docs import walk

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module as CI and a contributor build it."""
    out = tmp_path_factory.mktemp("site") / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr[-4000:]}"
    return out


def html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def ids(text: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', text))


def test_the_site_builds_strict_with_every_page_and_the_maps(site: Path) -> None:
    for page in DOCS.rglob("*.md"):
        relative = page.relative_to(DOCS).with_suffix("")
        built = site / ("" if relative.name == "index" else relative) / "index.html"
        assert built.exists(), f"{page.relative_to(ROOT)} was not built"
    for picture in ("packages.svg", "packages-numpy.svg"):
        assert (site / "img" / picture).read_bytes().startswith((b"<?xml", b"<svg")), picture
    assert 'src="../img/packages.svg"' in html(site, "getting-started")
    assert "<!-- picture" not in html(site, "getting-started")  # every marker replaced


def test_the_cli_reference_has_an_entry_for_every_command(site: Path) -> None:
    expected = {"embed"} | {"embed-" + name.replace(" ", "-") for name in walk(cli)}
    found = {anchor for anchor in ids(html(site, "reference/cli")) if anchor.startswith("embed")}
    assert found == expected
    assert "--memory-limit" in html(site, "reference/cli")  # options are listed too


def test_the_http_reference_has_an_entry_for_every_route(site: Path) -> None:
    from embedstore_server import create_app

    document = create_app().openapi()
    expected = {"-".join([method, *re.findall(r"[a-z0-9]+", path.lower())])
                for path, operations in document["paths"].items() for method in operations}
    page = html(site, "reference/http")
    found = {anchor for anchor in ids(page) if re.match(r"(get|post|put|delete|patch)-", anchor)}
    assert found == expected
    assert len(expected) >= 14 and "get-v1-models-model-similar" in expected
    copy = json.loads((site / "reference" / "openapi.json").read_text(encoding="utf-8"))
    assert copy == json.loads(json.dumps(document))  # the static copy is the server's document


def test_the_python_reference_documents_the_public_api(site: Path) -> None:
    import embedstore

    page = ids(html(site, "reference/python"))
    missing = [name for name in embedstore.__all__
               if name != "__version__" and f"embedstore.{name}" not in page]
    assert missing == []


def test_nothing_generated_is_committed_to_the_docs() -> None:
    pictures = [path for path in DOCS.rglob("*")
                if path.suffix.lower() in {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}]
    assert pictures == []  # the build draws them
    assert [path for path in DOCS.rglob("*") if path.is_file()
            and path.stat().st_size > 200_000] == []


def test_the_packages_example_writes_a_pair_file(tmp_path: Path) -> None:
    written = subprocess.run([sys.executable, str(DOCS / "examples" / "python_packages.py")],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert written[0] == "item_a,item_b"
    assert "embedstore,numpy" in written and "embedstore,click" in written
    assert all(row.count(",") == 1 and "extra" not in row for row in written)


def test_the_readme_is_one_screen_that_points_at_the_site() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert "mkdocs serve" in readme and "pip install -e '.[docs]'" in readme
    assert "## Quickstart" in readme and "## Contributing" in readme
