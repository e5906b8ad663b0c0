"""The ribbon on a 项目支出绩效自评表 (issue 27). Excel cannot run here: the handlers run on xlwings'
remote engine (the stand-in tests/test_excel_handlers.py uses: a payload as a real Excel client sends
it — values only, no merged ranges, no formats), the recorded actions are replayed onto an openpyxl
copy, and what they wrote must be what ``xlperf run`` writes for the same file. 导出报送包 runs the
real submission code on a saved file through the desktop stand-in (``_FakeBook``).

Figures: the 安徽 table (90, 优; J03 on the empty total row, J04 on the typed 0 %) and the 重庆
arithmetic (97.6) — sources in tests/test_project_core.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from test_excel_handlers import _FakeBook, _fill, run_button, sheet_values
from test_project_core import anhui, funds, info, row
from test_project_submit import cells_of, chongqing

from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import get_project_framework
from xlperf.excel import on_ribbon
from xlperf.excel.handlers import HANDLERS
from xlperf.pipeline import assess, load_any, write_scored
from xlperf.project import layout as P
from xlperf.project.template import build_project_workbook
from xlperf.workbook import layout as L

FW = get_project_framework("national-project")


def save(ev: ProjectEvaluation, path: Path) -> Path:
    build_project_workbook(FW, ev).save(path)
    return path


def headless(path: Path, out: Path) -> Workbook:
    """What ``xlperf run`` writes for the same file."""
    loaded = load_any(path)
    write_scored(loaded, assess(loaded), out)
    return load_workbook(out)


@pytest.fixture
def anhui_wb(tmp_path: Path) -> Path:
    return save(anhui(), tmp_path / "委托业务.xlsx")


def form_values(wb: Workbook) -> list[list[object]]:
    return sheet_values(wb[P.FORM_SHEET])


def output_values(wb: Workbook, title: str) -> list[list[object]]:
    """An output sheet's values, the provenance that differs by design (a live book's SHA-256 is
    "unsaved", the time of scoring) reduced to its label."""
    return [r[:1] if r and r[0] in ("输入文件 SHA-256", "计分时间") else r for r in sheet_values(wb[title])]


def where(path: Path) -> dict[str, str]:
    """The form's fields → their cells, as the reader finds them in the saved file."""
    return {k: cell for k, (_, cell) in cells_of(path).items()}


def test_score_writes_back_and_matches_xlperf_run(anhui_wb: Path, tmp_path: Path) -> None:
    wb, actions, alerts = run_button(anhui_wb, "xlperf_score")
    expected = headless(anhui_wb, tmp_path / "run.xlsx")
    for title in (P.SCORES, P.FINDINGS):
        assert output_values(wb, title) == output_values(expected, title), title
    assert L.SCORES not in wb.sheetnames  # the department form's 评分汇总 is not made
    at = where(anhui_wb)
    assert wb.active.title == P.SCORES
    # the form: the rule's scores, the 执行率 score and 得分合计 written back as run writes them; the
    # remote engine sends no merged ranges, so the cell of the empty 评价等级 (G18, right of the
    # label merged over A18:F18) cannot be told and is left alone (desktop Excel: see below)
    form = wb[P.FORM_SHEET]
    rating = at["claimed_rating"]
    assert expected[P.FORM_SHEET][rating].value == "优"  # what run writes there
    expected[P.FORM_SHEET][rating].value = None
    assert form_values(wb) == form_values(expected)
    assert form[at["funds.score"]].value == 10 and form[at["claimed_total"]].value == 90
    assert form[rating].value is None
    row = int(rating[1:])
    assert all(form.cell(row, c).value is None for c in range(2, 10))  # nothing written anywhere else
    # the flagged cells coloured as in the scored copy
    flagged = {
        c.coordinate: _fill(c)
        for r in expected[P.FORM_SHEET].iter_rows()
        for c in r
        if _fill(c) in (L.ERROR_FILL, L.WARNING_FILL)
    }
    assert flagged and "D6" in flagged  # J03: the empty total row
    for coord, fill in flagged.items():
        assert _fill(form[coord]) == fill, coord
    (prompt, _, mode) = alerts[0]
    assert "90.00" in prompt and "优" in prompt and "写回" in prompt and mode == "critical"
    percent = [a for a in actions if a["func"] == "setNumberFormat" and a["args"] == ["0.00%"]]
    assert percent, "得分率 in percent, as in the scored copy"


def test_validate_marks_and_lists_without_scoring(anhui_wb: Path, tmp_path: Path) -> None:
    wb, _, alerts = run_button(anhui_wb, "xlperf_validate")
    expected = headless(anhui_wb, tmp_path / "run.xlsx")
    assert sheet_values(wb[P.FINDINGS]) == sheet_values(expected[P.FINDINGS])
    assert P.SCORES not in wb.sheetnames and wb.active.title == P.FINDINGS
    assert _fill(wb[P.FORM_SHEET]["D6"]) == L.ERROR_FILL
    assert wb[P.FORM_SHEET][where(anhui_wb)["claimed_total"]].value is None  # 校验 writes no score back
    assert "项目支出绩效自评表" in alerts[0][0] and "J" not in alerts[0][0][:4]


