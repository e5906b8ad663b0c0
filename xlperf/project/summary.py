"""A department's projects together: 项目自评汇总.xlsx / .csv beside the 部门整体 汇总.

Written by ``xlperf batch`` (and intake) whenever project forms are among the inputs. Per
department (主管部门) and year: the number of projects, how many were scored, the average score,
the rating distribution, the average and lowest 执行率; then every project; then every indicator
row below its 分值 with the clerk's 偏差原因 (or “未填写”). Scores are summed as Decimal from the
score cards' two-decimal figures, never in floating point.

openpyxl (and the workbook code over it) is imported where the .xlsx is written: the reviewer page
reads the row functions here, and a batch of department forms never needs them (~0.3 s).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlperf.core.decimals import round2
from xlperf.files import atomic_path, atomic_write_bytes
from xlperf.outcome import BLANK, Outcome

SUMMARY_XLSX = "项目自评汇总.xlsx"
SUMMARY_CSV = "项目自评汇总.csv"
DEPARTMENT_COLUMNS = (
    "主管部门",
    "年度",
    "项目数",
    "已计分",
    "平均得分",
    "等级分布",
    "平均执行率（%）",
    "最低执行率（%）",
    "有错误的项目",
)
PROJECT_COLUMNS = (
    "主管部门",
    "年度",
    "项目名称",
    "实施单位",
    "状态",
    "总分",
    "等级",
    "预算执行率（%）",
    "执行率得分",
    "错误",
    "提醒",
    "评分框架",
    "文件",
    "说明",
)
ROW_COLUMNS = (
    "主管部门",
    "项目名称",
    "一级指标",
    "三级指标",
    "年度指标值",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
)


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def counted(o: Outcome) -> bool:
    """Scored and counted in the averages: neither blank nor a duplicate copy, nor (intake) a
    submission that failed its checks — only what the department 汇总 would rank (``is_scored``)."""
    return o.is_scored


def department_rows(outcomes: Sequence[Outcome]) -> list[list[Any]]:
    groups: dict[tuple[str, int | None], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.department.strip() or "（未填写主管部门）", o.year), []).append(o)
    rows = []
    for (dep, year), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        scored = [o for o in group if counted(o)]
        totals = [_dec(o.total) for o in scored]
        mean = round2(sum((t for t in totals if t is not None), Decimal(0)) / len(totals)) if totals else None
        names: list[str] = []
        for o in scored:
            names += [n for n in o.ratings if n not in names]
        counts = {n: sum(o.rating == n for o in scored) for n in names}
        unrated = sum(not o.rating for o in scored)
        spread = "、".join(f"{n} {c}" for n, c in counts.items()) + (f"、不评级 {unrated}" if unrated else "")
        rates = [r for r in (_dec(o.ratios.get("budget_execution")) for o in scored) if r is not None]
        rows.append(
            [
                dep,
                year,
                len(group),
                len(scored),
                mean,
                spread,
                round2(sum(rates, Decimal(0)) / len(rates)) if rates else None,
                min(rates) if rates else None,
                sum(o.errors > 0 for o in group),
            ]
        )
    return rows


def project_rows(outcomes: Sequence[Outcome]) -> list[list[Any]]:
    rows = []
    for o in sorted(outcomes, key=lambda o: (o.department, o.year or 0, -(o.total or -1), o.project)):
        shown = o.total is not None and o.status != BLANK  # a blank form's 0 is no score
        rows.append(
            [
                o.department,
                o.year,
                o.project,
                o.unit,
                o.status,
                _dec(o.total) if shown else None,
                o.rating if shown else "",
                _dec(o.ratios.get("budget_execution")),
                _dec(o.sections.get("budget")),
                o.errors,
                o.warnings,
                o.framework,
                o.label or o.file,
                o.message,
            ]
        )
    return rows


def below_full_rows(outcomes: Sequence[Outcome]) -> list[list[Any]]:
    rows = []
    for o in sorted(outcomes, key=lambda o: (o.department, o.project)):
        if not counted(o):
            continue
        for r in o.project_rows:
            rows.append(
                [
                    o.department,
                    o.project,
                    r.get("level1", ""),
                    r.get("name", ""),
                    r.get("target", ""),
                    r.get("actual", ""),
                    _dec(r.get("full")),
                    _dec(r.get("score")),
                    r.get("reason") or "（未填写）",
                ]
            )
    return rows


def write_project_summary(outcomes: Sequence[Outcome], out_dir: Path) -> tuple[Path, Path]:
    """项目自评汇总.xlsx (部门汇总, 项目清单, 未得满分指标) and 项目自评汇总.csv (项目清单), atomically."""
    xlsx, table = out_dir / SUMMARY_XLSX, out_dir / SUMMARY_CSV
    sheets: dict[str, tuple[Sequence[str], list[list[Any]]]] = {
        "部门汇总": (DEPARTMENT_COLUMNS, department_rows(outcomes)),
        "项目清单": (PROJECT_COLUMNS, project_rows(outcomes)),
        "未得满分指标": (ROW_COLUMNS, below_full_rows(outcomes)),
    }
    with atomic_path(xlsx) as tmp:
        _write_xlsx(tmp, sheets, outcomes)
    atomic_write_bytes(table, _csv(*sheets["项目清单"]))
    return xlsx, table


def _csv(columns: Sequence[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                ("'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v)
                if v is not None
                else ""
                for v in row
            ]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _write_xlsx(
    path: Path, sheets: dict[str, tuple[Sequence[str], list[list[Any]]]], outcomes: Sequence[Outcome]
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    from xlperf.workbook import look
    from xlperf.workbook.cells import put
    from xlperf.workbook.printing import fit_row_heights, setup_print, text_width

    wb = Workbook()
    for ws in list(wb.worksheets):
        wb.remove(ws)
    head_font, head_fill = look.font(look.HEADING), look.fill(look.HEADER)
    body, link = look.font(look.BODY), look.font(look.LINK_TEXT)
    for name, (columns, rows) in sheets.items():
        ws = wb.create_sheet(name)
        for c, text in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=c, value=text)
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                put(cell, value)
                cell.font = body
                cell.alignment = Alignment(vertical="top", wrap_text=True)
                if isinstance(value, Decimal):
                    cell.number_format = "0.00"
        for c, text in enumerate(columns, start=1):
            widest = max([text_width(str(text)), *(text_width(str(row[c - 1] or "")) for row in rows)])
            ws.column_dimensions[get_column_letter(c)].width = max(8, min(40, widest + 2))
        if name == "项目清单":
            link_col = columns.index("文件") + 1
            for r, o in enumerate(
                sorted(outcomes, key=lambda o: (o.department, o.year or 0, -(o.total or -1), o.project)),
                start=2,
            ):
                if o.link:
                    cell = ws.cell(row=r, column=link_col)
                    cell.hyperlink = o.link
                    cell.font = link
        ws.freeze_panes = "A2"
        if rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
        fit_row_heights(ws)
        setup_print(ws, landscape=True, title_rows="1:1", header=f"项目自评汇总　{name}")
    wb.save(path)
