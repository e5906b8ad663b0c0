"""The 自评报告 as a careful clerk writes it (issue 25), read over a second department's report: not
the seed (tests/test_narrative.py keeps the seed reproduced), but another department's workbook typed
as people type — a blank 其他收入, a spending rate of 97.88 %, a 结转结余率 above its threshold, a
requirement answered 否, a target missed without a reason, the 填报人 block filled in.

A reviewer reading it must find no machine phrasing: the phrases banned here are the ones the report
used to print. Golden figures are computed by hand from the inputs set below (docs/DOMAIN.md §1), not
taken from xlperf's output.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from xlperf.core import evaluate
from xlperf.core.evaluation import Answer, Evaluation, KeyTask
from xlperf.core.narrative import SECTION_HEADINGS
from xlperf.core.result import Result
from xlperf.examples import example_evaluation

#: what a careful clerk never writes, and the report used to (each found in a report before the fix)
BANNED = (
    "（未填写）",  # a placeholder in prose: the blank is a finding instead
    "未填写",
    "根据填报数据",
    "按填报情况",
    "答复为",  # 答复为“否”
    "未得分事项",
    "超出标准",  # which standard? the standard is named
    "未完全完成",  # a score deduction is not a failure
    "，得满分",  # the seed's ending is "根据既定的评分标准，该指标得X分"
    "无法识别",
)
ENDING = re.compile(r"根据既定的评分标准，该指标得\s*(-?\d+(?:\.\d+)?)\s*分。$")


def second_department() -> Evaluation:
    ev = example_evaluation()
    dep = ev.department
    dep.name, dep.short_name, dep.self_ref = "广州市白云区文化广电旅游体育局", "区文广旅体局", "我局"
    dep.intro = "广州市白云区文化广电旅游体育局是区政府工作部门，主管全区文化、广电、旅游和体育工作"
    dep.duties = "1、负责全区文化事业和文化产业发展。\n2、负责全区广播电视管理。\n3、负责全区旅游和体育工作。"
    dep.subordinate_units, dep.staffing = "广州市白云区文化馆\n广州市白云区体育中心", "事业编制 42 名"
    dep.preparer, dep.phone, dep.fill_date = "李明", "020-36660000", "2024年3月15日"
    ev.tasks = [
        KeyTask(name="推进公共文化服务体系建"
                     "设", content="完善区、镇（街）、村（居）"
                                  "三级公共文化设施。", completion="新建城市书房 3 间。"),
        KeyTask(name="举办全民健身赛事活动", content="组织区级全民健身赛事。", completion="举办赛事 26 场。"),
    ]  # fmt: skip
    # 收支情况: 其他收入 left blank (the clerk forgot it); the 结转结余率 is 6.00 %, above the 5 % standard
    b = ev.budget
    b.final_other = None
    b.opening_balance, b.final_general, b.final_fund = Decimal("0"), Decimal("9000"), Decimal("1000")
    b.closing_balance = Decimal("600")
    # 支出进度: eleven months at 100 %, December at 74.56 % → mean 97.88 %
    ev.spending.monthly = [Decimal("100")] * 11 + [Decimal("74.56")]
    # 预决算公开合规性: published late (answered 否 for the 20-day item)
    m04 = next(m for m in ev.management if m.indicator == "M04")
    m04.answers = [Answer.NO, Answer.YES]
    m04.evidence = "我局2023年度部门预算于批复后第25日在区政府网站公开，公开情况已通过财政部门审核。"
    m02 = next(m for m in ev.management if m.indicator == "M02")
    m02.evidence = "我局年末财政拨款结转和结余决算数为600万元。"
    # 产出 ⑤ missed, and no reason given (V12); the clerk's problems do not name it
    ev.outputs[4].shortfall_reason = ""
    ev.problems = [
        "一是部分绩效目标设置不够精准，个别指标目标值偏低。",
        "二是基层文化设施使用率有待提高。",
    ]
    ev.improvements = [
        "科学设置绩效目标，合理确定指标值。",
        "加强基层文化设施管理，提高使用效率。",
    ]
    return ev


@pytest.fixture(scope="module")
def result() -> Result:
    return evaluate(second_department())


def texts(result: Result) -> list[str]:
    return [p.text for p in result.report.paragraphs]


def test_no_machine_phrasing_is_left(result: Result) -> None:
    text = result.report.text()
    for phrase in BANNED:
        assert phrase not in text, phrase


def test_every_computed_sentence_ends_as_the_seed_ends_them(result: Result) -> None:
    body = texts(result)[: texts(result).index(SECTION_HEADINGS[2])]  # 二、: the indicators' paragraphs
    computed = [t for t in body if "计算得" in t or "评分标准为" in t or "未做到" in t]
    assert len(computed) >= 4
    for t in computed:
        assert ENDING.search(t), t
    # with 其他收入 typed as 0: 结转结余率 = 600 ÷ (0 + 9000 + 1000 + 0) = 6 %, one point above 5 %,
    # 0.2 per point → 1.8 (docs/DOMAIN.md M02)
    ev = second_department()
    ev.budget.final_other = Decimal("0")
    again = evaluate(ev)
    m02 = next(t for t in texts(again) if "结转结余率为6%" in t)
    assert "评分标准为结转结余率不高于5%得满分，每高出1个百分点扣0.2分，现高出1个百分点" in m02
    assert m02.endswith("根据既定的评分标准，该指标得1.8分。")
    assert "超出" not in m02


def test_a_requirement_answered_no_is_said_plainly(result: Result) -> None:
    m04 = next(t for t in texts(result) if t.startswith("我局2023年度部门预算于批复后第25日"))
    assert m04.endswith(
        "其中“财政部门批复后 20 日内向社会公开”未做到，扣1分。根据既定的评分标准，该指标得1分。"
    )


def test_a_blank_amount_is_a_finding_and_no_ratio_is_computed_from_it(result: Result) -> None:
    """其他收入 blank: V32 on its cell; the report prints neither the amount nor a 结转结余率 from it."""
    v32 = [f for f in result.findings if f.code == "V32" and f.path == "budget.final_other"]
    assert v32 and "没有请填 0" in v32[0].message
    assert result.ratios["carryover"] is None
    assert "其他收入" not in result.report.text() and "结转结余率为" not in result.report.text()


def test_the_spending_rate_deduction_names_its_standard_and_is_no_problem(result: Result) -> None:
    # (100 × 11 + 74.56) ÷ 12 = 97.88 %; 10 × 97.88 % = 9.79
    spending = next(t for t in texts(result) if t.startswith("（3）部门预算资金支出率。"))
    assert "年度平均执行率97.88%，按评分标准，得分为分值10分乘以年度平均执行率，自评得分9.79分。" in spending
    problems = result.report.sections()["三、存在的主要问题"]
    assert "支出率" not in problems and "97.88" not in problems


def test_problems_are_the_clerk_s_plus_real_failures_and_stay_paired_with_measures(result: Result) -> None:
    problems = result.report.sections()["三、存在的主要问题"].splitlines()
    measures = result.report.sections()["四、下一步改进措施"].splitlines()
    assert (
        problems[0] == "一是部分绩效目标设置不够精准，个别指标目标值偏低。"
    )  # the clerk's "一是" not doubled
    assert problems[1] == "二是基层文化设施使用率有待提高。"
    row = example_evaluation().outputs[4].name
    assert problems[2].startswith("三是部分绩效指标未达到年度目标值：") and row in problems[2]
    assert problems[2].count("未达到") == 1
    assert problems[3] == (
        "四是部分管理要求未落实到位。“预决算公开合规性”方面，“财政部门批复后 20 日内向社会公开”未做到。"
    )
    assert len(problems) == len(measures) == 4
    assert not any(p.count("是") > 1 and p[:2] == p[2:4] for p in problems)


def test_structure_numbering_and_closing_block(result: Result) -> None:
    lines = texts(result)
    assert [t for t in lines if t in SECTION_HEADINGS] == list(SECTION_HEADINGS)
    assert any(t.startswith("1.履职效能情况。主要包括") for t in lines)
    assert any(t.startswith("2023年度我局有两大重点工作任务，一是") for t in lines)  # 两大, not 二大
    # the seal/填报人/date block closes the report, after 四、 — never before 一、
    closing = [p for p in result.report.paragraphs if p.role == "meta"]
    assert [p.text for p in closing] == [
        "评价单位（盖章）：广州市白云区文化广电旅游体育局",
        "填报人：李明",
        "联系电话：020-36660000",
        "填报日期：2024年3月15日",
    ]
    assert list(result.report.paragraphs[-4:]) == closing
    assert lines.index(SECTION_HEADINGS[0]) == 0


def test_a_report_made_with_errors_is_a_draft_everywhere(result: Result, tmp_path: Path) -> None:
    from xlperf.pipeline import Loaded, write_report_docx, write_scored
    from xlperf.workbook.template import build_workbook, save_workbook

    assert result.errors and result.report.draft.startswith("草稿")
    assert f"尚有 {len(result.errors)} 条错误" in result.report.draft
    out = write_report_docx(result, tmp_path / "report.docx")
    doc = docx.Document(str(out))
    assert doc.paragraphs[0].text == result.report.draft
    assert "草稿" in "".join(p.text for p in doc.sections[0].header.paragraphs)
    book = save_workbook(build_workbook(result.framework, result.evaluation), tmp_path / "文广旅体局.xlsx")
    from xlperf.pipeline import assess, load_input

    loaded: Loaded = load_input(book)
    scored = write_scored(loaded, assess(loaded), tmp_path / "文广旅体局.scored.xlsx")
    sheet = openpyxl.load_workbook(scored)["自评报告"]
    assert sheet["A1"].value == "部门整体支出绩效自评报告" and str(sheet["A2"].value).startswith("草稿")
    assert sheet["A2"].font.color is not None and sheet["A2"].font.color.rgb.endswith("C00000")
