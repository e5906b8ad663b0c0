"""汇总.xlsx / 汇总.csv: what the finance bureau's reviewer reads, for ``xlperf batch`` and ``xlperf intake``.

Sheets (pandas builds the tables, the openpyxl engine writes them):

- 汇总      every file found, with its status and the reason in Chinese (also saved as 汇总.csv)
- 排名      the ranked departments (neither 未填写 nor 重复): total, rating, the five sections, the five
            ratios, error/warning counts, links to the scored workbook and to its 校验结果 sheet
- 总分图    a bar chart of the totals, its axis starting just below the lowest total, alone on its page
- 管理效率  the 22 indicators × departments (a pivot), cells below full marks shaded
- 问题统计  each finding code: how many departments have it, which ones, how many findings
- 自报对比  the total and rating a workbook states (合计/等级 it claims) against the recomputed ones
- 等级分布, 问题清单

Scores travel as the score card's two-decimal values; nothing is summed in floating point (ranking
and the claimed/recomputed difference use :class:`~decimal.Decimal`; the pivots only place values).
Text from the workbooks is always written as text, never as a formula.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from xlperf.outcome import (
    BLANK,
    DUPLICATE,
    FAILED,
    NONE,
    RANKED_STATUSES,
    SUMMARY_CSV,
    SUMMARY_JSON,
    SUMMARY_SCHEMA,
    SUMMARY_XLSX,
    UNREADABLE,
    Outcome,
    TableValue,
)

if TYPE_CHECKING:  # pandas and openpyxl are imported where 汇总 is written (docs/DESIGN.md §2)
    import pandas as pd
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.worksheet.worksheet import Worksheet

#: one row of a 汇总 table, by column header
TableRow: TypeAlias = dict[str, TableValue]

#: 汇总 (first sheet) and 汇总.csv columns
COLUMNS = (
    "部门",
    "年度",
    "产出",
    "效益",
    "支出率",
    "履职效能",
    "管理效率",
    "总分",
    "排名",
    "等级",
    "错误数",
    "提醒数",
    "状态",
    "说明",
    "文件",
    "计分工作簿",
    "sha256",
)
SECTION_COLUMNS = {
    "output": "产出",
    "benefit": "效益",
    "spending": "支出率",
    "duty": "履职效能",
    "management": "管理效率",
}
RATIO_COLUMNS = {
    "budget_execution": "预算执行率(%)",
    "carryover": "结转结余率(%)",
    "public_funds_control": "公用经费控制率(%)",
    "three_public_execution": "“三公”经费执行率(%)",
    "fixed_asset_utilization": "固定资产利用率(%)",
}
RANKING_COLUMNS = (
    "排名",
    "部门",
    "年度",
    "总分",
    "等级",
    "状态",
    *SECTION_COLUMNS.values(),
    *RATIO_COLUMNS.values(),
    "错误数",
    "提醒数",
    "计分工作簿",
    "校验结果",
)
TEXT_COLUMNS = ("部门", "等级", "状态", "说明", "文件", "计分工作簿", "sha256")
#: short columns, centred: a right-aligned number must not run into the text beside it ("1优")
CENTRED_COLUMNS = (
    "排名",
    "年度",
    "等级",
    "错误数",
    "提醒数",
    "个数",
    "部门数",
    "条数",
    "级别",
    "代码",
    "是否一致",
)
FINDING_COLUMNS = ("文件", "部门", "代码", "级别", "工作表", "单元格", "说明")
STATS_COLUMNS = ("代码", "级别", "问题", "部门数", "条数", "涉及部门")
CLAIM_COLUMNS = ("部门", "年度", "自报总分", "重算总分", "差额", "自报等级", "重算等级", "是否一致")
SEVERITY_LABELS = {"error": "错误", "warning": "提醒"}
NUMBER_COLUMNS = (*SECTION_COLUMNS.values(), "总分", *RATIO_COLUMNS.values(), "自报总分", "重算总分", "差额")
CHECKS_SHEET = "校验结果"
SHEET_ORDER = ("汇总", "排名", "总分图", "管理效率", "问题统计", "自报对比", "等级分布", "问题清单")


def _dec(value: float | str | None) -> Decimal | None:
    """A two-decimal score card value as the Decimal it was (``str`` of the float is exact for these)."""
    return None if value is None else Decimal(str(value))


def rank(outcomes: Sequence[Outcome]) -> dict[int, int]:
    """Rank by total (only the ranked outcomes); ties share a place and the next place is skipped
    (1, 2, 2, 4).
    Workbooks scored by different rules (framework hashes) are never ranked against each other: each
    group has its own places."""
    places: dict[int, int] = {}
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.is_scored:
            groups.setdefault(o.framework_sha256, []).append(o)
    for scored in groups.values():
        totals = sorted((_dec(o.total) or Decimal(0) for o in scored), reverse=True)
        first: dict[Decimal, int] = {}
        for i, t in enumerate(totals, start=1):
            first.setdefault(t, i)
        places.update({o.index: first[_dec(o.total) or Decimal(0)] for o in scored})
    return places


def several_frameworks(outcomes: Sequence[Outcome]) -> bool:
    return len({o.framework_sha256 for o in outcomes if o.has_score}) > 1


@functools.cache
def _default_meaning() -> dict[str, str]:
    """What the fixed section columns hold: the default framework's section and subtotal names by id."""
    from xlperf.core.framework import get_framework

    fw = get_framework()
    names = {sec.id: sec.name for sec in fw.sections}
    names.update({ind.id: ind.label for ind in fw.indicators() if ind.kind.subtotal})
    return names


