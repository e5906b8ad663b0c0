"""The 报送 copy's notes say what is true of a frozen form (issue 27, both forms).

The freeze (xlperf/submission/freeze.py) drops the pale-yellow input tint and every formula, so the
template's notes "黄色单元格由填表人填写" (the project form's, beside 年度), "浅黄色单元格为填写区" (the
department's 基本信息) and "预算执行率由公式计算" (收支情况, and its field's hint) would be untrue in
what the bureau receives. The frozen copy says instead that it is the 报送版 with fixed values, keeps
金额单位, and — where the sheet has marked cells — what red and yellow mean. The packages are made
by the real ``export_package`` (what 导出报送包 and ``xlperf submit`` call) and read back by openpyxl and
python-calamine. A bureau's own form keeps its own notes (only xlperf's exact texts are replaced).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from office import calamine_sheets
from test_project_core import anhui
from test_project_submit import DEP, project_wb

from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.project import layout as P
from xlperf.submission.package import export_package
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

FROZEN_PROJECT_NOTE = "金额单位：万元；本表为报送版，数值已固定；灰色为 xlperf 计算"
#: what the template's notes say that a frozen copy must not
UNTRUE = ("黄色单元格由填表人填写", "浅黄色单元格为填写区", "由公式计算")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))


def texts(path: Path) -> dict[str, list[str]]:
    """Every text of every sheet, as openpyxl and as calamine read it (sheet → texts)."""
    wb = openpyxl.load_workbook(path)
    by_openpyxl = {
        ws.title: [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
        for ws in wb.worksheets
    }
    by_calamine = {
        name: [v for r in rows for v in r if isinstance(v, str) and v]
        for name, rows in calamine_sheets(path).items()
    }
    assert {k: sorted(v) for k, v in by_openpyxl.items() if k in by_calamine} == {
        k: sorted(v) for k, v in by_calamine.items()
    }
    return by_openpyxl


def note_cell(path: Path, sheet: str, start: str) -> Any:
    """The cell of the sheet whose text starts with ``start``."""
    ws = openpyxl.load_workbook(path)[sheet]
    [cell] = [c for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.value.startswith(start)]
    return cell


def fills(path: Path, sheet: str) -> set[str]:
    ws = openpyxl.load_workbook(path)[sheet]
    return {
        str(c.fill.fgColor.rgb)[-6:].upper() for r in ws.iter_rows() for c in r if c.fill.fill_type == "solid"
    }


# ------------------------------------------------------------------ the project form


def test_the_frozen_project_form_says_it_is_the_submitted_version(tmp_path: Path) -> None:
    from test_project_submit import chongqing

    path = project_wb(tmp_path / "wb", chongqing())
    template_note = note_cell(path, P.FORM_SHEET, "金额单位")
    assert template_note.value == P.FORM_NOTE  # the control: the form to fill says it (D4)
    package = export_package(path)
    frozen = note_cell(package.workbook, P.FORM_SHEET, "金额单位")
    assert frozen.coordinate == template_note.coordinate
    assert frozen.value == FROZEN_PROJECT_NOTE  # nothing marked on this form: no colours named
    assert not {L.ERROR_FILL, L.WARNING_FILL, L.INPUT_FILL} & fills(package.workbook, P.FORM_SHEET)
    everything = " ".join(t for ts in texts(package.workbook).values() for t in ts)
    assert FROZEN_PROJECT_NOTE in everything
    assert not any(words in everything for words in UNTRUE)
    assert openpyxl.load_workbook(path)[P.FORM_SHEET][frozen.coordinate].value == P.FORM_NOTE  # input kept


def test_a_forced_project_forms_note_says_what_its_marks_mean(tmp_path: Path) -> None:
    """The 安徽 table (errors: J03 …) with a negative 实际完成值 (J16, a 提醒): both marks on the form,
    and the note names both colours."""
    ev = anhui()
    ev.project.department = DEP
    ev.rows[0].actual = "-5"
    package = export_package(project_wb(tmp_path / "wb", ev, "委托业务.xlsx"), force=True, reason="待确认")
    assert {L.ERROR_FILL, L.WARNING_FILL} <= fills(package.workbook, P.FORM_SHEET)  # the marks stayed
    note = note_cell(package.workbook, P.FORM_SHEET, "金额单位").value
    assert note == f"{FROZEN_PROJECT_NOTE}，红色为错误，黄色为提醒"
    assert note in texts(package.workbook)[P.FORM_SHEET]


def test_a_bureaus_own_note_is_kept(tmp_path: Path) -> None:
    """Only xlperf's own texts are replaced: a form whose note is the bureau's keeps it."""
    from test_project_submit import chongqing

    path = project_wb(tmp_path / "wb", chongqing())
    wb = openpyxl.load_workbook(path)
    cell = note_cell(path, P.FORM_SHEET, "金额单位")
    own = "金额单位：万元；黄色为必填项（本局表式）"
    wb[P.FORM_SHEET][cell.coordinate].value = own
    wb.save(path)
    package = export_package(path)
    assert note_cell(package.workbook, P.FORM_SHEET, "金额单位").value == own


# ------------------------------------------------------------------ the department form


def department_package(tmp_path: Path, ev: Evaluation) -> Path:
    src = save_workbook(build_workbook(get_framework(), ev), tmp_path / "wb" / "部门.xlsx")
    return export_package(src, force=True, reason="示例").workbook


def test_the_frozen_department_notes_say_it_is_the_submitted_version(tmp_path: Path) -> None:
    (tmp_path / "wb").mkdir()
    frozen = department_package(tmp_path, example_evaluation())
    found = texts(frozen)
    assert found[L.BASIC][0:2] == [L.BASIC, "部门的基本情况。本表为报送版，数值已固定。"]
    assert (
        "金额单位为万元，保留两位小数。本表为报送版，数值已固定，预算执行率由 xlperf 计算。"
        in found[L.BUDGET]
    )
    assert "由 xlperf 计算" in found[L.BUDGET]  # the 预算执行率's hint
    everything = " ".join(t for ts in found.values() for t in ts)
    assert not any(words in everything for words in UNTRUE)


def test_a_marked_department_sheet_names_its_colours(tmp_path: Path) -> None:
    (tmp_path / "wb").mkdir()
    ev = example_evaluation()
    ev.department.name = ""  # an error on 基本信息's 部门全称
    frozen = department_package(tmp_path, ev)
    assert L.ERROR_FILL in fills(frozen, L.BASIC)
    note = texts(frozen)[L.BASIC][1]
    assert note == "部门的基本情况。本表为报送版，数值已固定。红色为错误，详见“校验结果”。"
