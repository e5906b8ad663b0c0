"""``xlperf batch`` over a department's project forms: 项目自评汇总 beside the 部门整体 汇总.

The projects are the published tables' figures (sources in tests/test_project_core.py): the 安徽
table (90: 10 + 50 + 30, 执行率 100 %) and the 重庆 arithmetic (执行率 76 % → 7.6, total 97.6), and a
form with rows below full marks and their reasons (12 of 15 after 10 of 12 built: 12.5).
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from test_project_core import anhui, funds, info, row

from xlperf.cli import main
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import get_project_framework
from xlperf.project.template import build_project_workbook

FW = get_project_framework("national-project")
DEP = "棠溪镇人民政府"


def save(ev: ProjectEvaluation, path: Path) -> Path:
    build_project_workbook(FW, ev).save(path)
    return path


def projects(folder: Path) -> None:
    folder.mkdir()
    ah = anhui()
    ah.project.department = DEP
    save(ah, folder / "委托业务.xlsx")
    cq = ProjectEvaluation(
        project=info("融媒体运行", 2022),
        funds=funds("100", "76", reason="设备款次年支付"),
        rows=[
            row("产出指标", "播出时长", "≥1000小时", "1000小时", "50"),
            row("效益指标", "覆盖人口", "≥10万人", "12万人", "30"),
            row("满意度指标", "满意度", "≥90%", "95%", "10"),
        ],
    )
    cq.project.department = DEP
    save(cq, folder / "融媒体.xlsx")
    built = ProjectEvaluation(
        project=info("便民服务站", 2022),
        funds=funds("100", "100"),
        rows=[
            row("产出指标", "新建服务站", "≥12个", "10个", "15", reason="两个站点选址调整"),
            row("产出指标", "验收合格率", "≥100%", "100%", "35"),
            row("效益指标", "服务人次", "≥5000人次", "5000人次", "30"),
            row("满意度指标", "满意度", "≥90%", "92%", "10"),
        ],
    )
    built.project.department = DEP
    save(built, folder / "服务站.xlsx")
    shutil.copy(folder / "服务站.xlsx", folder / "服务站-副本.xlsx")
    build_project_workbook(FW).save(folder / "空白.xlsx")


def test_batch_writes_the_project_summary_beside_the_department_one(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    projects(folder)
    assert CliRunner().invoke(main, ["example", "-o", str(folder / "部门.xlsx")]).exit_code == 0
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output  # the 安徽 table's own gaps, the blank form
    assert "项目自评汇总.xlsx" in result.output
    # the department 汇总 lists the department workbook only
    dept = openpyxl.load_workbook(out / "汇总.xlsx")["汇总"]
    files = [r for r in dept.iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(files) == 1
    wb = openpyxl.load_workbook(out / "项目自评汇总.xlsx")
    assert wb.sheetnames == ["部门汇总", "项目清单", "未得满分指标"]
    head, *rows = list(wb["部门汇总"].iter_rows(values_only=True))
    line = dict(zip(head, next(r for r in rows if r[0] == DEP), strict=True))
    # 3 projects counted (the copy is a duplicate, the blank one has no 主管部门 and is its own line)
    assert (line["项目数"], line["已计分"]) == (4, 3)
    # average of 90, 97.6 and 97.5 (10 + 12.5 + 35 + 30 + 10)
    assert Decimal(str(line["平均得分"])) == Decimal("95.03")
    assert line["等级分布"] == "优 3、良 0、中 0、差 0"
    assert Decimal(str(line["平均执行率（%）"])) == 92 and Decimal(str(line["最低执行率（%）"])) == 76
    projects_sheet = list(wb["项目清单"].iter_rows(values_only=True))
    # the copy of 便民服务站 (same department, project and year) is ranked once, the other is 重复
    assert sorted(r[4] for r in projects_sheet[1:] if r[2] == "便民服务站") == ["通过", "重复"]
    below = list(wb["未得满分指标"].iter_rows(min_row=2, values_only=True))
    assert below == [
        (DEP, "便民服务站", "产出指标", "新建服务站", "≥12个", "10个", 15, 12.5, "两个站点选址调整")
    ]
    with (out / "项目自评汇总.csv").open(encoding="utf-8-sig") as fh:
        listed = list(csv.DictReader(fh))
    assert {r["项目名称"] for r in listed} >= {"委托业务", "融媒体运行", "便民服务站"}
    # each project has its scored copy and score card
    assert (out / "融媒体.scored.xlsx").exists() and (out / "融媒体.scorecard.json").exists()
