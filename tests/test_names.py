"""One rule per name: version references, model and alias names, item normalisation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import embedstore
from embedstore.errors import QueryError, StoreError
from embedstore.names import check_alias_name, check_model_name, normalize_item, parse_version
from embedstore.query.embeddings import run_batch
from embedstore.store import Store

Run = Callable[..., Result]
ARABIC_INDIC_THREE = "\u0663"


@pytest.mark.parametrize(("written", "meant"), [
    ("3", 3), ("007", 7), (" prod ", "prod"), ("v2.1-rc_1", "v2.1-rc_1"), (5, 5), (None, None),
    (str(2**63 - 1), 2**63 - 1), (1, 1), ("1", 1), ("0001", 1), (2**63 - 1, 2**63 - 1),
    ("0" * 30 + "12", 12),
])
def test_version_references_that_mean_something(written: str | int | None,
                                                meant: str | int | None) -> None:
    assert parse_version(written) == meant


@pytest.mark.parametrize(("written", "message"), [
    (ARABIC_INDIC_THREE, "neither"), ("\u00b2", "neither"), ("0", "neither"), ("-1", "neither"),
    ("x y", "neither"), ("9" * 20, "too large"), (0, "not a version number"),
    (2**63, "not a version number"), (True, "neither"), (str(2**63), "too large"),
    ("0" * 30, "neither"), (-1, "not a version number"),
])
def test_version_references_that_do_not(written: str | int, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_version(written)


@pytest.fixture
def two_versions(store: Path) -> Path:
    for _ in range(3):
        embedstore.publish_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32), store=store)
    return store


def test_every_entry_point_reads_version_references_alike(two_versions: Path,
                                                          run: Run) -> None:
    """The Arabic-Indic digit three names no version: not in Python, not at the CLI, not in
    a batch line (before, the library read it as version 3)."""
    with pytest.raises(QueryError, match="neither a version number"):
        embedstore.open(two_versions, version=ARABIC_INDIC_THREE)
    result = run("similar", "a", "--version", ARABIC_INDIC_THREE)
    assert result.exit_code == 2 and "neither a version number" in result.stderr
    with Store.open(two_versions) as store:
        (answer,) = run_batch(store, [json.dumps({"op": "similar", "item": "a",
                                                  "version": ARABIC_INDIC_THREE})])
        (digits,) = run_batch(store, [json.dumps({"op": "similar", "item": "a",
                                                  "version": "003"})])
    assert answer.error == "line 1: version must be a version number or an alias"
    assert digits.version == 3
    with embedstore.open(two_versions, version="003") as vectors:
        assert vectors.version == 3
    assert json.loads(run("similar", "a", "--version", "003", "--json").stdout)["version"] == 3


def test_refusals_say_what_a_name_or_reference_may_be() -> None:
    refusals = {
        lambda: parse_version(True): "True is neither a version number (1, 2, ...) nor an "
                                     "alias name",
        lambda: parse_version(0): "0 is not a version number (1, 2, ...)",
        lambda: parse_version("x y"): "'x y' is neither a version number (1, 2, ...) nor an "
                                      "alias name",
        lambda: parse_version("9" * 20): f"'{'9' * 20}' is too large to be a version number",
        lambda: check_model_name("a b"): "invalid model name 'a b': use 1-64 letters, digits, "
                                         "'.', '_' or '-', starting with a letter or digit",
        lambda: check_alias_name("1st"): "invalid alias '1st': use 1-64 letters, digits, '.', "
                                         "'_' or '-', starting with a letter",
    }
    for call, message in refusals.items():
        with pytest.raises((QueryError, StoreError)) as refused:
            call()
        assert str(refused.value) == message


def test_model_and_alias_names() -> None:
    assert check_model_name("glove.6B-100d_v2") == "glove.6B-100d_v2"
    assert check_alias_name("prod") == "prod"
    for bad in ("", "../x", "a b", "-lead", "x" * 65):
        with pytest.raises(StoreError, match="invalid model name"):
            check_model_name(bad)
    for bad in ("1st", "", "a/b"):
        with pytest.raises(StoreError, match="invalid alias"):
            check_alias_name(bad)


def test_items_are_compared_in_unicode_normal_form_c() -> None:
    assert normalize_item("cafe\u0301") == "caf\u00e9" == normalize_item("caf\u00e9")
    assert normalize_item("Cafe") == "Cafe"
    assert normalize_item("\u212b") == "\u00c5"  # the Angstrom sign is the letter A-ring
    assert normalize_item("\ufb01") == "\ufb01"  # NFC, not NFKC: the ligature stays one letter
    assert normalize_item("x\u00b2") == "x\u00b2"
