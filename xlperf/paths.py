"""Where xlperf keeps its own files (logs, the outbox, locks): one place for the CLI and the adapters."""

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


class LogFile:
    """The log file sink (``data_dir()/logs/xlperf.log``, rotated at ``max_bytes``, ``keep`` old files).

    Logging never disturbs the work: when the data folder is full or read-only the sink stops
    quietly (loguru's own file sink would print a "Logging error" traceback for every message).
    """

    def __init__(self, path: Path, max_bytes: int = 1 << 20, keep: int = 5) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self.broken = False

    def write(self, message: str) -> None:
        if self.broken:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > self.max_bytes:
                self._rotate()
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(message)
        except OSError:
            self.broken = True

    def _rotate(self) -> None:
        for i in range(self.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{i}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
