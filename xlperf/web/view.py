"""What the pages show, as plain values for the templates: one place for the ordering of findings
and the formatting of figures, used by the clerk's page (a ``Result``) and the reviewer's pages (a
score card's JSON)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlperf.core.findings import CODES, Finding
from xlperf.core.narrative import format_full
from xlperf.project import layout as P
from xlperf.workbook.layout import INPUT_SHEETS, OUTPUT_SHEETS

if TYPE_CHECKING:
    from xlperf.core.project.result import ProjectResult
    from xlperf.core.result import Result

#: the standard workbook's sheet order, for findings whose workbook is not at hand (score cards)
STANDARD_SHEETS = (*INPUT_SHEETS, *OUTPUT_SHEETS)
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)")
LEVELS = {"error": "错误", "warning": "提醒"}


def two(value: Decimal | float | None) -> str:
    """A computed score or percent with two decimals (as the score card and 评分汇总 show it)."""
    return "—" if value is None else f"{Decimal(str(value)):.2f}"


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def location_key(
    sheet: str, cell: str, path: str, sheet_order: tuple[str, ...] | list[str]
) -> tuple[int, str, int, int, str]:
    """Sort key: sheet (in ``sheet_order``; other sheets after, field paths last), then row, then column."""
    rank = {name: i for i, name in enumerate(sheet_order)}
    m = _CELL.match(cell or "")
    row, col = (int(m.group(2)), _column_number(m.group(1))) if m else (0, 0)
    sheet_rank = rank.get(sheet, len(rank)) if sheet else len(rank) + 1
    return (sheet_rank, sheet, row, col, path)


def sort_findings(findings: list[Finding], sheet_order: tuple[str, ...] | list[str]) -> list[Finding]:
    return sorted(findings, key=lambda f: location_key(f.sheet, f.cell, f.path, sheet_order))


def finding_row(f: Finding) -> dict[str, str]:
    return {
        "code": f.code,
        "level": LEVELS[f.severity.value],
        "severity": f.severity.value,
        "where": f.where,
        "message": f.message,
        "title": CODES[f.code][1],
    }


def card_finding_rows(findings: Any, sheet_order: tuple[str, ...] = STANDARD_SHEETS) -> list[dict[str, str]]:
    """The findings of a score card's JSON, as rows, in the sheet order of its form (the standard
    workbook's by default). Codes this version of xlperf does not know (a newer producer) are kept
    with the severity the card states."""
    rows: list[tuple[tuple[int, str, int, int, str], dict[str, str]]] = []
    for f in findings if isinstance(findings, list) else []:
        if not isinstance(f, Mapping):
            continue
        code = str(f.get("code") or "")
        known = CODES.get(code)
        severity = known[0].value if known else ("error" if f.get("severity") == "error" else "warning")
        sheet, cell, path = str(f.get("sheet") or ""), str(f.get("cell") or ""), str(f.get("path") or "")
        where = f"{sheet}!{cell}" if sheet and cell else (sheet or path)
        row = {
            "code": code,
            "level": LEVELS[severity],
            "severity": severity,
            "where": where,
            "message": str(f.get("message") or ""),
            "title": known[1] if known else "",
        }
        rows.append((location_key(sheet, cell, path, sheet_order), row))
    return [r for _, r in sorted(rows, key=lambda kv: kv[0])]


def result_view(result: Result | ProjectResult, sheet_order: list[str]) -> dict[str, Any]:
    """What the clerk's page shows of one result: score table, ratios, findings, report paragraphs."""
    from xlperf.core.project.result import ProjectResult

    if isinstance(result, ProjectResult):  # the 项目支出绩效自评表 (issue 27)
        return project_result_view(result, sheet_order)

    rows: list[dict[str, Any]] = []
    management: list[dict[str, Any]] = []
    for sec in result.sections:
        rows.append(
            {
                "key": sec.id,
                "name": sec.name,
                "full": format_full(sec.full),
                "score": two(sec.score),
                "level": 1,
            }
        )
        for ind in sec.indicators:
            if ind.spec.kind.subtotal:
                rows.append(
                    {
                        "key": ind.id,
                        "name": ind.spec.label,
                        "full": format_full(ind.full),
                        "score": two(ind.score),
                        "level": 2,
                    }
                )
            elif ind.spec.kind.management_entry:  # answered on the 管理效率 sheet, whatever its section
                management.append(
                    {
                        "id": ind.id,
                        "group": ind.spec.group,
                        "name": ind.spec.name,
                        "full": format_full(ind.full),
                        "score": two(ind.score),
                        "ratio": None if ind.ratio is None else f"{two(ind.ratio)}%",
                        "short": ind.score < ind.full,
                    }
                )
    ratios = [
        {
            "key": key,
            "name": spec.name,
            "value": "无法计算" if result.ratios.get(key) is None else f"{two(result.ratios[key])}%",
        }
        for key, spec in result.framework.ratios.items()
    ]
    indicator_rows = [
        {
            "section": ind.spec.row_noun.removesuffix("指标") or ind.spec.label,
            "seq": row.seq,
            "name": row.name,
            "full": two(row.full_display),
            "completion": "无法计算" if row.completion_pct is None else f"{row.completion_pct:.2f}%",
            "deduction": two(row.deduction),
            "score": two(row.score),
            "short": row.deduction > 0,
        }
        for sec in result.sections
        for ind in sec.indicators
        for row in ind.rows
    ]
    report = result.report
    dep = result.evaluation.department
    return {
        "project": False,  # the project form's view (project_result_view) says True, with its heading
        "heading": "",
        "rows_title": "",
        "department": dep.name or "（未填写部门）",
        "year": dep.year or "",
        "total": two(result.total),
        "rating": result.rating,
        "full_total": format_full(result.framework.total),
        "rows": rows,
        "management": management,
        "ratios": ratios,
        "indicator_rows": indicator_rows,
        "findings": [
            finding_row(f) for f in sort_findings(list(result.findings), sheet_order or STANDARD_SHEETS)
        ],
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "report_title": report.title,
        "report_draft": report.draft,
        "paragraphs": [{"level": p.level, "role": p.role.value, "text": p.text} for p in report.paragraphs],
    }


