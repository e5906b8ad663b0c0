"""xlperf batch as the finance bureau's reviewer uses it (issue 16 §1): every workbook-looking file listed
with a Chinese status, blank workbooks not ranked, duplicates ranked once, and the 排名 / 管理效率 /
问题统计 / 自报对比 sheets checked against each workbook's own score card."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from office import convert
from test_batch import records, save, table_openpyxl, valid_evaluation

from xlperf.batch import SUMMARY_XLSX
from xlperf.cli import main
from xlperf.core.evaluation import Answer
from xlperf.core.framework import get_framework
from xlperf.ooxml.checks import OLE_MAGIC
from xlperf.summary import PRINT_TITLE, RANKING_COLUMNS, RATIO_COLUMNS, SHEET_ORDER, axis_minimum
from xlperf.workbook.template import build_workbook, save_workbook

DEPARTMENTS = [f"第{n}测试局" for n in "一二三四五六七八九十"]


def make_folder(root: Path) -> Path:
    """Ten departments with different totals, plus what a bureau's mailbox folder really holds."""
    for i, name in enumerate(DEPARTMENTS):
        ev = valid_evaluation(name, lower=i % 7)
        if i == 0:
            ev.claims.total, ev.claims.rating = Decimal("98.57"), "优"  # what it states is right
        if i == 1:
            ev.claims.total, ev.claims.rating = Decimal("99.50"), "优"  # states more than it scores
        if i in (3, 5):
            ev.management[3].answers = [Answer.YES, Answer.NO]  # M04 loses marks
        save(ev, root / f"{i:02d}_{name}.xlsx")
    # a second, older copy of 第三测试局 (scored higher: the older one must not win on score)
    older = root / "旧版" / "第三测试局_初稿.xlsx"
    save(valid_evaluation(DEPARTMENTS[2], lower=0), older)
    os.utime(older, (1_600_000_000, 1_600_000_000))
    save_workbook(build_workbook(get_framework("guangzhou-2023"), None), root / "空白模板.xlsx")
    (root / "旧格式.xls").write_bytes(OLE_MAGIC + bytes(2000))
    (root / "金山.et").write_bytes(OLE_MAGIC + bytes(2000))
    with zipfile.ZipFile(root / "开放格式.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return root


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("review")
    folder = make_folder(base / "收件")
    out = base / "结果"
    res = CliRunner().invoke(
        main, ["batch", str(folder), "-o", str(out), "--jobs", "2"], catch_exceptions=False
    )
    assert res.exit_code == 1, res.output  # blank, unreadable and one with errors
    assert "未填写 1" in res.output and "重复 1" in res.output
    return folder, out


def by_name(out: Path) -> dict[str, dict[str, Any]]:
    return {Path(r["文件"]).name: r for r in records(out)}


def cards(out: Path) -> dict[str, dict[str, Any]]:
    """The score cards batch wrote, by department, for the ranked workbooks only."""
    found = {}
    for r in records(out):
        if r["排名"] != "—":
            stem = r["计分工作簿"].removesuffix(".scored.xlsx")
            found[r["部门"]] = json.loads((out / f"{stem}.scorecard.json").read_text(encoding="utf-8"))
    return found


def test_every_workbook_looking_file_is_listed_with_a_chinese_reason(review: tuple[Path, Path]) -> None:
    _, out = review
    rows = by_name(out)
    assert len(rows) == 10 + 1 + 1 + 3
    assert (
        rows["旧格式.xls"]["状态"] == "无法读取"
        and "旧版 .xls 格式（Excel 97-2003 工作簿）" in rows["旧格式.xls"]["说明"]
    )
    assert "只是扩展名" not in rows["旧格式.xls"]["说明"]
    assert rows["金山.et"]["状态"] == "无法读取" and "WPS 表格文件（.et）" in rows["金山.et"]["说明"]
    assert rows["开放格式.ods"]["状态"] == "无法读取" and "OpenDocument" in rows["开放格式.ods"]["说明"]
    for row in rows.values():
        assert row["状态"] in ("通过", "有错误", "未填写", "重复", "无法读取", "处理失败")
        assert row["说明"]


def test_a_lone_xls_is_named_as_xls(review: tuple[Path, Path]) -> None:
    folder, _ = review
    res = CliRunner().invoke(main, ["check", str(folder / "旧格式.xls")])
    assert res.exit_code == 2
    assert ".xls" in res.output and "只是扩展名为 .xlsx" not in res.output


def test_blank_template_is_not_ranked(review: tuple[Path, Path]) -> None:
    _, out = review
    blank = by_name(out)["空白模板.xlsx"]
    assert blank["状态"] == "未填写" and "不参加排名" in blank["说明"]
    # a blank workbook has no score: "—" everywhere, never 差, 0.00 and dozens of errors (issue 25)
    assert [blank[c] for c in ("总分", "排名", "等级", "错误数", "提醒数", "产出", "管理效率")] == ["—"] * 7
    ranking = table_openpyxl(out / SUMMARY_XLSX, "排名")
    assert len(ranking) - 1 == 10  # ten departments, once each
    dist = dict(table_openpyxl(out / SUMMARY_XLSX, "等级分布")[1:])
    assert sum(dist[g] for g in "优良中差") == 10 and dist["未填写"] == 1 and dist["重复"] == 1


def test_duplicate_is_flagged_and_ranked_once(review: tuple[Path, Path]) -> None:
    _, out = review
    rows = by_name(out)
    dup, kept = rows["第三测试局_初稿.xlsx"], rows["02_第三测试局.xlsx"]
    assert dup["状态"] == "重复" and dup["排名"] == "—"
    assert "02_第三测试局.xlsx" in dup["说明"] and "修改时间最新" in dup["说明"]
    assert kept["状态"] == "通过" and kept["排名"] is not None and "第三测试局_初稿.xlsx" in kept["说明"]
    assert dup["总分"] > kept["总分"]  # kept by date, not by the better score
    ranking = table_openpyxl(out / SUMMARY_XLSX, "排名")
    assert [r[1] for r in ranking[1:]].count("第三测试局") == 1


def test_ranking_sheet_has_ratios_counts_and_links(review: tuple[Path, Path]) -> None:
    _, out = review
    by_dep = cards(out)
    wb = openpyxl.load_workbook(out / SUMMARY_XLSX)
    ws = wb["排名"]
    head = [c.value for c in ws[1]]
    assert tuple(head) == RANKING_COLUMNS
    col = {name: i for i, name in enumerate(head)}
    totals = []
    for row in ws.iter_rows(min_row=2):
        dep = row[col["部门"]].value
        card = by_dep[dep]
        assert row[col["总分"]].value == card["total"] and row[col["等级"]].value == card["rating"]
        for key, label in RATIO_COLUMNS.items():
            assert row[col[label]].value == card["ratios"][key], (dep, label)
        assert row[col["错误数"]].value == card["errors"] and row[col["提醒数"]].value == card["warnings"]
        book, checks = row[col["计分工作簿"]], row[col["校验结果"]]
        assert book.hyperlink.target == checks.hyperlink.target
        assert (out / book.hyperlink.target).is_file()
        assert checks.hyperlink.location == "'校验结果'!A1"
        assert book.alignment.vertical == checks.alignment.vertical == "top"  # level with the row's text
        assert "校验结果" in openpyxl.load_workbook(out / checks.hyperlink.target, read_only=True).sheetnames
        totals.append(Decimal(str(card["total"])))
    assert totals == sorted(totals, reverse=True)


def test_management_pivot_marks_cells_below_full(review: tuple[Path, Path]) -> None:
    _, out = review
    by_dep = cards(out)
    ws = openpyxl.load_workbook(out / SUMMARY_XLSX)["管理效率"]
    head = [c.value for c in ws[1]]
    assert head[:3] == ["编号", "指标", "分值"] and set(head[3:]) == set(DEPARTMENTS)
    body = list(ws.iter_rows(min_row=2))
    assert len(body) == 22
    marked = 0
    for row in body:
        ident, full = row[0].value, row[2].value
        for cell, dep in zip(row[3:], head[3:], strict=True):
            expected = next(i for i in by_dep[dep]["indicators"] if i.get("id") == ident)
            assert cell.value == expected["score"] and full == expected["full"]
            below = Decimal(str(cell.value)) < Decimal(str(full))
            assert (cell.fill.fgColor.rgb == "00F8CBAD") == below, (ident, dep)
            marked += below
    assert marked == 2  # M04 of two departments
    assert ws.cell(row=1, column=4).value == table_openpyxl(out / SUMMARY_XLSX, "排名")[1][1]  # rank order


def test_finding_statistics_count_departments(review: tuple[Path, Path]) -> None:
    _, out = review
    by_dep = cards(out)
    head, *body = table_openpyxl(out / SUMMARY_XLSX, "问题统计")
    assert head == ["代码", "级别", "问题", "部门数", "条数", "涉及部门"]
    expected: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    for dep, card in by_dep.items():
        for f in card["findings"]:
            expected.setdefault(f["code"], set()).add(dep)
            count[f["code"]] = count.get(f["code"], 0) + 1
    assert {r[0] for r in body} == set(expected)
    for code, severity, title, n_deps, n, deps in body:
        assert n_deps == len(expected[code]) and n == count[code]
        assert set(deps.split("、")) == expected[code]
        assert severity in ("错误", "提醒") and title
    assert [r[3] for r in body] == sorted((r[3] for r in body), reverse=True)


def test_claimed_against_computed(review: tuple[Path, Path]) -> None:
    _, out = review
    by_dep = cards(out)
    head, *body = table_openpyxl(out / SUMMARY_XLSX, "自报对比")
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in body}
    assert set(rows) == {DEPARTMENTS[0], DEPARTMENTS[1]}
    right, wrong = rows[DEPARTMENTS[0]], rows[DEPARTMENTS[1]]
    assert right["是否一致"] == "一致" and right["自报总分"] == 98.57 == right["重算总分"]
    assert wrong["是否一致"] == "不一致" and wrong["自报总分"] == 99.5
    assert wrong["重算总分"] == by_dep[DEPARTMENTS[1]]["total"]
    assert Decimal(str(wrong["差额"])) == Decimal("99.50") - Decimal(str(wrong["重算总分"]))


