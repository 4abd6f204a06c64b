"""MkDocs hook: the site's pictures, made at build time by embedstore itself.

Nothing generated is committed. At each build (once per process under ``mkdocs serve``):

- the sample (``data/sample.csv``) and a real data set, the packages of the Python running the
  build and what each requires (``docs/examples/python_packages.py``), are trained with
  ``embed train`` into a temporary store;
- ``embed plot`` draws maps of the real one (SVG; the ``plot`` extra's matplotlib);
- when Chromium, chromedriver and selenium are installed, ``embed serve`` serves that store and
  a headless Chromium takes a picture of the web page with a query answered. Without them the
  picture is left out, with a note in the build log; the build never fails for it.

A page asks for a picture with a line ``<!-- picture NAME: alt text -->``; the line becomes the
image, or, for a picture that was not made, a sentence saying so.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.pictures")
ROOT = Path(__file__).resolve().parents[2]
FOLDER = "img"
MARKER = re.compile(r"^<!-- picture (?P<name>[\w.-]+): (?P<alt>[^>]*?) -->$", re.M)
PAGE_PICTURE = "page.png"

_made: dict[str, bytes] = {}


def embed(*args: str) -> None:
    """Run one ``embed`` command in this process, as the shell would; fail on its failure."""
    from embedstore_cli.main import cli

    said = io.StringIO()
    try:
        with redirect_stdout(said), redirect_stderr(said):
            cli.main(list(args), prog_name="embed", standalone_mode=False)
    except Exception as error:
        raise RuntimeError(f"embed {' '.join(args)} failed: {error}\n{said.getvalue()}"
                           ) from error


def train_and_plot(work: Path) -> dict[str, bytes]:
    """The store the pictures come from, and the maps ``embed plot`` draws of it."""
    store = str(work / "store")
    packages = work / "packages.csv"
    with packages.open("w", encoding="utf-8") as out:
        subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "python_packages.py")],
                       stdout=out, check=True)
    embed("--store", store, "train", str(ROOT / "data" / "sample.csv"), "--quiet")
    embed("--store", store, "train", str(packages), "--model", "packages", "--quiet")
    plots = {
        "packages.svg": ["--model", "packages"],
        "packages-numpy.svg": ["--model", "packages", "--around", "numpy", "--k", "25"],
    }
    made = {}
    for name, settings in plots.items():
        embed("--store", store, "plot", "-o", str(work / name), *settings)
        made[name] = (work / name).read_bytes()
    return made


@contextmanager
def served(store: Path) -> Iterator[str]:
    """``embed serve`` over ``store`` on a free port of 127.0.0.1; yields its address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "embedstore_cli", "--store", str(store), "serve", "--port", "0",
         "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # until the server says where it listens, or ends
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                # the log goes on while the page is pictured: keep reading it
                threading.Thread(target=process.stderr.read, daemon=True).start()
                yield found.group(1)
                return
        raise RuntimeError("embed serve did not start")
    finally:
        process.terminate()
        process.wait(timeout=10)


def page_picture(store: Path, profile: Path) -> bytes:
    """The web page, with the neighbours of ``numpy`` in the packages model found."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--window-size=1280,1250", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    with served(store) as url:
        driver = webdriver.Chrome(service=service, options=options)
        try:
            wait = WebDriverWait(driver, 20)
            driver.get(url + "/")
            wait.until(lambda d: "packages" in {o.get_attribute("value") for o in
                                                d.find_elements(By.CSS_SELECTOR, "#model option")})
            Select(driver.find_element(By.ID, "model")).select_by_value("packages")
            wait.until(lambda d: "packages" in d.find_element(By.ID, "metadata").text)
            driver.find_element(By.ID, "item").send_keys("numpy")
            driver.find_element(By.CSS_SELECTOR, "#similar-form button").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#map svg g.point"))
            return driver.get_screenshot_as_png()
        finally:
            driver.quit()


def why_no_page_picture() -> str | None:
    """Why the page cannot be pictured here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra has it)"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "no chromium and chromedriver (Debian's chromium and chromium-driver packages)"
    return None


def make_pictures() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="embedstore-docs-") as folder:
        work = Path(folder)
        made = train_and_plot(work)
        reason = why_no_page_picture()
        if reason is None:
            try:
                made[PAGE_PICTURE] = page_picture(work / "store", work / "chromium-profile")
            except Exception as error:  # a picture, never a failed build
                reason = f"the browser failed: {type(error).__name__}: {error}".splitlines()[0]
        if reason is not None:
            log.info("The picture of the web page is left out: %s.", reason)
        return made


def on_files(files: Files, config: MkDocsConfig) -> Files:
    if not _made:
        started = time.monotonic()
        _made.update(make_pictures())
        log.info("Pictures made in %.1f s: %s", time.monotonic() - started, ", ".join(_made))
    for name, content in _made.items():
        files.append(File.generated(config, f"{FOLDER}/{name}", content=content))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    here = posixpath.dirname(page.file.src_uri)

    def picture(found: re.Match[str]) -> str:
        name, alt = found.group("name"), found.group("alt")
        if name in _made:
            return f"![{alt}]({posixpath.relpath(f'{FOLDER}/{name}', here or '.')})"
        if name == PAGE_PICTURE:
            return (f"*({alt}: the build draws this picture where Chromium and chromedriver are "
                    "installed.)*")
        raise ValueError(f"{page.file.src_uri} asks for a picture nobody makes: {name}")

    return MARKER.sub(picture, markdown)
