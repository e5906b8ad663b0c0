"""Reading a bureau folder for the reviewer page (``xlperf serve --dir DIR``). Read-only.

All knowledge of what such a folder holds is in this module, so that the page follows when the
folder's layout changes. It reads

- what ``xlperf batch -o DIR`` writes: one ``<stem>.scorecard.json`` (schema ``xlperf.scorecard/1``)
  per scored workbook, the ``<stem>.scored.xlsx`` beside it, and ``汇总.xlsx`` / ``汇总.csv``;
- what ``xlperf intake -o DIR`` writes (a folder with ``收件台账.sqlite``): the ledger, opened
  read-only, says which submissions there are, their status and which is current — through the one
  function that decides it for 汇总 and the 回执 too (:func:`xlperf.intake.ledger.current`); the page
  derives nothing itself. Each submission's ``scorecard.json`` (re-scored by intake) is read from the
  folder the ledger names; no other score card below an intake folder is ever listed (a stranger's
  ``*.scorecard.json`` filed under 未识别/ is an attachment, not a result). Only a current 有效
  submission is ranked; earlier ones are listed as 已被取代.

A 项目支出绩效自评表's score card (``"form": "project"``, issue 27) is kept apart in
:attr:`Folder.projects`: never ranked with the departments, never in their statistics; the reviewer's
项目自评汇总 page (:mod:`xlperf.web.projects`) shows them.

Score cards of a batch folder are found anywhere below DIR (hidden folders skipped). Every card is
checked field by field before it is shown (:func:`card_problem`): one that cannot be read, or whose
figures are not numbers, is listed as a problem, never fatal to the page.

Files are offered for download only from the list made by :meth:`Folder.scan` — a request names a
file by its position in that list, so no path from a request ever reaches the file system.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlperf.batch import CARD_SUFFIX, OK, SCORED_SUFFIX, SUMMARY_CSV, SUMMARY_XLSX, Outcome
from xlperf.core.findings import CODES
from xlperf.core.result import SCORECARD_SCHEMA
from xlperf.intake.ledger import Entry as LedgerEntry
from xlperf.intake.ledger import LedgerError, is_ranked, read_entries, sender_changes
from xlperf.intake.ledger import current as current_submissions
from xlperf.summary import rank
from xlperf.web.view import card_finding_rows

INTAKE_CARD = "scorecard.json"
MAX_FILES = 5000  # what one listing shows; a bureau folder holds a few hundred
MAX_CARD_BYTES = 20 * 1024 * 1024
LISTED_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".json", ".docx", ".zip", ".eml", ".pdf")


@dataclass(frozen=True)
class FileLink:
    """A file below DIR that the page may offer (``index`` is its id in URLs)."""

    index: int
    relative: str  # as shown, with "/" separators
    path: Path
    bytes: int


@dataclass
class Entry:
    """One department's score card."""

    key: int
    card: dict[str, Any]
    card_file: FileLink
    scored_file: FileLink | None = None
    rank: int | None = None
    intake: dict[str, Any] | None = None  # the ledger row of an intake submission (None for batch output)
    current: bool = (
        True  # False: an intake submission replaced by a later one of the same department and year
    )
    ranked: bool = True  # only a current 有效 intake submission (or any batch card) is ranked

    @property
    def status(self) -> str:
        """The intake status (有效, 文件与清单不符, …), or "" for batch output."""
        return str(self.intake.get("status") or "") if self.intake else ""

    @property
    def received(self) -> str:
        return str(self.intake.get("received") or "") if self.intake else ""

    @property
    def sender(self) -> str:
        return str(self.intake.get("sender") or "") if self.intake else ""

    @property
    def sender_changed(self) -> str:
        """The department's earlier sender when this one differs (else "")."""
        return str(self.intake.get("sender_changed") or "") if self.intake else ""

    @property
    def received_display(self) -> str:
        """``2026-12-01 20:07`` (the ISO time as a reader reads it)."""
        return self.received[:16].replace("T", " ")

    @property
    def department(self) -> str:
        return str(self.card.get("department") or "（未填写部门）")

    @property
    def year(self) -> str:
        return str(self.card.get("year") or "")

    @property
    def total(self) -> float:
        return float(self.card.get("total") or 0)

    @property
    def rating(self) -> str:
        return str(self.card.get("rating") or "")

    @property
    def errors(self) -> int:
        return int(self.card.get("errors") or 0)

    @property
    def warnings(self) -> int:
        return int(self.card.get("warnings") or 0)

    @property
    def sections(self) -> dict[str, float]:
        value = self.card.get("sections")
        return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def ratios(self) -> dict[str, float | None]:
        value = self.card.get("ratios")
        return (
            {str(k): (None if v is None else float(v)) for k, v in value.items()}
            if isinstance(value, dict)
            else {}
        )

    @property
    def workbook(self) -> str:
        return str(self.card.get("workbook") or "")

    def indicators(self, section: str) -> list[dict[str, Any]]:
        items = self.card.get("indicators")
        return (
            [i for i in items if isinstance(i, dict) and i.get("section") == section]
            if isinstance(items, list)
            else []
        )

    def finding_rows(self) -> list[dict[str, str]]:
        """The card's findings as table rows, in sheet-and-row order."""
        return card_finding_rows(self.card.get("findings"))