def test_a_clean_form_is_scored_and_its_input_cells_stay_yellow(tmp_path: Path) -> None:
    path = save(chongqing(), tmp_path / "融媒体.xlsx")
    wb, _, alerts = run_button(path, "xlperf_score")
    assert "97.60" in alerts[0][0] and alerts[0][2] == "info"
    form, at = wb[P.FORM_SHEET], where(path)
    assert form[at["claimed_total"]].value == pytest.approx(97.6)
    assert form[at["funds.score"]].value == pytest.approx(7.6)
    # every input cell of xlperf's own form in its pale yellow, none red
    assert _fill(form["E14"]) == L.INPUT_FILL and _fill(form["D6"]) == L.INPUT_FILL


def test_report_sheet_matches_and_docx_beside_a_saved_book(anhui_wb: Path, tmp_path: Path) -> None:
    wb, _, alerts = run_button(anhui_wb, "xlperf_report")
    expected = headless(anhui_wb, tmp_path / "run.xlsx")
    assert output_values(wb, P.REPORT) == output_values(expected, P.REPORT)
    assert "没有生成 Word 报告" in alerts[0][0]


def big(n: int) -> ProjectEvaluation:
    """The 重庆 form with each 一级's points spread over ``n`` rows."""
    rows = []
    for level, name, points in (
        ("产出指标", "播出", 50),
        ("效益指标", "覆盖", 30),
        ("满意度指标", "满意", 10),
    ):
        share = Decimal(points) / n
        rows += [row(level, f"{name}{k}", "≥100个", "100个", str(share)) for k in range(n)]
    return ProjectEvaluation(
        project=info("融媒体运行", 2022), funds=funds("100", "76", reason="设备款次年支付"), rows=rows
    )


@pytest.mark.parametrize("button", ["xlperf_validate", "xlperf_score", "xlperf_report"])
def test_action_count_does_not_grow_with_rows(button: str, tmp_path: Path) -> None:
    small, large = save(big(1), tmp_path / "small.xlsx"), save(big(8), tmp_path / "big.xlsx")
    assert [f.code for f in assess(load_any(small)).findings] == [
        f.code for f in assess(load_any(large)).findings
    ]
    _, small_actions, _ = run_button(small, button)
    _, big_actions, _ = run_button(large, button)
    assert [a["func"] for a in small_actions] == [a["func"] for a in big_actions]
    assert len(small_actions) < 70


def test_package_button_exports_a_project_package(tmp_path: Path) -> None:
    path = save(chongqing(), tmp_path / "wb" / "融媒体.xlsx") if (tmp_path / "wb").mkdir() is None else None
    assert path is not None
    book = _FakeBook(str(path))
    on_ribbon("xlperf_package", book)
    assert "报送包已导出" in book.app.alerts[-1][0]
    [folder] = [p for p in path.parent.iterdir() if p.is_dir()]
    assert folder.name == "报送包_融媒体运行_2022"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"融媒体运行_2022{s}"
        for s in ("_项目支出绩效自评.xlsx", "_项目支出绩效自评报告.docx", "_manifest.json")
    )


def test_help_mentions_the_project_form() -> None:
    assert "项目支出绩效自评表" in HANDLERS["help"](None).message


class _Desktop:
    """What desktop Excel answers for ``book.sheets[name].range(cell).merge_area.address``, from the
    saved file's merged ranges (the stand-in for Excel's COM; nothing else is asked of it)."""

    def __init__(self, path: Path) -> None:
        self.wb = load_workbook(path)
        self.asked = 0
        outer = self

        class Sheet:
            def __init__(self, ws: object) -> None:
                self.ws = ws

            def range(self, coord: str) -> object:
                outer.asked += 1
                found = next((m for m in self.ws.merged_cells.ranges if coord in m), None)  # type: ignore[attr-defined]
                address = f"${coord}" if found is None else "$" + str(found.coord).replace(":", ":$")

                class Area:
                    merge_area = type("M", (), {"address": address})()

                return Area()

        self.sheets = {ws.title: Sheet(ws) for ws in self.wb.worksheets}


def test_desktop_excel_gives_the_label_merges_and_the_rating_is_written(tmp_path: Path) -> None:
    import dataclasses

    from test_excel_handlers import remote_book

    from xlperf.excel import project
    from xlperf.excel.book import snapshot
    from xlperf.project.reader import read_project_book

    path = save(anhui(), tmp_path / "委托业务.xlsx")
    remote = snapshot(remote_book(path))
    assert "claimed_rating" not in read_project_book(remote.workbook, None, remote.values_loader)[2].cells
    snap = dataclasses.replace(snapshot(remote_book(path)), remote=False)
    desktop = _Desktop(path)
    assert project.restore_label_merges(desktop, snap) >= 10
    assert desktop.asked < project.MAX_LABELS * 2  # one question per label, not per row
    _, _, source, _ = read_project_book(snap.workbook, None, snap.values_loader)
    at = where(path)
    assert source.cells["claimed_rating"] == (P.FORM_SHEET, at["claimed_rating"])
    assert source.cells["project.name"] == (P.FORM_SHEET, at["project.name"])
    from xlperf.project.writer import written_values

    a = project.ProjectAssessment(snap, *_loaded(snap, source))
    assert written_values(a.result, source)[(P.FORM_SHEET, at["claimed_rating"])] == "优"


def _loaded(snap: object, source: object) -> tuple[object, object]:
    from xlperf.project.pipeline import ProjectLoaded, assess_project
    from xlperf.project.reader import read_project_book

    ev, findings, source, fw = read_project_book(snap.workbook, None, snap.values_loader)  # type: ignore[attr-defined]
    loaded = ProjectLoaded(Path("x.xlsx"), "", ev, findings, fw, source)
    return loaded, assess_project(loaded)