def _is_fixed(o: Outcome, key: str) -> bool:
    """Whether ``o``'s score ``key`` belongs in 汇总's fixed column for it: only when its framework means
    by ``key`` what the default one does (another framework's "management" may be 综合管理)."""
    return key in SECTION_COLUMNS and o.section_names.get(key) == _default_meaning().get(key)


def fixed_section(o: Outcome, key: str) -> float | None:
    return o.sections.get(key) if _is_fixed(o, key) else None


def extra_sections(outcomes: Sequence[Outcome]) -> dict[tuple[str, str], str]:
    """Sections and subtotals of the scoring frameworks that 汇总's fixed columns do not hold:
    (id, name) → column header (the name; with its id when that name is taken by another column)."""
    out: dict[tuple[str, str], str] = {}
    for o in outcomes:
        for key, name in o.section_names.items():
            if key in o.sections and not _is_fixed(o, key) and (key, name) not in out:
                taken = name in COLUMNS or name in out.values()
                out[(key, name)] = f"{name}（{key}）" if taken else name
    return out


def _extra_values(o: Outcome, extra: dict[tuple[str, str], str]) -> dict[str, float | None]:
    return {
        label: o.sections.get(key) if o.section_names.get(key) == name and not _is_fixed(o, key) else None
        for (key, name), label in extra.items()
    }


def _unused_fixed(outcomes: Sequence[Outcome]) -> set[str]:
    """Fixed section and ratio columns no scored workbook fills (none was scored by rules that have them)."""
    if not any(o.sections for o in outcomes):
        return set()  # nothing scored: the columns as always
    unused = {label for key, label in SECTION_COLUMNS.items() if not any(_is_fixed(o, key) for o in outcomes)}
    unused |= {label for key, label in RATIO_COLUMNS.items() if not any(key in o.ratios for o in outcomes)}
    return unused


def ranking_columns(outcomes: Sequence[Outcome]) -> tuple[str, ...]:
    """排名's columns: ``RANKING_COLUMNS`` without the unused fixed ones, the further sections after them."""
    unused = _unused_fixed(outcomes)
    columns = [c for c in RANKING_COLUMNS if c not in unused]
    at = columns.index("错误数")
    columns[at:at] = extra_sections(outcomes).values()
    return tuple(columns)


def summary_columns(outcomes: Sequence[Outcome]) -> tuple[str, ...]:
    """汇总's columns: ``COLUMNS``, with a column per further section before 总分, and 评分框架
    when the workbooks were scored by more than one framework. A fixed section column no scored
    workbook fills (none was scored by rules that have it) is left out."""
    unused = _unused_fixed(outcomes)
    columns = [c for c in COLUMNS if c not in unused]
    at = columns.index("总分")
    columns[at:at] = extra_sections(outcomes).values()
    if several_frameworks(outcomes):
        columns.insert(columns.index("状态"), "评分框架")
    return tuple(columns)


def _label(o: Outcome) -> str:
    return o.label or o.file


