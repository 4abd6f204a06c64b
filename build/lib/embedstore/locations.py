"""Where the default store lives."""

from __future__ import annotations

import os
from pathlib import Path

STORE_ENV = "EMBED_STORE"


def default_store_path() -> Path:
    """The store used when none is named.

    ``$EMBED_STORE`` if set, else ``$XDG_DATA_HOME/embedstore``, else
    ``~/.local/share/embedstore``.
    """
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "embedstore"
