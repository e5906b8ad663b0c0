"""The intake ledger: an SQLite file in the output folder (``收件台账.sqlite``) with one row per message
taken in, keyed by Message-ID and package hash, so that running ``xlperf intake`` again over the same
mailbox takes nothing in twice. It also records which submission is current for a department and
year — for a 项目支出绩效自评表, for a department, project and year (issue 27) — (a later 有效 one
supersedes an earlier one; both stay on disk) and whether a 回执 was queued.

Every change is one transaction; the row is written only after the submission's folder is complete.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from xlperf.core.errors import XlperfError
from xlperf.outcome import LEDGER_NAME, Outcome, outcome_from_json

SCHEMA_VERSION = 3  # PRAGMA user_version; a ledger of a newer xlperf is refused, an older one migrated

# The statuses a submission can have (the ledger owns them: what is current and ranked follows from them).
VALID, MISMATCH, RESCORED, UNREADABLE, NOT_SUBMISSION = (
    "有效",
    "文件与清单不符",
    "得分与重算不符",
    "无法读取",
    "不是报送邮件",
)
CONFLICT, SENDER_NOT_LISTED = "清单与工作簿不符", "发件人未登记"
INTAKE_STATUSES = (VALID, MISMATCH, RESCORED, CONFLICT, SENDER_NOT_LISTED, UNREADABLE, NOT_SUBMISSION)

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
    department    TEXT NOT NULL,         -- from the re-scored workbook (version 1: from the manifest)
    year          INTEGER,
    folder        TEXT NOT NULL,         -- relative to the output folder
    outcome       TEXT,                  -- JSON of the batch Outcome (re-scored), for 汇总
    superseded_by TEXT,
    receipt       TEXT,                  -- outbox item id once a 回执 was queued (at most once)
    claimed       TEXT,                  -- version 2: department and year as the manifest stated them
    form          TEXT,                  -- version 3: "project" for a 项目支出绩效自评表, else department
    project       TEXT                   -- version 3: the 项目名称 (from the re-scored workbook)
);
CREATE INDEX IF NOT EXISTS by_department ON submissions (department, year);
"""

# From version n to n + 1. Version 0 is a new file (the CREATE above makes the latest layout).
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE submissions ADD COLUMN claimed TEXT",),
    2: ("ALTER TABLE submissions ADD COLUMN form TEXT", "ALTER TABLE submissions ADD COLUMN project TEXT"),
}


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
    claimed: str | None = None
    #: "project" for a 项目支出绩效自评表 (None or "department": a 部门整体 submission)
    form: str | None = None
    project: str | None = None

    @property
    def is_project(self) -> bool:
        return self.form == "project"

    @property
    def subject_key(self) -> tuple[str, int | None, str]:
        """What one current submission is per: department and year, and for a project its name too
        (a department's own 自评 and each of its projects are apart, never superseding each other)."""
        return (self.department, self.year, f"项目:{self.project or ''}" if self.is_project else "")


COLUMNS = tuple(f.name for f in fields(Entry))


class LedgerError(XlperfError):
    """The ledger cannot be opened (exit 2); the message is for the clerk."""


def _newer(path: Path, version: int) -> LedgerError:
    return LedgerError(
        f"收件台账 {path} 由较新版本的 xlperf 写成（台账版本 {version}，本程序只认识到 {SCHEMA_VERSION}）；"
        "请升级 xlperf 后再运行，或换一个输出文件夹（-o）"
    )