def summary_rows(outcomes: Sequence[Outcome]) -> list[TableRow]:
    """汇总: one row per file, the columns as ``COLUMNS``."""
    ranks = rank(outcomes)
    extra = extra_sections(outcomes)
    rows: list[TableRow] = []
    for o in outcomes:
        score = o.has_score  # a blank workbook's zeros and 66 errors are no score: "—"

        def shown(value: TableValue, score: bool = score) -> TableValue:
            return (NONE if value is None else value) if score else NONE

        rows.append(
            {
                "部门": o.department or None,
                "年度": o.year,
                **{label: shown(fixed_section(o, key)) for key, label in SECTION_COLUMNS.items()},
                **{label: shown(value) for label, value in _extra_values(o, extra).items()},
                "总分": shown(o.total),
                "排名": ranks.get(o.index, NONE),
                "评分框架": o.framework or None,
                "等级": shown(o.rating or None),
                "错误数": shown(o.errors),
                "提醒数": shown(o.warnings),
                "状态": o.status,
                "说明": o.message,
                "文件": _label(o),
                "计分工作簿": o.scored or None,
                "sha256": o.sha256 or None,
            }
        )
    return rows


def rating_counts(outcomes: Sequence[Outcome]) -> list[tuple[str, int]]:
    """等级分布's first rows: how many ranked files have each rating (the scoring frameworks' names,
    highest first)."""
    counts = dict.fromkeys((r for o in outcomes for r in o.ratings), 0)
    for o in outcomes:
        if o.is_scored:
            counts[o.rating] = counts.get(o.rating, 0) + 1
    return list(counts.items())


def status_counts(outcomes: Sequence[Outcome]) -> list[tuple[str, int]]:
    """等级分布's other rows: how many ranked files have errors (ranked, 仅供参考), how many files are
    not ranked, by status (blank, duplicate, unreadable, failed, and intake's own statuses), and the
    total of files."""
    others = [
        o.status if o.status not in RANKED_STATUSES else f"{o.status}（无计分记录）"
        for o in outcomes
        if not o.is_scored
    ]
    rows = [("其中有错误（仅供参考）", sum(o.is_scored and o.errors > 0 for o in outcomes))]
    rows += [(s, others.count(s)) for s in dict.fromkeys((BLANK, DUPLICATE, UNREADABLE, FAILED, *others))]
    rows.append(("合计", len(outcomes)))
    return rows


def distribution(outcomes: Sequence[Outcome]) -> list[tuple[str, int]]:
    """等级分布: :func:`rating_counts`, then :func:`status_counts`. The reviewer page shows the same rows."""
    return rating_counts(outcomes) + status_counts(outcomes)


def short_labels(outcomes: Sequence[Outcome]) -> dict[int, str]:
    """Each file as a path relative to the folder holding them all (``旧版/第三局_初稿.xlsx``): what
    问题清单 prints, one line, where 汇总 gives the full path."""
    import os

    labels = {o.index: _label(o) for o in outcomes}
    try:
        common = os.path.commonpath([os.path.dirname(x) for x in labels.values()]) if labels else ""
    except ValueError:  # paths on different drives, or absolute beside relative
        return labels
    return {i: os.path.relpath(x, common) if common else x for i, x in labels.items()}


def finding_rows(outcomes: Sequence[Outcome]) -> list[TableRow]:
    rows: list[TableRow] = []
    short = short_labels(outcomes)
    for o in outcomes:
        if o.status == BLANK:  # a blank template's dozens of "missing" findings say nothing more than 未填写
            continue
        for f in o.findings:
            rows.append(
                {
                    "文件": short[o.index],
                    "部门": o.department or None,
                    "代码": f.get("code"),
                    "级别": SEVERITY_LABELS.get(str(f.get("severity")), f.get("severity")),
                    "工作表": f.get("sheet") or None,
                    "单元格": f.get("cell") or None,
                    "说明": f.get("message"),
                }
            )
    return rows


def _department_label(o: Outcome, several_years: bool) -> str:
    name = o.department or Path(o.file).stem
    return f"{name}（{o.year}）" if several_years and o.year else name


