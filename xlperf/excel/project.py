"""The ribbon on a 项目支出绩效自评表 (issue 27): 校验, 计算得分 and 生成报告 as ``xlperf run`` does them.

:mod:`xlperf.excel.handlers` dispatches here when the live book is a project form (its embedded rules,
or a bureau's own form found by its headers: :func:`xlperf.project.reader.is_project_book`). The book
is read by the same bulk snapshot, then by the project reader (``read_project_book`` →
``assess_project``), and written with the department handlers' few bulk calls:

- 校验: the flagged cells of the form coloured (red errors, yellow warnings; on xlperf's own form
  every other input cell gets its pale yellow back) and 校验结果;
- 计算得分: the same, the scores written back into the form — the rule's score in the 得分 cell of
  every 定量 row, the 执行率 score, 得分合计 and 评价等级, never into a cell holding a formula (the
  scored copy's :func:`xlperf.project.writer.written_values`) — and 评分结果;
- 生成报告: 自评报告 and the .docx (``<name>_项目支出绩效自评报告.docx``) beside the saved workbook.

The rows are :mod:`xlperf.project.writer`'s, the very rows of ``xlperf run``'s scored copy. Writes
are grouped into rectangles (:func:`xlperf.excel.handlers.areas`): their number does not grow with
the indicator rows. 导出报送包 and 发送财政局 need nothing here: the submission package takes
either form (:func:`xlperf.submission.package.export_package`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlperf.excel.book import Snapshot
from xlperf.excel.handlers import (
    ERROR_COLOR,
    INPUT_COLOR,
    REPORT_WIDTHS,
    WARNING_COLOR,
    Area,
    HandlerError,
    Outcome,
    SheetWriter,
    _cell,
    _excel,
    _quiet,
    areas,
    write_finding_sheet,
    write_rows,
)
from xlperf.project import layout as P
from xlperf.workbook import look

#: the form's fields a clerk fills (tinted on xlperf's own form); the rest are computed by xlperf
COMPUTED_FIELDS = ("funds.full", "funds.rate", "funds.score", "claimed_total", "claimed_rating")


@dataclass
class ProjectAssessment:
    """One read + evaluation of a live project form."""

    snap: Snapshot
    loaded: Any  # xlperf.project.pipeline.ProjectLoaded
    result: Any  # xlperf.core.project.result.ProjectResult


def is_project(snap: Snapshot) -> bool:
    from xlperf.project.reader import is_project_book

    return is_project_book(snap.workbook)


#: at most this many label cells are asked for their merged range (a form has about fifteen)
MAX_LABELS = 40


def restore_label_merges(book: Any, snap: Snapshot) -> int:
    """Desktop Excel: the merged range of each label cell of the form (项目名称, 评价等级 …) put into the
    snapshot, so that the reader finds an empty value's cell as it does in the saved file (the bulk
    read sends values only). One call per label, whatever the number of rows; on the remote engine,
    which cannot say, the reader's merge-less reading applies. Returns the merges restored."""
    from xlperf.project.reader import is_label

    if snap.remote:
        return 0
    restored = 0
    for ws in snap.workbook.worksheets:
        if ws.title in (*P.OUTPUT_SHEETS, P.HIDDEN, P.README):
            continue
        labels = [
            c.coordinate
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and is_label(c.value)
        ]
        for coord in labels[:MAX_LABELS]:
            try:
                ref = str(book.sheets[ws.title].range(coord).merge_area.address).replace("$", "")
                if ":" in ref:
                    ws.merge_cells(ref)
                    restored += 1
            except Exception:  # an engine or a range that cannot say: the merge-less reading applies
                continue
    return restored


def assess(book: Any, snap: Snapshot) -> ProjectAssessment:
    """The project reader on the snapshot, then the same evaluation as ``xlperf run``."""
    from xlperf.core.framework import FrameworkError
    from xlperf.project.pipeline import ProjectLoaded, assess_project
    from xlperf.project.reader import read_project_book

    restore_label_merges(book, snap)
    try:
        ev, findings, source, fw = read_project_book(snap.workbook, None, snap.values_loader)
    except FrameworkError as exc:
        raise HandlerError(str(exc)) from exc
    loaded = ProjectLoaded(snap.path or Path(snap.fullname), snap.sha256(), ev, findings, fw, source)
    return ProjectAssessment(snap, loaded, assess_project(loaded))