class Ledger:
    def __init__(self, folder: Path) -> None:
        self.path = folder / LEDGER_NAME
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self._migrate()
        except sqlite3.Error as exc:
            raise LedgerError(
                f"无法打开收件台账 {self.path}（{exc}）；请确认输出文件夹可写，"
                "且没有别的 xlperf intake 正在运行"
            ) from exc

    def _migrate(self) -> None:
        """Bring the file to ``SCHEMA_VERSION`` in one transaction; refuse a newer one."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise _newer(self.path, version)
            exists = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'submissions'").fetchone()
            if not exists:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
            else:
                for v in range(max(version, 1), SCHEMA_VERSION):
                    for statement in _MIGRATIONS[v]:
                        self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def make_key(message_id: str, package_hash: str) -> str:
        return f"{message_id}|{package_hash}"

    def has(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM submissions WHERE key = ?", (key,)).fetchone() is not None

    def add(self, e: Entry) -> None:
        values = [getattr(e, c) for c in COLUMNS]
        values[COLUMNS.index("outcome")] = (
            None if e.outcome is None else json.dumps(e.outcome, ensure_ascii=False)
        )
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                f"INSERT INTO submissions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                values,
            )
            self._supersede(e)

    def _supersede(self, added: Entry) -> None:
        """Within one department and year (and project), every 有效 submission but the current one is
        superseded by it."""
        if not added.department:
            return
        rows = [e for e in self.entries() if e.subject_key == added.subject_key]
        chosen = current(rows)
        latest = chosen[0].key if chosen and chosen[0].status == VALID else None
        for e in rows:
            if e.status == VALID:
                self.db.execute(
                    "UPDATE submissions SET superseded_by = ? WHERE key = ?",
                    (None if e.key == latest else latest, e.key),
                )

    def claim_receipt(self, key: str, marker: str) -> bool:
        """Mark ``key`` as having its 回执 on the way; false when another run (or an earlier one) did.

        Claimed before the mail is queued: a crash in between leaves the marker, and the next run
        looks the 回执 up in the outbox by its Message-ID (made from the key) before queueing it."""
        cur = self.db.execute(
            "UPDATE submissions SET receipt = ? WHERE key = ? AND receipt IS NULL", (marker, key)
        )
        return cur.rowcount == 1

    def record_receipt(self, key: str, receipt: str | None) -> None:
        self.db.execute("UPDATE submissions SET receipt = ? WHERE key = ?", (receipt, key))

    def entries(self) -> list[Entry]:
        return list(_entries(self.db))

    def get(self, key: str) -> Entry | None:
        found = [e for e in _entries(self.db) if e.key == key]
        return found[0] if found else None

    def current(self) -> list[Entry]:
        return current(self.entries())


def _entries(db: sqlite3.Connection) -> Iterator[Entry]:
    """Every row as an Entry, by arrival. Columns are named (a newer xlperf's extra ones are ignored, a
    column this ledger lacks is None); a row that cannot be read is skipped, never fatal."""
    have = {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
    select = ", ".join(c if c in have else f"NULL AS {c}" for c in COLUMNS)
    for row in db.execute(f"SELECT {select} FROM submissions ORDER BY received, rowid"):
        try:
            values = dict(zip(COLUMNS, row, strict=True))
            outcome = values["outcome"]
            try:
                values["outcome"] = None if outcome is None else json.loads(outcome)
            except (TypeError, ValueError, RecursionError):
                values["outcome"] = None
            if not isinstance(values["outcome"], dict | None):
                values["outcome"] = None
            year = values["year"]
            values["year"] = year if isinstance(year, int) else None
            for name in (
                "key",
                "message_id",
                "package_hash",
                "source",
                "received",
                "taken_at",
                "sender",
                "subject",
                "status",
                "reason",
                "department",
                "folder",
            ):
                values[name] = "" if values[name] is None else str(values[name])
            yield Entry(**values)
        except Exception:  # one damaged row never hides the others
            continue


def read_entries(folder: Path) -> list[Entry] | None:
    """The ledger of an intake folder, opened read-only (for the reviewer page); None when there is none.

    Raises :class:`LedgerError` when it cannot be read or was written by a newer xlperf."""
    path = Path(folder) / LEDGER_NAME
    if not path.is_file():
        return None
    try:
        return _read_only(path, "mode=ro")
    except sqlite3.OperationalError:
        # a WAL ledger in a folder the reviewer cannot write (a read-only share): SQLite cannot make
        # its -shm file there; read the file as it is (no intake is writing into a read-only folder)
        try:
            return _read_only(path, "immutable=1")
        except sqlite3.Error as exc:
            raise LedgerError(f"无法读取收件台账 {path}（{exc}）") from exc
    except sqlite3.Error as exc:
        raise LedgerError(f"无法读取收件台账 {path}（{exc}）") from exc


def _read_only(path: Path, mode: str) -> list[Entry]:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=10)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise _newer(path, version)
        return list(_entries(db))
    finally:
        db.close()


def current(entries: Iterable[Entry]) -> list[Entry]:
    """THE rule of what is current: per department and year (a project: per department, project and
    year — :attr:`Entry.subject_key`), the latest 有效 submission, else the latest of any status. 汇总,
    the reviewer page and the 回执 all take it from here; only a current 有效 one is ranked
    (:func:`is_ranked`)."""
    best: dict[tuple[str, int | None, str], Entry] = {}
    for e in sorted(entries, key=lambda e: e.received):  # stable: rowid order within one second
        if not e.department or e.status == NOT_SUBMISSION:
            continue
        key = e.subject_key
        held = best.get(key)
        if held is None or (e.status == VALID) >= (held.status == VALID):
            best[key] = e
    return sorted(best.values(), key=lambda e: (e.department, e.year or 0, e.subject_key[2]))


def outcome_of(e: Entry, index: int) -> Outcome:
    """What 汇总 and the reviewer page show of one submission: its re-scored outcome with the ledger's
    status (a blank workbook's 有效 package stays 未填写, never ranked); a row without a usable one is
    listed with its status and reason only."""
    from xlperf.batch import BLANK

    if e.outcome is not None:
        blank = e.outcome.get("status") == BLANK and e.status == VALID
        outcome = outcome_from_json(e.outcome, index=index, status=BLANK if blank else e.status)
        if outcome is not None:
            return outcome
    damaged = "；收件台账中此报送的计分记录已损坏，未列入排名，请把该文件夹中的邮件重新收取"
    return Outcome(
        index=index,
        file=e.folder,
        status=e.status,
        message=e.reason + (damaged if e.outcome is not None else ""),
        department=e.department,
        year=e.year,
        label=e.folder,
    )


def summary_outcomes(entries: Iterable[Entry]) -> list[tuple[Entry, Outcome]]:
    """The current submissions (:func:`current`) with the outcome each shows: what 汇总 lists, and
    what the reviewer page ranks."""
    return [(e, outcome_of(e, i)) for i, e in enumerate(current(entries))]


def is_ranked(e: Entry) -> bool:
    """Only a verified package reaches a ranking."""
    return e.status == VALID


def sender_changes(entries: Sequence[Entry]) -> dict[str, str]:
    """key → the earlier sender, for each submission sent from another address than the department's
    previous 有效 submission (any year; a project's: the same project's, as each project often has its
    own clerk): what the reviewer is told, in a column and a note."""
    last: dict[tuple[str, str], str] = {}
    changed: dict[str, str] = {}
    for e in sorted(entries, key=lambda e: e.received):
        if not e.department or e.status == NOT_SUBMISSION:
            continue
        who = (e.department, e.subject_key[2])
        before = last.get(who)
        if before is not None and e.sender.casefold() != before.casefold():
            changed[e.key] = before
        if e.status == VALID:
            last[who] = e.sender
    return changed
