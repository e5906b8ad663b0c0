"""Reading a bureau folder for the reviewer page (``xlperf serve --dir DIR``). Read-only.

All knowledge of what such a folder holds is in this module, so that the page follows when the
folder's layout changes. The page decides nothing itself: it shows what 汇总 shows, from the same
outcomes through the same functions (:mod:`xlperf.summary`'s rank, 等级分布 and 问题统计). It reads

- what ``xlperf batch -o DIR`` writes: ``汇总.json`` (schema ``xlperf.summary/1``), the outcomes
  汇总.xlsx was written from — every file found, with the status the batch decided (通过, 有错误,
  未填写, 重复, 无法读取, 处理失败); for each scored one its ``<stem>.scorecard.json`` (the indicators of
  the department page) and ``<stem>.scored.xlsx``. A folder of score cards without 汇总.json (an
  older batch) is read from the cards, with a note that its statuses are inferred;
- what ``xlperf intake -o DIR`` writes (a folder with ``收件台账.sqlite``): the ledger, opened
  read-only, says which submissions there are, their status and which is current — through the one
  function that decides it for 汇总 and the 回执 too (:func:`xlperf.intake.ledger.summary_outcomes`).
  Each submission's ``scorecard.json`` (re-scored by intake) is read from the folder the ledger
  names; no other score card below an intake folder is ever listed (a stranger's
  ``*.scorecard.json`` filed under 未识别/ is an attachment, not a result). Only a current 有效
  submission is ranked; earlier ones are listed as 已被取代.

A 项目支出绩效自评表's outcome (``form = "project"``, issue 27) is kept apart in
:attr:`Folder.projects`: never ranked with the departments, never in their statistics; the reviewer's
项目自评汇总 page (:mod:`xlperf.web.projects`) shows them.

Every card is checked field by field before it is shown (:func:`card_problem`), every recorded
outcome too (:func:`xlperf.batch.usable`): one that cannot be read is listed as a problem, never
fatal to the page.

Files are offered for download only from the list made by :meth:`Folder.scan` — a request names a
file by its position in that list, so no path from a request ever reaches the file system (a name
in 汇总.json or the ledger is only looked up in that list).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlperf.batch import (
    CARD_SUFFIX,
    ERRORS,
    OK,
    SCORED_SUFFIX,
    SUMMARY_CSV,
    SUMMARY_JSON,
    SUMMARY_SCHEMA,
    SUMMARY_XLSX,
    Outcome,
    mark_duplicates,
    outcome_from_json,
)
from xlperf.core.result import SCORECARD_SCHEMA
from xlperf.intake.ledger import Entry as LedgerEntry
from xlperf.intake.ledger import LedgerError, outcome_of, read_entries, sender_changes, summary_outcomes
from xlperf.summary import finding_stat_rows, rank, rating_counts, status_counts
from xlperf.web.view import card_finding_rows

INTAKE_CARD = "scorecard.json"
MAX_FILES = 5000  # what one listing shows; a bureau folder holds a few hundred
MAX_CARD_BYTES = 20 * 1024 * 1024
MAX_SUMMARY_BYTES = 200 * 1024 * 1024
LISTED_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".json", ".docx", ".zip", ".eml", ".pdf")


#: the names a score card made before it carried them (schema 1 without section_names) stands for
_OLD_SECTIONS = {
    "output": "产出指标完成情况",
    "benefit": "效益指标完成情况",
    "spending": "部门预算资金支出率",
    "duty": "履职效能",
    "management": "管理效率",
}
_OLD_RATIOS = {
    "budget_execution": "预算执行率",
    "carryover": "结转结余率",
    "public_funds_control": "公用经费控制率",
    "three_public_execution": "“三公”经费执行率",
    "fixed_asset_utilization": "固定资产利用率",
}


@dataclass(frozen=True)
class FileLink:
    """A file below DIR that the page may offer (``index`` is its id in URLs)."""

    index: int
    relative: str  # as shown, with "/" separators
    path: Path
    bytes: int


@dataclass
class Entry:
    """One file or submission as 汇总 lists it: its outcome (status, figures, findings, as the batch or
    the intake ledger decided them), and the score card behind it when there is one."""

    key: int
    outcome: Outcome
    card: dict[str, Any] | None = None
    card_file: FileLink | None = None
    scored_file: FileLink | None = None
    rank: int | None = None
    intake: dict[str, Any] | None = None  # the ledger row of an intake submission (None for batch output)
    #: False: an intake submission replaced by a later one of the same department and year
    current: bool = True

    @property
    def ranked(self) -> bool:
        """In 排名: scored, not blank, not a duplicate, a current 有效 submission (``Outcome.is_scored``)."""
        return self.current and self.outcome.is_scored

    @property
    def status(self) -> str:
        """The status 汇总 shows (通过, 有错误, 未填写, 重复, 无法读取 …; an intake's 有效,
        文件与清单不符 …)."""
        return self.outcome.status

    @property
    def standing(self) -> str:
        """The 状态 shown beside a rank (有错误，仅供参考 …)."""
        return self.outcome.standing

    @property
    def message(self) -> str:
        return self.outcome.message

    @property
    def has_score(self) -> bool:
        """Figures to show (not 未填写, 无法读取 or 处理失败: those show "—")."""
        return self.outcome.has_score

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
        return self.outcome.department or "（未填写部门）"

    @property
    def year(self) -> str:
        return str(self.outcome.year or "")

    @property
    def total(self) -> float | None:
        return self.outcome.total if self.has_score else None

    @property
    def rating(self) -> str:
        return self.outcome.rating if self.has_score else ""

    @property
    def errors(self) -> int:
        return self.outcome.errors

    @property
    def warnings(self) -> int:
        return self.outcome.warnings

    @property
    def sections(self) -> dict[str, float]:
        return dict(self.outcome.sections) if self.has_score else {}

    @property
    def ratios(self) -> dict[str, float | None]:
        return dict(self.outcome.ratios) if self.has_score else {}

    @property
    def workbook(self) -> str:
        """The file's name as the department sent it."""
        named = str(self.card.get("workbook") or "") if self.card else ""
        return named or Path(self.outcome.file.replace("\\", "/")).name

    @property
    def file(self) -> str:
        """The file as 汇总's 文件 column names it."""
        return self.outcome.label or self.outcome.file

    def indicators(self, section: str) -> list[dict[str, Any]]:
        items = self.card.get("indicators") if self.card and self.has_score else None
        return (
            [i for i in items if isinstance(i, dict) and i.get("section") == section]
            if isinstance(items, list)
            else []
        )

    def section_rows(self) -> list[tuple[str, float | None, int]]:
        """评分汇总's rows as the rules name them: (name, score, level 1 for a section, 2 for its parts);
        a card from before ``section_names`` gets the bundled framework's five."""
        names, top = (self.card or {}).get("section_names"), (self.card or {}).get("top_sections")
        if not isinstance(names, dict) or not isinstance(top, list):
            names, top = _OLD_SECTIONS, ["duty", "management"]
        scores = self.sections
        return [(str(name), scores.get(str(key)), 1 if key in top else 2) for key, name in names.items()]

    def ratio_rows(self) -> list[tuple[str, float | None]]:
        """计算比率's rows: every ratio the card holds, by the rules' names."""
        names = (self.card or {}).get("ratio_names")
        if not isinstance(names, dict):
            names = _OLD_RATIOS
        ratios = self.ratios
        return [(str(name), ratios.get(str(key))) for key, name in names.items()]

    def _items(self) -> list[dict[str, Any]]:
        items = (self.card or {}).get("indicators")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def answered(self) -> list[dict[str, Any]]:
        """The indicators answered on the 管理效率 sheet, whatever section the rules put them in (the
        score card's entries with an id: 部门决策's as well as 管理效率's)."""
        return [i for i in self._items() if i.get("id") is not None]

    def answered_total(self) -> Decimal:
        """The sum of :meth:`answered`'s two-decimal scores, exactly (never a float sum)."""
        return sum((Decimal(str(i.get("score") or 0)) for i in self.answered()), Decimal(0))

    def rows(self) -> list[tuple[str, dict[str, Any]]]:
        """The 产出/效益 rows with their table's short name (产出, 效益: from the rules' own names)."""
        value = (self.card or {}).get("section_names")
        names = value if isinstance(value, dict) else {"output": "产出", "benefit": "效益"}
        out = []
        for i in self._items():
            if i.get("seq") is None and "deduction" not in i:
                continue
            key = str(i.get("section") or "")
            label = str(names.get(key) or key).removesuffix("完成情况").removesuffix("指标") or key
            out.append((label, i))
        return out

    def finding_rows(self) -> list[dict[str, str]]:
        """The findings as table rows, in sheet-and-row order."""
        return card_finding_rows(self.outcome.findings)


