"""Project frameworks are data like the department's: ``xlperf frameworks`` lists them, ``check``
reports every problem of a file with its 1-based path and line, ``show`` prints the rules, ``add``
keeps a bureau's own, and ``new``/``run`` use it — here a 湖北-style file (预算执行 20, 产出 40, 效益和
满意度 40 spread freely, 定性 bands 80 %/50 %, no rating: "部门自评采取评分的形式，满分为100分，不设置
加分项，可以不评级。其中：预算执行情况20分，产出指标40分、效益指标和满意度指标40分…分别按照该指标对应分值区间
100-80%(含80%)、80-50%(含50%)、50-0%合理确定分值", the vendor's 湖北 评分说明 text)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlperf.cli import main
from xlperf.core.project.evaluation import FundRow, Funds, ProjectEvaluation, ProjectInfo, ProjectRow
from xlperf.core.project.framework import load_project_framework
from xlperf.pipeline import assess, load_any
from xlperf.project.template import build_project_workbook

HUBEI = """
form = "project"
id = "hubei-project"
name = "湖北省项目支出绩效自评"
total = 100
sources = ["湖北 hbprogoal 评分说明：预算执行情况20分，产出指标40分、效益指标和满意度指标40分，可以不评级"]

[budget]
full = 20

[rows]
weights = "free"

[[row_rules]]
rule = "positive"
operators = ["≥", ">"]

[[row_rules]]
rule = "equal"
operators = ["="]

[[row_rules]]
rule = "reverse"
operators = ["≤", "<"]
formula = "linear"

[[row_rules]]
rule = "qualitative"
operators = ["定性"]
bands = [
  { name = "达成预期指标", keyword = "达成", min = 0.8 },
  { name = "部分达成预期指标并具有一定效果", keyword = "部分达成", min = 0.5 },
  { name = "未达成预期指标且效果较差", keyword = "未达成", min = 0 },
]

[[levels]]
id = "output"
name = "产出指标"
keyword = "产出"

[[levels]]
id = "benefit"
name = "效益指标"
keyword = "效益"

[[levels]]
id = "satisfaction"
name = "满意度指标"
keyword = "满意度"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    return tmp_path


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_listing_and_show() -> None:
    listed = invoke("frameworks")
    out = listed.output  # type: ignore[attr-defined]
    assert "national-project" in out and "sichuan-project" in out and "项目支出绩效自评表" in out
    assert "guangzhou-2023" in out  # the department framework stays listed
    shown = invoke("frameworks", "show", "national-project")
    text = "".join(line.strip() for line in shown.output.splitlines())  # type: ignore[attr-defined]
    assert shown.exit_code == 0  # type: ignore[attr-defined]
    assert "预算执行率 10、产出指标 50、效益指标 30、满意度指标 10" in text
    assert "达成年度指标 80%–100%" in text and "（1 −（实际完成值 − 年度指标值）÷ 年度指标值）× 分值" in text
    assert "依据：安徽省池州市贵池区棠溪镇" in text


def test_check_lists_every_problem(home: Path) -> None:
    bad = HUBEI.replace("full = 20", "full = 120").replace('formula = "linear"', 'formula = "half"')
    path = home / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    result = invoke("frameworks", "check", str(path))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    assert "row_rules[3].formula（第" in out and "linear" in out
    path.write_text(HUBEI.replace("full = 20", "full = 120"), encoding="utf-8")
    out = invoke("frameworks", "check", str(path)).output  # type: ignore[attr-defined]
    assert "budget.full" in out and "0 与 100 之间" in out
    path.write_text(HUBEI, encoding="utf-8")
    ok = invoke("frameworks", "check", str(path))
    assert ok.exit_code == 0 and "检查通过" in ok.output  # type: ignore[attr-defined]


def test_a_bureau_adds_its_project_framework_and_uses_it(home: Path) -> None:
    path = home / "湖北.toml"
    path.write_text(HUBEI, encoding="utf-8")
    added = invoke("frameworks", "add", str(path))
    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    assert "hubei-project" in invoke("frameworks").output  # type: ignore[attr-defined]
    blank = home / "湖北项目.xlsx"
    made = invoke("new", "--framework", "hubei-project", "-o", str(blank))
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    texts = {
        str(c.value)
        for row in openpyxl.load_workbook(blank).worksheets[0].iter_rows()
        for c in row
        if c.value
    }
    assert "评价等级" not in texts  # 可以不评级: no rating line on the form
    fw = load_project_framework(path)
    ev = ProjectEvaluation(
        framework="hubei-project",
        project=ProjectInfo(name="农村公路养护", department="某县交通局", year=2024),
        funds=Funds(total=FundRow(budget=Decimal(100), executed=Decimal(80))),
        rows=[
            ProjectRow(
                level1="产出指标", name="养护里程", target="≥100公里", actual="100公里", weight=Decimal(40)
            ),
            ProjectRow(
                level1="效益指标",
                name="通行条件",
                target="明显改善",
                actual="部分达成",
                weight=Decimal(30),
                score=Decimal(15),
                reason="部分路段未完工",
            ),
            ProjectRow(
                level1="满意度指标", name="群众满意度", target="≥90%", actual="92%", weight=Decimal(10)
            ),
        ],
    )
    filled = home / "filled.xlsx"
    build_project_workbook(fw, ev).save(filled)
    result = assess(load_any(filled))  # type: ignore[call-overload]
    # 执行率 80 % × 20 = 16; 部分达成 with 80 %/50 % bands: 15 of 30 lies in [15, 24); 40 + 10
    assert result.budget.score == 16 and result.rows[1].score == 15
    assert result.total == 81 and result.rating == ""
    assert not [f for f in result.findings if f.is_error]
    run = invoke("run", str(filled), "-o", str(home / "scored.xlsx"))
    assert run.exit_code == 0 and "81.00" in run.output  # type: ignore[attr-defined]
