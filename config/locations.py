"""Default locations that the commands which never read the configuration need as well (no pydantic here:
``newsalert match`` must not pay for it)."""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR = "newsalert"


def default_cache_dir() -> Path:
    """Derived data that can always be rebuilt (simplemma's lemma dictionaries in a searchable form):
    ``$XDG_CACHE_HOME/newsalert``, else ``~/.cache/newsalert``. Not beside the database: it depends only on
    the installed versions, so every installation and every command of this user shares it."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if base and Path(base).is_absolute():
        return Path(base) / APP_DIR
    try:
        return Path.home() / ".cache" / APP_DIR
    except RuntimeError:  # no home directory (a service account without one)
        import tempfile  # only here: its import (random, shutil) would cost every start

        return Path(tempfile.gettempdir()) / f"{APP_DIR}-cache"