def test_chart_axis_starts_just_below_lowest_total(review: tuple[Path, Path]) -> None:
    _, out = review
    ws = openpyxl.load_workbook(out / SUMMARY_XLSX)["总分图"]
    (chart,) = ws._charts
    low = min(r[3] for r in table_openpyxl(out / SUMMARY_XLSX, "排名")[1:])
    assert chart.y_axis.scaling.min == axis_minimum([low])
    assert low - 5 <= chart.y_axis.scaling.min < low
    assert axis_minimum([93.85, 98.57]) == 90 and axis_minimum([60.0]) == 55 and axis_minimum([2.0]) == 0


def test_rerun_on_copy_is_identical_in_table(review: tuple[Path, Path], tmp_path: Path) -> None:
    folder, out = review
    shutil.copytree(folder, tmp_path / "收件", copy_function=shutil.copy2)  # keeps the mtimes
    res = CliRunner().invoke(
        main, ["batch", str(tmp_path / "收件"), "-o", str(tmp_path / "o"), "--jobs", "1"]
    )
    assert res.exit_code == 1
    assert table_openpyxl(tmp_path / "o" / SUMMARY_XLSX, "问题统计") == table_openpyxl(
        out / SUMMARY_XLSX, "问题统计"
    )


# ------------------------------------------------------------------------------ printing (issue 14)


