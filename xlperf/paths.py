"""Where xlperf keeps its own files (logs, the outbox): one place for the CLI and the adapters."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """$XLPERF_HOME when set (tests, portable installs), else the platform's user data folder."""
    home = os.environ.get("XLPERF_HOME")
    if home:
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("xlperf", appauthor=False))
