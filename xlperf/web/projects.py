"""The reviewer's 项目自评汇总 page (``xlperf serve --dir``, issue 27): a department's projects together,
apart from the 部门整体 ranking and never ranked with it; and one project's own page
(:func:`project_detail`, ``/review/project/{key}``).

:class:`xlperf.web.folder.Folder` finds the project cards (``Folder.projects``: a batch folder's, or
an intake folder's current and superseded submissions as the ledger decides). Here each card becomes
the batch ``Outcome`` it stands for, and the figures are those of 项目自评汇总.xlsx — the same
functions (:mod:`xlperf.project.summary`: count, average, rating distribution, 执行率, rows below full
with their reasons) — so the page and the workbook say the same. Only what 汇总 counts is counted: a
scored card of a batch folder (one copy of a duplicate, as ``batch`` marks them: the fewest errors,
then — a card does not record its input's time — the first path), an intake folder's current 有效
submission.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlperf.batch import BLANK, ERRORS, OK, Outcome, mark_duplicates
from xlperf.core.project.evaluation import FUND_ROWS, ProjectEvaluation
from xlperf.project.summary import below_full_rows, counted, department_rows, project_rows
from xlperf.web.folder import Entry, FileLink, Folder


@dataclass
class ProjectLine:
    """One project as the page lists it: its card entry and the 项目清单 row of 汇总."""

    entry: Entry
    outcome: Outcome
    row: dict[str, Any]

    @property
    def counted(self) -> bool:
        return counted(self.outcome)


@dataclass
class DepartmentProjects:
    """One department's projects of one year: the 部门汇总 line, the projects, the rows below full."""

    department: str
    year: int | None
    summary: dict[str, Any]
    projects: list[ProjectLine] = field(default_factory=list)
    below_full: list[dict[str, Any]] = field(default_factory=list)


def outcome_of(entry: Entry, index: int) -> Outcome:
    """The batch Outcome a project card stands for (as ``project.batch.fill_project`` fills it)."""
    card = entry.card or {}  # Folder keeps a project only with its card
    relative = entry.card_file.relative if entry.card_file is not None else entry.outcome.label
    errors = _count(card.get("errors"))
    if entry.intake is not None:  # the intake's status; only a current 有效 one is counted
        status = entry.status if entry.current else f"{entry.status}（已被取代）"
    else:
        status = BLANK if card.get("blank") is True else ERRORS if errors else OK
    names = card.get("rating_names")
    below = []
    for ind in card.get("indicators") or []:
        full, score = _figure(ind.get("full")), _figure(ind.get("score"))
        if ind.get("applicable", True) and full is not None and score is not None and score < full:
            below.append(
                {
                    "level1": str(ind.get("level1") or ""),
                    "name": str(ind.get("name") or ""),
                    "target": _target(ind),
                    "actual": _actual(ind),
                    "full": full,
                    "score": score,
                    "reason": str(ind.get("reason") or ""),
                }
            )
    return Outcome(
        index=index,
        file=relative,
        status=status,
        message=str(entry.intake.get("reason") or "") if entry.intake else "",
        department=str(card.get("department") or ""),
        year=card["year"] if isinstance(card.get("year"), int) else None,
        sections={str(k): float(v) for k, v in (card.get("sections") or {}).items()},
        total=float(card["total"]),
        rating=str(card.get("rating") or ""),
        errors=errors,
        warnings=_count(card.get("warnings")),
        ratios=dict(card.get("ratios") or {}),
        framework=str(card.get("framework_name") or card.get("framework") or ""),
        ratings=[str(n) for n in names] if isinstance(names, list) else [],
        form="project",
        project=str(card.get("project") or ""),
        unit=str(card.get("unit") or ""),
        project_rows=below,
        label=relative,
    )


