"""The scored copy of a 项目支出绩效自评表: the clerk's workbook, the scores written back, three sheets.

As for the department form (:func:`xlperf.workbook.writer.scored_package`), the package is edited
part by part — every part xlperf does not change is copied byte for byte (a seal's picture, the
bureau's own formats). What changes:

- on the form: the rule's score in the 得分 cell of every 定量 row (a 定性 row keeps the clerk's
  score: it is their judgement), the 执行率 score, the 得分合计 and the 评价等级 — only into cells that
  hold no formula; flagged cells get a fill and a note by ``xlperf校验`` (the previous run's removed);
- 评分结果, 校验结果 and 自评报告 inserted first, 评分结果 active (an earlier run's replaced);
- the hidden ``_xlperf`` sheet's provenance and embedded rules (the department form's names).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from lxml import etree

from xlperf import __version__
from xlperf.core.decimals import round2
from xlperf.core.findings import Finding
from xlperf.core.project.result import ProjectResult
from xlperf.ooxml.package import Package, Parts
from xlperf.ooxml.spreadsheet import (
    SheetXml,
    Styles,
    WorkbookXml,
    fill_element,
    make_plain_workbook,
    styles_part,
)
from xlperf.project import layout as P
from xlperf.workbook import layout as L
from xlperf.workbook import look
from xlperf.workbook.book import Book
from xlperf.workbook.reader import SourceMap
from xlperf.workbook.writer import (
    BIG,
    BLANK,
    BODY,
    HEAD,
    PAIR,
    SECTION,
    SUB,
    TITLE,
    Row,
    SheetLayout,
    _input_sheet,
    findings_layout,
    insert_output_sheets,
    local_time,
    write_hidden_rows,
)

SCORE_WIDTHS, FINDINGS_WIDTHS, REPORT_WIDTHS = (
    look.PROJECT_SCORE_WIDTHS,
    look.FINDINGS_WIDTHS,
    look.REPORT_WIDTHS,
)


def provenance_rows(result: ProjectResult, input_sha256: str, scored_at: str) -> list[tuple[str, str, str]]:
    """(defined name, label, value) of the hidden sheet: as the department form's ``Provenance.hidden``."""
    fw = result.framework
    rows = [
        ("xp_framework", "评分框架", fw.id),
        ("xp_framework_sha256", "评分规则校验值", fw.sha256),
        ("xp_tool_version", "xlperf 版本", __version__),
        ("xp_input_sha256", "输入文件 SHA-256", input_sha256),
        ("xp_scored_at", "计分时间", scored_at),
    ]
    chunks = L.framework_chunks(fw.canonical())
    for k, name in enumerate(L.DEF_NAMES):
        label = "评分规则（内嵌，勿改）" if k == 0 else f"评分规则（续 {k + 1}）"
        rows.append((name, label, chunks[k] if k < len(chunks) else ""))
    return rows


def page_header(result: ProjectResult, title: str) -> str:
    info = result.evaluation.project
    return f"{info.name or '（未填写项目名称）'}　{info.year or ''} 年度　{title}"


def _pct(score: Decimal, full: Decimal) -> Decimal | None:
    return None if not full else round2(score / full * 100) / 100


