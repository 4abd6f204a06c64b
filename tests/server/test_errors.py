"""Error answers (server/errors.py): one JSON body, the status that fits, never a 500 for a
user's mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedstore import EmbedstoreError, InputError, NotFoundError, StoreError, UnknownItemError
from tests.server.inprocess import animals_store, ask

pytest.importorskip("fastapi", reason="the serve extra is not installed")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return animals_store(tmp_path_factory.mktemp("errors") / "store")


def answer(store: Path, path: str, method: str = "GET", **settings: object) -> tuple[int, dict]:
    from embedstore_server import Settings

    (reply,) = ask(Settings(store=store, **settings), (method, path, {}))
    return reply.status_code, reply.json()


def test_what_the_store_lacks_is_404_with_suggestions(store: Path) -> None:
    status, body = answer(store, "/v1/models/default/similar?item=kitte")
    assert status == 404 and body["suggestions"] == ["kitten"]
    assert body["error"].startswith("unknown item 'kitte'")
    status, body = answer(store, "/v1/models/default/similar?item=cat&version=prd")
    assert status == 404 and body["suggestions"] == ["prod"]
    assert answer(store, "/v1/models/default/similar?item=cat&version=9") == (404, {
        "error": "model 'default' has no version 9; its versions are 1 (see: embed versions "
                 "--model default)", "suggestions": []})
    status, body = answer(store, "/v1/models/nope/similar?item=cat")
    assert status == 404 and body["suggestions"] == [] and "no model 'nope'" in body["error"]


def test_a_bad_parameter_is_422_naming_where_and_why(store: Path) -> None:
    assert answer(store, "/v1/models/default/similar?item=cat&k=0") == (422, {
        "error": "query k: Input should be greater than or equal to 1", "suggestions": []})
    status, body = answer(store, "/v1/models/default/similar")
    assert (status, body["error"]) == (422, "query item: Field required")
    status, body = answer(store, "/v1/models/default/similar?k=abc")
    assert status == 422
    assert body["error"].split("; ") == [
        "query item: Field required",
        "query k: Input should be a valid integer, unable to parse string as an integer"]


def test_an_unreadable_store_is_503(store: Path) -> None:
    status, body = answer(store / "missing", "/v1/models")
    assert status == 503 and body["error"].startswith("no store at ")
    assert body["suggestions"] == []


def test_http_errors_keep_their_status_in_the_same_body(store: Path) -> None:
    assert answer(store, "/v1/models", method="POST") == (
        405, {"error": "Method Not Allowed", "suggestions": []})
    assert answer(store, "/nothing/here") == (404, {"error": "Not Found", "suggestions": []})


def test_a_batch_over_the_cap_is_413(store: Path) -> None:
    from embedstore_server import Settings

    line = b'{"op": "vector", "item": "cat"}\n'
    (small,) = ask(Settings(store=store, max_batch_bytes=len(line)),
                   ("POST", "/v1/batch", {}), body=line)
    (big,) = ask(Settings(store=store, max_batch_bytes=len(line) - 1),
                 ("POST", "/v1/batch", {}), body=line)
    assert small.status_code == 200
    assert big.status_code == 413 and big.json()["suggestions"] == []
    assert f"at most {len(line) - 1}" in big.json()["error"]


def test_library_errors_map_to_statuses_and_suggestions() -> None:
    from embedstore_server.errors import status_of, suggestions_of

    unknown = UnknownItemError("kitte", "default", 1, ["kitten"])
    assert [status_of(e) for e in (unknown, NotFoundError("x"), StoreError("x"),
                                   InputError("x"), EmbedstoreError("x"))] == [
        404, 404, 503, 400, 400]
    assert suggestions_of(unknown) == ["kitten"]
    assert suggestions_of(NotFoundError("x")) == []
