"""The standard workbook: template, reader, writer, and a second real reader (LibreOffice, calamine)."""

from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT, SEED_RATING, SEED_RATIOS, SEED_SECTIONS, SEED_TOTAL
from office import calamine_sheets, convert, error_cells

from xlperf.cli import main
from xlperf.core import evaluate
from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import FrameworkError, get_framework
from xlperf.files import sha256_file
from xlperf.pipeline import assess, load_input
from xlperf.workbook import layout as L
from xlperf.workbook.reader import read_workbook
from xlperf.workbook.template import (
    BLANK_NAME,
    EXAMPLE_NAME,
    build_committed_templates,
    build_workbook,
    save_workbook,
)

FW = get_framework()


def fingerprint(path: Path) -> dict[str, Any]:
    """Everything a clerk or the reader could notice: values, types, formats, names, tables,
    validations, merges, protection, print setup."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {
        "names": sorted((n, d.attr_text) for n, d in wb.defined_names.items()),
        "sheets": {},
    }
    for ws in wb.worksheets:
        cells = [
            (c.coordinate, c.value, c.data_type, c.number_format, c.protection.locked, c.fill.fgColor.rgb)
            for row in ws.iter_rows()
            for c in row
            if c.value is not None or c.fill.fill_type
        ]
        out["sheets"][ws.title] = {
            "state": ws.sheet_state,
            "cells": cells,
            "tables": sorted((t.name, t.ref) for t in ws.tables.values()),
            "validations": sorted((dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation),
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "protected": ws.protection.sheet,
            "paper": (ws.page_setup.paperSize, ws.page_setup.orientation, ws.page_setup.fitToWidth),
            "titles": ws.print_title_rows,
            "freeze": ws.freeze_panes,
        }
    return out


def test_committed_templates_are_what_the_builder_makes(tmp_path: Path) -> None:
    fresh = build_committed_templates(tmp_path)
    committed = [ROOT / "workbook_templates" / BLANK_NAME, ROOT / "workbook_templates" / EXAMPLE_NAME]
    for new, old in zip(fresh, committed, strict=True):
        assert fingerprint(new) == fingerprint(old), f"{old} is stale: run python -m xlperf.workbook.template"


def test_template_has_the_designed_sheets_names_and_tables(tmp_path: Path) -> None:
    path = save_workbook(build_workbook(FW), tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [*L.INPUT_SHEETS, L.HIDDEN]
    assert wb[L.HIDDEN].sheet_state == "veryHidden"
    for f in L.all_fields():
        assert f.name in wb.defined_names, f.name
    tables = {t for ws in wb.worksheets for t in ws.tables}
    assert tables == {t.table for t in L.TABLES}
    # dropdowns fed from named ranges on the hidden sheet
    formulas = {dv.formula1 for ws in wb.worksheets for dv in ws.data_validations.dataValidation}
    assert {"=xp_list_kind", "=xp_list_direction", "=xp_list_grade", "=xp_list_answer"} <= formulas
    ws = wb[L.OUTPUTS]
    assert int(ws.page_setup.paperSize) == 9 and int(ws.page_setup.fitToWidth) == 1  # A4, fit to width
    assert ws.print_title_rows is not None
    # inputs unlocked and tinted; the completion formula locked
    assert ws["B5"].protection.locked is False and ws["B5"].fill.fgColor.rgb.endswith(L.INPUT_FILL)
    assert ws["N5"].protection.locked is True and str(ws["N5"].value).startswith("=IFERROR(")
    assert wb[L.BASIC].protection.sheet and wb[L.MANAGEMENT].protection.sheet


def test_openpyxl_load_save_keeps_the_structure(tmp_path: Path) -> None:
    path = save_workbook(
        build_workbook(FW, Evaluation.load(ROOT / "xlperf/data/example_baiyun_2023.json")),
        tmp_path / "a.xlsx",
    )
    again = tmp_path / "b.xlsx"
    openpyxl.load_workbook(path).save(again)
    assert fingerprint(path) == fingerprint(again)


def test_example_and_run_json_give_the_domain_figures(tmp_path: Path) -> None:
    runner = CliRunner()
    x, s = tmp_path / "x.xlsx", tmp_path / "s.json"
    assert runner.invoke(main, ["example", "-o", str(x)]).exit_code == 0
    before = sha256_file(x)
    result = runner.invoke(main, ["run", str(x), "--json", str(s)])
    card = json.loads(s.read_text(encoding="utf-8"))
    assert card["schema"] == "xlperf.scorecard/1"
    assert card["sections"] == SEED_SECTIONS
    assert card["total"] == SEED_TOTAL and card["rating"] == SEED_RATING
    assert card["ratios"] == SEED_RATIOS
    assert card["sha256"] == before == sha256_file(x)  # the input is never written
    has_errors = any(f["severity"] == "error" for f in card["findings"])
    assert result.exit_code == (1 if has_errors else 0)
    assert (tmp_path / "x.scored.xlsx").exists()
    # every finding points at a sheet and a cell whose header names the field at fault
    wb = openpyxl.load_workbook(tmp_path / "x.scored.xlsx")
    for f in card["findings"]:
        assert f["sheet"] and f["cell"], f
    v12 = next(f for f in card["findings"] if f["code"] == "V12")
    col = "".join(ch for ch in v12["cell"] if ch.isalpha())
    assert wb[v12["sheet"]][f"{col}4"].value == "未达标原因"


def test_clean_workbook_exits_zero(tmp_path: Path, seed: Evaluation) -> None:
    seed.outputs[21].shortfall_reason = "涉及多个部门，协调周期较长"
    for i in (7, 16, 20):
        seed.outputs[i].excess_reason = "年初目标设置偏保守"
    path = save_workbook(build_workbook(FW, seed), tmp_path / "clean.xlsx")
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["check", str(path)]).exit_code == 0


def test_json_input_is_supported(tmp_path: Path) -> None:
    out = tmp_path / "j.xlsx"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(ROOT / "xlperf/data/example_baiyun_2023.json"),
            "-o",
            str(out),
            "--json",
            str(tmp_path / "j.json"),
        ],
    )
    assert result.exit_code == 1  # the seed's own gaps (V12, V13) are errors
    card = json.loads((tmp_path / "j.json").read_text(encoding="utf-8"))
    assert card["total"] == SEED_TOTAL
    assert openpyxl.load_workbook(out)[L.SCORES]["B4"].value == pytest.approx(SEED_TOTAL)


def _example(tmp_path: Path) -> Path:
    return save_workbook(
        build_workbook(FW, Evaluation.load(ROOT / "xlperf/data/example_baiyun_2023.json")),
        tmp_path / "ex.xlsx",
    )


def _score(path: Path) -> tuple[Any, ...]:
    loaded = load_input(path)
    r = assess(loaded)
    return (r.total, tuple(sorted(r.section_scores().items())), r.rating)


def test_inserted_reordered_blank_rows_and_text_numbers_change_no_score(tmp_path: Path) -> None:
    path = _example(tmp_path)
    baseline = _score(path)
    wb = openpyxl.load_workbook(path)
    for spec in (L.OUTPUTS_TABLE, L.BENEFITS_TABLE, L.TASKS_TABLE, L.PROBLEMS_TABLE):
        ws = wb[spec.title]
        table = ws.tables[spec.table]
        # reverse the data rows (reorder), then append two blank rows inside the table (insert + blank)
        first, last = 5, ws.max_row
        col_from = openpyxl.utils.cell.range_boundaries(table.ref)[0]
        col_to = openpyxl.utils.cell.range_boundaries(table.ref)[2]
        rows = [
            [ws.cell(row=r, column=c).value for c in range(col_from, col_to + 1)]
            for r in range(first, last + 1)
        ]
        data = [r for r in rows if any(v not in (None, "") and not str(v).startswith("=") for v in r)]
        blank = [[None] * len(rows[0]) for _ in range(len(rows) - len(data) + 3)]
        new_rows = [blank[0], *reversed(data), *blank[1:]]
        for i, values in enumerate(new_rows):
            for j, v in enumerate(values):
                ws.cell(row=first + i, column=col_from + j).value = v  # cell(value=None) would not clear
        end = first + len(new_rows) - 1
        table.ref = (
            f"{openpyxl.utils.get_column_letter(col_from)}4:{openpyxl.utils.get_column_letter(col_to)}{end}"
        )
    # numbers typed as text with units, full-width digits and thousands separators
    ws = wb[L.OUTPUTS]
    for r in range(5, ws.max_row + 1):
        name = ws.cell(row=r, column=2).value
        if name == "数字新基建":
            ws.cell(row=r, column=5).value = "１７００个"
            ws.cell(row=r, column=11).value = "1,957个"
        if name == "采集、分析制造业企业数据":
            ws.cell(row=r, column=5).value = "不少于180家"
    wb[L.BUDGET]["B5"].value = "79,776.38"
    changed = tmp_path / "changed.xlsx"
    wb.save(changed)
    assert _score(changed) == baseline
    ev, findings, _ = read_workbook(changed)
    assert not [f for f in findings if f.is_error], findings
    assert ev.outputs[0].name == "完成市下达的扶贫协作资金拨付任务"  # really reordered


def test_missing_sheet_name_and_table_are_findings_not_tracebacks(tmp_path: Path) -> None:
    """A deleted sheet is an error on that sheet; a lost defined name is read by its label and a lost
    Excel table by its header row (issue 25), each with a 提醒 that says where; nothing without 位置."""
    path = _example(tmp_path)
    seed, _, _ = read_workbook(path)
    wb = openpyxl.load_workbook(path)
    del wb[L.SPENDING]
    del wb.defined_names["xp_executed"]
    del wb[L.BENEFITS].tables["tbl_benefits"]
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    ev, findings, _ = read_workbook(broken)
    errors = " ".join(f.message for f in findings if f.code == "R01")
    notes = {f.message: f for f in findings if f.code == "R02"}
    assert "工作簿缺少工作表“支出进度”" in errors
    [label] = [f for m, f in notes.items() if "xp_executed" in m]
    assert "按标签“全年实际执行数”" in label.message and (label.sheet, label.cell) == (L.BUDGET, "B8")
    [table] = [f for m, f in notes.items() if "tbl_benefits" in m]
    assert "按表头在“效益指标”第 4 行" in table.message and (table.sheet, table.cell) == (L.BENEFITS, "A4")
    assert ev.budget.executed == seed.budget.executed and ev.benefits == seed.benefits
    assert all(f.sheet for f in findings if f.code[0] == "R"), findings
    result = CliRunner().invoke(main, ["check", str(broken)])
    assert result.exit_code == 1 and "Traceback" not in result.output


@pytest.mark.slow
def test_libreoffice_recalculates_the_scored_workbook_without_error_values(tmp_path: Path) -> None:
    src = _example(tmp_path)
    out = tmp_path / "scored.xlsx"
    assert CliRunner().invoke(main, ["run", str(src), "-o", str(out)]).exit_code == 1
    converted = convert(out, "xlsx", tmp_path / "lo", tmp_path / "profile")
    sheets = calamine_sheets(converted)
    assert error_cells(sheets) == []
    assert set(L.OUTPUT_SHEETS) <= set(sheets)
    # LibreOffice computed the live completion-rate formulas: 产出 ③ is 1 / 2
    outputs = sheets[L.OUTPUTS]
    row3 = next(r for r in outputs if r and r[1] == "出台科技创新政策")
    assert row3[13] == pytest.approx(0.5)
    # the second reader (calamine) sees the same total as openpyxl
    total_openpyxl = openpyxl.load_workbook(out)[L.SCORES]["B4"].value
    total_calamine = calamine_sheets(out)[L.SCORES][3][1]
    assert total_openpyxl == pytest.approx(SEED_TOTAL) and total_calamine == pytest.approx(SEED_TOTAL)


def test_scored_workbook_keeps_every_input_value(tmp_path: Path) -> None:
    src = _example(tmp_path)
    out = tmp_path / "scored.xlsx"
    CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    a, b = openpyxl.load_workbook(src), openpyxl.load_workbook(out)
    for title in L.INPUT_SHEETS:
        va = [[c.value for c in row] for row in a[title].iter_rows()]
        vb = [[c.value for c in row] for row in b[title].iter_rows()]
        assert va == vb, title
    # flagged input cells carry a comment; running again on the scored file does not pile them up
    again = tmp_path / "again.xlsx"
    CliRunner().invoke(main, ["run", str(out), "-o", str(again)])
    ws = openpyxl.load_workbook(again)[L.OUTPUTS]
    comments = [
        c.comment.text
        for row in ws.iter_rows()
        for c in row
        if c.comment and c.comment.author == "xlperf校验"
    ]
    assert len(comments) == 6  # V12 ×1, V13 ×3, V16 ×2 on this sheet
    with zipfile.ZipFile(again) as zf:
        assert not any("vbaProject" in n for n in zf.namelist())


def test_core_result_equals_headless_result(tmp_path: Path, seed: Evaluation) -> None:
    """The same inputs give the same result whichever adapter fed the core."""
    via_json = evaluate(seed)
    via_workbook = assess(load_input(_example(tmp_path)))
    assert via_json.total == via_workbook.total == Decimal("98.57")
    assert via_json.section_scores() == via_workbook.section_scores()
    assert [f.code for f in via_json.findings] == [f.code for f in via_workbook.findings]


def test_summary_sheet_prints_numbers_as_numbers(tmp_path: Path) -> None:
    """评分汇总 is printed and signed: completion rates are numbers shown as percents, weights are not."""
    out = tmp_path / "scored.xlsx"
    CliRunner().invoke(main, ["run", str(_example(tmp_path)), "-o", str(out)])
    ws = openpyxl.load_workbook(out)[L.SCORES]
    rows = list(ws.iter_rows())
    header = next(i for i, r in enumerate(rows) if r[0].value == "序号" and r[1].value == "指标名称")
    first = rows[header + 1]
    completion, weight = first[4], first[5]
    assert isinstance(completion.value, int | float) and completion.number_format == "0.00%"
    assert isinstance(weight.value, int | float) and "%" not in weight.number_format
    assert weight.value == pytest.approx(0.87)  # 20 / 23 rounded, docs/DOMAIN.md §1.1
    assert rows[0][0].alignment.wrap_text is not True  # the title runs across the page


def test_workbook_cannot_point_xlperf_at_a_framework_file(tmp_path: Path) -> None:
    path = _example(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb[L.HIDDEN]["H2"].value = "/etc/passwd.toml"
    assert wb.defined_names["xp_framework"].attr_text.endswith("$H$2")
    wb.save(path)
    # the embedded rules score it; the edited id is a finding, and no file is opened
    ev, findings, _ = read_workbook(path)
    assert ev.framework == "guangzhou-2023"
    assert any(f.code == "F02" and "/etc/passwd.toml" in f.message for f in findings)
    # a workbook without embedded rules (made before they were embedded) that names a path is refused
    for name in L.DEF_NAMES:
        wb.defined_names.pop(name, None)
    wb.save(path)
    with pytest.raises(FrameworkError, match="--framework"):
        read_workbook(path)


def test_scored_workbook_opens_on_the_summary_and_every_sheet_is_set_up_to_print(tmp_path: Path) -> None:
    out = tmp_path / "scored.xlsx"
    CliRunner().invoke(main, ["run", str(_example(tmp_path)), "-o", str(out)])
    wb = openpyxl.load_workbook(out)
    assert (
        wb.sheetnames[:3] == list(L.OUTPUT_SHEETS) and wb.active is not None and wb.active.title == L.SCORES
    )
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [L.SCORES]
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        assert int(ws.page_setup.paperSize) == 9, ws.title
        assert ws.oddHeader.center.text.startswith("广州市白云区科技工业商务和信息化局"), ws.title
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页", ws.title
        # every cell that wraps more text than one line of its column has a row tall enough for it
        for row in ws.iter_rows():
            for cell in row:
                if (
                    isinstance(cell.value, str)
                    and cell.data_type != "f"
                    and cell.alignment.wrap_text
                    and len(cell.value) > 120
                ):
                    height = ws.row_dimensions[cell.row].height
                    assert height is not None and height > 30, (ws.title, cell.coordinate)
    summary = {row[0]: row for row in wb[L.SCORES].iter_rows(values_only=True) if row and row[0]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", summary["计分时间"][2])  # local time, to the minute
    assert re.fullmatch(r"[0-9a-f]{64}", summary["输入文件 SHA-256"][2])
    assert summary["总分"][:4] == ("总分", pytest.approx(SEED_TOTAL), "评价等级", SEED_RATING)
    assert summary["错误"][:4] == ("错误", "4 条", "提醒", "3 条")