def project_result_view(result: ProjectResult, sheet_order: list[str]) -> dict[str, Any]:
    """What the clerk's page shows of a scored 项目支出绩效自评表: the keys of :func:`result_view`, so
    the same page template shows either form."""
    info = result.evaluation.project
    b = result.budget
    rows: list[dict[str, Any]] = [
        {
            "key": "budget",
            "name": "预算执行率",
            "full": format_full(b.full),
            "score": two(b.score),
            "level": 1,
        }
    ]
    rows += [
        {"key": lv.id, "name": lv.name, "full": format_full(lv.full), "score": two(lv.score), "level": 1}
        for lv in result.levels
    ]
    names = {lv.id: lv.name for lv in result.levels}
    indicator_rows = [
        {
            "section": names.get(r.level, r.level1 or "（未识别）"),
            "seq": r.index + 1,
            "name": r.name,
            "full": two(r.weight),
            "completion": r.grade
            or ("不适用" if not r.applicable else ("—" if r.completion is None else f"{r.completion:.2f}%")),
            "deduction": two(r.full - r.score) if r.applicable else "—",
            "score": two(r.score) if r.applicable else "—",
            "short": r.below_full,
        }
        for r in result.rows
    ]
    return {
        "project": True,
        "heading": f"{info.name or '（未填写项目名称）'} {info.year or ''} 年度项目支出绩效自评",
        "department": info.department or "（未填写主管部门）",
        "year": info.year or "",
        "total": two(result.total),
        "rating": result.rating or "不评级",
        "full_total": format_full(result.framework.total),
        "rows": rows,
        "management": [],
        "ratios": [
            {
                "key": "budget_execution",
                "name": "预算执行率",
                "value": "无法计算" if b.rate is None else f"{two(b.rate)}%",
            }
        ],
        "rows_title": "绩效指标",
        "report_draft": result.report.draft,
        "indicator_rows": indicator_rows,
        "findings": [
            finding_row(f)
            for f in sort_findings(list(result.findings), sheet_order or [*P.ALL_SHEETS, *STANDARD_SHEETS])
        ],
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "report_title": result.report.title,
        "paragraphs": [
            {"level": p.level, "role": p.role.value, "text": p.text} for p in result.report.paragraphs
        ],
    }