@dataclass
class Folder:
    """What DIR holds: the score cards, every listed file, and the cards that could not be read."""

    root: Path
    entries: list[Entry] = field(default_factory=list)
    #: the project forms' cards (issue 27), apart: their keys number this list
    projects: list[Entry] = field(default_factory=list)
    files: list[FileLink] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    truncated: bool = False

    @classmethod
    def scan(cls, root: Path) -> Folder:
        root = Path(root).resolve()
        folder = cls(root)
        by_path: dict[Path, FileLink] = {}
        for path in _walk(root):
            if len(folder.files) >= MAX_FILES:
                folder.truncated = True
                break
            try:
                size = path.stat().st_size
            except OSError:
                continue
            link = FileLink(len(folder.files), path.relative_to(root).as_posix(), path, size)
            folder.files.append(link)
            by_path[path] = link
        try:
            ledger = read_entries(root)
        except LedgerError as exc:  # an intake folder whose ledger cannot be used: nothing is ranked
            folder.problems.append(str(exc))
            ledger = []
        if ledger is None:
            folder._batch_cards(by_path)
        else:
            folder._intake_cards(ledger, by_path)
        ranks = rank(
            [
                Outcome(index=e.key, file=e.card_file.relative, status=OK, message="", total=e.total)
                for e in folder.entries
                if e.ranked
            ]
        )
        for e in folder.entries:
            e.rank = ranks.get(e.key)
        return folder

    def _batch_cards(self, by_path: dict[Path, FileLink]) -> None:
        for path, link in by_path.items():
            if not path.name.lower().endswith(CARD_SUFFIX):
                continue
            card, problem = _read_card(path, link)
            if card is None:
                self.problems.append(problem)
                continue
            scored = by_path.get(path.with_name(path.name[: -len(CARD_SUFFIX)] + SCORED_SUFFIX))
            kept = self._list_for(card)
            kept.append(Entry(len(kept), card, link, scored))

    def _list_for(self, card: dict[str, Any]) -> list[Entry]:
        """Where a card belongs: a project form's apart from the departments'."""
        return self.projects if card.get("form") == "project" else self.entries

    def _intake_cards(self, ledger: list[LedgerEntry], by_path: dict[Path, FileLink]) -> None:
        """One entry per ledger row that has a re-scored card; current and ranked as the ledger decides."""
        chosen = {e.key for e in current_submissions(ledger)}
        changed = sender_changes(ledger)
        for row in ledger:
            if not row.folder or row.outcome is None:
                continue
            path = self.root / row.folder / INTAKE_CARD
            link = by_path.get(path)
            if link is None:
                self.problems.append(
                    f"{row.folder}/{INTAKE_CARD}：收件台账记有此报送，但文件不在；请重新运行 xlperf intake"
                )
                continue
            card, problem = _read_card(path, link)
            if card is None:
                self.problems.append(problem)
                continue
            record = {
                "status": row.status,
                "reason": row.reason,
                "received": row.received,
                "sender": row.sender,
                "sender_changed": changed.get(row.key, ""),
                "claimed": row.claimed or "",
            }
            scored = by_path.get(path.parent / Path(str(card.get("workbook") or "")).name)
            kept = self._list_for(card)
            kept.append(
                Entry(
                    len(kept),
                    card,
                    link,
                    scored,
                    intake=record,
                    current=row.key in chosen,
                    ranked=row.key in chosen and is_ranked(row),
                )
            )

    @property
    def has_intake(self) -> bool:
        return any(e.intake is not None for e in self.entries)

    @property
    def current(self) -> list[Entry]:
        """The entries that are ranked and counted (all of a batch folder; an intake folder's current ones)."""
        return [e for e in self.entries if e.current]

    def file(self, index: int) -> FileLink | None:
        """The listed file number ``index`` — re-checked to be a regular file inside DIR."""
        if not 0 <= index < len(self.files):
            return None
        link = self.files[index]
        try:
            real = link.path.resolve(strict=True)
        except OSError:
            return None
        if not real.is_relative_to(self.root) or not real.is_file():
            return None
        return link

    def entry(self, key: int) -> Entry | None:
        return self.entries[key] if 0 <= key < len(self.entries) else None

    @property
    def summaries(self) -> list[FileLink]:
        return [f for f in self.files if f.path.name in (SUMMARY_XLSX, SUMMARY_CSV)]

    def ranking(self, everything: bool = False) -> list[Entry]:
        """Ranked entries by rank; with ``everything`` also the superseded intake submissions (last)."""
        chosen = self.entries if everything else self.current
        return sorted(chosen, key=lambda e: (e.rank or 10**9, e.department, e.received, e.card_file.relative))

    def years(self) -> list[str]:
        return sorted({e.year for e in self.entries if e.year}, reverse=True)

    def rating_names(self) -> list[str]:
        """The rating names of the frameworks that scored the cards, highest first (a card made before
        cards carried them: those of the framework it names, when this machine has it); any rating a
        card shows is among them."""
        from xlperf.catalog import find

        names: list[str] = []
        for e in self.entries:
            given = e.card.get("rating_names")
            if isinstance(given, list):
                listed = [str(n) for n in given]
            else:
                try:
                    known = find(str(e.card.get("framework") or ""))
                except Exception:  # a broken framework file of this machine: the card's own rating only
                    known = None
                listed = known.rating_names() if known is not None else []
            for n in [*listed, e.rating]:
                if n and n not in names:
                    names.append(n)
        return names

    def distribution(self) -> list[tuple[str, int]]:
        counts = Counter(e.rating for e in self.current if e.ranked)
        return [(r, counts.get(r, 0)) for r in self.rating_names()]

    def management_columns(self) -> list[dict[str, Any]]:
        """The 管理效率 indicators, in the order of the first card that lists them."""
        seen: dict[str, dict[str, Any]] = {}
        for e in self.current:
            for ind in e.indicators("management"):
                key = str(ind.get("id") or ind.get("name"))
                seen.setdefault(
                    key,
                    {
                        "id": key,
                        "name": str(ind.get("name") or key),
                        "group": str(ind.get("group") or ""),
                        "full": ind.get("full"),
                    },
                )
        return list(seen.values())

    def finding_statistics(self) -> list[dict[str, Any]]:
        """Per code: level, title, how often, in how many departments."""
        times: Counter[str] = Counter()
        departments: dict[str, set[int]] = {}
        about: dict[str, dict[str, str]] = {}
        for e in self.current:
            for f in e.finding_rows():
                times[f["code"]] += 1
                departments.setdefault(f["code"], set()).add(e.key)
                about.setdefault(f["code"], f)
        order = {code: i for i, code in enumerate(CODES)}
        return [
            {
                "code": code,
                "level": about[code]["level"],
                "title": about[code]["title"],
                "times": n,
                "departments": len(departments[code]),
            }
            for code, n in sorted(times.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
        ]


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith((".", "~$")) or not name.lower().endswith(LISTED_SUFFIXES):
                continue
            path = Path(current) / name
            try:
                if path.is_symlink() and not path.resolve().is_relative_to(root):
                    continue
            except OSError:
                continue
            found.append(path)
        if len(found) > MAX_FILES:
            break
    return found


def _read_card(path: Path, link: FileLink) -> tuple[dict[str, Any] | None, str]:
    if link.bytes > MAX_CARD_BYTES:
        return None, f"{link.relative}：文件过大（{link.bytes / 1048576:.1f} MB），不是计分卡"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        return (
            None,
            f"{link.relative}：无法读取（{type(exc).__name__}: {str(exc)[:120]}）；请重新运行 xlperf batch",
        )
    if not isinstance(data, dict) or data.get("schema") != SCORECARD_SCHEMA:
        return None, f"{link.relative}：不是 xlperf 计分卡（schema 应为 {SCORECARD_SCHEMA}）"
    problem = card_problem(data)
    if problem:
        return None, f"{link.relative}：{problem}；该计分卡未列入，请重新计分后再看"
    return data, ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def card_problem(card: dict[str, Any]) -> str:
    """What in a score card the pages cannot show (empty: nothing): every figure they format must be a
    finite number, every list a list. The error boundary of one card."""
    if not _number(card.get("total")):
        return f"总分（total）不是数字：{str(card.get('total'))[:40]}"
    for key in ("errors", "warnings"):
        if key in card and not (
            isinstance(card[key], int) and not isinstance(card[key], bool) and card[key] >= 0
        ):
            return f"{key} 不是非负整数"
    for key, nullable in (("sections", False), ("ratios", True)):
        value = card.get(key, {})
        if not isinstance(value, dict):
            return f"{key} 不是对象"
        bad = [k for k, v in value.items() if not (_number(v) or (nullable and v is None))]
        if bad:
            return f"{key} 中 {str(bad[0])[:40]} 不是数字"
    for key in ("rating", "department", "workbook"):
        if card.get(key) is not None and not isinstance(card[key], str):
            return f"{key} 不是文字"
    if card.get("year") is not None and not isinstance(card["year"], int | str):
        return "year 不是年度"
    indicators = card.get("indicators", [])
    findings = card.get("findings", [])
    if not isinstance(indicators, list) or not isinstance(findings, list):
        return "indicators 或 findings 不是列表"
    if card.get("form") == "project":
        from xlperf.web.projects import project_card_problem

        return project_card_problem(card)
    for n, ind in enumerate(indicators, start=1):
        if not isinstance(ind, dict):
            return f"第 {n} 个指标不是对象"
        needed = ("full", "score") if ind.get("section") == "management" else ("full", "deduction", "score")
        if ind.get("section") in ("output", "benefit", "management"):
            missing = [k for k in needed if not _number(ind.get(k))]
            if missing:
                return f"第 {n} 个指标的 {missing[0]} 不是数字"
            for k in ("completion", "ratio"):
                if ind.get(k) is not None and not _number(ind[k]):
                    return f"第 {n} 个指标的 {k} 不是数字"
    return ""
