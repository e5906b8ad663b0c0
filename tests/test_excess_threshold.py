"""The V13 threshold is framework data: a framework with 120 % says 120 % in every text it shapes.

The 产出指标/效益指标 column header, its cell note, the V13 message and the 自评报告 line are all
rendered from ``completion.excess_threshold``; the reader finds the column whatever threshold its
header names, so a workbook made for another framework still reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from xlperf.cli import main
from xlperf.core import evaluate
from xlperf.core.framework import Framework, get_framework, parse_framework
from xlperf.examples import example_evaluation
from xlperf.workbook import layout as L
from xlperf.workbook.reader import read_workbook
from xlperf.workbook.template import build_workbook, save_workbook

GUANGZHOU = (ROOT / "xlperf/frameworks/guangzhou-2023.toml").read_text(encoding="utf-8")


def _toml_120() -> str:
    assert "excess_threshold = 150" in GUANGZHOU
    return GUANGZHOU.replace("excess_threshold = 150", "excess_threshold = 120").replace(
        'id = "guangzhou-2023"', 'id = "test-120"'
    )


@pytest.fixture(scope="module")
def fw120() -> Framework:
    return parse_framework(_toml_120(), "test-120")


def _header_row(path: Path, sheet: str) -> dict[str, str]:
    """Header text → the cell's note, for the header row of ``sheet``'s table."""
    from openpyxl import load_workbook

    ws = load_workbook(path)[sheet]
    table = next(iter(ws.tables.values()))
    first = ws[table.ref.split(":")[0]].row
    return {str(c.value): (c.comment.text if c.comment else "") for c in ws[first] if c.value is not None}


def test_the_template_for_a_120_framework_writes_120_in_the_header_and_its_note(
    tmp_path: Path, fw120: Framework
) -> None:
    path = save_workbook(build_workbook(fw120), tmp_path / "blank.xlsx")
    for sheet in (L.OUTPUTS, L.BENEFITS):
        headers = _header_row(path, sheet)
        assert "完成率在120%以上的原因" in headers, sheet
        assert "完成率在120%以上时必填" in headers["完成率在120%以上的原因"]
        assert not any("150" in text or "150" in note for text, note in headers.items()), headers


def test_the_bundled_template_still_says_150(tmp_path: Path) -> None:
    path = save_workbook(build_workbook(get_framework("guangzhou-2023")), tmp_path / "blank.xlsx")
    assert "完成率在150%以上的原因" in _header_row(path, L.OUTPUTS)


def test_the_reader_reads_the_120_header_back(tmp_path: Path, fw120: Framework) -> None:
    ev = example_evaluation()
    path = save_workbook(build_workbook(fw120, ev), tmp_path / "120.xlsx")
    read, findings, _ = read_workbook(path)
    assert not [f for f in findings if f.code == "R01"], findings  # no "缺少列"
    assert [r.excess_reason for r in read.benefits] == [r.excess_reason for r in ev.benefits]
    assert any(r.excess_reason for r in read.benefits)  # the seed gives one reason: it came through


def test_the_reader_names_the_framework_header_when_the_column_is_missing(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = save_workbook(build_workbook(get_framework("guangzhou-2023")), tmp_path / "renamed.xlsx")
    wb = load_workbook(path)
    for row in wb[L.OUTPUTS].iter_rows():
        for cell in row:
            if cell.value == "完成率在150%以上的原因":
                cell.value = "超额原因"
    wb.save(path)
    _, findings, _ = read_workbook(path)
    assert any(f.code == "R01" and "完成率在150%以上的原因" in f.message for f in findings), findings


@pytest.mark.parametrize(
    "text", ["完成率在120%以上的原因", "完成率在 １３７.５％ 以上的原因", "完成率在150%以上的原因"]
)
def test_any_threshold_names_the_v13_column(text: str) -> None:
    column = L.OUTPUTS_TABLE.column_named(text)
    assert column is not None and column.attr == "excess_reason"
    assert L.OUTPUTS_TABLE.column_named("完成率在%以上的原因") is None


def test_the_v13_message_and_the_report_use_the_framework_threshold(fw120: Framework) -> None:
    ev = example_evaluation()
    at_150 = evaluate(ev)
    at_120 = evaluate(ev, fw120)
    v13_150 = [f for f in at_150.findings if f.code == "V13"]
    v13_120 = [f for f in at_120.findings if f.code == "V13"]
    assert len(v13_120) > len(v13_150) > 0  # rows between 120 % and 150 % now need a reason too
    for f in v13_120:
        assert "在 120% 以上" in f.message and "“完成率在120%以上的原因”" in f.message, f.message
        assert "150" not in f.message.split("完成率")[-1], f.message
    text_120 = at_120.report.text()
    assert "完成率在120%以上的原因：" in text_120 and "完成率在150%以上的原因" not in text_120
    # one line per excess row that gives its reason; a blank reason is its V13 finding, not a line
    assert text_120.count("完成率在120%以上的原因：") == sum(
        1 for r in (*ev.outputs, *ev.benefits) if r.excess_reason
    )
    assert "完成率在150%以上的原因：" in at_150.report.text()


def test_the_command_line_with_a_120_framework_file(tmp_path: Path) -> None:
    toml = tmp_path / "fw120.toml"
    toml.write_text(_toml_120(), encoding="utf-8")
    blank = tmp_path / "blank.xlsx"
    made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", str(toml)])
    assert made.exit_code == 0, made.output
    assert "完成率在120%以上的原因" in _header_row(blank, L.BENEFITS)
    example = tmp_path / "ex.xlsx"
    assert CliRunner().invoke(main, ["example", "-o", str(example)]).exit_code == 0
    checked = CliRunner().invoke(main, ["check", str(example), "--framework", str(toml)], terminal_width=200)
    assert checked.exit_code == 1
    assert "完成率在120%以上的原因" in checked.output and "150%" not in checked.output, checked.output
