"""The API key (server/auth.py): exactly the key opens /v1 and the page; health stays open."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.inprocess import animals_store, ask

KEY = "s3cret-Key"
REFUSAL = {"error": "missing or wrong API key; send 'Authorization: Bearer KEY'",
           "suggestions": []}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return animals_store(tmp_path_factory.mktemp("auth") / "store")


def statuses(store: Path, key: str | None, *headers: dict[str, str],
             path: str = "/v1/models") -> list[int]:
    from embedstore_server import Settings

    answers = ask(Settings(store=store, api_key=key), *(("GET", path, h) for h in headers))
    return [answer.status_code for answer in answers]


def test_without_a_key_every_route_is_open(store: Path) -> None:
    assert statuses(store, None, {}, {"Authorization": "Bearer anything"}) == [200, 200]
    assert statuses(store, None, {}, path="/") == [200]


def test_only_the_exact_key_as_a_bearer_token_is_let_through(store: Path) -> None:
    near_misses = [KEY.lower(), KEY.upper(), KEY[:-1], KEY + "y", " " + KEY + "x", "", "x"]
    headers = [{"Authorization": f"Bearer {miss}"} for miss in near_misses]
    headers += [{}, {"Authorization": KEY}, {"Authorization": f"Basic {KEY}"},
                {"X-Api-Key": KEY}]
    assert statuses(store, KEY, *headers) == [401] * len(headers)
    assert statuses(store, KEY, {"Authorization": f"Bearer {KEY}"},
                    {"Authorization": f"bearer {KEY}"}) == [200, 200]


def test_a_refusal_is_one_json_line_with_the_bearer_challenge(store: Path) -> None:
    from embedstore_server import Settings

    for path in ("/v1/models", "/v1/models/default/similar?item=cat", "/"):
        (answer,) = ask(Settings(store=store, api_key=KEY), ("GET", path, {}))
        assert answer.status_code == 401
        assert answer.json() == REFUSAL
        assert answer.headers["www-authenticate"] == "Bearer"


def test_an_empty_key_is_refused_rather_than_matched_by_no_header() -> None:
    from embedstore_server import Settings
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 1 character"):
        Settings(api_key="")


def test_health_readiness_and_metrics_need_no_key(store: Path) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert statuses(store, KEY, {}, path=path) == [200], path
