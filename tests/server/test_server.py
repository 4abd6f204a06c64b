"""The HTTP service, through a real ``embed serve`` process and a real HTTP client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

import embedstore
from tests.conftest import DATA, ServerProcess

pytest.importorskip("fastapi", reason="the serve extra is not installed")


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two versions of `default` (alias prod -> 1), one of `royalty`, one evaluation."""
    store = tmp_path_factory.mktemp("served") / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True, name="second")
    embedstore.train_pairs(DATA / "royalty.csv", store=store, model="royalty", quiet=True)
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
    return store


@pytest.fixture(scope="module")
def server(start_server: Callable[..., ServerProcess], shared_store: Path) -> ServerProcess:
    return start_server(shared_store, "--workers", "1", env={
        "EMBED_SERVE_MAX_BATCH_LINES": "50", "EMBED_SERVE_MAX_BATCH_BYTES": "4096"})


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def embed_json(store: Path, *args: str) -> object:
    result = CliRunner().invoke(cli, ["--store", str(store), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_models_lists_latest_versions_and_aliases(client: httpx.Client) -> None:
    answer = client.get("/v1/models")
    assert answer.status_code == 200
    assert answer.json() == {"models": [
        {"model": "default", "latest": 2, "aliases": {"prod": 1}},
        {"model": "royalty", "latest": 1, "aliases": {}}]}


def test_versions_are_the_records_embed_versions_prints(client: httpx.Client,
                                                        shared_store: Path) -> None:
    answer = client.get("/v1/models/default/versions")
    assert answer.status_code == 200
    assert answer.json() == embed_json(shared_store, "versions")
    assert [v["aliases"] for v in answer.json()] == [["prod"], []]


@pytest.mark.parametrize("query", [
    "similar?item=cat&k=3",
    "similar?item=cat&k=3&version=1",
    "similar?item=cat&k=3&version=prod",
    "similar?item=cat&k=3&version=%2001%20",  # read by the one parser: " 01 " is version 1
    "similar?item=cat&item=dog&minus=kitten&k=4",
    "similar?item=king&k=5&restrict=10",
    "analogy?a=king&b=man&c=woman&k=3",
    "analogy?a=king&b=man&c=woman&k=3&method=mul&version=prod",
])
def test_queries_answer_exactly_what_the_cli_prints(client: httpx.Client, shared_store: Path,
                                                     query: str) -> None:
    answer = client.get(f"/v1/models/default/{query}")
    assert answer.status_code == 200
    command, _, parameters = query.partition("?")
    params = httpx.QueryParams(parameters)
    args = [command]
    args += params.get_list("item") or [params[name] for name in ("a", "b", "c")]
    for name in ("minus",):
        for value in params.get_list(name):
            args += [f"--{name}", value]
    for name in ("k", "version", "restrict", "method"):
        if name in params:
            args += [f"--{name}", params[name]]
    assert answer.json() == embed_json(shared_store, *args)


@pytest.mark.parametrize("query", ["around=cat&k=5", "around=king&k=3&version=prod",
                                   "items=12&seed=2"])
def test_the_map_is_what_embed_plot_prints(client: httpx.Client, shared_store: Path,
                                           tmp_path: Path, query: str) -> None:
    answer = client.get(f"/v1/models/default/map?{query}")
    assert answer.status_code == 200
    args = ["plot", "-o", str(tmp_path / "map.html")]
    for name, value in httpx.QueryParams(query).multi_items():
        args += [f"--{name}", value]
    printed = embed_json(shared_store, *args)
    assert isinstance(printed, dict) and printed.pop("output") == str(tmp_path / "map.html")
    assert answer.json() == printed
    if "around" in query:
        around = httpx.QueryParams(query)["around"]
        assert answer.json()["points"][0]["item"] == around
        assert len(answer.json()["points"]) == 1 + int(httpx.QueryParams(query)["k"])


def test_the_answer_names_its_version(client: httpx.Client) -> None:
    assert client.get("/v1/models/default/similar?item=cat").json()["version"] == 2
    assert client.get("/v1/models/default/similar?item=cat&version=prod").json()["version"] == 1
    first = client.get("/v1/models/default/similar?item=cat&k=3").json()
    assert {r["item"] for r in first["results"]} == {"dog", "kitten", "puppy"}


def test_vector_and_similarity_are_the_batch_answers(client: httpx.Client,
                                                     shared_store: Path) -> None:
    with embedstore.open(shared_store) as vectors:
        expected_vector = vectors.vector("cat").tolist()
        expected_score = vectors.similarity("cat", "dog")
    vector = client.get("/v1/models/default/vector", params={"item": "cat"}).json()
    assert vector == {"model": "default", "version": 2,
                      "query": {"op": "vector", "item": "cat"}, "approximate": False,
                      "vector": expected_vector}
    score = client.get("/v1/models/default/similarity", params={"a": "cat", "b": "dog"}).json()
    assert score["score"] == pytest.approx(expected_score, abs=1e-7)
    assert score["query"] == {"op": "similarity", "a": "cat", "b": "dog"}


def test_version_detail_and_completion(client: httpx.Client, shared_store: Path) -> None:
    with embedstore.open(shared_store, version=1) as vectors:
        vectors.store.record_evaluation(vectors.info, "similarity", {"spearman": 0.5})
    detail = client.get("/v1/models/default/versions/prod").json()
    assert detail["version"] == 1 and detail["aliases"] == ["prod"]
    assert [e["result"] for e in detail["evaluations"]] == [{"spearman": 0.5}]
    assert detail["n_items"] == 48
    items = client.get("/v1/models/default/items", params={"prefix": "ki"}).json()
    assert sorted(items["items"]) == ["king", "kitten"]
    assert items["version"] == 2
    limited = client.get("/v1/models/default/items", params={"prefix": "", "limit": 3}).json()
    assert len(limited["items"]) == 3


@pytest.mark.parametrize(("path", "status", "message", "suggestions"), [
    ("/v1/models/default/similar?item=kitte", 404, "unknown item 'kitte'", ["kitten"]),
    ("/v1/models/default/similar?item=cat&minus=puppi", 404, "unknown item 'puppi'", ["puppy"]),
    ("/v1/models/defalt/similar?item=cat", 404, "no model 'defalt'", ["default"]),
    ("/v1/models/defalt/versions", 404, "no model 'defalt'", ["default"]),
    ("/v1/models/default/similar?item=cat&version=7", 404, "has no version 7", []),
    ("/v1/models/default/similar?item=cat&version=prd", 404, "no version or alias 'prd'",
     ["prod"]),
    ("/v1/models/default/analogy?a=king&b=man&c=wman", 404, "unknown item 'wman'", ["woman"]),
    ("/v1/models/default/similar?item=cat&k=0", 422, "k", []),
    ("/v1/models/default/similar?item=cat&k=abc", 422, "k", []),
    ("/v1/models/default/similar?item=cat&k=100001", 422, "k", []),
    ("/v1/models/default/similar?k=3", 422, "item", []),
    ("/v1/models/default/similar?item=cat&restrict=0", 422, "restrict", []),
    ("/v1/models/default/similar?item=cat&version=-1", 422, "version", []),
    ("/v1/models/default/similar?item=cat&version=9999999999999999999", 422, "version", []),
    ("/v1/models/default/similar?item=cat&version=0", 422, "version", []),
    ("/v1/models/default/analogy?a=king&b=man&c=woman&method=div", 422, "method", []),
    ("/v1/models/default/vector", 422, "item", []),
    ("/v1/models/default/map?around=kitte", 404, "unknown item 'kitte'", ["kitten"]),
    ("/v1/models/default/map?around=cat&k=0", 422, "k", []),
    ("/v1/models/default/map?around=cat&k=1001", 422, "k", []),
    ("/v1/models/default/map?around=cat&method=umap", 422, "method", []),
    ("/v1/nowhere", 404, "Not Found", []),
])
def test_errors_are_json_with_the_right_status(client: httpx.Client, path: str, status: int,
                                               message: str, suggestions: list[str]) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    body = answer.json()
    assert set(body) == {"error", "suggestions"}
    assert message in body["error"]
    assert body["suggestions"][: len(suggestions)] == suggestions


def test_batch_streams_json_lines_in_input_order(client: httpx.Client,
                                                 shared_store: Path) -> None:
    lines = [
        {"op": "similar", "item": "cat", "k": 3, "id": 1},
        {"op": "similar", "items": ["cat", "dog"], "minus": ["kitten"], "k": 2, "id": 2},
        {"op": "analogy", "a": "king", "b": "man", "c": "woman", "k": 1, "id": 3,
         "version": "prod"},
        {"op": "vector", "item": "nothing", "id": 4},
    ]
    body = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    answer = client.post("/v1/batch", content=body)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    got = [json.loads(line) for line in answer.text.splitlines()]
    result = CliRunner().invoke(cli, ["--store", str(shared_store), "batch", "-"], input=body)
    assert got == [json.loads(line) for line in result.stdout.splitlines()]
    assert [g["id"] for g in got] == [1, 2, 3, 4, None]
    assert got[2]["version"] == 1 and got[2]["results"][0]["item"] == "queen"
    assert got[3]["error"].startswith("line 4: unknown item 'nothing'")
    assert got[4]["error"].startswith("line 5: not valid JSON")


def test_batch_takes_default_model_and_version(client: httpx.Client) -> None:
    answer = client.post("/v1/batch?model=royalty&version=1",
                         content='{"op": "similar", "item": "king", "k": 1}\n')
    assert json.loads(answer.text)["model"] == "royalty"


def test_batch_over_the_caps_is_refused_with_413(client: httpx.Client) -> None:
    too_many = "\n".join(['{"op": "vector", "item": "cat"}'] * 51)
    answer = client.post("/v1/batch", content=too_many)
    assert answer.status_code == 413
    assert "51 query lines; at most 50" in answer.json()["error"]
    too_big = client.post("/v1/batch", content=" " * 5000)
    assert too_big.status_code == 413
    assert "at most 4096" in too_big.json()["error"]


def test_health_readiness_and_metrics(client: httpx.Client, server: ServerProcess) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    for path in ("/healthz", "/v1/models/default/similar?item=nope", "/v1/models"):
        assert client.get(path).headers["x-embedstore-worker"] == str(server.process.pid)
    assert client.get("/readyz").json() == {"status": "ready", "models": 2}
    client.get("/v1/models/default/similar?item=cat")
    client.get("/v1/models/default/similar?item=kitte")
    text = client.get("/metrics").text
    assert ('embedstore_http_requests_total{method="GET",route="/v1/models/{model}/similar",'
            'status="404"}') in text
    assert 'embedstore_http_request_duration_seconds_bucket{le="0.5",route="/v1/models/' in text
    assert 'embedstore_answers_total{model="default",version="2"}' in text
    assert 'embedstore_latest_version{model="royalty"} 1.0' in text
    assert 'embedstore_alias_version{alias="prod",model="default"} 1.0' in text


def test_openapi_documents_every_route(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/models", "/v1/models/{model}/versions", "/v1/models/{model}/similar",
                 "/v1/models/{model}/analogy", "/v1/models/{model}/vector",
                 "/v1/models/{model}/similarity", "/v1/batch", "/healthz", "/readyz",
                 "/metrics", "/v1/models/{model}/versions/{version}",
                 "/v1/models/{model}/items", "/v1/models/{model}/map"):
        assert path in paths
        for operation in paths[path].values():
            assert operation.get("summary"), f"{path} has no summary"
    assert client.get("/docs").status_code == 200


def test_the_page_and_its_assets_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="item"' in page.text
    assert "http" not in page.text.replace('href="/docs"', "")  # nothing from elsewhere
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../server.py").status_code == 404


def test_an_api_key_guards_v1_and_the_page(start_server: Callable[..., ServerProcess],
                                           shared_store: Path) -> None:
    server = start_server(shared_store, "--workers", "1", "--api-key", "s3cret")
    with httpx.Client(base_url=server.url) as http:
        for path in ("/v1/models", "/v1/models/default/similar?item=cat", "/"):
            refused = http.get(path)
            assert refused.status_code == 401
            assert "API key" in refused.json()["error"]
            for near_miss in ("wrong", "S3cret", "S3CRET", "s3cre", "s3crett", "s3cret0"):
                assert http.get(path, headers={"Authorization": f"Bearer {near_miss}"}
                                ).status_code == 401, near_miss
            assert http.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert http.post("/v1/batch", content="").status_code == 401
        for path in ("/healthz", "/readyz", "/metrics"):
            assert http.get(path).status_code == 200


def test_a_missing_store_is_not_ready(start_server: Callable[..., ServerProcess],
                                      tmp_path: Path) -> None:
    server = start_server(tmp_path / "nothing-here", "--workers", "1")
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/healthz").status_code == 200
        not_ready = http.get("/readyz")
        assert not_ready.status_code == 503
        assert "no store at" in not_ready.json()["error"]
        assert http.get("/v1/models").status_code == 503
        assert http.post("/v1/batch", content='{"op": "vector", "item": "a"}').status_code == 503


def test_every_http_route_is_on_the_serving_page() -> None:
    """The task page shows every route at work (the generated reference lists them all too:
    tests/cli/test_site.py)."""
    from embedstore_server import create_app

    page = (Path(__file__).resolve().parents[2] / "docs" / "serving.md").read_text(
        encoding="utf-8")
    api = page.split("## HTTP API")[1].split("\n## ")[0]
    for path, operations in create_app().openapi()["paths"].items():
        for method in operations:
            assert f"`{method.upper()} {path}" in api, f"serving.md lacks {method.upper()} {path}"
            if path.startswith("/v1/"):
                route = path.split("{model}/")[-1] if "{model}" in path else path
                assert any(route.split("/")[-1].replace("{version}", "prod") in line
                           for line in api.splitlines() if line.startswith("curl ")), path


def test_explain_answers_what_embed_explain_prints(client: httpx.Client,
                                                   shared_store: Path) -> None:
    answer = client.get("/v1/models/default/explain?a=cat&b=kitten&k=3&version=1")
    assert answer.status_code == 200
    assert answer.json() == embed_json(shared_store, "explain", "cat", "kitten", "--k", "3",
                                       "--version", "1")
    assert client.get("/v1/models/default/explain?a=cat&b=nope").status_code == 404
