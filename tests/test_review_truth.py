"""One truth for the bureau's reviewer (issue 25): the reviewer page (``xlperf serve --dir``, in a real
Chromium) shows what 汇总.xlsx (read back by openpyxl and by calamine) and 汇总.csv show — the same
ranks, statuses, 等级分布 and 问题统计 — for a folder as a bureau has it: a dozen workbooks, one blank,
one an older duplicate draft, one an .xls, one with a V01 error.

Before the fix the page ranked the duplicate and the blank workbook (rank 11, 差, 66 errors), counted
11 departments with one twice, showed 优 10/差 1 against 汇总's 优 9/差 0, put the blank workbook's
V32 first in 问题统计 and never mentioned the .xls; 汇总 showed the blank workbook as 差 with 0.00 in
every score, and 排名 had no 状态, so the workbook with a V01 error looked as good as the clean ones.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from test_batch import save, valid_evaluation
from test_web import CHROMIUM, Serve, browser, cells, page, shot, start_serve  # noqa: F401 (fixtures)

from xlperf.core.framework import get_framework
from xlperf.ooxml.checks import OLE_MAGIC
from xlperf.workbook.template import build_workbook, save_workbook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]
NAMES = [f"第{n}审阅局" for n in "一二三四五六七八九"]
NONE = "—"


def make_folder(root: Path) -> Path:
    """Nine departments (the fifth with a V01 error: its 全年预算数 is 10 万元 more than its parts), an
    older draft of the third (same department and year), a blank template and an .xls."""
    for i, name in enumerate(NAMES):
        ev = valid_evaluation(name, lower=i % 5)
        if i == 4:
            assert ev.budget.total_budget is not None
            ev.budget.total_budget += Decimal("10")
        save(ev, root / f"{i:02d}_{name}.xlsx")
    draft = root / "旧稿" / "第三审阅局_初稿.xlsx"
    save(valid_evaluation(NAMES[2], lower=0), draft)  # scores higher, but is older: not the one ranked
    os.utime(draft, (1_600_000_000, 1_600_000_000))
    save_workbook(build_workbook(get_framework("guangzhou-2023"), None), root / "空白模板.xlsx")
    (root / "旧格式.xls").write_bytes(OLE_MAGIC + bytes(2000))
    return root


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("truth")
    folder = make_folder(base / "收件")
    result = base / "结果"
    run = subprocess.run(
        [sys.executable, "-m", "xlperf.cli", "batch", str(folder), "-o", str(result), "--jobs", "2"],
        capture_output=True,
        text=True,
        env={**os.environ, "XLPERF_HOME": str(base / "home")},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    return result


@pytest.fixture(scope="module")
def server(out: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    s = start_serve(tmp_path_factory.mktemp("truth-serve"), "--dir", str(out))
    try:
        yield s
    finally:
        s.stop()


def _text(value: Any) -> str:
    """A cell as the page prints it: numbers with two decimals (scores) or as integers (counts)."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return str(int(value))
    return str(value)


def sheets(path: Path, name: str) -> list[dict[str, Any]]:
    """A sheet as records, read by openpyxl and by calamine, which must agree."""
    wb = openpyxl.load_workbook(path, read_only=True)
    by_openpyxl = [list(r) for r in wb[name].iter_rows(values_only=True)]
    wb.close()
    by_calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    norm = [[_text(v) for v in row] for row in by_openpyxl]
    assert norm == [[_text(None if v == "" else v) for v in row] for row in by_calamine], name
    head, *body = by_openpyxl
    return [dict(zip(head, row, strict=True)) for row in body]


