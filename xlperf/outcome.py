"""What processing one input gave, and the words every results folder shares (issue 26, "Cycles").

An :class:`Outcome` is one row of 汇总: batch makes one per input, intake one per submission (from its
ledger), the reviewer page reads them back from 汇总.json. Statuses, ranks and duplicates are decided
here once (``fill_scored``, ``mark_duplicates``), so 汇总.xlsx/.csv and every web page show the same
(docs/DESIGN.md §8). This module sits below batch, intake and summary, which all import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, TypeAlias

SUMMARY_XLSX = "汇总.xlsx"
SUMMARY_CSV = "汇总.csv"
#: the same outcomes as 汇总.xlsx, for the reviewer page (schema ``SUMMARY_SCHEMA``)
SUMMARY_JSON = "汇总.json"
SUMMARY_SCHEMA = "xlperf.summary/1"
SCORED_SUFFIX = ".scored.xlsx"
CARD_SUFFIX = ".scorecard.json"
#: the intake folder's ledger: a folder holding it is never a batch's output folder
LEDGER_NAME = "收件台账.sqlite"

#: statuses as the reviewer reads them in 汇总 (and on screen)
OK, ERRORS, BLANK, DUPLICATE, UNREADABLE, FAILED = "通过", "有错误", "未填写", "重复", "无法读取", "处理失败"
STATUSES = (OK, ERRORS, BLANK, DUPLICATE, UNREADABLE, FAILED)
#: ``xlperf intake``'s status of a verified submission (its other statuses are in xlperf.intake.verify)
VALID = "有效"
RANKED_STATUSES = (OK, ERRORS, VALID)
#: what every output shows where a figure does not exist (未填写, 无法读取, 处理失败, not ranked)
NONE = "—"
#: one cell of a 汇总 or 项目自评汇总 table: text, a count or rank, a score card figure, a Decimal
#: computed from them, or empty
TableValue: TypeAlias = str | int | float | Decimal | None


@dataclass
class Outcome:
    """What processing one input gave (picklable, passed between processes). Scores are the score card's
    values, already rounded to two decimals.
    """

    index: int
    file: str
    status: str
    message: str
    department: str = ""
    year: int | None = None
    sections: dict[str, float] = field(default_factory=dict)
    total: float | None = None
    rating: str = ""
    errors: int = 0
    warnings: int = 0
    sha256: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    scored: str = ""
    scorecard: str = ""
    seconds: float = 0.0
    pid: int = 0
    peak_rss_mb: float = 0.0
    ratios: dict[str, float | None] = field(default_factory=dict)
    #: the 管理效率 indicators of the score card: {"id", "name", "full", "score"}
    management: list[dict[str, Any]] = field(default_factory=list)
    #: what the workbook itself states (填报人自报的总分与等级), as text so that no float enters
    claimed_total: str | None = None
    claimed_rating: str = ""
    modified: float = 0.0
    #: link targets relative to the 汇总 folder: the scored workbook, and the workbook holding 校验结果
    link: str = ""
    label: str = ""  # 文件 column: the path as the reviewer should see it (default: ``file``)
    #: the rules that scored it: shown as 评分框架; outcomes are ranked only against the same rules
    framework: str = ""
    framework_sha256: str = ""
    #: the framework's rating names, highest first, and its section names by id (for 汇总's columns)
    ratings: list[str] = field(default_factory=list)
    section_names: dict[str, str] = field(default_factory=dict)
    #: the project form (issue 27): "project", its 项目名称 and 实施单位, and its rows below full marks
    form: str = "department"
    project: str = ""
    unit: str = ""
    project_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_scored(self) -> bool:
        """Ranked: scored, and neither blank nor a duplicate."""
        return self.status in RANKED_STATUSES and self.total is not None

    @property
    def has_score(self) -> bool:
        """Scores to show: scored, and not blank (a blank workbook's zeros are no score: every
        output shows "—" for them)."""
        return self.total is not None and self.status != BLANK

    @property
    def standing(self) -> str:
        """The 状态 shown beside a rank (排名 and the reviewer page): a score computed while errors
        remain is ranked but only indicative (docs/DESIGN.md §8)."""
        if self.is_scored and self.errors:
            return (
                f"{self.status}（有 {self.errors} 条错误，仅供参考）"
                if self.status == VALID
                else "有错误，仅供参考"
            )
        return self.status


def outcome_from_json(data: Any, **fixed: Any) -> Outcome | None:
    """An Outcome as 汇总.json or the intake ledger recorded it (``fixed``: fields the caller decides,
    such as ``index`` and ``status``); None when it cannot be one (another version's, damaged). Keys
    this version does not know are ignored."""
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(Outcome)}
    values = {k: v for k, v in data.items() if k in known}
    values.update(fixed)
    try:
        outcome = Outcome(**values)
    except (TypeError, ValueError):
        return None
    return outcome if usable(outcome) else None


def usable(o: Outcome) -> bool:
    """Every figure 汇总 formats is a finite number, every count an integer, every text a text (the
    error boundary of one recorded outcome: a damaged or foreign one never stops 汇总 or a page)."""
    try:
        figures = [
            o.total,
            *o.sections.values(),
            *o.ratios.values(),
            *(m.get(k) for m in o.management for k in ("full", "score")),
        ]
        for value in figures:
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not Decimal(str(value)).is_finite()
            ):
                return False
        counts = (o.index, o.errors, o.warnings) + ((o.year,) if o.year is not None else ())
        texts = (o.file, o.status, o.message, o.department, o.rating, o.label, o.link, o.scored, o.scorecard)
        return (
            all(isinstance(n, int) and not isinstance(n, bool) for n in counts)
            and all(isinstance(t, str) for t in texts)
            and all(isinstance(f, dict) for f in o.findings)
            and all(isinstance(m, dict) for m in o.management)
            and all(isinstance(r, str) for r in o.ratings)
        )
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        return False


def is_blank(ev: Any) -> bool:
    """Not filled in: 收支情况 has no number, 产出/效益指标 no row, 管理效率 no answer or count, and
    支出进度 no month.

    The department name and year do not count (a blank template often has only these two).
    """
    b = ev.budget
    budget = any(isinstance(v, Decimal) for v in (getattr(b, name) for name in type(b).model_fields))
    rows = any(
        r.target_value is not None
        or r.actual_value is not None
        or r.name.strip()
        or r.target_text.strip()
        or r.actual_text.strip()
        for r in (*ev.outputs, *ev.benefits)
    )
    management = any(
        any(a is not None for a in m.answers)
        or m.count_total is not None
        or m.count_done is not None
        or m.evidence.strip()
        or m.override_score is not None
        for m in ev.management
    )
    spending = any(v is not None for v in ev.spending.monthly) or ev.spending.annual_mean is not None
    return not (budget or rows or management or spending)


def fill_scored(out: Outcome, loaded: Any, result: Any, card: dict[str, Any]) -> Outcome:
    """Copy what 汇总 needs from a score card (and the workbook's own claims) into ``out``."""
    out.department = str(card.get("department") or "")
    out.year = card.get("year")
    out.sections = {k: float(v) for k, v in card["sections"].items()}
    out.total = float(card["total"])
    out.rating = str(card["rating"])
    out.errors, out.warnings = int(card["errors"]), int(card["warnings"])
    out.findings = list(card["findings"])
    out.ratios = dict(card.get("ratios") or {})
    fw = result.framework
    entries = {s.id for s in fw.management()}
    out.management = [
        {"id": i.get("id"), "name": i.get("name"), "full": i.get("full"), "score": i.get("score")}
        for i in card["indicators"]
        if i.get("id") in entries
    ]
    out.framework, out.framework_sha256 = fw.label, fw.sha256
    out.ratings = fw.rating_names()
    out.section_names = {sec.id: sec.name for sec in fw.sections}
    out.section_names.update({ind.id: ind.label for ind in fw.indicators() if ind.kind.subtotal})
    claims = loaded.evaluation.claims
    out.claimed_total = None if claims.total is None else format(claims.total, "f")
    out.claimed_rating = (claims.rating or "").strip()
    if is_blank(loaded.evaluation):
        out.status = BLANK
        out.message = "未填写：收支情况、指标、管理效率和支出进度都是空的（空白模板或尚未填写），不参加排名"
    elif out.errors:
        out.status = ERRORS
        out.message = (
            f"有 {out.errors} 条错误、{out.warnings} 条提醒，得分仅供参考；请按“问题清单”修改后重新计分"
        )
    else:
        out.status = OK
        out.message = "通过校验" + (f"（有 {out.warnings} 条提醒，请核对）" if out.warnings else "")
    return out


def _preference(o: Outcome) -> tuple[int, float, int]:
    """Which of several workbooks of one department and year is ranked: fewest errors,
    then the newest file."""
    return (o.errors, -o.modified, o.index)


def mark_duplicates(outcomes: Sequence[Outcome]) -> None:
    """When one department and year has several scored workbooks, rank only one (the one with the
    fewest errors; on a tie the most recently modified) and mark the others 重复, their message saying
    which file they duplicate and why that one is ranked.
    """
    groups: dict[tuple[str, int | None, str], list[Outcome]] = {}
    for o in outcomes:
        if o.is_scored and o.department.strip():  # a project form: one per project of a department
            groups.setdefault((o.department.strip(), o.year, o.project.strip()), []).append(o)
    for (dep, year, project), group in groups.items():
        if len(group) < 2:
            continue
        kept, *others = sorted(group, key=_preference)
        why = (
            "错误最少"
            if any(o.errors != kept.errors for o in others)
            else "错误数相同，文件修改时间最新"
            if any(o.modified != kept.modified for o in others)
            else "各方面相同，按文件路径取第一份"
        )
        for o in others:
            o.status = DUPLICATE
            o.message = (
                f"重复：与 {kept.file} 同为 {dep}{'“' + project + '”' if project else ''} {year or ''} "
                f"年度的自评表；排名采用那一份（{why}），"
                f"本份不参加排名（本份得分 {o.total:.2f}，{o.errors} 条错误）"
            )
        kept.message += (
            f"；另有 {len(others)} 份同部门同年度的重复文件"
            f"（{'、'.join(o.file for o in others)}），排名采用本份（{why}）"
        )
