"""Shared fixtures: every store lives in tmp_path; the user's default store is never touched."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from embedstore_cli.main import cli

DATA = Path(__file__).resolve().parent.parent / "data"
ANIMALS = ["cat", "dog", "kitten", "puppy"]
VEHICLES = ["car", "truck", "bicycle", "motorcycle"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMBED_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def run(store: Path) -> Callable[..., Result]:
    """Run ``embed --store STORE ARGS...`` in-process and return the result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--store", str(store), *args], input=input,
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file in tmp_path and return its path."""

    def writer(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return writer


def classic_rows() -> list[str]:
    """The classic example: pairs inside each group, negatives to the other's first two."""
    groups = (ANIMALS, VEHICLES)
    rows = [f"{a},{b}" for group in groups for a, b in itertools.combinations(group, 2)]
    for group, other in ((ANIMALS, VEHICLES), (VEHICLES, ANIMALS)):
        rows += [f"{a},{b},0" for a in group for b in other[:2]]
    return rows


GRID_PAIRS = [("king", "queen"), ("man", "woman"), ("boy", "girl"), ("prince", "princess"),
              ("father", "mother"), ("son", "daughter")]


def grid_analogies_solved(items: list[str], vectors: np.ndarray) -> tuple[int, int]:
    """How many of the grid's analogies (``male - other_male + other_female``, 3CosAdd over
    unit rows, the three inputs left out) find ``female``, out of how many."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    row = {item: i for i, item in enumerate(items)}
    correct = total = 0
    for male, female in GRID_PAIRS:
        for other_male, other_female in GRID_PAIRS:
            if male == other_male:
                continue
            target = unit[row[male]] - unit[row[other_male]] + unit[row[other_female]]
            scores = unit @ target
            scores[[row[male], row[other_male], row[other_female]]] = -np.inf
            correct += items[int(np.argmax(scores))] == female
            total += 1
    return correct, total


def two_attribute_rows() -> list[str]:
    """Items over two attributes (gender x role); each item co-occurs with its attributes' words.

    king - man + woman = queen holds by construction, and so does every such 4-tuple.
    """
    roles = {
        ("king", "queen"): ("crown", "throne", "reign"),
        ("man", "woman"): ("adult", "grown", "person"),
        ("boy", "girl"): ("child", "young", "play"),
        ("prince", "princess"): ("crown", "young", "castle"),
        ("father", "mother"): ("parent", "family", "home"),
        ("son", "daughter"): ("child", "family", "born"),
    }
    genders = (("he", "him", "his"), ("she", "her", "hers"))
    rows = []
    for pair, features in roles.items():
        for gender, item in enumerate(pair):
            rows += [f"{item},{word},3" for word in (*genders[gender], *features)]
    return rows


class ServerProcess:
    """``embed serve`` started in a subprocess on an ephemeral port of 127.0.0.1."""

    def __init__(self, store: Path, *args: str, env: dict[str, str] | None = None) -> None:
        import os
        import re
        import subprocess
        import sys
        import threading
        import time

        command = [sys.executable, "-m", "embedstore_cli", "--store", str(store), "serve",
                   "--port", "0", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        self.log: list[str] = []
        port: list[int] = []
        started = threading.Event()

        def drain() -> None:
            assert self.process.stderr is not None
            for line in self.process.stderr:
                self.log.append(line)
                found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line)
                if found:
                    port.append(int(found.group(1)))
                    started.set()
            started.set()

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + 60
        while not started.wait(0.1):
            if time.monotonic() > deadline:
                break
        if not port:
            self.stop()
            raise RuntimeError("embed serve did not start:\n" + "".join(self.log))
        self.url = f"http://127.0.0.1:{port[0]}"
        import httpx

        while time.monotonic() < deadline:  # workers start after the port is announced
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("embed serve did not answer /healthz:\n" + "".join(self.log))

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except Exception:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    """Start ``embed serve`` processes for a test module; all are stopped at its end."""
    servers: list[ServerProcess] = []

    def start(store: Path, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(store, *args, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# The hostile-input tests' module-scoped places (see tests/hostile.py).
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")

@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store that already holds one trained version, so that changes to it show."""
    root = tmp_path_factory.mktemp("cli-store")
    pairs = root / "seed.csv"
    pairs.write_text("cat,dog\ndog,puppy\ncar,truck\n", encoding="utf-8")
    from embedstore.schema import SgnsSettings
    from embedstore.training.pipeline import train_pairs

    train_pairs(pairs, store=root / "store", settings=SgnsSettings(dim=4, epochs=1))
    return root / "store"
