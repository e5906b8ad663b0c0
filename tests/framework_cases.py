"""Evaluations filled for frameworks other than guangzhou-2023, shared by the framework tests.

``sichuan_evaluation()`` is the published seed's department re-entered under the bundled
``sichuan-example`` framework: its 产出/效益 rows and months as published, 定性 rows graded in the
framework's own words, every 综合管理/部门决策/… indicator answered (some 否, some counted), and every
reason the framework's thresholds ask for written, so it has no error finding.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from framework_calc import _row_rate

from xlperf.core.evaluation import Answer, Evaluation, ManagementEntry
from xlperf.examples import example_evaluation

ROOT = Path(__file__).resolve().parents[1]
SICHUAN = "sichuan-example"
SICHUAN_DEPARTMENT = "示例县科技和经济信息化局"
SICHUAN_TOML = (ROOT / "xlperf" / "frameworks" / f"{SICHUAN}.toml").read_text(encoding="utf-8")
GUANGZHOU_TOML = (ROOT / "xlperf" / "frameworks" / "guangzhou-2023.toml").read_text(encoding="utf-8")

#: the seed's grades in the sichuan-example's words
SICHUAN_GRADES = {
    "完成": "达成年度指标",
    "基本完成": "部分达成年度指标",
    "部分完成": "部分达成年度指标",
    "未完成": "未达成年度指标",
}
#: answers that are not all 是: (indicator, answers); the rest answer 是 to every sub-item
SICHUAN_ANSWERS: dict[str, list[Answer | None]] = {
    "D03": [Answer.YES, Answer.NO],  # loses 2
    "G01": [Answer.NO],  # counted: 3 of 4
    "G03": [Answer.NA, Answer.YES],
    "P06": [Answer.YES, Answer.YES, Answer.NO, Answer.YES, Answer.NA],  # loses 1.5 of 4, five sub-items
}
#: counts (N, M) of the count indicators
SICHUAN_COUNTS = {"G01": (Decimal(4), Decimal(3)), "G02": (Decimal(0), Decimal(0))}


def with_reasons(ev: Evaluation, toml_text: str) -> Evaluation:
    """Every reason the framework's thresholds ask for, written (V12 below 100 %, V13 at the excess)."""
    fw = tomllib.loads(toml_text, parse_float=Decimal)
    c = fw["completion"]
    grades = {k: Decimal(str(v)) for k, v in c["grades"].items()}
    threshold = Decimal(str(c.get("excess_threshold", 150))) / 100
    inclusive = c.get("excess_inclusive", True)
    for row in (*ev.outputs, *ev.benefits):
        r = _row_rate(row, grades)
        if r < 1 and not row.shortfall_reason:
            row.shortfall_reason = "受外部因素影响，部分工作推迟到下一年度。"
        if (r >= threshold if inclusive else r > threshold) and not row.excess_reason:
            row.excess_reason = "年初目标按保守口径设定，实际工作量超出预期。"
    names = " ".join(row.name for row in (*ev.outputs, *ev.benefits))
    ev.problems = [*ev.problems, f"部分指标未完全完成：{names}。"]
    return ev


def sichuan_evaluation(year: int = 2024) -> Evaluation:
    fw = tomllib.loads(SICHUAN_TOML)
    ev = example_evaluation()
    ev.department.name, ev.department.short_name = SICHUAN_DEPARTMENT, "示例县科经信局"
    ev.department.year = year
    ev.claims.total, ev.claims.rating = None, ""
    for row in (*ev.outputs, *ev.benefits):
        if row.grade:
            row.grade = SICHUAN_GRADES[row.grade]
    entries = []
    for sec in fw["sections"]:
        for ind in sec["indicators"]:
            if ind["rule"] in ("completion_section", "monthly_mean"):
                continue
            answers = SICHUAN_ANSWERS.get(ind["id"], [Answer.YES] * len(ind["items"]))
            n, m = SICHUAN_COUNTS.get(ind["id"], (None, None))
            entries.append(
                ManagementEntry(
                    indicator=ind["id"],
                    answers=answers,
                    count_total=n,
                    count_done=m,
                    evidence=f"{ind['name']}：按要求开展，相关资料已归档备查。",
                )
            )
    ev.management = entries
    ev = with_reasons(ev, SICHUAN_TOML)
    return ev.model_copy(update={"framework": SICHUAN})


#: a test framework after 湖北's published 部门自评 rule (docs: FRAMEWORKS "PMK-HB"): 预算执行情况 20,
#: 产出指标 40, 效益指标和满意度指标 40, no bonus points, "可以不评级" (no rating), and the three
#: 定性 grades in its own words; the rates and the 满意度 checklist are this test's choice
HUBEI_LIKE = "hubei-like-test"
HUBEI_GRADES = {
    "完成": "达成预期指标",
    "基本完成": "部分达成预期指标并具有一定效果",
    "部分完成": "部分达成预期指标并具有一定效果",
    "未完成": "未达成预期指标且效果较差",
}
HUBEI_LIKE_TOML = f"""
id = "{HUBEI_LIKE}"
name = "测试框架（权重 20/40/40，不评级）"
total = 100
years = [2024]
sources = ["测试用：一级指标权重与“可以不评级”参照湖北部门自评评分说明，其余为测试取值"]

[rating]
bands = []

[completion]
cap = 1
excess_threshold = 200
excess_inclusive = true
grades = {{ "达成预期指标" = 1, "部分达成预期指标并具有一定效果" = 0.65, "未达成预期指标且效果较差" = 0.25 }}

[ratios]
budget_execution = {{ name = "预算执行率", numerator = ["executed"], denominator = ["total_budget"] }}

[[sections]]
id = "budget"
name = "预算执行情况"
full = 20

[[sections.indicators]]
id = "spending"
group = "预算执行"
name = "预算执行率"
full = 20
rule = "monthly_mean"

[[sections]]
id = "outputs"
name = "产出指标"
full = 40

[[sections.indicators]]
id = "output"
group = "产出"
name = "产出指标完成情况"
full = 40
rule = "completion_section"
rows = "outputs"

[[sections]]
id = "benefits"
name = "效益指标和满意度指标"
full = 40

[[sections.indicators]]
id = "benefit"
group = "效益"
name = "效益指标完成情况"
full = 30
rule = "completion_section"
rows = "benefits"

[[sections.indicators]]
id = "S1"
group = "满意度"
name = "服务对象满意度"
full = 10
rule = "checklist"
items = [
  {{ text = "开展了服务对象满意度调查", points = 4 }},
  {{ text = "满意度达到 90% 以上", points = 6 }},
]
"""


def hubei_like_evaluation(satisfied: bool = False) -> Evaluation:
    ev = example_evaluation()
    ev.department.year = 2024
    ev.claims.total, ev.claims.rating = None, ""
    for row in (*ev.outputs, *ev.benefits):
        if row.grade:
            row.grade = HUBEI_GRADES[row.grade]
    ev.management = [
        ManagementEntry(
            indicator="S1",
            answers=[Answer.YES, Answer.YES if satisfied else Answer.NO],
            evidence="委托第三方开展服务对象满意度调查。",
        )
    ]
    ev = with_reasons(ev, HUBEI_LIKE_TOML)
    return ev.model_copy(update={"framework": HUBEI_LIKE})
