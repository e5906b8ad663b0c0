"""The 项目支出绩效自评表 as a workbook: ``xlperf new``, the reader (our template and a bureau's own
form), the scored copy, the .docx, and ``run``/``check``/``report`` dispatching on the form.

Golden figures are the 安徽 table's (see tests/test_project_core.py for the source): 产出 50,
效益 30, the total row left at 0 while 本年财政拨款 is 89.974 of 90 → 执行率 100 %, 10 points, J03.
"""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from office import calamine_sheets, convert, error_cells
from openpyxl.styles import Font
from test_project_core import anhui

from xlperf.cli import main
from xlperf.core.project.framework import get_project_framework, parse_project_canonical
from xlperf.files import sha256_file
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.stream import read_package
from xlperf.pipeline import assess, load_any
from xlperf.project import layout as P
from xlperf.project.pipeline import ProjectLoaded
from xlperf.project.reader import is_project_book, read_project_book
from xlperf.project.template import build_project_workbook
from xlperf.workbook import layout as L
from xlperf.workbook.book import as_book

D = Decimal
FW = get_project_framework("national-project")


def cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def filled(tmp_path: Path, name: str = "ah.xlsx") -> Path:
    path = tmp_path / name
    ev = anhui()
    ev.goal_expected = "完成基建工程委托业务50个以上，报告合格率100%"
    ev.goal_actual = "完成委托业务50个，报告全部合格"
    build_project_workbook(FW, ev).save(path)
    return path


# ------------------------------------------------------------------ the blank form


