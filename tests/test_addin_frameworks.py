"""The add-in scores by the rules of the workbook it works in (issue 23).

Excel cannot run here: the workbooks are xlwings' remote-engine Books built from saved files
(tests/test_excel_handlers.py ``remote_book``: the payload a real Excel client sends, read through
xlwings' own Book/Range/Name API), the calling cell is one of their ranges, and ``xw.Book`` (which
would open the new file in Excel) is recorded instead. What Windows Excel adds — ``Application.Caller``
reaching xlwings' reserved ``caller`` argument — is checked by the VBA wrapper being exactly what
xlwings' own generator writes for these functions (tests/test_addin_vba.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwings as xw
from framework_cases import HUBEI_LIKE_TOML, SICHUAN, hubei_like_evaluation, sichuan_evaluation
from test_excel_handlers import _FakeBook, remote_book

from xlperf.core.framework import NO_RATING, get_framework, parse_framework
from xlperf.examples import example_evaluation
from xlperf.excel import handlers, on_ribbon, udfs
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook


@pytest.fixture()
def books(tmp_path: Path) -> dict[str, Any]:
    made = {
        "guangzhou": (get_framework(), example_evaluation()),
        "sichuan": (get_framework(SICHUAN), sichuan_evaluation()),
        "hubei": (parse_framework(HUBEI_LIKE_TOML, "t"), hubei_like_evaluation()),
    }
    out = {
        k: remote_book(save_workbook(build_workbook(fw, ev), tmp_path / f"{k}.xlsx"))
        for k, (fw, ev) in made.items()
    }
    plain = openpyxl.Workbook()
    plain.active["A1"] = 95
    plain.save(tmp_path / "plain.xlsx")
    out["plain"] = remote_book(tmp_path / "plain.xlsx")  # a workbook xlperf did not make
    return out


def cell(book: Any) -> Any:
    """A calling cell: what xlwings passes as ``caller``."""
    return book.sheets[0]["A1"]


def test_worksheet_functions_use_the_rules_of_the_calling_workbook(books: dict[str, Any]) -> None:
    udfs._BOOK_RULES.clear()
    # XLPERF_RATING: each framework's own names, or none
    assert udfs.XLPERF_RATING(95, cell(books["guangzhou"])) == "优"
    assert udfs.XLPERF_RATING(95, cell(books["sichuan"])) == "优秀"
    assert udfs.XLPERF_RATING(85, cell(books["sichuan"])) == "合格"  # sichuan-example: 优秀 ≥ 90, 合格 ≥ 60
    assert udfs.XLPERF_RATING(95, cell(books["hubei"])) == NO_RATING
    assert udfs.XLPERF_RATING(95, cell(books["plain"])) == "优"  # not an xlperf workbook: the default
    assert udfs.XLPERF_RATING(95) == "优"  # no caller (a call from VBA): the default
    # XLPERF_COMPLETION: a grade is the calling workbook's grade
    assert udfs.XLPERF_COMPLETION(None, "部分达成年度指标", None, cell(books["sichuan"])) == 0.7
    assert udfs.XLPERF_COMPLETION(None, "部分完成", None, cell(books["guangzhou"])) == 0.5
    refused = udfs.XLPERF_COMPLETION(None, "部分达成年度指标", None, cell(books["guangzhou"]))
    assert isinstance(refused, str) and "实际值" in refused and "完成/基本完成/部分完成/未完成" in refused
    # XLPERF_SECTION_SCORE: the cap is the workbook's. Two rows of weight 5: 12/10 and 8/10.
    # cap 1 (guangzhou): 5 × (1 − 1) = 0 and 5 × (1 − 0.8) = 1 → 9; cap 1.2 (sichuan): −1 and 1 → 10
    assert udfs.XLPERF_SECTION_SCORE([10, 10], [12, 8], 10.0, None, cell(books["guangzhou"])) == 9.0
    assert udfs.XLPERF_SECTION_SCORE([10, 10], [12, 8], 10.0, None, cell(books["sichuan"])) == 10.0
    assert udfs.XLPERF_RATIO(76740.31, 79776.38) == 96.19  # no rules involved


def test_a_workbook_whose_rules_cannot_be_had_says_so_in_the_cell(
    books: dict[str, Any], tmp_path: Path
) -> None:
    udfs._BOOK_RULES.clear()
    path = save_workbook(build_workbook(get_framework(), example_evaluation()), tmp_path / "old.xlsx")
    wb = openpyxl.load_workbook(path)
    for name in L.DEF_NAMES:
        wb.defined_names.pop(name, None)
    sheet, coord = next(iter(wb.defined_names["xp_framework"].destinations))
    wb[sheet][coord.replace("$", "")].value = "hubei-2025"
    wb.save(path)
    shown = udfs.XLPERF_RATING(95, cell(remote_book(path)))
    assert isinstance(shown, str) and "hubei-2025" in shown and "评分规则无法使用" in shown


def _new(book: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[Path | None, str]:
    monkeypatch.setattr(handlers, "is_remote", lambda b: False)  # the stand-in plays desktop Excel
    monkeypatch.setattr(handlers, "_documents", lambda: tmp_path / "docs")
    (tmp_path / "docs").mkdir(exist_ok=True)
    opened: list[str] = []
    monkeypatch.setattr(xw, "Book", lambda path: opened.append(path))  # no Excel here: record the open
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    alerts: list[str] = []
    monkeypatch.setattr("xlperf.excel._alert", lambda b, prompt, title, mode="info": alerts.append(prompt))
    on_ribbon("xlperf_new", book)
    created = Path(opened[0]) if opened else None
    return created, alerts[-1]


def _sha(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    sheet, coord = next(iter(wb.defined_names["xp_framework_sha256"].destinations))
    return str(wb[sheet][coord.replace("$", "")].value)


def test_new_makes_a_workbook_for_the_active_workbook_s_rules(
    books: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created, message = _new(books["sichuan"], tmp_path, monkeypatch)
    assert created is not None and _sha(created) == get_framework(SICHUAN).sha256
    assert "与当前工作簿相同" in message and "sichuan-example" in message
    # rules this PC does not have travel too: the blank carries the active workbook's embedded copy
    created, message = _new(books["hubei"], tmp_path, monkeypatch)
    assert created is not None and _sha(created) == parse_framework(HUBEI_LIKE_TOML, "t").sha256


def test_new_with_no_xlperf_workbook_takes_the_configured_or_default_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created, message = _new(_FakeBook("工作簿1"), tmp_path, monkeypatch, XLPERF_FRAMEWORK=SICHUAN)
    assert (
        created is not None
        and _sha(created) == get_framework(SICHUAN).sha256
        and "XLPERF_FRAMEWORK" in message
    )
    monkeypatch.delenv("XLPERF_FRAMEWORK")
    created, message = _new(_FakeBook("工作簿1"), tmp_path, monkeypatch)
    assert created is not None and _sha(created) == get_framework().sha256 and "默认" in message
    created, message = _new(_FakeBook("工作簿1"), tmp_path, monkeypatch, XLPERF_FRAMEWORK="no-such-rules")
    assert created is None and "XLPERF_FRAMEWORK" in message and "no-such-rules" in message


def test_new_makes_a_project_form_for_a_project_workbook_or_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 27: the ribbon's 新建自评表 makes the national 项目支出绩效自评表 when the bureau's IT set a
    project framework, and when the active workbook is a project form (it failed before: a project
    framework id was refused as unknown, and a project form's rules were read as a department's)."""
    from xlperf.core.project.framework import get_project_framework
    from xlperf.project import layout as P
    from xlperf.project.template import build_project_workbook

    sichuan = get_project_framework("sichuan-project")
    active = tmp_path / "active" / "项目.xlsx"
    active.parent.mkdir()
    build_project_workbook(sichuan).save(active)
    book = remote_book(active)  # before _new stands in for xw.Book
    created, message = _new(_FakeBook("工作簿1"), tmp_path, monkeypatch, XLPERF_FRAMEWORK="national-project")
    assert created is not None and created.name.startswith("项目支出绩效自评表"), message
    assert openpyxl.load_workbook(created).sheetnames[0] == P.FORM_SHEET
    assert _sha(created) == get_project_framework("national-project").sha256
    monkeypatch.delenv("XLPERF_FRAMEWORK")
    (tmp_path / "second").mkdir()
    created, message = _new(book, tmp_path / "second", monkeypatch)
    assert created is not None and "与当前工作簿相同" in message, message
    assert openpyxl.load_workbook(created).sheetnames[0] == P.FORM_SHEET
    assert _sha(created) == sichuan.sha256
