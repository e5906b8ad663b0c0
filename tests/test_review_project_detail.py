# ruff: noqa: F811  (the fixtures of test_web are parameters here)
"""One project's reviewer page (``xlperf serve --dir``, ``/review/project/{n}``, issue 27): its 项目资金
block, its 绩效指标 rows, its findings and its files, in real Chromium.

What the page shows must be what the filed workbook says: every figure on the page is compared with
the scored workbook (a batch's ``.scored.xlsx``, an intake's frozen attachment) as openpyxl reads
it, found there by the form's own header texts. The 执行率 of the 项目资金 block is a live formula in
a batch's scored copy (openpyxl reads no result), so there it is B ÷ A of the typed cells; the
frozen workbook holds it as a value. Project names and texts are hostile (HTML): shown as text.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from test_project_batch import DEP, projects
from test_project_core import row
from test_submit import clean_evaluation
from test_web import CHROMIUM, SHOTS, Serve, browser, open_home, page, start_serve  # noqa: F401 (fixtures)

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.core.project.evaluation import FundRow, Funds, ProjectEvaluation, ProjectInfo
from xlperf.core.project.framework import get_project_framework
from xlperf.project.template import build_project_workbook
from xlperf.web.folder import Folder
from xlperf.web.projects import project_detail
from xlperf.workbook.template import build_workbook, save_workbook

FW = get_project_framework("national-project")
HOSTILE = '<script>alert("项目")</script><b>粗体</b> & "培训"'
UNIT = "<i>实施</i>单位"
SHEET = "项目支出绩效自评表"
chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def cli(*args: str | Path, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def hostile() -> ProjectEvaluation:
    """Every part of the page at work: four 资金来源 with 年初预算数, 二级 merged over rows, a 定性 row,
    a 反向 row, rows below full with and without a reason, HTML in the names and texts."""
    ev = ProjectEvaluation(
        project=ProjectInfo(name=HOSTILE, department=DEP, unit=UNIT, year=2022),
        funds=Funds(
            total=FundRow(initial=Decimal("120"), budget=Decimal("150"), executed=Decimal("135.5")),
            current=FundRow(initial=Decimal("100"), budget=Decimal("120"), executed=Decimal("110.25")),
            carryover=FundRow(initial=Decimal("20"), budget=Decimal("20"), executed=Decimal("20")),
            other=FundRow(initial=Decimal("0"), budget=Decimal("10"), executed=Decimal("5.25")),
        ),
        rows=[
            row("产出指标", "培训人次", "≥1000人次", "800人次", "20", level2="数量指标", reason="停训两期"),
            row("产出指标", "<b>结业</b>合格率", "≥95%", "98%", "15", level2="质量指标"),
            row("产出指标", "完成时限", "≥12个月", "12个月", "5", level2="时效指标"),
            row("产出指标", "人均成本", "≤500元", "450元", "10", level2="成本指标"),
            row("效益指标", "就业率", "≥80%", "70%", "20", level2="社会效益指标"),
            row(
                "效益指标",
                "社会影响",
                "明显",
                "达成年度指标",
                "10",
                level2="社会效益指标",
                operator="定性",
                score="9",
                reason="宣传不足",
            ),
            row("满意度指标", "学员满意度", "≥90%", "95%", "10", level2="服务对象满意度指标"),
        ],
        goal_expected="<img src=x onerror=alert(1)>培训1000人次",
        goal_actual="培训800人次",
    )
    return ev


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("detail")
    projects(root / "in")  # 安徽 (its total row 0 | 0 | 0), 重庆, 便民服务站 and its copy, a blank form
    build_project_workbook(FW, hostile()).save(root / "in" / "培训.xlsx")
    assert cli("example", "-o", root / "in" / "部门.xlsx").exit_code == 0
    out = root / "out"
    assert cli("batch", root / "in", "-o", out, "--jobs", "1").exit_code == 1
    return out


@pytest.fixture(scope="module")
def intake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An intake folder: a department's own 自评 and the hostile project, mailed as ``submit --eml``
    drafts (the project twice: the first superseded)."""
    root = tmp_path_factory.mktemp("intake")
    env = {"XLPERF_HOME": str(root / "home")}
    work, mail = root / "work", root / "mail"
    work.mkdir()
    mail.mkdir()
    sender = ("--from", "甲局 <jia@example.cn>", "--to", "czj@example.gov.cn")
    ev = clean_evaluation()
    ev.department.name, ev.department.short_name = DEP, "棠溪镇"
    own = save_workbook(build_workbook(get_framework("guangzhou-2023"), ev), work / "部门.xlsx")
    project = work / "培训.xlsx"
    build_project_workbook(FW, hostile()).save(project)
    forced = ("--force", "--reason", "就业率的偏差原因待补")  # the row below full without a reason
    for n, (path, extra) in enumerate(((own, ()), (project, forced))):
        res = cli("submit", path, "--eml", mail / f"{n}.eml", *sender, *extra, env=env)
        assert res.exit_code == 0, res.output
    time.sleep(1.1)  # the resubmission's Date: is later
    again = hostile()
    again.goal_actual = "培训800人次（补充说明）"
    build_project_workbook(FW, again).save(project)
    res = cli("submit", project, "--eml", mail / "2.eml", "--overwrite", *sender, *forced, env=env)
    assert res.exit_code == 0, res.output
    out = root / "bureau"
    res = cli("intake", mail, "-o", out, env=env)
    assert res.exit_code == 0, res.output
    return out


