"""What a store holds: its models and versions, for ``embed versions`` and ``embed info``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import NotFoundError
from .locations import default_store_path
from .schema import VersionRecord
from .store import DB_NAME, Store, StoreLike, opened


def list_versions(store: StoreLike, model: str) -> list[tuple[VersionRecord, list[str]]]:
    """Every version of ``model``, oldest first, with the aliases pointing at it."""
    with opened(store) as handle:
        records = handle.version_records(model)
        if not records:
            handle.version_info(model)  # raises the "no such model" error
        names: dict[int, list[str]] = {}
        for alias in handle.aliases(model):
            names.setdefault(alias.version, []).append(alias.name)
    return [(record, names.get(record.version, [])) for record in records]


def describe_store(
    store: str | Path | None, model: str, version: int | str | None = None
) -> dict[str, Any]:
    """The store's path, its models, and the full record of one version when it exists.

    Returns ``{"store": str, "models": [str], "version": dict | None, "evaluations": [...],
    "index": dict | None}`` (``index``: the version's approximate index, when it has one). A
    store that does not exist yet, or a model without versions, gives ``"version": None``;
    asking for a version number the model does not have is an error.
    """
    root = Path(store) if store is not None else default_store_path()
    report: dict[str, Any] = {"store": str(root), "models": [], "version": None,
                              "evaluations": [], "index": None}
    if not (root / DB_NAME).exists():
        return report
    with Store.open(root) as handle:
        report["models"] = handle.models()
        try:
            info = handle.version_info(model, version)
        except NotFoundError:
            if version is not None:
                raise
            return report
        report["version"] = handle.version_record(info).model_dump(mode="json")
        report["evaluations"] = handle.evaluations(info)
        index = handle.index_record(info)
        report["index"] = index.to_json() if index is not None else None
    return report