def _pages(pdf: Path) -> list[str]:
    n = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, n + 1)
    ]


@pytest.mark.slow
def test_summary_prints_as_a_reviewer_needs(review: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = review
    pdf = convert(out / SUMMARY_XLSX, "pdf", tmp_path / "pdf", tmp_path / "profile")
    pages = _pages(pdf)
    by_sheet: dict[str, list[str]] = {}
    for text in pages:
        sheet = next(s for s in reversed(SHEET_ORDER) if f"{PRINT_TITLE} · {s}" in text)
        by_sheet.setdefault(sheet, []).append(text)
    assert set(by_sheet) == set(SHEET_ORDER)
    # 15 files (10 departments): 汇总 and 排名 at most 3 pages each, 部门 on every page
    for sheet in ("汇总", "排名", "管理效率"):
        assert len(by_sheet[sheet]) <= 3, sheet
        for text in by_sheet[sheet]:
            assert "部门" in text or "第一测试局" in text, sheet
    assert len(by_sheet["总分图"]) == 1  # the chart alone on its page
    for i, text in enumerate(pages, start=1):
        assert f"第 {i} 页，共 {len(pages)} 页" in text
    summary = "\n".join(by_sheet["汇总"])
    for status in ("通过", "有错误", "未填写", "重复", "无法读取"):
        assert status in summary
    for english in ("unreadable", "errors", " ok "):
        assert english not in summary
    for dep in DEPARTMENTS:  # every department's row printed, none cut at a page edge
        assert dep in summary and dep in "\n".join(by_sheet["排名"])
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(len(pages)), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    for line in info.splitlines():
        if line.startswith("Page") and "size:" in line:
            w, h = (float(x) for x in line.split("size:")[1].split("pts")[0].split("x"))
            assert sorted((round(w), round(h))) == [595, 842], line  # A4, either way round
    # 问题清单: one or two lines per finding on a landscape page, not four on a portrait one (issue 25:
    # it printed 8 findings a page); the findings of every page counted by their codes
    per_page = [len(re.findall(r"\b[VIPRF]\d\d\b", text)) for text in by_sheet["问题清单"]]
    findings = len(table_openpyxl(out / SUMMARY_XLSX, "问题清单")) - 1
    assert sum(per_page) == findings and max(per_page) >= min(findings, 14), per_page