def test_the_page_shows_what_the_summary_shows(page: Any, server: Serve, out: Path) -> None:  # noqa: F811
    xlsx = out / "汇总.xlsx"
    summary, ranking = sheets(xlsx, "汇总"), sheets(xlsx, "排名")
    grades = [(r["等级"], r["个数"]) for r in sheets(xlsx, "等级分布")]
    stats = sheets(xlsx, "问题统计")
    by_file = {Path(r["文件"]).name: r for r in summary}

    # 汇总 itself: the blank workbook and the .xls have no figure ("—"), the draft is 重复, the V01
    # workbook is ranked but marked 仅供参考 in 排名's 状态
    blank, xls, draft = by_file["空白模板.xlsx"], by_file["旧格式.xls"], by_file["第三审阅局_初稿.xlsx"]
    for row in (blank, xls):
        assert [row[c] for c in ("总分", "排名", "等级", "错误数", "提醒数", "产出", "管理效率")] == [
            NONE
        ] * 7
    assert (blank["状态"], xls["状态"], draft["状态"], draft["排名"]) == ("未填写", "无法读取", "重复", NONE)
    v01 = next(r for r in ranking if r["部门"] == NAMES[4])
    assert v01["状态"] == "有错误，仅供参考" and v01["错误数"] == 1
    assert {r["状态"] for r in ranking if r["部门"] != NAMES[4]} == {"通过"}
    assert [r["部门"] for r in ranking].count(NAMES[2]) == 1 and len(ranking) == 9
    text = (out / "汇总.csv").read_bytes().decode("utf-8-sig")
    csv_blank = next(r for r in csv.DictReader(io.StringIO(text)) if r["文件"].endswith("空白模板.xlsx"))
    assert [csv_blank[c] for c in ("总分", "排名", "等级", "错误数")] == [NONE] * 4

    page.goto(server.url.replace("/?", "/review?"))
    page.wait_for_selector("#ranking")
    shot(page, "20_review_truth_ranking", full_page=True)

    # 排名: the same rows in the same order, with the same 状态
    shown = [
        [r.locator("td").nth(k).inner_text().strip() for k in (0, 8, 9, 10, 11, 12)]
        + [r.locator("td").nth(1).locator("a").inner_text()]
        for r in page.locator("#ranking tbody tr").all()
    ]
    assert shown == [
        [_text(r[c]) for c in ("排名", "总分", "等级", "状态", "错误数", "提醒数")] + [r["部门"]]
        for r in ranking
    ]
    assert "9 个部门参加排名，另有 3 个文件未参加排名" in page.inner_text("#count")

    # the files 汇总 lists but does not rank, with the same status, figures and reason
    apart = {
        r.locator("td").nth(0).inner_text(): [
            r.locator("td").nth(k).inner_text().strip() for k in (3, 4, 5, 6)
        ]
        for r in page.locator("#unranked tbody tr").all()
    }
    assert apart == {
        name: [_text(r["总分"]), _text(r["等级"]), r["状态"], r["说明"]]
        for name, r in by_file.items()
        if r["排名"] == NONE
    }
    assert set(apart) == {"空白模板.xlsx", "旧格式.xls", "第三审阅局_初稿.xlsx"}

    # 等级分布: the same rows and counts
    dist = page.eval_on_selector_all(
        "#dist [data-label]", "els => els.map(e => [e.dataset.label, +e.dataset.count])"
    )
    assert [tuple(x) for x in dist] == grades
    assert dict(grades)["优"] == 9 and dict(grades)["差"] == 0 and dict(grades)["合计"] == 12

    # 问题统计: the same codes, counts and departments; the blank workbook's findings are not there
    page.click("nav.subnav >> text=问题统计")
    page.wait_for_selector("#stats")
    shot(page, "21_review_truth_findings")
    rows = [
        [r.locator("td").nth(k).inner_text().strip() for k in (0, 1, 3, 4, 5)]
        for r in page.locator("#stats tbody tr").all()
    ]
    assert rows == [
        [r["代码"], r["级别"], _text(r["部门数"]), _text(r["条数"]), r["涉及部门"]] for r in stats
    ]
    assert "V32" not in [r[0] for r in rows] and rows[0][0] != "V32"

    # 管理效率矩阵: the ranked departments, in 排名's order
    page.click("text=管理效率矩阵")
    page.wait_for_selector("#matrix")
    assert cells(page, "#matrix tbody td.dept") == [r["部门"] for r in ranking]


def test_a_blank_workbook_s_own_page_shows_no_score(page: Any, server: Serve, out: Path) -> None:  # noqa: F811
    page.goto(server.url.replace("/?", "/review?"))
    page.wait_for_selector("#unranked")
    keys = page.eval_on_selector_all("#ranking a[href^='/review/dept/']", "els => els.map(e => e.href)")
    assert keys  # the ranked departments have pages
    # the blank workbook has no department page link in the list; its page (by number) shows no score
    blank = page.locator("#unranked tbody tr", has_text="空白模板.xlsx")
    assert blank.locator("a[href^='/review/dept/']").count() == 0
    for n in range(12):
        page.goto(f"{server.base}/review/dept/{n}")
        if "空白模板.xlsx" in page.inner_text("h1 + p"):
            break
    assert page.inner_text("#total") == NONE and "未填写" in page.inner_text("#standing")
    assert page.locator(".counts").count() == 0  # no "错误 66 条" for a workbook nobody filled in