def score_rows(result: ProjectResult, input_sha256: str, scored_at: str) -> list[tuple[str, Row]]:
    """评分结果 as (style, values) rows."""
    ev, fw = result.evaluation, result.framework
    info = ev.project
    b = result.budget
    rows: list[tuple[str, Row]] = [
        (TITLE, ["项目支出绩效自评 · 评分结果"]),
        (
            SUB,
            [
                f"{info.name or '（未填写项目名称）'}　主管部门：{info.department or '（未填写）'}　"
                f"{info.year or ''} 年度　评分框架：{fw.name}"
            ],
        ),
        (BLANK, []),
        (BIG, ["总分", result.total, "评价等级", result.rating or "不评级"]),
        (PAIR, ["错误", f"{len(result.errors)} 条", "提醒", f"{len(result.warnings)} 条"]),
        (BLANK, []),
        (HEAD, ["部分", "说明", "", "", "", "分值", "得分", "得分率"]),
    ]
    rate = "无法计算" if b.rate is None else f"执行率 {b.rate}%"
    rows.append((BODY, ["预算执行率", rate, "", "", "", b.full, b.score, _pct(b.score, b.full)]))
    for lv in result.levels:
        rows.append(
            (
                BODY,
                [lv.name, f"{len(lv.rows)} 个指标", "", "", "", lv.full, lv.score, _pct(lv.score, lv.full)],
            )
        )
    notes = []
    if result.applicable_full < fw.total:
        notes.append(f"不适用指标不计分：{result.raw_total} ÷ {result.applicable_full} × {fw.total}")
    if result.cap is not None:
        notes.append(f"按执行率封顶 {result.cap} 分")
    rows.append(
        (
            SECTION,
            ["合计", "；".join(notes), "", "", "", fw.total, result.total, _pct(result.total, fw.total)],
        )
    )
    rows += [
        (BLANK, []),
        (SUB, ["绩效指标明细（得分不超过分值；定性指标按填表人所评等级及区间内的得分）"]),
        (HEAD, ["一级指标", "三级指标", "年度指标值", "实际完成值", "计算符号", "分值", "得分", "说明"]),
    ]
    for r in result.rows:
        level = next((lv.name for lv in result.levels if lv.id == r.level), r.level1)
        note = []
        if not r.applicable:
            note.append("不适用，不计分")
        if r.grade:
            note.append(r.grade)
        if r.completion is not None:
            note.append(f"完成 {r.completion}%")
        if r.deduction:
            note.append(f"超出指标值扣 {r.deduction} 分")
        if not r.scored and r.applicable:
            note.append("数据不完整，见校验结果")
        rows.append(
            (
                BODY,
                [
                    level,
                    r.name,
                    r.target_text,
                    r.actual_text,
                    r.operator,
                    r.weight,
                    r.score if r.applicable else None,
                    "；".join(note),
                ],
            )
        )
    rows += [(BLANK, []), (HEAD, ["计分依据", "", "", "", "", "", "", ""])]
    for k, v in (
        ("xlperf 版本", __version__),
        ("评分框架", f"{fw.name}（{fw.id}）"),
        ("评分规则校验值", fw.sha256),
        ("计分时间", local_time(scored_at)),
        ("输入文件 SHA-256", input_sha256),
    ):
        rows.append((BODY, [k, v]))
    return rows


def _score_merges(rows: list[tuple[str, Row]], ncols: int) -> list[tuple[int, int, int]]:
    merges: list[tuple[int, int, int]] = []
    region = ""
    for r, (style, values) in enumerate(rows, start=1):
        if style == HEAD:
            region = str(values[0])
        if style == SUB:
            merges.append((r, 1, ncols))
        elif region == "部分" and style in (HEAD, BODY, SECTION):
            merges.append((r, 2, 5))
        elif region == "计分依据" and style == BODY:
            merges.append((r, 2, ncols))
    return merges


def report_rows(result: ProjectResult) -> list[tuple[str, Row]]:
    rows: list[tuple[str, Row]] = [(TITLE, [result.report.title])]
    rows += [(f"h{p.level}" if p.level else BODY, [p.text]) for p in result.report.paragraphs]
    return rows


def output_layouts(
    result: ProjectResult, input_sha256: str, scored_at: str, known: set[str]
) -> list[SheetLayout]:
    scores = score_rows(result, input_sha256, scored_at)
    return [
        SheetLayout(
            P.SCORES,
            scores,
            SCORE_WIDTHS,
            False,
            page_header(result, P.SCORES),
            _score_merges(scores, len(SCORE_WIDTHS)),
            percent_cols={7: "0.00%"},
        ),
        findings_layout(P.FINDINGS, result.findings, page_header(result, P.FINDINGS), known),
        SheetLayout(P.REPORT, report_rows(result), REPORT_WIDTHS, False, page_header(result, P.REPORT), []),
    ]


def _set_number(sheet: SheetXml, coord: str, value: Decimal) -> None:
    """A number into a cell, its format kept; a cell holding a formula is left alone."""
    cell = sheet.cell(coord, create=True)
    assert cell is not None
    if cell.find(f"{{{sheet.ns}}}f") is not None:
        return
    for child in list(cell):
        cell.remove(child)
    cell.attrib.pop("t", None)
    v = etree.SubElement(cell, f"{{{sheet.ns}}}v")
    v.text = format(value, "f")


def _set_text(sheet: SheetXml, coord: str, text: str) -> None:
    cell = sheet.cell(coord, create=True)
    if cell is not None and cell.find(f"{{{sheet.ns}}}f") is None:
        sheet.set_text(coord, text)