def ranking_rows(outcomes: Sequence[Outcome]) -> list[TableRow]:
    """排名: the ranked departments by place (on a tie by file). Workbooks scored by different
    frameworks are listed framework by framework, each department named with its framework."""
    ranks = rank(outcomes)
    mixed = several_frameworks(outcomes)
    extra = extra_sections(outcomes)
    ranked = sorted(
        (o for o in outcomes if o.is_scored),
        key=lambda o: (o.framework if mixed else "", ranks[o.index], _label(o)),
    )

    def name(o: Outcome) -> str | None:
        if mixed:
            return f"{o.department or _label(o)}（{o.framework}）"
        return o.department or None

    return [
        {
            "排名": ranks[o.index],
            "部门": name(o),
            "年度": o.year,
            "总分": o.total,
            "等级": o.rating or None,
            "状态": o.standing,
            **{label: fixed_section(o, key) for key, label in SECTION_COLUMNS.items()},
            **_extra_values(o, extra),
            **{label: o.ratios.get(key) for key, label in RATIO_COLUMNS.items()},
            "错误数": o.errors,
            "提醒数": o.warnings,
            "计分工作簿": "打开" if o.link else None,
            "校验结果": "查看" if o.link else None,
            "_link": o.link,
        }
        for o in ranked
    ]


