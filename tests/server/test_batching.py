"""Dynamic batching in a real ``embed serve``: concurrent answers are exactly what ``embed
similar --json`` and ``embed analogy --json`` print, bad queries fail alone, a lone request
never waits for the batch window, and /metrics shows the batch sizes."""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

import embedstore
from tests.conftest import ServerProcess

pytest.importorskip("fastapi", reason="the serve extra is not installed")

ROWS, DIM = 20_000, 32


@pytest.fixture(scope="module")
def tied_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random vectors with exact ties: copies of row 5, row 5 scaled, zero rows."""
    store = tmp_path_factory.mktemp("batching") / "store"
    vectors = np.random.default_rng(5).standard_normal((ROWS, DIM)).astype(np.float32)
    vectors[10:20] = vectors[5]
    vectors[30] = vectors[5] * 3
    vectors[40:44] = 0
    embedstore.publish_vectors([f"w{row}" for row in range(ROWS)], vectors, store=store)
    return store


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name} is not in /metrics"
    return float(found.group(1))


def expected_answer(store: Path, query: dict[str, object]) -> object:
    """What ``embed similar --json`` or ``embed analogy --json`` prints for ``query``."""
    if query["op"] == "similar":
        items = query["item"] if isinstance(query["item"], list) else [query["item"]]
        args = ["similar", *items, *[f"--minus={m}" for m in query.get("minus", [])]]
    else:
        args = ["analogy", str(query["a"]), str(query["b"]), str(query["c"]),
                "--method", str(query.get("method", "add"))]
    args += ["--k", str(query.get("k", 10))]
    if "restrict" in query:
        args += ["--restrict", str(query["restrict"])]
    result = CliRunner().invoke(cli, ["--store", str(store), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def path_of(query: dict[str, object]) -> str:
    parameters = [(name, value) for name, values in query.items() if name != "op"
                  for value in (values if isinstance(values, list) else [values])]
    return f"/v1/models/default/{query['op']}?{urlencode(parameters)}"


GOOD: list[dict[str, object]] = [
    {"op": "similar", "item": "w5", "k": 12},  # its copies tie: lower rows first
    {"op": "similar", "item": "w10", "k": 3},
    {"op": "similar", "item": "w30"},
    {"op": "similar", "item": "w777", "k": 5, "restrict": 900},
    {"op": "similar", "item": ["w1", "w2", "w3"], "minus": ["w4", "w5"], "k": 7},
    {"op": "similar", "item": ["w5"], "minus": ["w5"], "k": 4},  # a zero target: all tie
    {"op": "similar", "item": "w41", "k": 3},  # a zero vector
    {"op": "analogy", "a": "w100", "b": "w200", "c": "w300", "k": 6},
    {"op": "analogy", "a": "w5", "b": "w12", "c": "w7", "k": 5, "restrict": 5000},
    {"op": "analogy", "a": "w100", "b": "w200", "c": "w300", "k": 4, "method": "mul"},
    *[{"op": "similar", "item": f"w{row}", "k": 10} for row in range(1000, 20_000, 1250)],
]
BAD: list[tuple[str, int]] = [
    ("/v1/models/default/similar?item=nothing-here", 404),
    ("/v1/models/default/similar?item=w1&k=0", 422),
    ("/v1/models/default/similar?item=w1&restrict=0", 422),
    ("/v1/models/default/analogy?a=w1&b=w2&c=missing", 404),
    ("/v1/models/nobody/similar?item=w1", 404),
]


def test_concurrent_answers_are_what_the_cli_prints(
        start_server: Callable[..., ServerProcess], tied_store: Path) -> None:
    server = start_server(tied_store, "--workers", "1", "--batch-wait", "2")
    expected = [expected_answer(tied_store, query) for query in GOOD]
    asked = [(path_of(query), i) for i, query in enumerate(GOOD)] * 3 + \
        [(path, -1 - j) for j, (path, _) in enumerate(BAD)]  # (suggestions take a scan)
    problems: list[str] = []
    start = threading.Barrier(16)

    def client(seed: int) -> None:
        order = list(asked)
        random.Random(seed).shuffle(order)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            start.wait()
            for path, i in order:
                answer = http.get(path)
                if i < 0 and answer.status_code != BAD[-1 - i][1]:
                    problems.append(f"{path}: {answer.status_code} {answer.text}")
                elif i < 0 and not answer.json()["error"]:
                    problems.append(f"{path}: an error without a message")
                elif i >= 0 and (answer.status_code != 200 or answer.json() != expected[i]):
                    problems.append(f"{path}: {answer.status_code} {answer.text}")

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    ties = expected[0]["results"]  # type: ignore[index]
    assert [r["item"] for r in ties[:3]] == ["w10", "w11", "w12"]  # w5 itself is left out
    metrics = httpx.get(f"{server.url}/metrics").text
    batches = metric(metrics, "embedstore_batch_size_count")
    assert metric(metrics, "embedstore_batch_size_sum") == 16 * 3 * len(GOOD)
    assert batches < 16 * 3 * len(GOOD)  # some were answered together


def test_a_lone_request_never_waits_for_the_window(
        start_server: Callable[..., ServerProcess], tied_store: Path) -> None:
    server = start_server(tied_store, "--workers", "1", "--batch-wait", "300")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for row in range(8):  # one after another: each alone
            assert http.get(f"/v1/models/default/similar?item=w{row}&k=3").status_code == 200
        metrics = http.get("/metrics").text
    assert metric(metrics, 'embedstore_batch_size_bucket{le="1.0"}') == 8
    assert metric(metrics, "embedstore_batch_window_waits_total") == 0
    start = threading.Barrier(12)

    def together(row: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            start.wait()
            for _ in range(3):
                assert http.get(f"/v1/models/default/similar?item=w{row}").status_code == 200

    threads = [threading.Thread(target=together, args=(row,)) for row in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    metrics = httpx.get(f"{server.url}/metrics").text
    assert metric(metrics, "embedstore_batch_window_waits_total") >= 1  # the signal works
    assert metric(metrics, "embedstore_batch_size_sum") == 8 + 36