@dataclass
class Folder:
    """What DIR holds: every file or submission 汇总 lists (as :class:`Entry`), every listed file, and
    what could not be read."""

    root: Path
    entries: list[Entry] = field(default_factory=list)
    #: the project forms' cards (issue 27), apart: their keys number this list
    projects: list[Entry] = field(default_factory=list)
    files: list[FileLink] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: what the reviewer should know about how the folder was read
    notes: list[str] = field(default_factory=list)
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
        if ledger is not None:
            folder._intake(ledger, by_path)
        elif not folder._batch(by_path):
            folder._cards_only(by_path)
        for e in folder.entries:  # one numbering for the ranks: the entry's key
            e.outcome.index = e.key
        ranks = rank([e.outcome for e in folder.current])
        for e in folder.entries:
            e.rank = ranks.get(e.key) if e.current else None
        return folder

    def _add(
        self, outcome: Outcome, card_path: Path | None, by_path: dict[Path, FileLink], **kw: Any
    ) -> None:
        """One entry; its score card read (a card that cannot be read is a problem, the entry stays)."""
        card, link = None, by_path.get(card_path) if card_path is not None else None
        if link is not None and card_path is not None:
            card, problem = _read_card(card_path, link)
            if card is None:
                self.problems.append(problem)
                link = None
        if outcome.form == "project" or (card is not None and card.get("form") == "project"):
            if card is None:  # the project page reads the card: without one it has nothing to show
                self.problems.append(
                    f"{outcome.label or outcome.file}：项目自评表的计分卡无法读取，未列入项目自评汇总"
                )
                return
            self.projects.append(Entry(len(self.projects), outcome, card, link, **kw))
            return
        self.entries.append(Entry(len(self.entries), outcome, card, link, **kw))

    def _batch(self, by_path: dict[Path, FileLink]) -> bool:
        """A batch folder through its 汇总.json (the outcomes 汇总.xlsx was written from); False when
        there is none."""
        path = self.root / SUMMARY_JSON
        link = by_path.get(path)
        if link is None:
            return False
        try:
            if link.bytes > MAX_SUMMARY_BYTES:
                raise ValueError(f"文件过大（{link.bytes / 1048576:.1f} MB）")
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("schema") != SUMMARY_SCHEMA:
                raise ValueError(f"不是 xlperf 汇总（schema 应为 {SUMMARY_SCHEMA}）")
            items = data.get("outcomes")
            if not isinstance(items, list):
                raise ValueError("outcomes 不是列表")
        except (OSError, ValueError, RecursionError) as exc:
            self.problems.append(f"{SUMMARY_JSON}：无法读取（{str(exc)[:120]}）；请重新运行 xlperf batch")
            return False
        for n, item in enumerate(items, start=1):
            outcome = outcome_from_json(item, index=n)
            if outcome is None:
                self.problems.append(f"{SUMMARY_JSON}：第 {n} 项无法读取，未列入；请重新运行 xlperf batch")
                continue
            card = self.root / outcome.scorecard if outcome.scorecard else None
            scored = by_path.get(self.root / outcome.scored) if outcome.scored else None
            self._add(outcome, card, by_path, scored_file=scored)
        listed = {self.root / o.scorecard for o in (e.outcome for e in self.entries) if o.scorecard}
        self._project_cards(by_path, listed)
        return True

    def _project_cards(self, by_path: dict[Path, FileLink], listed: set[Path]) -> None:
        """A batch's project forms: 汇总.json lists the departments only (项目自评汇总 is its own
        workbook), so their score cards are taken from the folder, each as its own card says."""
        for path, link in by_path.items():
            if not path.name.lower().endswith(CARD_SUFFIX) or path in listed:
                continue
            card, problem = _read_card(path, link)
            if card is None:  # a card 汇总.json does not list: a project's, unreadable
                self.problems.append(problem)
                continue
            if card.get("form") != "project":
                continue
            outcome = card_outcome(card, len(self.projects), link.relative)
            outcome.form = "project"
            scored = by_path.get(path.with_name(path.name[: -len(CARD_SUFFIX)] + SCORED_SUFFIX))
            self._add(outcome, path, by_path, scored_file=scored)

    def _cards_only(self, by_path: dict[Path, FileLink]) -> None:
        """A folder of score cards without 汇总.json (an older batch, or cards put together by hand):
        the statuses as the batch would decide them from the cards (通过 / 有错误, duplicates); a blank
        workbook cannot be told from its card."""
        outcomes: list[tuple[Outcome, Path, FileLink | None]] = []
        for path, link in by_path.items():
            if not path.name.lower().endswith(CARD_SUFFIX):
                continue
            card, problem = _read_card(path, link)
            if card is None:
                self.problems.append(problem)
                continue
            outcome = card_outcome(card, len(outcomes), link.relative)
            scored = by_path.get(path.with_name(path.name[: -len(CARD_SUFFIX)] + SCORED_SUFFIX))
            outcomes.append((outcome, path, scored))
        if outcomes:
            self.notes.append(
                f"此文件夹没有 {SUMMARY_JSON}（较早版本的 xlperf batch 写成），状态由计分卡推断，"
                "空白工作簿无法识别；请重新运行 xlperf batch，使本页与汇总.xlsx 一致"
            )
        mark_duplicates([o for o, _, _ in outcomes])
        for outcome, path, scored in outcomes:
            self._add(outcome, path, by_path, scored_file=scored)

    def _intake(self, ledger: list[LedgerEntry], by_path: dict[Path, FileLink]) -> None:
        """The ledger's current submissions with the outcomes 汇总 shows (one function decides both:
        :func:`xlperf.intake.ledger.summary_outcomes`), then the superseded ones that have a
        re-scored card."""
        changed = sender_changes(ledger)
        chosen = summary_outcomes(ledger)
        keys = {row.key for row, _ in chosen}
        later = [
            (row, outcome_of(row, 0)) for row in ledger if row.key not in keys and row.folder and row.outcome
        ]
        for (row, outcome), is_current in [*((c, True) for c in chosen), *((c, False) for c in later)]:
            record = {
                "status": row.status,
                "reason": row.reason,
                "received": row.received,
                "sender": row.sender,
                "sender_changed": changed.get(row.key, ""),
                "claimed": row.claimed or "",
            }
            card = self.root / row.folder / INTAKE_CARD if row.folder and row.outcome is not None else None
            if card is not None and card not in by_path:
                self.problems.append(
                    f"{row.folder}/{INTAKE_CARD}：收件台账记有此报送，但文件不在；请重新运行 xlperf intake"
                )
            scored = by_path.get(self.root / outcome.link) if outcome.link else None
            self._add(outcome, card, by_path, scored_file=scored, intake=record, current=is_current)

    @property
    def has_intake(self) -> bool:
        return any(e.intake is not None for e in self.entries)

    @property
    def current(self) -> list[Entry]:
        """What 汇总 lists: every file of a batch folder; an intake folder's current submissions."""
        return [e for e in self.entries if e.current]

    @property
    def outcomes(self) -> list[Outcome]:
        return [e.outcome for e in self.current]

    @property
    def ranked(self) -> list[Entry]:
        """排名's entries, by rank."""
        return [e for e in self.ranking() if e.ranked]

    @property
    def unranked(self) -> list[Entry]:
        """The files 汇总 lists that are not ranked (未填写, 重复, 无法读取, 处理失败, an intake's
        unverified submission), in 汇总's order."""
        return [e for e in self.current if not e.ranked]

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

    def project(self, key: int) -> Entry | None:
        """A project form's entry by its key (its place in :attr:`projects`)."""
        return self.projects[key] if 0 <= key < len(self.projects) else None

    def files_beside(self, link: FileLink) -> list[FileLink]:
        """The listed files in the folder of ``link`` (an intake submission's folder: its mail, the
        attachments as sent, the re-scored card), in listing order."""
        parent = link.path.parent
        return [f for f in self.files if f.path.parent == parent]

    @property
    def summaries(self) -> list[FileLink]:
        return [f for f in self.files if f.path.name in (SUMMARY_XLSX, SUMMARY_CSV)]

    def ranking(self, everything: bool = False) -> list[Entry]:
        """Ranked entries by rank (排名's order: on a tie by file); with ``everything`` also the
        superseded intake submissions (last)."""
        chosen = [e for e in self.entries if e.ranked or (everything and not e.current)]
        return sorted(chosen, key=lambda e: (e.rank or 10**9, e.file, e.received, e.key))

    def years(self) -> list[str]:
        return sorted({e.year for e in self.entries if e.year}, reverse=True)

    def rating_names(self) -> list[str]:
        """The rating names of the frameworks that scored the files, highest first, as 等级分布 lists them."""
        names = [r for r, _ in rating_counts(self.outcomes)]
        for e in self.entries:  # a superseded submission's rating (shown with 含已被取代的报送)
            if e.rating and e.rating not in names:
                names.append(e.rating)
        return names

    def distribution(self) -> list[tuple[str, int]]:
        """等级分布's rating rows (ranked files per rating), as 汇总.xlsx counts them."""
        return rating_counts(self.outcomes)

    def tally(self) -> list[tuple[str, int]]:
        """等级分布's other rows: ranked with errors, not ranked by status, and the total of files."""
        return status_counts(self.outcomes)

    def management_columns(self) -> list[dict[str, Any]]:
        """The 管理效率 indicators, in the order of the first ranked card that lists them."""
        seen: dict[str, dict[str, Any]] = {}
        for e in self.ranked:
            for ind in e.answered():
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
        """问题统计 as 汇总.xlsx has it: per code, over the ranked files only."""
        return finding_stat_rows(self.outcomes)