# ------------------------------------------------------------------ the workbook, as openpyxl reads it


def merged_value(ws: Any, r: int, c: int) -> Any:
    """A cell's value, a merged cell's follower reading its range's first cell (一级/二级)."""
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= r <= rng.max_row and rng.min_col <= c <= rng.max_col:
            return ws.cell(rng.min_row, rng.min_col).value
    return ws.cell(r, c).value


def header_row(ws: Any, text: str) -> tuple[int, dict[str, int]]:
    """The row holding ``text`` and its header cells by text (notes in brackets dropped)."""
    for r in range(1, ws.max_row + 1):
        heads = {
            str(ws.cell(r, c).value).split("（")[0]: c
            for c in range(1, ws.max_column + 1)
            if isinstance(ws.cell(r, c).value, str)
        }
        if text in heads:
            return r, heads
    raise AssertionError(f"no header {text}")


def form_of(path: Path) -> dict[str, Any]:
    """The 项目资金 rows, the 绩效指标 rows and the total of a scored project workbook."""
    ws = openpyxl.load_workbook(path)[SHEET]
    top, heads = header_row(ws, "全年预算数")
    funds = {}
    for r in range(top + 1, top + 5):
        label = ws.cell(r, heads["资金来源"]).value
        funds[label] = {k: ws.cell(r, heads[k]).value for k in ("年初预算数", "全年预算数", "全年执行数")}
        funds[label].update({k: ws.cell(r, heads[k]).value for k in ("分值", "执行率", "得分")})
    head, cols = header_row(ws, "三级指标")
    rows = []
    r = head + 1
    while ws.cell(r, 1).value != "总分":
        rows.append({k: merged_value(ws, r, c) for k, c in cols.items()})
        r += 1
    return {"funds": funds, "rows": rows, "total": ws.cell(r, cols["得分"]).value}


def same(shown: str, cell: Any) -> bool:
    """A figure on the page equals a cell: numerically when the cell holds a number ("—" for empty)."""
    if cell is None or cell == "—":
        return shown in ("—", "", "（未填写）")
    if isinstance(cell, int | float):
        return Decimal(shown.rstrip("%")) == Decimal(str(cell))
    return shown == str(cell)


