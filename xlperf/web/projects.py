"""The reviewer's 项目自评汇总 page (``xlperf serve --dir``, issue 27): a department's projects together,
apart from the 部门整体 ranking and never ranked with it.

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
from xlperf.project.summary import below_full_rows, counted, department_rows, project_rows
from xlperf.web.folder import Entry, Folder


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


__all__ = ["DepartmentProjects", "ProjectLine", "decimal_text", "outcome_of", "project_groups"]
