"""What a store holds, for ``embed info``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import NotFoundError
from .locations import default_store_path
from .store import DB_NAME, Store


def describe_store(
    store: str | Path | None, model: str, version: int | str | None = None
) -> dict[str, Any]:
    """The store's path, its models, and the full record of one version when it exists.

    Returns ``{"store": str, "models": [str], "version": dict | None}``. A store that does not
    exist yet, or a model without versions, gives ``"version": None``; asking for a version
    number the model does not have is an error.
    """
    root = Path(store) if store is not None else default_store_path()
    report: dict[str, Any] = {"store": str(root), "models": [], "version": None,
                              "evaluations": []}
    if not (root / DB_NAME).exists():
        return report
    with Store.open(root) as opened:
        report["models"] = opened.models()
        try:
            info = opened.version_info(model, version)
        except NotFoundError:
            if version is not None:
                raise
            return report
        report["version"] = opened.version_record(info).model_dump(mode="json")
        report["evaluations"] = opened.evaluations(info)
    return report