def written_values(result: ProjectResult, source: SourceMap) -> dict[tuple[str, str], Decimal | str]:
    """(sheet, cell) → the value the scored copy writes there."""
    out: dict[tuple[str, str], Decimal | str] = {}

    def put(path: str, value: Decimal | str) -> None:
        where = source.cells.get(path)
        if where is not None:
            out[where] = value

    for r in result.rows:
        if r.applicable and r.operator != "定性" and r.weight is not None:
            put(f"rows[{r.index}].score", r.score)
    put("funds.score", result.budget.score)
    put("claimed_total", result.total)
    if result.rating:
        put("claimed_rating", result.rating)
    return out


def fill_values(book: Book, result: ProjectResult, source: SourceMap) -> dict[tuple[str, str], Decimal | str]:
    """What the 报送 workbook writes into the form: :func:`written_values` for the cells the clerk left
    empty (``book`` is the clerk's workbook as read). A typed score or total is the clerk's claim and
    stays as typed (flagged where it differs from the rule's), so the bureau re-scores the frozen form
    to the same findings as the clerk's."""
    out: dict[tuple[str, str], Decimal | str] = {}
    for (name, coord), value in written_values(result, source).items():
        if name not in book.sheetnames:
            continue
        cell = book[name][coord]
        if cell.data_type == "f" or not (
            cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())
        ):
            continue
        out[(name, coord)] = value
    return out


def frozen_values(
    result: ProjectResult, source: SourceMap
) -> dict[tuple[str, str], tuple[float | None, str]]:
    """(sheet, cell) → (value, note) for the 报送 freeze (:func:`xlperf.submission.freeze.plan_freeze`):
    the cells whose formula only shows what the core computes — the 执行率 (B/A) of the 项目资金 block,
    the template's live ``=E/D`` (a fraction in a percent cell). The 得分 cells, 得分合计 and 评价等级
    are the clerk's claims: a formula there is computed as the clerk's Excel computed it (the bureau
    re-scores the frozen form to the same findings); an empty one gets the core's value
    (:func:`fill_values`)."""
    out: dict[tuple[str, str], tuple[float | None, str]] = {}
    rate = source.cells.get("funds.rate")
    if rate is not None:
        b = result.budget.rate
        out[rate] = (None if b is None else float(b / 100), "执行率（xlperf 计算）")
    return out


def project_scored_package(
    data: bytes | Parts,
    result: ProjectResult,
    source: SourceMap | None,
    input_sha256: str,
    scored_at: str,
    *,
    only: Collection[tuple[str, str]] | None = None,
) -> Package:
    """The clerk's workbook with the scores written back and the three output sheets. With ``only``
    (the 报送 workbook: :func:`fill_values`) a score goes only into those cells."""

    pkg = Package(data)
    book = WorkbookXml(pkg)
    book.remove_sheets(P.OUTPUT_SHEETS)
    make_plain_workbook(book)
    known = {s.name for s in book.sheets()}
    styles = Styles(pkg, styles_part(pkg, book))
    insert_output_sheets(pkg, book, styles, list(output_layouts(result, input_sha256, scored_at, known)))
    notes: dict[str, dict[str, list[Finding]]] = {}
    for f in result.findings:
        if f.cell and f.sheet and f.sheet not in P.OUTPUT_SHEETS and f.sheet != L.HIDDEN:
            notes.setdefault(f.sheet, {}).setdefault(f.cell, []).append(f)
    fills = (
        styles.add("fills", fill_element(look.fill(look.ERROR))),
        styles.add("fills", fill_element(look.fill(look.WARNING))),
        styles.add("fills", fill_element(look.fill(look.INPUT))),
    )
    form_sheets = {sheet for sheet, _ in (source.cells.values() if source else ())}
    for ref in book.sheets()[len(P.OUTPUT_SHEETS) :]:
        if ref.name == L.HIDDEN:
            continue
        _input_sheet(
            pkg,
            ref,
            notes.get(ref.name, {}),
            styles,
            fills,
            page_header(result, ref.name) if ref.name in form_sheets else None,
        )
    edited: dict[str, SheetXml] = {}

    def sheet(name: str) -> SheetXml:
        if name not in edited:
            ref = book.sheet(name)
            assert ref is not None
            edited[name] = SheetXml(pkg.xml(ref.part))
        return edited[name]

    if source is not None:
        for (name, coord), value in written_values(result, source).items():
            if book.sheet(name) is None or (only is not None and (name, coord) not in only):
                continue
            if isinstance(value, Decimal):
                _set_number(sheet(name), coord, value)
            else:
                _set_text(sheet(name), coord, value)
    write_hidden_rows(pkg, book, sheet, provenance_rows(result, input_sha256, scored_at))
    for s in edited.values():
        s.refresh_dimension()
    return pkg