def management_frame(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """管理效率: rows are the indicators (编号, name, 分值), columns the ranked departments (by place),
    values their scores (a pivot, nothing summed).
    """
    import pandas as pd

    ranks = rank(outcomes)
    ranked = sorted((o for o in outcomes if o.is_scored), key=lambda o: (ranks[o.index], _label(o)))
    several_years = len({o.year for o in ranked}) > 1
    long = [
        {
            "编号": m["id"],
            "指标": m["name"],
            "分值": m["full"],
            "部门": _department_label(o, several_years),
            "order": n,
            "得分": m["score"],
        }
        for n, o in enumerate(ranked)
        for m in o.management
    ]
    if not long:
        return pd.DataFrame(columns=["编号", "指标", "分值"])
    df = pd.DataFrame(long)
    columns = list(dict.fromkeys(df.sort_values("order", kind="stable")["部门"]))
    pivot = df.pivot_table(
        index=["编号", "指标", "分值"], columns="部门", values="得分", aggfunc="first", sort=False
    )
    return pivot.reindex(columns=columns).reset_index().rename_axis(columns=None)


@dataclass
class _CodeCount:
    """One finding code in 问题统计: its severity, the departments it occurs in (in order), how often."""

    severity: TableValue
    departments: dict[str, None] = field(default_factory=dict)
    count: int = 0


def finding_stat_rows(outcomes: Sequence[Outcome]) -> list[TableRow]:
    """问题统计: for each finding code, in how many ranked departments it occurs, which ones, and how
    many findings in all; most departments first, then most findings, then the code. Files that are not
    ranked (a blank workbook's dozens of "missing" findings, a duplicate's copy) are not counted. The
    reviewer page shows the same rows."""
    from xlperf.core.findings import CODES

    ranked = [o for o in outcomes if o.is_scored]
    several_years = len({o.year for o in ranked}) > 1
    found: dict[str, _CodeCount] = {}
    for o in ranked:
        name = _department_label(o, several_years)
        for f in o.findings:
            code = str(f.get("code") or "")
            row = found.setdefault(code, _CodeCount(f.get("severity")))
            row.departments.setdefault(name, None)
            row.count += 1
    ordered = sorted(found.items(), key=lambda item: (-len(item[1].departments), -item[1].count, item[0]))
    return [
        {
            "代码": code,
            "级别": SEVERITY_LABELS.get(str(row.severity), row.severity),
            "问题": CODES[code][1] if code in CODES else "",
            "部门数": len(row.departments),
            "条数": row.count,
            "涉及部门": "、".join(row.departments),
        }
        for code, row in ordered
    ]


def finding_stats(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """问题统计 as a DataFrame (:func:`finding_stat_rows`)."""
    import pandas as pd

    return pd.DataFrame(finding_stat_rows(outcomes), columns=list(STATS_COLUMNS))


def claim_rows(outcomes: Sequence[Outcome]) -> list[TableRow]:
    """自报对比: the workbooks that state their own total or rating, with the stated and the recomputed
    value (the difference computed in Decimal).
    """
    rows: list[TableRow] = []
    for o in outcomes:
        if not o.has_score or (o.claimed_total is None and not o.claimed_rating):
            continue
        claimed = None if o.claimed_total is None else Decimal(o.claimed_total)
        computed = _dec(o.total)
        diff = None if claimed is None or computed is None else claimed - computed
        same_total = diff is None or abs(diff) < Decimal("0.005")
        same_rating = not o.claimed_rating or o.claimed_rating == o.rating
        rows.append(
            {
                "部门": o.department or _label(o),
                "年度": o.year,
                "自报总分": claimed,
                "重算总分": computed,
                "差额": diff,
                "自报等级": o.claimed_rating or None,
                "重算等级": o.rating or None,
                "是否一致": "一致" if same_total and same_rating else "不一致",
            }
        )
    return rows


def _clean(value: TableValue) -> TableValue:
    """Text without the control characters Excel does not allow, cut to the cell limit (openpyxl refuses
    to write it otherwise).
    """
    if isinstance(value, str):
        from xlperf.workbook.cells import excel_text

        return excel_text(value)
    return value


def _frame(rows: Sequence[Mapping[str, TableValue]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([{c: _clean(r.get(c)) for c in columns} for r in rows], columns=list(columns))


def main_frame(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """The 汇总 DataFrame (numbers as numbers, "—" where a file has no figure)."""
    columns = summary_columns(outcomes)
    df = _frame(summary_rows(outcomes), columns)
    df["年度"] = df["年度"].astype("Int64")
    # the score, rank and count columns hold numbers, or "—" where there is no figure (such a column
    # stays an object column: each value is written as what it is)
    return df


def prepare_summary() -> None:
    """Import what writing the summary needs (pandas, openpyxl's writer and charts): a batch with
    workers does it while they score, instead of after the last one (≈ 0.3 s of a run's serial part)."""
    import pandas  # noqa: F401
    from openpyxl.chart import BarChart  # noqa: F401
    from openpyxl.writer.excel import ExcelWriter  # noqa: F401


def write_summary(
    outcomes: Sequence[Outcome], out_dir: Path, extra: Mapping[str, pd.DataFrame] | None = None
) -> tuple[Path, Path]:
    """Write 汇总.xlsx, 汇总.csv and 汇总.json (each atomically) and return the first two paths.
    ``extra``: further sheets after 汇总 (sheet name → DataFrame, such as intake's 收件记录).
    """
    from xlperf.files import atomic_path, atomic_write_bytes

    df = main_frame(outcomes)
    xlsx, csv = out_dir / SUMMARY_XLSX, out_dir / SUMMARY_CSV
    with atomic_path(xlsx) as tmp:
        _write_xlsx(tmp, df, outcomes, extra or {})
    atomic_write_bytes(csv, csv_bytes(df))
    atomic_write_bytes(out_dir / SUMMARY_JSON, json_bytes(outcomes))
    return xlsx, csv


#: what a run measured about itself: not part of what it decided (and never the same twice)
_RUN_FIELDS = ("seconds", "pid", "peak_rss_mb")


def json_bytes(outcomes: Sequence[Outcome]) -> bytes:
    """汇总.json: the outcomes 汇总.xlsx was written from, as decided (status, message, figures,
    findings; and, for a reader's convenience, the rank and the 状态 shown beside it). The reviewer
    page reads a batch folder through it, so that it shows what 汇总 shows (docs/DESIGN.md §8)."""
    import json
    from dataclasses import asdict

    ranks = rank(outcomes)
    items = []
    for o in outcomes:
        data = {k: v for k, v in asdict(o).items() if k not in _RUN_FIELDS}
        data.update(rank=ranks.get(o.index), standing=o.standing)
        items.append(data)
    text = json.dumps({"schema": SUMMARY_SCHEMA, "outcomes": items}, ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The 汇总 CSV: UTF-8 with a BOM (Excel opens it without mojibake), CRLF line ends; text starting
    with = + - @ gets a leading ' (OWASP's guard against CSV formula injection), so Excel shows it as
    text instead of running it as a formula.
    """
    safe = df.copy()
    for col in TEXT_COLUMNS:
        safe[col] = safe[col].map(_csv_text, na_action="ignore")
    text: str = safe.to_csv(index=False, lineterminator="\r\n")
    return ("\ufeff" + text).encode("utf-8")


def _csv_text(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_xlsx(
    path: Path, df: pd.DataFrame, outcomes: Sequence[Outcome], extra: Mapping[str, pd.DataFrame]
) -> None:
    import pandas as pd

    ranking_data = ranking_rows(outcomes)
    ranking = _frame(ranking_data, ranking_columns(outcomes))
    management = management_frame(outcomes)
    sheets: dict[str, pd.DataFrame] = {
        "汇总": df,
        **extra,
        "排名": ranking,
        "管理效率": management,
        "问题统计": finding_stats(outcomes),
        "自报对比": _frame(claim_rows(outcomes), CLAIM_COLUMNS),
        "等级分布": pd.DataFrame(distribution(outcomes), columns=["等级", "个数"]),
        "问题清单": _frame(finding_rows(outcomes), FINDING_COLUMNS),
    }
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            frame.to_excel(xw, sheet_name=name, index=False)
        book = xw.book
        for name, frame in sheets.items():
            _format_sheet(book[name], frame)
        _links(book["排名"], ranking_data)
        _mark_below_full(book["管理效率"], management)
        chart_ws = book.create_sheet("总分图")
        _chart(chart_ws, book["排名"], ranking_data)
        order = [SHEET_ORDER[0], *extra, *SHEET_ORDER[1:]]
        book._sheets.sort(key=lambda ws: order.index(ws.title))
        book.active = 0
        for ws in book.worksheets:
            _print_setup(ws)


def _format_sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    """Text written as text (a leading = does not make a formula); bold header, first row frozen,
    autofilter, fitting column widths and number formats.
    """
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from xlperf.workbook import look
    from xlperf.workbook.cells import put_text

    # 汇总 keeps the workbook's default font (a table to sort and filter), bold for the header
    head_font, head_fill = Font(bold=True), look.fill(look.HEADER)
    wrap, top = Alignment(vertical="top", wrap_text=True), Alignment(vertical="top")
    centred = Alignment(horizontal="center", vertical="top", wrap_text=True)
    columns = list(frame.columns)
    for c, name in enumerate(columns, start=1):
        head = ws.cell(row=1, column=c)
        put_text(head, str(name))
        head.font, head.fill = head_font, head_fill
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        numeric = name in NUMBER_COLUMNS or (ws.title == "管理效率" and c > 3)
        widest = 90 if (ws.title, name) == ("问题清单", "说明") else 60
        width = max(8, min(14, _display_width(str(name)) + 2))
        # a column left off the print does not wrap: its text must not make the printed rows taller
        align = top if name in UNPRINTED.get(ws.title, ()) else wrap
        if name in CENTRED_COLUMNS:
            align = centred
        # a column's cells share a few formats: made on its first cell of each and copied
        # (openpyxl looks a format up in the workbook's list on every assignment)
        formats: dict[tuple[bool, bool], StyleArray] = {}
        for r, value in enumerate(frame[name].tolist(), start=2):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                put_text(cell, value)
                width = max(width, min(widest, _display_width(value) + 2))
            number = not isinstance(value, str) and numeric and cell.value is not None
            dash = isinstance(value, str) and value == NONE
            shape = (number, dash)
            made = formats.get(shape)
            if made is None:
                cell.alignment = centred if dash else align
                if number:
                    cell.number_format = "0.00"
                formats[shape] = copy(cell._style)
            else:
                cell._style = copy(made)
        if name == "说明" and ws.title == "问题清单":
            # a finding per row: a wide column keeps each to a line or two, so a landscape page holds
            # a screenful of them (at 40 each took four lines: 6–8 findings a page)
            width = min(width, 90)
        elif name in ("说明", "涉及部门", "指标"):
            width = min(width, 40)
        elif name in ("主题", "文件夹", "来源"):
            width = min(width, 28)
        elif name in ("文件", "计分工作簿"):
            width = min(width, 22 if ws.title == "问题清单" else 36)
        elif name == "部门":
            width = min(width, 30)
        elif name == "sha256":
            width = 20
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _display_width(text: str) -> int:
    from xlperf.workbook.printing import text_width

    return text_width(text[:80])


PRINT_TITLE = "部门整体支出绩效自评汇总"
#: a sheet whose columns add up to more than this (in character widths) prints landscape
PORTRAIT_WIDTH = 95
#: columns left off the print (kept in the sheet, and 汇总's in 汇总.csv): they must be the last ones
UNPRINTED = {"汇总": ("sha256",), "收件记录": ("来源",)}


def _print_setup(ws: Worksheet) -> None:
    """A4, one page wide, the heading row on every page, the sheet's name in the header and
    "第 N 页，共 M 页" at the foot; landscape when wide; row heights from the wrapped text.
    总分图 prints alone on one landscape page."""
    from openpyxl.utils import get_column_letter

    from xlperf.workbook.printing import column_widths, fit_row_heights, setup_print

    header = f"{PRINT_TITLE} · {ws.title}"
    if ws.title == "总分图":
        setup_print(ws, landscape=True, header=header)
        ws.page_setup.fitToHeight = 1
        return
    heads = [c.value for c in ws[1]]
    shown = [i for i, h in enumerate(heads, start=1) if h not in UNPRINTED.get(ws.title, ())]
    widths = column_widths(ws)
    wide = sum(widths.get(c, 8.43) for c in shown) > PORTRAIT_WIDTH
    fit_row_heights(ws)
    setup_print(ws, title_rows="1:1", landscape=wide, header=header)
    if shown and len(shown) < len(heads):
        ws.print_area = f"A1:{get_column_letter(max(shown))}{ws.max_row}"


def _links(ws: Worksheet, rows: list[TableRow]) -> None:
    """排名's 计分工作簿 and 校验结果 columns: links to the scored workbook (its path relative to
    汇总.xlsx) and to its 校验结果 sheet.
    """
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.hyperlink import Hyperlink

    top = Alignment(vertical="top")
    header = [c.value for c in ws[1]]
    book_col = header.index("计分工作簿") + 1
    checks_col = header.index("校验结果") + 1
    for r, row in enumerate(rows, start=2):
        link = row.get("_link")
        if not link:
            continue
        for col, location in ((book_col, None), (checks_col, f"'{CHECKS_SHEET}'!A1")):
            cell = ws.cell(row=r, column=col)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, target=link, location=location)
            cell.style = "Hyperlink"
            cell.alignment = top  # the named style would put the link at the foot of a two-line row


def _mark_below_full(ws: Worksheet, frame: pd.DataFrame) -> None:
    """管理效率: cells scoring below full marks shaded pale red."""
    from openpyxl.styles import Font

    from xlperf.workbook import look

    fill, font = look.fill(look.ERROR), Font(color=look.BELOW_FULL_TEXT)
    for r, full in enumerate(frame["分值"].tolist(), start=2) if len(frame) else []:
        for c in range(4, len(frame.columns) + 1):
            cell = ws.cell(row=r, column=c)
            if not isinstance(cell.value, int | float) or full is None or cell.value != cell.value:
                continue  # an indicator another framework has not: no score, nothing to shade
            if _dec(cell.value) < _dec(full):  # type: ignore[operator]
                cell.fill, cell.font = fill, font


def axis_minimum(totals: Sequence[float]) -> float:
    """Where the total axis starts: the multiple of 5 below the lowest total (93.85 → 90, 60 → 55),
    not below 0."""
    if not totals:
        return 0.0
    low = min(totals)
    return float(max(0, (math.ceil(low) - 1) // 5 * 5))


def _chart(ws: Worksheet, data_ws: Worksheet, rows: list[TableRow]) -> None:
    """The bar chart of totals alone on its page (ranked departments, by place); the axis starts below
    the lowest total, so the differences show.
    """
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.label import DataLabelList

    from xlperf.workbook.cells import put_text

    n = len(rows)
    put_text(ws["A1"], "各部门总分（按名次）" if n else "没有参加排名的部门")
    if n == 0:
        return
    header = [c.value for c in data_ws[1]]
    total_col = header.index("总分") + 1
    dep_col = header.index("部门") + 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = "各部门总分"
    chart.y_axis.title = "总分"
    # every ranked row has a total (Outcome.is_scored)
    chart.y_axis.scaling.min = axis_minimum(
        [float(t) for r in rows if isinstance(t := r["总分"], float | int)]
    )
    chart.y_axis.scaling.max = 100
    chart.y_axis.majorUnit = 5 if chart.y_axis.scaling.min >= 50 else 10
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top
    chart.legend = None
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.dataLabels.showSerName = chart.dataLabels.showCatName = chart.dataLabels.showLegendKey = False
    chart.y_axis.number_format = "0"
    chart.y_axis.majorGridlines = None
    data = Reference(data_ws, min_col=total_col, min_row=1, max_row=n + 1)
    cats = Reference(data_ws, min_col=dep_col, min_row=2, max_row=n + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    # one A4 landscape page holds ~25 cm × 16 cm; long lists get a taller chart (and more pages)
    chart.width = 25
    chart.height = max(15.0, min(0.6 * n + 3, 200.0))
    ws.add_chart(chart, "A2")