def project_groups(folder: Folder, everything: bool = False) -> list[DepartmentProjects]:
    """Per department and year: the figures of 项目自评汇总 over what it counts, and the projects, best
    first; with ``everything`` an intake folder's superseded submissions are listed too (never counted)."""
    current = [e for e in folder.projects if e.current]
    outcomes = [outcome_of(e, i) for i, e in enumerate(current)]
    if not any(e.intake is not None for e in current):
        mark_duplicates(outcomes)  # a batch folder: one copy of a project counted, as batch does
    entries = list(current)
    if everything:
        superseded = [e for e in folder.projects if not e.current]
        outcomes += [outcome_of(e, len(entries) + i) for i, e in enumerate(superseded)]
        entries += superseded
    by_outcome = {id(o): e for o, e in zip(outcomes, entries, strict=True)}
    groups: dict[tuple[str, int | None], DepartmentProjects] = {}
    for values in department_rows(outcomes[: len(current)]):
        figures = dict(zip(_DEPARTMENT_KEYS, values, strict=True))
        key = (str(figures["department"]), figures["year"])
        groups[key] = DepartmentProjects(key[0], key[1], figures)
    ordered = sorted(outcomes, key=lambda o: (o.department, o.year or 0, -(o.total or -1), o.project))
    for o, values in zip(ordered, project_rows(ordered), strict=True):
        group = groups.get(_group_key(o))
        if group is not None:
            group.projects.append(
                ProjectLine(by_outcome[id(o)], o, dict(zip(_PROJECT_KEYS, values, strict=True)))
            )
            group.below_full += [dict(zip(_BELOW_KEYS, row, strict=True)) for row in below_full_rows([o])]
    return sorted(groups.values(), key=lambda g: (g.department, -(g.year or 0)))


# ------------------------------------------------------------------------------ one project's page


@dataclass
class ProjectDetail:
    """One project as its page shows it. Everything scored comes from its score card and the
    项目清单 row of 项目自评汇总 (:func:`project_groups`: status, total, rating as the list shows them);
    what the card does not carry — 年初预算数, the amounts of each 资金来源, 年度总体目标 — is read
    from the filed scored workbook by the project reader, never computed again."""

    line: ProjectLine
    #: 评分汇总: (name, score) — 预算执行率, then each 一级 as the card scores them
    sections: list[tuple[str, str]]
    #: 项目资金（万元）: label, initial, budget, executed, full, rate, score (texts)
    funds: list[dict[str, str]]
    #: said when the scoring's A and B are not the 年度资金总额 row as typed (the row left empty)
    funds_note: str
    goal_expected: str
    goal_actual: str
    #: 绩效指标, in the form's order
    rows: list[dict[str, Any]]
    findings: list[dict[str, str]]
    #: (what it is, the file) for the downloads
    files: list[tuple[str, FileLink]]
    #: why the filed workbook could not be read ("" when it was): the page still shows the card
    workbook_problem: str = ""

    @property
    def entry(self) -> Entry:
        return self.line.entry

    @property
    def card(self) -> dict[str, Any]:
        return self.entry.card or {}


def project_detail(folder: Folder, key: int) -> ProjectDetail | None:
    """The page of project ``key`` (its place in ``Folder.projects``), or None when there is none."""
    from xlperf.project import layout as P
    from xlperf.web.view import STANDARD_SHEETS, card_finding_rows

    entry = folder.project(key)
    if entry is None:
        return None
    line = next(
        (p for g in project_groups(folder, everything=True) for p in g.projects if p.entry is entry),
        None,
    )
    if line is None:  # a project the list does not group (none today): its own outcome
        o = outcome_of(entry, 0)
        line = ProjectLine(entry, o, dict(zip(_PROJECT_KEYS, project_rows([o])[0], strict=True)))
    card = entry.card or {}
    form, problem = read_filed_form(entry)
    funds, note = _funds(card, form)
    return ProjectDetail(
        line=line,
        sections=_sections(entry, card),
        funds=funds,
        funds_note=note,
        goal_expected=form.goal_expected if form else "",
        goal_actual=form.goal_actual if form else "",
        rows=_indicator_rows(card),
        findings=card_finding_rows(card.get("findings"), (*P.ALL_SHEETS, *STANDARD_SHEETS)),
        files=_downloads(folder, entry),
        workbook_problem=problem,
    )


#: what the filed workbook gives the page beyond the card
_FROM_WORKBOOK = "年初预算数、各资金来源的金额和年度总体目标"


def read_filed_form(entry: Entry) -> tuple[ProjectEvaluation | None, str]:
    """The form as the filed scored workbook holds it, read by the project reader; or None and, in
    Chinese, why not (no workbook, removed since the folder was listed, unreadable, or not the one
    the card was scored from: its SHA-256, or for a scored copy the input SHA-256 it records)."""
    from xlperf.core.errors import XlperfError
    from xlperf.files import sha256_bytes
    from xlperf.ooxml.limits import Limits
    from xlperf.ooxml.stream import read_package
    from xlperf.project.reader import read_project_book, recorded_input_sha256

    link = entry.scored_file
    rest = f"{_FROM_WORKBOOK}无法显示，其余内容来自计分卡"
    if link is None:
        return None, f"文件夹中没有这个项目计分后的工作簿：{rest}"
    if not link.path.is_file():
        return None, f"工作簿 {link.relative} 已不在（文件夹列出后被移走或删除）：{rest}；请刷新页面"
    try:
        data, book = read_package(link.path, Limits())
        wanted = str((entry.card or {}).get("sha256") or "")
        if wanted and wanted not in (sha256_bytes(data), recorded_input_sha256(book)):
            return None, (
                f"工作簿 {link.relative} 与计分卡不对应（计分后被改动或替换过），其中的数字不予显示："
                f"{rest}；请重新计分或重新收件"
            )
        form = read_project_book(book)[0]
    except XlperfError as exc:  # unreadable: the reader's own words, on one line
        return None, f"工作簿 {link.relative} 无法读取（{' '.join(str(exc).split())[:200]}）：{rest}"
    return form, ""