# ------------------------------------------------------------------------------ writing


def form_sheets(a: ProjectAssessment) -> set[str]:
    return {sheet for sheet, _ in a.loaded.source.cells.values()}


def mark_cells(book: Any, a: ProjectAssessment) -> int:
    """Colour the flagged cells of the form; on xlperf's own form (it carries the rules) every other
    input cell gets its pale yellow back, so an earlier run's marks go away. Returns the flagged count."""
    sheets = form_sheets(a) & set(a.snap.sheet_names)
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    for f in a.result.findings:
        if f.sheet not in sheets or not f.cell:
            continue
        try:
            rc = _cell(f.cell)
        except ValueError:
            continue
        cells = flagged.setdefault(f.sheet, {})
        if f.is_error or cells.get(rc) != ERROR_COLOR:
            cells[rc] = ERROR_COLOR if f.is_error else WARNING_COLOR
    inputs: dict[str, set[tuple[int, int]]] = {}
    if "xp_framework" in a.snap.names:  # xlperf's template: its input cells are the tinted ones
        for path, (sheet, coord) in a.loaded.source.cells.items():
            if _is_input(path) and sheet in sheets:
                inputs.setdefault(sheet, set()).add(_cell(coord))
    for name in sorted(set(inputs) | set(flagged)):
        colors = dict.fromkeys(inputs.get(name, ()), INPUT_COLOR)
        colors.update(flagged.get(name, {}))
        SheetWriter(book, book.sheets[name]).paint(colors, [INPUT_COLOR, WARNING_COLOR, ERROR_COLOR])
    return sum(len(v) for v in flagged.values())


def _is_input(path: str) -> bool:
    """A field the clerk fills: a row's cells, an amount, the header, the texts (not a whole table)."""
    if path in COMPUTED_FIELDS or path in ("rows", "funds.total") or path == "framework":
        return False
    return "." in path or path in ("goal_expected", "goal_actual", "problems", "improvements")


def write_back(book: Any, a: ProjectAssessment) -> int:
    """The scores into the form (as the scored copy writes them), one call per rectangle of cells;
    a cell holding a formula is left alone. Returns the number of cells written."""
    from xlperf.project.writer import written_values

    by_sheet: dict[str, dict[tuple[int, int], Decimal | str]] = {}
    for (sheet, coord), value in written_values(a.result, a.loaded.source).items():
        if sheet not in a.snap.sheet_names or sheet not in a.snap.workbook.sheetnames:
            continue
        rc = _cell(coord)
        if a.snap.workbook[sheet].cell(row=rc[0], column=rc[1]).data_type == "f":
            continue
        by_sheet.setdefault(sheet, {})[rc] = value
    for sheet, values in by_sheet.items():
        target = book.sheets[sheet]
        for r1, c1, r2, c2 in areas(values):
            target.range((r1, c1), (r2, c2)).value = [
                [_excel(values[(r, c)]) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)
            ]
    return sum(len(v) for v in by_sheet.values())


def write_findings(book: Any, a: ProjectAssessment) -> Any:
    return write_finding_sheet(book, P.FINDINGS, a.result.findings, a.snap.sheet_names)


def write_summary(book: Any, a: ProjectAssessment) -> Any:
    from xlperf.pipeline import now
    from xlperf.project.writer import score_rows

    rows = score_rows(a.result, a.loaded.sha256, now())
    return write_rows(
        book, P.SCORES, rows, list(look.PROJECT_SCORE_WIDTHS), number_formats=project_score_formats(rows)
    )


