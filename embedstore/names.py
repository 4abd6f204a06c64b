"""The rules for names and references: items, model names, alias names, version references.

Every entry point (pair files, text corpora, imports, the CLI, batch lines, the Python API)
goes through these functions, so a name means the same thing wherever it is written.

Items are compared after Unicode normalisation to NFC: ``café`` written with a combining
accent (NFD) and with the precomposed letter is one item.
"""

from __future__ import annotations

import re

from .errors import QueryError, StoreError

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ALIAS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
MAX_VERSION = 2**63 - 1
"""Versions are SQLite integers; a larger number cannot name one."""


def normalize_item(item: str) -> str:
    """``item`` in Unicode normal form C, the form items are stored and looked up in.

    >>> normalize_item("cafe\\u0301") == "caf\\u00e9"
    True

    An item that is not text (bytes that are not UTF-8, which Python keeps as lone
    surrogates, from a command line or a JSON escape) is refused with a :class:`QueryError`.
    """
    if item.isascii():  # the common case, without loading the Unicode tables
        return item
    try:
        item.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError(f"the item {item!a} is not UTF-8 text (a byte or an escape "
                         "that is no character); write items in UTF-8") from None
    import unicodedata

    return unicodedata.normalize("NFC", item)


def check_model_name(model: str) -> str:
    """Return ``model`` if it is a valid model name, else raise :class:`StoreError`."""
    if not MODEL_NAME.fullmatch(model):
        raise StoreError(
            f"invalid model name {model!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return model


def check_alias_name(name: str) -> str:
    """Return ``name`` if it is a valid alias name, else raise :class:`StoreError`."""
    if not ALIAS_NAME.fullmatch(name):
        raise StoreError(f"invalid alias {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
                         "starting with a letter")
    return name


def parse_version(reference: int | str | None) -> int | str | None:
    """A version reference as a number (``int``), an alias name (``str``) or None (latest).

    Numbers are whole numbers from 1 to 2**63 - 1, written in ASCII digits (``"007"`` is 7;
    other scripts' digits such as ``"٣"`` are not numbers); aliases start with a letter.

    >>> parse_version("3"), parse_version(" prod "), parse_version(None)
    (3, 'prod', None)

    Raises
    ------
    QueryError
        For anything else, saying what a version reference is.
    """
    if reference is None:
        return None
    if isinstance(reference, bool):
        raise QueryError(f"{reference!r} is neither a version number (1, 2, ...) nor an alias "
                         "name")
    if isinstance(reference, int):
        if 1 <= reference <= MAX_VERSION:
            return reference
        raise QueryError(f"{reference!r} is not a version number (1, 2, ...)")
    text = reference.strip()
    if text.isascii() and text.isdigit():
        if len(text.lstrip("0")) > 19 or int(text) > MAX_VERSION:
            raise QueryError(f"{reference!r} is too large to be a version number")
        if int(text) >= 1:
            return int(text)
    if ALIAS_NAME.fullmatch(text):
        return text
    raise QueryError(f"{reference!r} is neither a version number (1, 2, ...) nor an alias name")