def _funds(card: dict[str, Any], form: ProjectEvaluation | None) -> tuple[list[dict[str, str]], str]:
    """项目资金（万元）: the amounts as the workbook holds them; 分值, 执行率 and 得分 on the total row
    from the card (a 资金来源 row has no score, as on the form). Without the workbook, the total row
    shows the card's A and B."""
    budget = card.get("budget") if isinstance(card.get("budget"), dict) else {}
    assert isinstance(budget, dict)
    rate = _figure(budget.get("rate"))
    rows = []
    for key, label in FUND_ROWS:
        typed = getattr(form.funds, key) if form is not None else None
        row = {
            "key": key,
            "label": label,
            "initial": amount_text(typed.initial if typed else None),
            "budget": amount_text(typed.budget if typed else None),
            "executed": amount_text(typed.executed if typed else None),
            "full": "—",
            "rate": "—",
            "score": "—",
        }
        if key == "total":
            if form is None:
                row["budget"], row["executed"] = (
                    amount_text(_figure(budget.get("budget"))),
                    amount_text(_figure(budget.get("executed"))),
                )
            row["full"] = decimal_text(_figure(budget.get("full")))
            row["rate"] = "无法计算" if rate is None else f"{decimal_text(rate)}%"
            row["score"] = decimal_text(_figure(budget.get("score")))
        rows.append(row)
    note = ""
    if form is not None:
        a, b = _figure(budget.get("budget")), _figure(budget.get("executed"))
        typed_total = form.funds.total
        if _differs(a, typed_total.budget) or _differs(b, typed_total.executed):
            note = (
                f"计分所用的全年预算数（A）{amount_text(a)}、全年执行数（B）{amount_text(b)}与年度资金总额一行"
                "所填的不同：该行未填时按其下各项之和计分（见校验结果）"
            )
    return rows, note


def _differs(card_value: float | None, typed: Decimal | None) -> bool:
    if card_value is None:
        return False
    return typed is None or Decimal(str(card_value)) != typed


def amount_text(value: Decimal | float | None) -> str:
    """An amount in 万元 as the form's 0.00## shows it: two places at least, every typed place kept."""
    if value is None:
        return "—"
    d = Decimal(str(value))
    return f"{d:.2f}" if d == d.quantize(Decimal("0.01")) else format(d.normalize(), "f")


def _sections(entry: Entry, card: dict[str, Any]) -> list[tuple[str, str]]:
    """评分汇总: the card's section scores by the rules' names — as the intake's outcome keeps them
    (``project.batch.fill_project``), else those of this machine's framework of the card's id and
    hash, else its rows' 一级 as typed."""
    from xlperf.project.catalog import find

    names = dict(entry.outcome.section_names)
    if not names:
        try:
            fw = find(str(card.get("framework") or ""))
        except Exception:  # a broken framework file of this machine: the rows' names then
            fw = None
        names = {"budget": "预算执行率"}
        if fw is not None and fw.sha256 == card.get("framework_sha256"):
            names.update({lv.id: lv.name for lv in fw.levels})
    for ind in card.get("indicators") or []:
        section = str(ind.get("section") or "")
        if section and section not in names:
            names[section] = str(ind.get("level1") or section)
    scores = card.get("sections") or {}
    return [(names.get(str(k), str(k)), decimal_text(_figure(v))) for k, v in scores.items()]