def project_score_formats(rows: list[tuple[str, list[Any]]]) -> list[tuple[Area, str]]:
    """Number formats of 评分结果 by region, as the scored copy has them: the total ``0.00``; the 部分
    table's 分值/得分 ``0.00`` and 得分率 ``0.00%``; the 绩效指标明细's 分值/得分 ``0.00``. One call per
    region, whatever the number of rows."""
    from xlperf.workbook.writer import BIG, BODY, HEAD, SECTION

    out: list[tuple[Area, str]] = []
    region, start, last = "", 0, 0
    for r, (style, values) in enumerate(rows, start=1):
        first = str(values[0]) if values else ""
        if region == "detail" and style != BODY:
            if last >= start:
                out.append(((start, 6, last, 7), "0.00"))
            region = ""
        if style == BIG:
            out.append(((r, 2, r, 2), "0.00"))
        elif style == HEAD:
            region, start, last = {"部分": "main", "一级指标": "detail"}.get(first, ""), r + 1, r
        elif region == "main" and style == SECTION and first == "合计":
            out += [((start, 6, r, 7), "0.00"), ((start, 8, r, 8), "0.00%")]
            region = ""
        elif region == "detail" and style == BODY:
            last = r
    if region == "detail" and last >= start:
        out.append(((start, 6, last, 7), "0.00"))
    return out


def write_report(book: Any, a: ProjectAssessment) -> Any:
    from xlperf.project.writer import report_rows

    return write_rows(book, P.REPORT, report_rows(a.result), REPORT_WIDTHS)


def _counts(a: ProjectAssessment) -> str:
    return f"错误 {len(a.result.errors)} 条，提醒 {len(a.result.warnings)} 条"


# ------------------------------------------------------------------------------ the buttons


def validate(book: Any, snap: Snapshot) -> Outcome:
    a = assess(book, snap)
    with _quiet(book):
        flagged = mark_cells(book, a)
        write_findings(book, a).activate()
    if not a.result.findings:
        return Outcome("校验完成（项目支出绩效自评表）：没有发现问题。")
    tail = "红色单元格是错误（须改正后才能报送），黄色是提醒。" if flagged else ""
    return Outcome(
        f"校验完成（项目支出绩效自评表）：{_counts(a)}。详见“{P.FINDINGS}”工作表（点击“位置”可跳到单元格）。{tail}",
        "critical" if a.result.errors else "info",
    )


def score(book: Any, snap: Snapshot) -> Outcome:
    a = assess(book, snap)
    with _quiet(book):
        mark_cells(book, a)
        write_back(book, a)
        write_findings(book, a)
        write_summary(book, a).activate()
    r = a.result
    rating = f"评价等级 {r.rating}" if r.rating else "不评级"
    text = (
        f"计算完成（项目“{r.evaluation.project.name or '未填写项目名称'}”）：总分 {r.total}，{rating}。"
        f"各指标得分、执行率得分和得分合计已写回“{a.loaded.source.cells.get('rows', (P.FORM_SHEET,))[0]}”。"
        f"{_counts(a)}，详见“{P.FINDINGS}”。"
    )
    if r.errors:
        text += "有错误时得分仅供参考，改正后请重新计算。"
    return Outcome(text, "critical" if r.errors else "info")


def report(book: Any, snap: Snapshot) -> Outcome:
    from xlperf.pipeline import write_report_docx

    a = assess(book, snap)
    with _quiet(book):
        write_report(book, a).activate()
    out = (
        snap.path.with_name(f"{snap.path.stem}_项目支出绩效自评报告.docx") if snap.path is not None else None
    )
    if out is None:
        where = "在线 Excel 中无法保存文件" if snap.remote else "工作簿还没有保存到本机文件夹"
        return Outcome(
            f"已写入“{P.REPORT}”工作表。{where}，所以没有生成 Word 报告；"
            "请先保存工作簿再点击“生成报告”，或在命令行运行 xlperf report 项目表.xlsx -o 报告.docx。"
        )
    try:
        write_report_docx(a.result, out)
    except OSError as exc:
        raise HandlerError(
            f"已写入“{P.REPORT}”工作表，但无法保存 Word 报告 {out}：{exc.strerror or exc}。"
            "如果该报告正在 Word 中打开，请关闭后重试。"
        ) from exc
    return Outcome(f"已写入“{P.REPORT}”工作表，并生成项目支出绩效自评报告（Word）：\n{out}")
