"""Fault injection at every step of a store write, as SQLite tests its own writes.

A :class:`FaultPoints` counts every step a write takes that can fail on a real machine: each
SQL statement that changes the database (and each ``COMMIT``), each file written, flushed,
renamed, moved, removed or created. Armed with ``fail_at=n`` it makes the n-th step fail:
with an ``OSError`` (a full or failing disk), a ``sqlite3.OperationalError`` (the database),
or, in ``crash`` mode, by ending the process on the spot (``os._exit``), as a power cut would.
A removal that its caller asked to ignore errors (``shutil.rmtree(..., ignore_errors=True)``)
fails by doing nothing, which is what a swallowed error leaves behind.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embedstore.store.connection as connection_module
import embedstore.store.files as files_module

CHANGES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|COMMIT|CREATE|DROP)\b", re.I)


class InjectedFaultError(OSError):
    """The failure a :class:`FaultPoints` injects into a file operation."""


class FaultPoints:
    """Counts the steps of a write and fails the ``fail_at``-th (None: count only)."""

    def __init__(self, fail_at: int | None = None, crash: bool = False) -> None:
        self.fail_at, self.crash = fail_at, crash
        self.steps: list[str] = []

    def step(self, name: str, database: bool = False) -> bool:
        """Record one step; True when it is the one to fail (after failing it)."""
        self.steps.append(name)
        if len(self.steps) != self.fail_at:
            return False
        if self.crash:
            os._exit(137)
        if database:
            raise sqlite3.OperationalError(f"disk I/O error (injected at {name})")
        raise InjectedFaultError(errno.EIO, f"{os.strerror(errno.EIO)} (injected at {name})")

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            handler = kwargs.get("onexc") or kwargs.get("onerror")
            if (kwargs.get("ignore_errors") or handler) and not self.crash \
                    and len(self.steps) + 1 == self.fail_at:
                self.steps.append(name)  # the error goes where its caller asked: nothing
                if handler is not None and not kwargs.get("ignore_errors"):  # is removed
                    error = InjectedFaultError(errno.EIO, f"injected at {name}")
                    handler(os.rmdir, args[0], error if "onexc" in kwargs else
                            (InjectedFaultError, error, None))
                return None
            self.step(name)
            return function(*args, **kwargs)

        return wrapped


class CountingConnection:
    """A SQLite connection whose changing statements are steps of a :class:`FaultPoints`."""

    def __init__(self, connection: sqlite3.Connection, points: FaultPoints) -> None:
        self._connection, self._points = connection, points

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if CHANGES.match(sql):
            self._points.step("sql " + sql.split()[0].upper(), database=True)
        return self._connection.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._points.step("sql " + sql.split()[0].upper() + " (many)", database=True)
        return self._connection.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


@contextmanager
def injected(points: FaultPoints, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultPoints]:
    """Every fallible step of the store's writes goes through ``points`` inside the block."""
    real_connect = connection_module._connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        return CountingConnection(real_connect(*args, **kwargs), points)

    with monkeypatch.context() as patch:
        patch.setattr(connection_module, "_connect", connect)
        for module, name in ((os, "rename"), (os, "replace"), (os, "fsync"), (os, "remove"),
                             (os, "unlink"), (shutil, "rmtree"), (shutil, "move"),
                             (shutil, "copyfile")):
            patch.setattr(module, name, points.wrap(f"{module.__name__}.{name}",
                                                    getattr(module, name)))
        for name in ("mkdir", "unlink", "rename", "replace", "write_bytes"):
            patch.setattr(Path, name, points.wrap(f"Path.{name}", getattr(Path, name)))
        patch.setattr(files_module.np, "save", points.wrap("np.save", np.save))
        import embedstore.query.indexing as indexing

        for name in ("write_index", "extend_index_file"):
            patch.setattr(indexing, name, points.wrap(name, getattr(indexing, name)))
        yield points