def _indicator_rows(card: dict[str, Any]) -> list[dict[str, Any]]:
    """绩效指标 as the card scored them; a 一级/二级 repeating the row above is marked (the form merges
    them), a row below full without a reason says so."""
    rows: list[dict[str, Any]] = []
    before = ("", "")
    for n, ind in enumerate(card.get("indicators") or [], start=1):
        level1, level2 = str(ind.get("level1") or ""), str(ind.get("level2") or "")
        full, score = _figure(ind.get("full")), _figure(ind.get("score"))
        applicable = ind.get("applicable", True) is not False
        below = applicable and full is not None and score is not None and score < full
        reason = str(ind.get("reason") or "")
        rows.append(
            {
                "seq": n,
                "level1": level1,
                "level2": level2,
                "repeat1": bool(level1) and level1 == before[0],
                "repeat2": bool(level2) and (level1, level2) == before,
                "name": str(ind.get("name") or ""),
                "target": _target(ind),
                "actual": _actual(ind),
                "grade": str(ind.get("grade") or ""),
                "full": decimal_text(full),
                "score": decimal_text(score) if applicable else "不适用",
                "below": below,
                "reason": reason or ("（未填写）" if below else ""),
                "missing_reason": below and not reason,
            }
        )
        before = (level1, level2)
    return rows


#: what each file of a submission is, in the order the page offers them (the workbook first)
_FILE_ROLES = (
    (".xlsx", "工作簿"),
    (".docx", "自评报告"),
    (".scorecard.json", "计分卡"),
    ("scorecard.json", "计分卡（重算）"),
    ("_manifest.json", "报送清单"),
    (".eml", "原邮件"),
    ("intake.json", "收件记录"),
)


def _downloads(folder: Folder, entry: Entry) -> list[tuple[str, FileLink]]:
    """What the page offers: an intake submission's whole folder (the mail, the attachments as sent,
    the re-scored card); a batch's scored copy and card."""
    if entry.intake is not None and entry.card_file is not None:
        links = folder.files_beside(entry.card_file)
    else:
        links = [x for x in (entry.scored_file, entry.card_file) if x is not None]
    out = []
    for link in links:
        name = link.path.name
        rank, role = next(
            ((n, r) for n, (end, r) in enumerate(_FILE_ROLES) if name == end or name.endswith(end)),
            (len(_FILE_ROLES), "文件"),
        )
        if link == entry.scored_file:
            rank, role = -1, "报送的工作簿（已冻结）" if entry.intake is not None else "计分后的工作簿"
        out.append((rank, role, link))
    return [(role, link) for _, role, link in sorted(out, key=lambda x: (x[0], x[2].index))]


def _group_key(o: Outcome) -> tuple[str, int | None]:
    """As :func:`xlperf.project.summary.department_rows` groups."""
    return (o.department.strip() or "（未填写主管部门）", o.year)


_DEPARTMENT_KEYS = (
    "department",
    "year",
    "count",
    "scored",
    "mean",
    "distribution",
    "mean_rate",
    "min_rate",
    "with_errors",
)
_PROJECT_KEYS = (
    "department",
    "year",
    "project",
    "unit",
    "status",
    "total",
    "rating",
    "rate",
    "budget_score",
    "errors",
    "warnings",
    "framework",
    "file",
    "message",
)
_BELOW_KEYS = ("department", "project", "level1", "name", "target", "actual", "full", "score", "reason")


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _figure(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _target(ind: dict[str, Any]) -> str:
    value = ind.get("target_text") or ind.get("target")
    return "" if value is None else str(value)


def _actual(ind: dict[str, Any]) -> str:
    value = ind.get("actual_text") or ind.get("actual")
    return "" if value is None else str(value)


def project_card_problem(card: dict[str, Any]) -> str:
    """What in a project's score card the page cannot show (empty: nothing), after the checks every
    card passes (:func:`xlperf.web.folder.card_problem`): its indicators are objects whose figures are
    numbers or empty (a 不适用 row has no score), its texts text."""
    for key in ("project", "unit"):
        if card.get(key) is not None and not isinstance(card[key], str):
            return f"{key} 不是文字"
    for n, ind in enumerate(card.get("indicators") or [], start=1):
        if not isinstance(ind, dict):
            return f"第 {n} 个指标不是对象"
        for k in ("full", "score", "completion", "deduction", "target", "actual"):
            if ind.get(k) is not None and _figure(ind[k]) is None:
                return f"第 {n} 个指标的 {k} 不是数字"
        for k in ("name", "level1", "reason", "target_text", "actual_text"):
            if ind.get(k) is not None and not isinstance(ind[k], str):
                return f"第 {n} 个指标的 {k} 不是文字"
    return ""


def decimal_text(value: Any) -> str:
    """A figure of 汇总 as the page shows it (2 places; — when empty)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return f"{Decimal(str(value)):.2f}"
    return str(value)


__all__ = [
    "DepartmentProjects",
    "ProjectDetail",
    "ProjectLine",
    "decimal_text",
    "outcome_of",
    "project_detail",
    "project_groups",
]
