"""SHA-256, the one hash xlperf uses (files, packages, the rules a workbook embeds): one home for it."""

from __future__ import annotations

import hashlib
from typing import Any


def new_sha256() -> Any:
    """An incremental SHA-256 (``update``/``hexdigest``), for data read in blocks."""
    return hashlib.sha256()


def sha256_bytes(data: bytes) -> str:
    digest = new_sha256()
    digest.update(data)
    return str(digest.hexdigest())