def percent(value: Any) -> Decimal:
    return (Decimal(str(value)) * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def execution(funds: dict[str, dict[str, Any]]) -> Decimal:
    """B ÷ A of the 年度资金总额 row; of the sum of the rows under it when that row is left at 0 or
    empty (docs/DOMAIN.md §5: the 安徽 table)."""
    rows = [funds["年度资金总额"]]
    if not rows[0]["全年预算数"]:
        rows = [v for k, v in funds.items() if k != "年度资金总额"]
    a = sum(Decimal(str(r["全年预算数"] or 0)) for r in rows)
    b = sum(Decimal(str(r["全年执行数"] or 0)) for r in rows)
    return b / a


def page_tables(pg: Any) -> tuple[list[list[str]], list[list[str]]]:
    funds = pg.eval_on_selector_all(
        "#funds tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    indicators = pg.eval_on_selector_all(
        "#indicators tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    return funds, indicators


def check_against_workbook(pg: Any, workbook: Path, frozen: bool) -> None:
    """Every figure of the page's 项目资金 and 绩效指标 against the workbook."""
    form = form_of(workbook)
    funds, indicators = page_tables(pg)
    assert [f[0] for f in funds] == ["年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"]
    for shown in funds:
        cells = form["funds"][shown[0]]
        for text, key in zip(shown[1:4], ("年初预算数", "全年预算数", "全年执行数"), strict=True):
            assert same(text, cells[key]), (shown, key, cells)
        if shown[0] == "年度资金总额":
            assert same(shown[4], cells["分值"]) and same(shown[6], cells["得分"]), (shown, cells)
            typed = cells["执行率"]
            rate = percent(typed) if frozen else percent(execution(form["funds"]))
            assert Decimal(shown[5].rstrip("%")) == rate, (shown, typed)
        else:  # a 资金来源 has no score, as on the form
            assert shown[4:] == ["—", "—", "—"]
    assert len(indicators) == len(form["rows"])
    for shown, cells in zip(indicators, form["rows"], strict=True):
        level1, level2, name, target, actual, full, score, reason = shown
        assert (level1, level2, name) == (cells["一级指标"], cells["二级指标"] or "", cells["三级指标"])
        assert same(target, cells["年度指标值"]) and same(actual.split("\n")[0], cells["实际完成值"])
        assert same(full, cells["分值"]) and same(score, cells["得分"]), (shown, cells)
        assert same(reason, cells["偏差原因分析及改进措施"]), (shown, cells)
    assert same(pg.inner_text("#total"), form["total"])


# ------------------------------------------------------------------ without a browser


def test_the_detail_reads_what_the_card_does_not_carry_from_the_filed_workbook(batch_dir: Path) -> None:
    folder = Folder.scan(batch_dir)
    by_name = {e.card["project"]: e for e in folder.projects if e.card}
    detail = project_detail(folder, by_name[HOSTILE].key)
    assert detail is not None and not detail.workbook_problem
    assert [r["initial"] for r in detail.funds] == ["120.00", "100.00", "20.00", "0.00"]
    assert detail.goal_expected.startswith("<img")  # as typed: the template escapes it
    anhui = project_detail(folder, by_name["委托业务"].key)
    assert anhui is not None
    total = anhui.funds[0]
    assert (total["budget"], total["executed"], total["rate"], total["score"]) == (
        "0.00",
        "0.00",
        "100.00%",
        "10.00",
    )
    # a batch card's sections by its framework's names (its 满意度 has no row: no 一级 typed for it)
    assert [name for name, _ in anhui.sections] == ["预算执行率", "产出指标", "效益指标", "满意度指标"]
    # the 安徽 table's total row left at 0: the engine scored 10 from its parts (89.974 of 89.974)
    assert "89.974" in anhui.funds_note and "各项之和" in anhui.funds_note
    assert project_detail(folder, len(folder.projects)) is None and project_detail(folder, -1) is None


def test_a_workbook_that_is_not_the_scored_one_is_not_shown(batch_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "out"
    shutil.copytree(batch_dir, copy)
    # another project's scored copy put in place of this one, and a file that is no workbook
    shutil.copy(copy / "服务站.scored.xlsx", copy / "融媒体.scored.xlsx")
    (copy / "培训.scored.xlsx").write_bytes(b"not a workbook")
    folder = Folder.scan(copy)
    by_name = {e.card["project"]: e for e in folder.projects if e.card}
    swapped = project_detail(folder, by_name["融媒体运行"].key)
    assert swapped is not None and "与计分卡不对应" in swapped.workbook_problem
    assert swapped.funds[0]["budget"] == "100.00" and swapped.funds[0]["initial"] == "—"  # the card's A
    broken = project_detail(folder, by_name[HOSTILE].key)
    assert broken is not None and "无法读取" in broken.workbook_problem
    assert broken.rows and broken.rows[0]["name"] == "培训人次"  # the card's rows are still shown


# ------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def batch_server(batch_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    server = start_serve(tmp_path_factory.mktemp("serve"), "--dir", str(batch_dir))
    try:
        yield server
    finally:
        server.stop()


def open_project(pg: Any, server: Serve, name: str, *, listed: bool = False) -> None:
    """From 项目自评汇总 (loaded again unless ``listed``), the project's link (its name as the list
    shows it)."""
    if not listed:
        pg.goto(f"{server.base}/review/projects")
    link = pg.locator("table.projects td.project-name a", has_text=name).first
    with pg.expect_navigation():
        link.click()
    pg.wait_for_selector("#indicators")


@pytest.mark.slow
@chromium
def test_every_project_page_shows_the_figures_of_its_scored_workbook(
    page: Any,
    batch_server: Serve,
    batch_dir: Path,
) -> None:
    open_home(page, batch_server)
    cards = {}
    for path in sorted(batch_dir.glob("*.scorecard.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("form") == "project" and data["project"]:  # not the department's, not the blank form
            cards[data["project"]] = path
    assert len(cards) == 4
    for name, card in cards.items():
        open_project(page, batch_server, name)
        check_against_workbook(
            page, card.with_name(card.name.replace(".scorecard.json", ".scored.xlsx")), False
        )
        assert page.locator("#workbook-problem").count() == 0
    open_project(page, batch_server, "委托业务")
    assert "89.974" in page.inner_text("#funds-note")
    assert page.locator("#findings tr.error").count() >= 1  # its J findings, from the card
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "review_project_anhui.png"), full_page=True)


@pytest.mark.slow
@chromium
def test_hostile_names_are_shown_as_text(page: Any, batch_server: Serve, batch_dir: Path) -> None:
    open_home(page, batch_server)
    open_project(page, batch_server, "粗体")
    assert page.inner_text("#project-name") == HOSTILE
    assert UNIT in page.inner_text("#project-info")
    assert page.locator("main b:has-text('粗体'), main i:has-text('实施'), main img").count() == 0
    assert page.dialogs == []
    assert "&lt;script&gt;" in page.content()
    assert "<b>结业</b>合格率" in page.inner_text("#indicators")
    assert page.inner_text("#goals").startswith("预期目标")
    # a row below full without a reason says so; the 定性 row shows its grade
    missing = page.locator("#indicators td.missing-reason")
    assert missing.count() == 1 and missing.inner_text() == "（未填写）"
    assert "达成年度指标" in page.inner_text("#indicators")
    downloads = page.inner_text("#downloads")
    assert "下载计分后的工作簿" in downloads and "下载计分卡" in downloads
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "review_project.png"), full_page=True)


@pytest.mark.slow
@chromium
def test_an_intake_submission_s_page_and_its_frozen_workbook(
    page: Any, intake_dir: Path, tmp_path: Path
) -> None:
    server = start_serve(tmp_path / "serve", "--dir", str(intake_dir))
    try:
        open_home(page, server)
        open_project(page, server, "粗体")
        current = Folder.scan(intake_dir).projects[0]
        assert current.current and current.scored_file is not None
        check_against_workbook(page, current.scored_file.path, True)
        assert "收件状态：有效" in page.inner_text("#intake")
        downloads = page.inner_text("#downloads")
        for role in ("原邮件", "报送清单", "自评报告", "计分卡（重算）", "报送的工作簿（已冻结）"):
            assert f"下载{role}" in downloads, downloads
        page.screenshot(path=str(SHOTS / "review_project_intake.png"), full_page=True)
        # the superseded submission has its page too, said to be superseded
        page.goto(f"{server.base}/review/projects?all=1")
        links = page.locator("table.projects td.project-name a")
        assert links.count() == 2
        with page.expect_navigation():
            links.nth(1).click()
        assert "已被同一部门同一项目同一年度后收到的报送取代" in page.inner_text("#intake")
    finally:
        server.stop()


@pytest.mark.slow
@chromium
def test_a_removed_workbook_or_project_is_a_chinese_message(
    page: Any, batch_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "out"
    shutil.copytree(batch_dir, copy)
    server = start_serve(tmp_path / "serve", "--dir", str(copy))
    try:
        open_home(page, server)
        page.goto(f"{server.base}/review/projects")  # the listing the reviewer sees
        (copy / "融媒体.scored.xlsx").unlink()  # removed after it was listed
        open_project(page, server, "融媒体运行", listed=True)
        problem = page.inner_text("#workbook-problem")
        assert "融媒体.scored.xlsx" in problem and "已不在" in problem
        assert page.inner_text("#total") == "97.60"  # the card still shows
        funds, _ = page_tables(page)
        assert funds[0][:4] == ["年度资金总额", "—", "100.00", "76.00"]  # the card's A and B
        page.screenshot(path=str(SHOTS / "review_project_removed.png"), full_page=True)
        for bad in ("99", "-1", "x"):
            response = page.goto(f"{server.base}/review/project/{bad}")
            assert response.status == 404
            assert "找不到这个项目" in page.inner_text("main")
        assert not any("Traceback" in line or "内部错误" in line for line in server.output)
    finally:
        server.stop()
