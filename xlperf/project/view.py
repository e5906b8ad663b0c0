"""What the clerk's page (``xlperf serve``) shows of a scored 项目支出绩效自评表: the keys of
:func:`xlperf.web.view.result_view`, so the same page template shows either form."""

from __future__ import annotations

from typing import Any

from xlperf.core.narrative import format_full
from xlperf.core.project.result import ProjectResult
from xlperf.project import layout as P

# An upward import, allowed by name in the layers contract (pyproject.toml) until this module moves
# into xlperf/web/, where it belongs: it is the web page's view of a project result.
from xlperf.web.view import STANDARD_SHEETS, finding_row, sort_findings, two


def project_result_view(result: ProjectResult, sheet_order: list[str]) -> dict[str, Any]:
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
        "paragraphs": [{"level": p.level, "kind": p.kind, "text": p.text} for p in result.report.paragraphs],
    }
