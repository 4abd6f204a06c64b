"""The service while the store changes underneath it: new versions and moved aliases are
served from the next request on, and concurrent clients see no failure while another process
trains, tags and removes versions. Also the few checks that need the application in-process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import embedstore
from embedstore.store.registry import remove_version
from tests.conftest import DATA, ServerProcess

pytest.importorskip("fastapi", reason="the serve extra is not installed")


WORKERS = 2


def answers_of_every_worker(http: httpx.Client, path: str) -> dict[str, int]:
    """The version each worker serves for ``path``: requests, each on a new connection, until
    every worker has answered (at most 200)."""
    seen: dict[str, int] = {}
    for _ in range(200):
        answer = http.get(path)
        assert answer.status_code == 200, answer.text
        seen[answer.headers["x-embedstore-worker"]] = answer.json()["version"]
        if len(seen) == WORKERS:
            return seen
    raise AssertionError(f"only workers {sorted(seen)} answered 200 requests")


def served_by_every_worker_within(http: httpx.Client, path: str, version: int,
                                  seconds: float) -> None:
    """Every worker answers ``path`` from ``version`` within ``seconds`` of now, and a worker
    that has answered from it never answers from an older one again."""
    deadline = time.monotonic() + seconds
    changed: set[str] = set()
    while len(changed) < WORKERS:
        assert time.monotonic() < deadline, f"only workers {sorted(changed)} serve {version}"
        answer = http.get(path)
        worker, served = answer.headers["x-embedstore-worker"], answer.json()["version"]
        assert worker not in changed or served == version, f"worker {worker} went back"
        if served == version:
            changed.add(worker)


def test_every_worker_answers_and_serves_a_change_within_a_second(
        start_server: Callable[..., ServerProcess], store: Path) -> None:
    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
    server = start_server(store, "--workers", str(WORKERS))
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)  # each request its own
    with httpx.Client(base_url=server.url, limits=no_keep_alive) as http:  # connection
        latest, prod = "/v1/models/default/similar?item=cat", \
            "/v1/models/default/similar?item=cat&version=prod"
        assert set(answers_of_every_worker(http, latest).values()) == {1}
        embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True, name="retrained")
        served_by_every_worker_within(http, latest, 2, seconds=1.0)
        assert set(answers_of_every_worker(http, prod).values()) == {1}
        with embedstore.Store.open(store) as opened:
            opened.set_alias("default", 2, "prod")
        served_by_every_worker_within(http, prod, 2, seconds=1.0)
        assert http.get("/v1/models").json()["models"][0] == {
            "model": "default", "latest": 2, "aliases": {"prod": 2}}
        with embedstore.Store.open(store) as opened:
            remove_version(opened, "default", 1)
        for _ in range(2 * WORKERS):
            missing = http.get("/v1/models/default/similar?item=cat&version=1")
            assert missing.status_code == 404
        metrics = http.get("/metrics").text
        assert 'embedstore_answers_total{model="default",version="2"}' in metrics


WRITER = """
import sys
import embedstore
from embedstore.store.registry import remove_version

store, data, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
for round_ in range(rounds):
    record = embedstore.train_pairs(data, store=store, quiet=True, name=str(round_))
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", record.version, "prod")
        if record.version > 2:
            remove_version(opened, "default", record.version - 2)
print(record.version)
"""


def test_no_request_fails_while_another_process_trains_tags_and_removes(
        start_server: Callable[..., ServerProcess], store: Path) -> None:
    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
    server = start_server(store, "--workers", "1")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store),
                               str(DATA / "animals.csv"), "4"], stdout=subprocess.PIPE, text=True)
    statuses: Counter[int] = Counter()
    seen: set[int] = set()
    problems: list[str] = []
    lock = threading.Lock()

    def client(query: str) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while writer.poll() is None:
                answer = http.get(f"/v1/models/default/{query}")
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code != 200:
                        problems.append(answer.text)
                        continue
                    body = answer.json()
                    seen.add(body["version"])
                    if len(body.get("results", [1])) == 0:
                        problems.append(f"empty answer: {answer.text}")

    queries = ["similar?item=cat&k=3", "similar?item=cat&version=prod",
               "analogy?a=kitten&b=cat&c=dog&k=1", "vector?item=truck"]
    threads = [threading.Thread(target=client, args=(query,)) for query in queries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.wait() == 0
    assert problems == []
    assert set(statuses) == {200} and statuses[200] >= 20
    assert len(seen) >= 2  # the clients did see versions change under them


def in_process(settings: object, *requests: tuple[str, dict[str, str]]) -> list[httpx.Response]:
    """Answers of the application built in this process to GET requests (path, headers)."""
    import asyncio

    from embedstore_server import create_app

    async def ask() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [await http.get(path, headers=headers) for path, headers in requests]

    return asyncio.run(ask())


def test_an_unexpected_error_answers_one_line_500_and_logs(
        store: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from embedstore_server import Settings

    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(embedstore.Embeddings, "similar_question", broken)
    failed, fine = in_process(Settings(store=store), ("/v1/models/default/similar?item=cat", {}),
                              ("/v1/models/default/vector?item=cat", {}))
    assert failed.status_code == 500
    assert failed.json() == {"error": "internal error; the server's log has the details",
                             "suggestions": []}
    assert fine.status_code == 200
    logged = [r for r in caplog.records if r.name == "embedstore_server"]
    assert logged and "RuntimeError: a bug" in caplog.text


def test_cors_is_off_unless_an_origin_is_given(store: Path) -> None:
    from embedstore_server import Settings

    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    origin = {"Origin": "https://app.example.com"}
    (closed,) = in_process(Settings(store=store), ("/v1/models", origin))
    assert "access-control-allow-origin" not in closed.headers
    settings = Settings(store=store, cors_origins=("https://app.example.com",))
    allowed, other = in_process(settings, ("/v1/models", origin),
                                ("/v1/models", {"Origin": "https://elsewhere.example.com"}))
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers


def test_embed_help_does_not_import_the_server() -> None:
    code = ("import sys; from click.testing import CliRunner; from embedstore_cli.main import cli;"
            "result = CliRunner().invoke(cli, ['--help']); assert result.exit_code == 0;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('fastapi', 'uvicorn', 'numpy', 'embedstore_server')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip() == "[]"
    code = ("import sys; import embedstore_server.serve; "
            "print('numpy' in sys.modules)")  # embed serve sets BLAS threads before numpy
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip() == "False"


def test_serve_without_the_serve_extra_says_how_to_install_it(store: Path) -> None:
    code = ("import sys; sys.modules['prometheus_client'] = None; "
            "from embedstore_cli.main import main; sys.argv = ['embed', 'serve']; main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"EMBED_STORE": str(store), "PATH": ""})
    assert result.returncode == 1
    assert result.stderr.strip() == ("Error: embed serve needs the serve extra "
                                     "(prometheus_client is missing); install it with: "
                                     "pip install 'embedstore[serve]'")


def test_serve_on_a_port_in_use_fails_with_one_error_line(store: Path) -> None:
    import socket

    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "embedstore_cli", "--store", str(store),
                                 "serve", "--port", str(port), "--workers", "1"],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr
