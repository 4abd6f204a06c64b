"""Every error embedstore raises on purpose.

Each message says what went wrong and what to do about it; the CLI prints it as one
line on stderr. Callers catch :class:`EmbedstoreError` to handle them all.
"""

from __future__ import annotations


class EmbedstoreError(Exception):
    """Base class of every error embedstore raises for a user or data mistake."""

    exit_code: int = 1


class InputError(EmbedstoreError):
    """An input file is missing, unreadable or malformed (names the file and line)."""


def located(where: str, number: int, problem: str, unit: str = "line") -> str:
    """The one way a message names a place in an input: ``FILE, line N: problem`` (text
    files) or ``SHARD, row N: problem`` (Parquet)."""
    return f"{where}, {unit} {number}: {problem}"


class LocatedError(InputError):
    """An :class:`InputError` about one line (or row) of an input file: its message is
    :func:`located`, and its parts stay readable, so a reader that read a piece of a file
    can move the number to the file's own (:meth:`shifted`)."""

    def __init__(self, where: str, number: int, problem: str, unit: str = "line") -> None:
        super().__init__(where, number, problem, unit)  # what pickling hands back
        self.where, self.number, self.problem, self.unit = str(where), number, problem, unit

    def __str__(self) -> str:
        return located(self.where, self.number, self.problem, self.unit)

    def shifted(self, lines_before: int) -> LocatedError:
        """The same problem, numbered from ``lines_before`` lines (rows) further on."""
        return type(self)(self.where, self.number + lines_before, self.problem, self.unit)


class StoreError(EmbedstoreError):
    """The store cannot be opened or written (not a store, too new, read-only, damaged)."""


class NotFoundError(EmbedstoreError):
    """A model, version or item that the store does not hold."""


class UnknownItemError(NotFoundError):
    """An item that is not in the vocabulary of the version being queried."""

    def __init__(self, item: str, model: str, version: int, suggestions: list[str]) -> None:
        self.item = item
        self.model = model
        self.version = version
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown item {item!r} in model {model!r} version {version}{hint}")


class TrainingError(EmbedstoreError):
    """Training cannot start or cannot finish with the data and settings given."""


class QueryError(EmbedstoreError):
    """A query that cannot be answered as asked (for instance ``k`` below 1)."""