def test_new_makes_the_national_form(tmp_path: Path) -> None:
    out = tmp_path / "项目.xlsx"
    result = cli("new", "--framework", "national-project", "-o", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "项目支出绩效自评表" in result.output  # type: ignore[attr-defined]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [P.FORM_SHEET, P.README, L.HIDDEN]
    assert wb[L.HIDDEN].sheet_state == "veryHidden"
    ws = wb[P.FORM_SHEET]
    texts = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    for label in (
        "项目支出绩效自评表",
        "项目名称",
        "主管部门",
        "实施单位",
        "年度",
        "项目资金（万元）",
        "年度资金总额",
        "其中：当年财政拨款",
        "上年结转资金",
        "其他资金",
        "全年预算数（A）",
        "全年执行数（B）",
        "执行率（B/A）",
        "年度总体目标",
        "预期目标",
        "实际完成情况",
        "一级指标",
        "二级指标",
        "三级指标",
        "计算符号",
        "年度指标值",
        "实际完成值",
        "分值",
        "得分",
        "偏差原因分析及改进措施",
        "总分",
        "评价等级",
        "产出指标（50分）",
        "效益指标（30分）",
        "满意度指标（10分）",
        "服务对象满意度指标",
    ):
        assert label in texts, label
    merged = {str(m) for m in ws.merged_cells.ranges}
    # 一级 merged over its rows (产出: 数量 2, 质量 2, 时效 1, 成本 1), 二级 over theirs
    first = next(c.row for row in ws.iter_rows() for c in row if c.value == "产出指标（50分）")
    assert f"A{first}:A{first + 5}" in merged and f"B{first}:B{first + 1}" in merged
    # dropdowns: 计算符号 (strict) and the 定性 grades on 实际完成值 (numbers allowed too)
    lists = {str(dv.formula1): dv for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert f"={P.LIST_OPERATOR}" in lists and lists[f"={P.LIST_OPERATOR}"].showErrorMessage
    grades = lists[f"={P.LIST_GRADE}"]
    assert not grades.showErrorMessage and str(grades.sqref).startswith(f"F{first}")
    hidden = wb[L.HIDDEN]
    assert [hidden.cell(row=r, column=2).value for r in range(3, 7)] == [
        "达成年度指标",
        "部分达成年度指标并具有一定效果",
        "未达成年度指标且效果较差",
        "不适用",
    ]
    # printable: A4 portrait, one page wide
    assert (ws.page_setup.paperSize, ws.page_setup.orientation, ws.page_setup.fitToWidth) == (
        9,
        "portrait",
        1,
    )
    # the rules are embedded under the department form's names
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    assert "xp_framework_def" in names
    _, cell = names["xp_framework_def"].split("!")
    embedded = wb[L.HIDDEN][cell.replace("$", "")].value
    assert parse_project_canonical(embedded, "t").sha256 == FW.sha256
    # a second reader sees the same labels and no error values
    sheets = calamine_sheets(out)
    assert not error_cells(sheets)
    assert any("年度资金总额" in str(v) for row in sheets[P.FORM_SHEET] for v in row)
    # and xlperf itself reads the blank form as a project form with nothing filled in
    _, book = read_package(out, Limits())
    assert is_project_book(book)
    check = cli("check", str(out))
    assert check.exit_code == 1 and "J01" in check.output and "R01" not in check.output  # type: ignore[attr-defined]


def test_new_refuses_to_overwrite_and_names_project_frameworks(tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    assert cli("new", "--framework", "sichuan-project", "-o", str(out)).exit_code == 0  # type: ignore[attr-defined]
    again = CliRunner().invoke(main, ["new", "--framework", "sichuan-project", "-o", str(out)])
    assert again.exit_code == 2 and "已存在" in again.output
    wb = openpyxl.load_workbook(out)
    texts = {str(c.value) for row in wb[P.FORM_SHEET].iter_rows() for c in row if c.value is not None}
    assert "产出指标" in texts and "产出指标（50分）" not in texts  # 四川: no fixed 一级 分值
    assert any("执行率低于 90%" in t for t in texts)


# ------------------------------------------------------------------ reading


def test_template_round_trip_by_both_readers(tmp_path: Path) -> None:
    path = filled(tmp_path)
    expected = anhui()
    expected.goal_expected = "完成基建工程委托业务50个以上，报告合格率100%"
    expected.goal_actual = "完成委托业务50个，报告全部合格"
    expected.funds.rate = None  # the template's 执行率 is a live formula, not an input
    _, book = read_package(path, Limits())
    ev, findings, source, fw = read_project_book(book)
    assert fw.sha256 == FW.sha256
    assert not findings
    assert ev.model_dump() == expected.model_dump()
    assert source.cells["rows[0].actual"][0] == P.FORM_SHEET
    wb = openpyxl.load_workbook(path)
    ev2, findings2, _, _ = read_project_book(
        as_book(wb, lambda: openpyxl.load_workbook(path, data_only=True))
    )
    assert ev2.model_dump() == ev.model_dump() and not findings2


def bureau_form(
    path: Path, *, actual_header: str = "实际完成值", total_row: tuple[int, int, int] = (0, 0, 0)
) -> None:
    """A form as the 安徽 table lays it out, typed by hand: a title with the year, labels in other
    places, no 计算符号 column, 本年财政拨款, 一级 with their points, merged 一级/二级, no xlperf names."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "项目支出绩效自评表"
    ws["A2"] = "（2022年度）"
    ws.append(["项目名称", "委托业务", None, None, None, None, None, None])
    ws.append(["主管部门", "棠溪镇人民政府", None, None, "实施单位", "棠溪镇财政所", None, None])
    ws.append(["项目资金（万元）", None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"])
    ws.append([None, "年度资金总额", *total_row, 10, 0, 0])
    ws.append([None, "其中：本年财政拨款", 90, 89.974, 89.974, None, None, None])
    ws.append([None, "上年结转资金", None, None, None, None, None, None])
    ws.append([None, "其他资金", None, None, None, None, None, None])
    ws.append(["年度总体目标", "预期目标", None, None, "实际完成情况", None, None, None])
    ws.append([None, "完成委托业务", None, None, "已完成", None, None, None])
    ws.append(
        [
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            actual_header,
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ]
    )
    rows = [
        ("产出指标(50分)", "数量指标", "基建工程委托业务项目数量", "≥50个", 50, 8, 8),
        (None, "质量指标", "委托业务报告合格率", "≥100", 100, 8, 8),
        (None, None, "经费支出合规性", "合规", "达成预期指标", 8, 8),
        (None, "时效指标", "提交报告及时性", "及时", "达成预期指标", 8, 8),
        (None, "成本指标", "项目总成本", "≤90万元", 90, 8, 8),
        (None, None, "单项业务成本", "合理", "达成预期指标", 10, 10),
        ("效益指标(30分)", "社会效益指标", "社会效益1", "效果明显", "达成预期指标", 10, 10),
        (None, None, "社会效益2", "效果明显", "达成预期指标", 10, 10),
        (None, None, "社会效益3", "效果明显", "达成预期指标", 10, 10),
    ]
    start = ws.max_row + 1
    for row in rows:
        ws.append([*row, None])
    ws.merge_cells(start_row=start, start_column=1, end_row=start + 5, end_column=1)
    ws.merge_cells(start_row=start + 1, start_column=2, end_row=start + 2, end_column=2)
    ws.merge_cells(start_row=start + 4, start_column=2, end_row=start + 5, end_column=2)
    ws.merge_cells(start_row=start + 6, start_column=1, end_row=start + 8, end_column=1)
    ws.merge_cells(start_row=start + 6, start_column=2, end_row=start + 8, end_column=2)
    ws.append(["总分", None, None, None, None, 100, 90, None])
    ws["A1"].font = Font(bold=True)
    wb.save(path)


def test_a_bureau_form_reads_by_its_headers(tmp_path: Path) -> None:
    path = tmp_path / "棠溪镇委托业务.xlsx"
    bureau_form(path)
    before = sha256_file(path)
    loaded = load_any(path)
    assert isinstance(loaded, ProjectLoaded) and loaded.framework.id == "national-project"
    ev = loaded.evaluation
    assert (ev.project.name, ev.project.unit, ev.project.year) == ("委托业务", "棠溪镇财政所", 2022)
    assert [r.level1 for r in ev.rows] == ["产出指标(50分)"] * 6 + ["效益指标(30分)"] * 3  # carried down
    assert ev.rows[2].level2 == "质量指标" and ev.rows[5].level2 == "成本指标"
    result = assess(loaded)
    levels = {lv.id: lv.score for lv in result.levels}
    assert levels["output"] == 50 and levels["benefit"] == 30
    assert result.budget.rate == 100 and result.budget.score == 10 and result.total == 90
    j03 = next(f for f in result.findings if f.code == "J03")
    assert (j03.sheet, j03.cell) == ("Sheet1", "D6")  # the empty total row's 全年预算数
    # the typed 执行率 0 and 得分 0 of that row are flagged with the computed 100 % and 10
    assert {f.cell for f in result.findings if f.code == "J04"} == {"G6", "H6"}
    # the typed total 90 agrees: no J30
    assert "J30" not in {f.code for f in result.findings}
    out = tmp_path / "scored.xlsx"
    assert cli("run", str(path), "-o", str(out)).exit_code == 1  # type: ignore[attr-defined]
    assert sha256_file(path) == before  # the input is never written to
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == list(P.OUTPUT_SHEETS) and "Sheet1" in wb.sheetnames
    assert wb["Sheet1"]["H6"].value == 10  # the 执行率 score written back
    assert wb["Sheet1"]["D6"].comment is not None and "J03" in wb["Sheet1"]["D6"].comment.text


def test_what_cannot_be_found_is_said_with_sheet_and_cell(tmp_path: Path) -> None:
    path = tmp_path / "缺列.xlsx"
    bureau_form(path, actual_header="完成情况说明")
    result = cli("check", str(path))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    # no row holds 三级指标, 年度指标值 and 实际完成值: the sheet is named and the headers to add
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目表"
    ws.append(["三级指标", "年度指标值", "实际完成值", "得分"])  # no 分值
    ws.append(["数量", "≥1", "1", 1])
    other = tmp_path / "无分值.xlsx"
    wb.save(other)
    loaded = load_any(other)
    assert isinstance(loaded, ProjectLoaded)
    r01 = [f for f in assess(loaded).findings if f.code == "R01"]
    messages = " ".join(f.message for f in r01)
    assert "“分值”" in messages and "项目资金表" in messages and "项目名称" in messages
    assert all(f.sheet == "项目表" for f in r01)


# ------------------------------------------------------------------ run, check, report, JSON


def test_run_check_report_on_the_template(tmp_path: Path) -> None:
    path = filled(tmp_path)
    out, card, docx = tmp_path / "out.xlsx", tmp_path / "card.json", tmp_path / "r.docx"
    result = cli("run", str(path), "-o", str(out), "--json", str(card), "--docx", str(docx))
    assert result.exit_code == 1  # J03, J04, J20: the 安徽 table's own gaps  # type: ignore[attr-defined]
    assert "90.00（优）" in result.output  # type: ignore[attr-defined]
    data = json.loads(card.read_text("utf-8"))
    assert data["form"] == "project" and data["total"] == 90 and data["rating"] == "优"
    assert data["budget"]["rate"] == 100 and data["sections"]["output"] == 50
    assert {f["code"] for f in data["findings"]} >= {"J03", "J04", "J20"}
    wb = openpyxl.load_workbook(out)
    summary = [c.value for row in wb[P.SCORES].iter_rows() for c in row if c.value is not None]
    assert "项目支出绩效自评 · 评分结果" in summary and Decimal(str(summary[summary.index("总分") + 1])) == 90
    report = [c.value for row in wb[P.REPORT].iter_rows() for c in row if c.value]
    assert report[0] == "项目支出绩效自评报告" and "三、偏差原因分析" in report
    import docx as python_docx

    paragraphs = [p.text for p in python_docx.Document(str(docx)).paragraphs]
    for heading in ("一、项目基本情况", "二、绩效目标实现情况", "三、偏差原因分析", "四、存在问题及改进措施"):
        assert heading in paragraphs
    assert any("自评得分90分" in p for p in paragraphs)
    check = cli("check", str(path))
    assert check.exit_code == 1 and "J03" in check.output  # type: ignore[attr-defined]
    rep = cli("report", str(path), "-o", str(tmp_path / "only.docx"))
    assert rep.exit_code == 1 and "总分 90.00，优" in rep.output  # type: ignore[attr-defined]
    # scoring the scored copy again: the written-back scores now agree (no J04), the sheets are replaced
    again = tmp_path / "again.xlsx"
    cli("run", str(out), "-o", str(again))
    wb2 = openpyxl.load_workbook(again)
    assert wb2.sheetnames.count(P.SCORES) == 1
    loaded = load_any(out)
    codes = {f.code for f in assess(loaded).findings}
    assert "J04" not in codes and "J03" in codes


def test_project_json_input(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    path.write_text(anhui().model_dump_json(), encoding="utf-8")
    out = tmp_path / "from-json.xlsx"
    result = cli("run", str(path), "-o", str(out))
    assert result.exit_code == 1 and "90.00（优）" in result.output  # type: ignore[attr-defined]
    wb = openpyxl.load_workbook(out)
    assert P.FORM_SHEET in wb.sheetnames
    # the JSON's findings are located on the standard form's cells
    findings = [[c.value for c in row] for row in wb[P.FINDINGS].iter_rows(min_row=4)]
    assert any(row[2] == "J03" and row[3] == P.FORM_SHEET for row in findings)


def test_department_workbooks_still_score_as_before(tmp_path: Path) -> None:
    out = tmp_path / "dept.xlsx"
    assert cli("new", "-o", str(out)).exit_code == 0  # type: ignore[attr-defined]
    _, book = read_package(out, Limits())
    assert not is_project_book(book)
    assert not isinstance(load_any(out), ProjectLoaded)


@pytest.mark.slow
def test_scored_copy_through_libreoffice(tmp_path: Path) -> None:
    path = filled(tmp_path)
    out = tmp_path / "scored.xlsx"
    cli("run", str(path), "-o", str(out))
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
    again = convert(out, "xlsx", tmp_path / "lo", tmp_path / "profile")
    sheets = calamine_sheets(again)
    assert list(sheets)[:3] == list(P.OUTPUT_SHEETS)
    assert not error_cells(sheets)
    form = sheets[P.FORM_SHEET]
    flat = [v for row in form for v in row]
    assert "年度资金总额" in flat
    # LibreOffice keeps the scores xlperf wrote: 执行率 score 10 and 得分合计 90
    total_row = next(row for row in form if row and row[0] == "总分")
    assert 90 in total_row
    # and computes the live 执行率 of 本年财政拨款: 89.974 / 89.974
    current = next(row for row in form if "其中：当年财政拨款" in row)
    assert 1.0 in current


def test_a_two_row_header_and_fractions_typed_for_percents(tmp_path: Path) -> None:
    """绩效指标 over 一级/二级/三级 in a second header row, 年度指标值 … merged over both rows; an
    actual 0.98 typed in a General cell against a target of ≥95% is 98 % (with a P02), not 0.98 %."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws.append(["项目名称", "道路养护"])
    ws.append(["主管部门", "交通局", "实施单位", "公路站"])
    ws.append(["年度", 2024])
    ws.append(["", "年初预算数", "全年预算数", "全年执行数"])
    ws.append(["年度资金总额", 50, 50, 50])
    ws.append(["绩效指标", None, None, "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"])
    ws.append(["一级指标", "二级指标", "三级指标", None, None, None, None, None])
    for c in (4, 5, 6, 7, 8):
        ws.merge_cells(start_row=6, start_column=c, end_row=7, end_column=c)
    ws.merge_cells(start_row=6, start_column=1, end_row=6, end_column=3)
    ws.append(["产出指标", "质量指标", "养护合格率", "≥95%", 0.98, 50, None, None])
    ws.append(["效益指标", "社会效益指标", "通行时间缩短", "≥10%", "12%", 30, None, None])
    ws.append(["满意度指标", "服务对象满意度指标", "满意度", "≥90%", "95%", 10, None, None])
    path = tmp_path / "两行表头.xlsx"
    wb.save(path)
    loaded = load_any(path)
    assert isinstance(loaded, ProjectLoaded)
    assert [r.name for r in loaded.evaluation.rows] == ["养护合格率", "通行时间缩短", "满意度"]
    result = assess(loaded)
    assert result.rows[0].actual == 98 and result.rows[0].score == 50
    assert any(f.code == "P02" and f.cell == "E8" for f in result.findings)
    assert result.total == 100 and not result.has_errors