def card_outcome(card: dict[str, Any], index: int, file: str) -> Outcome:
    """The outcome a checked score card stands for, when nothing recorded one (a folder of cards)."""
    errors = int(card.get("errors") or 0)
    names = card.get("rating_names")
    if not isinstance(names, list):
        from xlperf.catalog import find

        try:
            known = find(str(card.get("framework") or ""))
        except Exception:  # a broken framework file of this machine: the card's own rating only
            known = None
        names = known.rating_names() if known is not None else []
    year = card.get("year")
    return Outcome(
        index=index,
        file=str(card.get("workbook") or file),
        label=file,
        status=ERRORS if errors else OK,
        message="",
        department=str(card.get("department") or ""),
        year=int(year) if isinstance(year, int) or (isinstance(year, str) and year.isdigit()) else None,
        sections={str(k): float(v) for k, v in (card.get("sections") or {}).items()},
        ratios={str(k): (None if v is None else float(v)) for k, v in (card.get("ratios") or {}).items()},
        total=float(card["total"]),
        rating=str(card.get("rating") or ""),
        errors=errors,
        warnings=int(card.get("warnings") or 0),
        findings=[f for f in card.get("findings") or [] if isinstance(f, dict)],
        framework=str(card.get("framework") or ""),
        framework_sha256=str(card.get("framework_sha256") or card.get("framework") or ""),
        ratings=[str(n) for n in names],
    )


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
