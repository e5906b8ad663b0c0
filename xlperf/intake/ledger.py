"""The intake ledger: an SQLite file in the output folder (``收件台账.sqlite``) with one row per message
taken in, keyed by Message-ID and package hash, so that running ``xlperf intake`` again over the same
mailbox takes nothing in twice. It also records which submission is current for a department and
year (a later 有效 one supersedes an earlier one; both stay on disk) and whether a 回执 was queued.

Every change is one transaction; the row is written only after the submission's folder is complete.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEDGER_NAME = "收件台账.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    key           TEXT PRIMARY KEY,      -- message_id + "|" + package_hash
    message_id    TEXT NOT NULL,
    package_hash  TEXT NOT NULL,
    source        TEXT NOT NULL,
    received      TEXT NOT NULL,         -- ISO 8601 with offset
    taken_at      TEXT NOT NULL,
    sender        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    department    TEXT NOT NULL,
    year          INTEGER,
    folder        TEXT NOT NULL,         -- relative to the output folder
    outcome       TEXT,                  -- JSON of the batch Outcome (re-scored), for 汇总
    superseded_by TEXT,
    receipt       TEXT                   -- outbox item id once a 回执 was queued (at most once)
);
CREATE INDEX IF NOT EXISTS by_department ON submissions (department, year);
"""


@dataclass
class Entry:
    key: str
    message_id: str
    package_hash: str
    source: str
    received: str
    taken_at: str
    sender: str
    subject: str
    status: str
    reason: str
    department: str
    year: int | None
    folder: str
    outcome: dict[str, Any] | None
    superseded_by: str | None = None
    receipt: str | None = None


class LedgerError(Exception):
    """The ledger cannot be opened (exit 2); the message is for the clerk."""


class Ledger:
    def __init__(self, folder: Path) -> None:
        self.path = folder / LEDGER_NAME
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise LedgerError(f"无法打开收件台账 {self.path}（{exc}）；请确认输出文件夹可写，且没有别的 xlperf intake 正在运行") from exc

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def make_key(message_id: str, package_hash: str) -> str:
        return f"{message_id}|{package_hash}"

    def has(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM submissions WHERE key = ?", (key,)).fetchone() is not None

    def add(self, e: Entry) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (e.key, e.message_id, e.package_hash, e.source, e.received, e.taken_at, e.sender, e.subject,
                 e.status, e.reason, e.department, e.year, e.folder,
                 None if e.outcome is None else json.dumps(e.outcome, ensure_ascii=False), e.superseded_by, e.receipt),
            )
            self._supersede(e.department, e.year)

    def _supersede(self, department: str, year: int | None) -> None:
        """Within one department and year, every 有效 submission but the latest received is superseded."""
        if not department:
            return
        rows = self.db.execute(
            "SELECT key FROM submissions WHERE department = ? AND year IS ? AND status = '有效' "
            "ORDER BY received, taken_at, key", (department, year)).fetchall()
        if not rows:
            return
        latest = rows[-1][0]
        self.db.execute("UPDATE submissions SET superseded_by = NULL WHERE key = ?", (latest,))
        for (key,) in rows[:-1]:
            self.db.execute("UPDATE submissions SET superseded_by = ? WHERE key = ?", (latest, key))

    def claim_receipt(self, key: str, marker: str) -> bool:
        """Mark ``key`` as having its 回执 on the way; false when another run (or an earlier one) did.

        Claimed before the mail is queued: a crash in between loses that 回执 rather than sending two."""
        cur = self.db.execute("UPDATE submissions SET receipt = ? WHERE key = ? AND receipt IS NULL", (marker, key))
        return cur.rowcount == 1

    def record_receipt(self, key: str, receipt: str) -> None:
        self.db.execute("UPDATE submissions SET receipt = ? WHERE key = ?", (receipt, key))

    def entries(self) -> list[Entry]:
        return list(self._rows("SELECT * FROM submissions ORDER BY received, taken_at, key"))

    def get(self, key: str) -> Entry | None:
        found = list(self._rows("SELECT * FROM submissions WHERE key = ?", (key,)))
        return found[0] if found else None

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> Iterator[Entry]:
        for row in self.db.execute(sql, args):
            values = list(row)
            values[13] = None if values[13] is None else json.loads(values[13])
            yield Entry(*values)

    def current(self) -> list[Entry]:
        """One entry per department and year: the latest 有效 one, else the latest of any status."""
        best: dict[tuple[str, int | None], Entry] = {}
        for e in self.entries():
            if not e.department:
                continue
            key = (e.department, e.year)
            held = best.get(key)
            if held is None or (e.status == "有效") >= (held.status == "有效"):
                best[key] = e
        return sorted(best.values(), key=lambda e: (e.department, e.year or 0))
