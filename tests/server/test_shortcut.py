"""The short way for ``similar`` and ``analogy``: every request gets the status and body the
framework's full way gives it, and the plainly valid ones do take the short way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import embedstore
from tests.conftest import DATA

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from embedstore_server import shortcut
from embedstore_server.app import create_app
from embedstore_server.settings import Settings
from fastapi.testclient import TestClient

KEY = "s3cret"
SHORT = [  # answered the short way
    "default/similar?item=cat",
    "default/similar?item=cat&k=3",
    "default/similar?item=cat&k=003&version=1",
    "default/similar?item=cat&k=3&version=prod",
    "default/similar?item=cat&item=dog&minus=kitten&k=4",
    "default/similar?item=king&k=5&restrict=10&exact=true",
    "default/similar?item=king&k=5&exact=false",
    "default/similar?item=caat&k=3",  # unknown item: 404 with close spellings
    "default/similar?item=cat&version=9",  # no such version
    "defualt/similar?item=cat",  # no such model
    "default/similar?item=cat&version=nope",  # no such alias
    "default/similar?item=cat&k=10000",
    "default/similar?item=cat&restrict=1",
    "default/similar?item=caf%C3%A9",  # an unknown item written in UTF-8
    "default/analogy?a=king&b=man&c=woman&k=3",
    "default/analogy?a=king&b=man&c=woman&method=mul&version=prod",
    "default/analogy?a=king&b=man&c=womn",
]
FULL = [  # left to the framework: refused there, or a parameter to check
    "default/similar",
    "default/similar?item=",
    "default/similar?item=cat&k=0",
    "default/similar?item=cat&k=10001",
    "default/similar?item=cat&k=-1",
    "default/similar?item=cat&k=3.0",
    "default/similar?item=cat&k=%EF%BC%93",  # a full-width digit
    "default/similar?item=cat&k=3&k=4",
    "default/similar?item=cat&restrict=0",
    "default/similar?item=cat&exact=1",
    "default/similar?item=cat&exact=maybe",
    "default/similar?item=cat&version=-2",
    "default/similar?item=cat&colour=blue",
    "default/analogy?a=king&b=man",
    "default/analogy?a=king&b=man&c=woman&method=div",
    "default/analogy?a=king&a=queen&b=man&c=woman",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("shortcut") / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True, name="second")
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
    return store


Clients = tuple[TestClient, TestClient, str | None]
"""The short way, the full way, and the API key both were started with."""


@pytest.fixture(scope="module", params=[None, KEY], ids=["open", "with-key"])
def clients(request: pytest.FixtureRequest, store: Path) -> Iterator[Clients]:
    settings = Settings(store=store, api_key=request.param)
    with TestClient(create_app(settings)) as short, \
            TestClient(create_app(settings, shortcut=False)) as full:
        yield short, full, request.param


HEADERS = {"right": {"Authorization": f"Bearer {KEY}"}, "none": {},
           "wrong": {"Authorization": f"Bearer {KEY.upper()}"},
           "lower-case scheme": {"Authorization": f"bearer {KEY}"}}


@pytest.fixture
def short_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models of the requests the short way answered."""
    answered: list[str] = []
    for name in ("answer_similar", "answer_analogy"):
        answer = getattr(shortcut, name)

        async def counted(context, model, *args, answer=answer):  # type: ignore[no-untyped-def]
            answered.append(model)
            return await answer(context, model, *args)

        monkeypatch.setattr(shortcut, name, counted)
    return answered


@pytest.mark.parametrize("path", SHORT + FULL)
def test_both_ways_answer_alike(clients: Clients, short_answers: list[str], path: str) -> None:
    short, full, api_key = clients
    for key in HEADERS if api_key else ["none"]:
        short_answers.clear()
        check_alike(short, full, api_key, short_answers, path, key)


def check_alike(short: TestClient, full: TestClient, api_key: str | None,
                short_answers: list[str], path: str, key: str) -> None:
    headers = HEADERS[key]
    one, other = (client.get(f"/v1/models/{path}", headers=headers) for client in (short, full))
    assert (one.status_code, one.json()) == (other.status_code, other.json())
    let_in = api_key is None or key in ("right", "lower-case scheme")
    assert short_answers == (["default" if path.startswith("default") else "defualt"]
                             if path in SHORT and let_in else [])
    if path in SHORT and let_in:
        assert one.status_code in (200, 404)


def test_the_short_way_is_counted_under_its_route(clients: Clients) -> None:
    short, _, api_key = clients
    headers = {"Authorization": f"Bearer {KEY}"} if api_key else {}
    line = ('embedstore_http_requests_total{method="GET",route="/v1/models/{model}/similar",'
            'status="200"} ')

    def answered() -> float:
        found = [text for text in short.get("/metrics").text.splitlines()
                 if text.startswith(line)]
        return float(found[0].removeprefix(line)) if found else 0.0

    before = answered()
    for _ in range(3):
        assert short.get("/v1/models/default/similar?item=cat", headers=headers).status_code \
            == 200
    assert answered() == before + 3
