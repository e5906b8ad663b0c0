"""The reviewer page (``xlperf serve --dir``) and project score cards (issue 27): a department's projects
are shown on their own 项目自评汇总 page — count, average, rating distribution, 执行率, rows below
full with their reasons — with the figures of 项目自评汇总.xlsx, and never in the 部门整体 ranking.

The batch folder is tests/test_project_batch.py's (the 安徽 table 90, the 重庆 arithmetic 97.6, 便民服务站
97.5 and a copy of it, a blank form) beside the seed department workbook; the intake folder is made
of ``xlperf submit --eml`` drafts of real packages taken in by ``xlperf intake``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from test_project_batch import DEP, projects
from test_project_submit import chongqing
from test_submit import clean_evaluation
from test_web import CHROMIUM, SHOTS, browser, open_home, page, start_serve  # noqa: F401 (fixtures)

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.core.project.framework import get_project_framework
from xlperf.project.template import build_project_workbook
from xlperf.web.folder import Folder
from xlperf.web.projects import project_groups
from xlperf.workbook.template import build_workbook, save_workbook

FW = get_project_framework("national-project")


def cli(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    projects(root / "in")
    assert cli("example", "-o", root / "in" / "部门.xlsx").exit_code == 0
    out = root / "out"
    assert cli("batch", root / "in", "-o", out, "--jobs", "1").exit_code == 1
    return out


def xlsx_rows(path: Path, sheet: str) -> list[dict[str, Any]]:
    head, *body = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(head, r, strict=True)) for r in body]


def test_project_cards_are_kept_apart_with_the_figures_of_the_workbook(batch_dir: Path) -> None:
    folder = Folder.scan(batch_dir)
    assert [e.department for e in folder.entries] == ["广州市白云区科技工业商务和信息化局"]  # ranked alone
    assert len(folder.projects) == 5 and not folder.problems
    groups = {g.department: g for g in project_groups(folder)}
    expected = {r["主管部门"]: r for r in xlsx_rows(batch_dir / "项目自评汇总.xlsx", "部门汇总")}
    assert set(groups) == set(expected)
    for dep, row in expected.items():  # one truth: the page says what 项目自评汇总.xlsx says
        s = groups[dep].summary
        assert (s["count"], s["scored"], s["distribution"] or None, s["with_errors"]) == (
            row["项目数"],
            row["已计分"],
            row["等级分布"],
            row["有错误的项目"],
        )
        for key, column in (
            ("mean", "平均得分"),
            ("mean_rate", "平均执行率（%）"),
            ("min_rate", "最低执行率（%）"),
        ):
            assert (s[key] is None and row[column] is None) or Decimal(str(s[key])) == Decimal(
                str(row[column])
            )
    tangxi = groups[DEP]
    assert Decimal(str(tangxi.summary["mean"])) == Decimal("95.03")  # (90 + 97.6 + 97.5) ÷ 3
    assert [p.row["status"] for p in tangxi.projects].count("重复") == 1
    assert [(r["project"], r["name"], r["target"], r["actual"], r["reason"]) for r in tangxi.below_full] == [
        ("便民服务站", "新建服务站", "≥12个", "10个", "两个站点选址调整")
    ]
    [blank] = [g for g in groups.values() if g.department != DEP]
    assert blank.summary["scored"] == 0 and blank.projects[0].row["status"] == "未填写"


def test_a_broken_project_card_is_a_problem_not_a_crash(batch_dir: Path, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(batch_dir, copy)
    card = copy / "融媒体.scorecard.json"
    data = json.loads(card.read_text(encoding="utf-8"))
    data["indicators"][0]["score"] = "五十"
    card.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    folder = Folder.scan(copy)
    assert len(folder.projects) == 4
    assert any("融媒体.scorecard.json" in p and "score" in p for p in folder.problems)


# ------------------------------------------------------------------ in Chromium

chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


@pytest.mark.slow
@chromium
def test_the_reviewer_page_shows_projects_apart(page: Any, batch_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    server = start_serve(tmp_path / "serve", "--dir", str(batch_dir))
    try:
        open_home(page, server)
        page.goto(f"{server.base}/review")
        assert page.locator("#ranking tbody tr").count() == 1
        assert "棠溪镇" not in page.inner_text("#ranking")
        assert "5 个项目" in page.inner_text("#projects-link")
        page.click("#projects-link")
        page.wait_for_selector(".project-group")
        first = page.locator(".project-group").first
        assert DEP in first.locator("h2").inner_text()
        assert first.locator("td.mean").inner_text() == "95.03"
        assert first.locator("td.distribution").inner_text() == "优 3、良 0、中 0、差 0"
        assert "两个站点选址调整" in first.locator("table.below-full").inner_text()
        assert "重复（不计入统计）" in first.locator("table.projects").inner_text()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "review_projects.png"), full_page=True)
    finally:
        server.stop()


@pytest.mark.slow
@chromium
def test_an_intake_folder_s_projects_on_the_reviewer_page(page: Any, tmp_path: Path) -> None:  # noqa: F811
    home = {"XLPERF_HOME": str(tmp_path / "home")}
    work, mail = tmp_path / "work", tmp_path / "mail"
    work.mkdir()
    mail.mkdir()
    sender = ("--from", "甲局 <jia@example.cn>", "--to", "czj@example.gov.cn")
    ev = clean_evaluation()
    ev.department.name, ev.department.short_name = DEP, "棠溪镇"
    own = save_workbook(build_workbook(get_framework("guangzhou-2023"), ev), work / "部门.xlsx")
    media = chongqing()
    build_project_workbook(FW, media).save(work / "融媒体.xlsx")
    runner = CliRunner()
    for n, (path, extra) in enumerate(((own, ()), (work / "融媒体.xlsx", ()))):
        res = runner.invoke(
            main, ["submit", str(path), "--eml", str(mail / f"{n}.eml"), *sender, *extra], env=home
        )
        assert res.exit_code == 0, res.output
    time.sleep(1.1)  # the resubmission's Date: is later
    media.goal_actual = "全年播出1000小时，覆盖12万人（补充）"
    build_project_workbook(FW, media).save(work / "融媒体.xlsx")
    res = runner.invoke(
        main,
        ["submit", str(work / "融媒体.xlsx"), "--eml", str(mail / "2.eml"), "--overwrite", *sender],
        env=home,
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "bureau"
    res = runner.invoke(main, ["intake", str(mail), "-o", str(out)], env=home)
    assert res.exit_code == 0, res.output

    folder = Folder.scan(out)
    assert [e.department for e in folder.entries] == [DEP]  # the department's own 自评 only
    # the resubmission is current, the first one superseded (the current ones are listed first)
    assert [
        (e.current, e.received > other.received)
        for e, other in zip(folder.projects, folder.projects[::-1], strict=True)
    ] == [(True, True), (False, False)]
    server = start_serve(tmp_path / "serve", "--dir", str(out))
    try:
        open_home(page, server)
        page.goto(f"{server.base}/review")
        assert page.locator("#ranking tbody tr").count() == 1
        assert "1 个项目" in page.inner_text("#projects-link")
        page.goto(f"{server.base}/review/projects")
        table = page.locator("table.projects").inner_text()
        assert "融媒体运行" in table and "有效" in table and "已被取代" not in table
        assert page.locator("td.mean").inner_text() == "97.60"
        page.goto(f"{server.base}/review/projects?all=1")
        table = page.locator("table.projects").inner_text()
        assert "有效（已被取代）（不计入统计）" in table
        assert page.locator("td.mean").inner_text() == "97.60"  # the superseded one is never counted
        page.screenshot(path=str(SHOTS / "review_projects_intake.png"), full_page=True)
    finally:
        server.stop()
