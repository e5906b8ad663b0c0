"""One input changes → the indicator table, 评分汇总 and 自评报告 all change together (docs/DOMAIN.md V42)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from office import calamine_sheets, convert

from xlperf.cli import main
from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import get_framework
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook


def _run(ev: Evaluation, folder: Path) -> Path:
    folder.mkdir()
    src = save_workbook(build_workbook(get_framework(), ev), folder / "in.xlsx")
    out = folder / "out.xlsx"
    CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    return out


def _summary_value(wb: openpyxl.Workbook, label: str) -> object:
    ws = wb[L.SCORES]
    for row in ws.iter_rows(values_only=True):
        if label in row:
            return row[4]
    raise AssertionError(label)


@pytest.mark.slow
def test_one_actual_value_moves_table_summary_and_report_together(tmp_path: Path, seed: Evaluation) -> None:
    before = openpyxl.load_workbook(_run(seed, tmp_path / "a"))
    # 效益 ② 工业投资: 102.59 → 110 (target 110). docs/DOMAIN.md §2: its 0.22 deduction is the only one in
    # 效益, so 效益 becomes 20.00 and the total 98.57 + 0.22 = 98.79.
    seed.benefits[1].actual_value = Decimal(110)
    seed.benefits[1].actual_text = "110亿元"
    after_path = _run(seed, tmp_path / "b")
    after = openpyxl.load_workbook(after_path)

    assert _summary_value(before, "部门整体绩效目标效益指标完成情况") == 19.78
    assert _summary_value(after, "部门整体绩效目标效益指标完成情况") == 20
    assert before[L.SCORES]["B4"].value == 98.57 and after[L.SCORES]["B4"].value == 98.79

    report_before = "\n".join(str(r[0]) for r in before[L.REPORT].iter_rows(values_only=True) if r[0])
    report_after = "\n".join(str(r[0]) for r in after[L.REPORT].iter_rows(values_only=True) if r[0])
    assert "98.57" in report_before and "19.78" in report_before
    assert "98.79" in report_after and "自评得分20分" in report_after
    assert "98.57" not in report_after and "19.78" not in report_after
    analysis = report_after.split("二、绩效自评情况")[1].split("三、存在的主要问题")[0]
    assert "102.59" not in analysis  # the clerk's own problem text (三) may still quote the old figure

    # the table: LibreOffice recalculates the live completion formula of that row to 100 %
    converted = convert(after_path, "xlsx", tmp_path / "lo", tmp_path / "profile")
    rows = calamine_sheets(converted)[L.BENEFITS]
    row = next(r for r in rows if len(r) > 1 and r[1] == "工业投资")
    assert row[13] == 1
