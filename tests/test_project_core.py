"""The 项目支出绩效自评表's core (docs/DOMAIN.md §5): published tables as golden cases, and every row
rule at its edges against a small calculator written here, independently of xlperf's arithmetic.

Golden figures come from published filled tables, never from xlperf's output:

- AH: 安徽省池州市贵池区棠溪镇 2022 年度“委托业务”项目支出绩效自评表 (a mirror of the published doc:
  http://www.anthempetcare.com/upload_cz/download?id=502364&siteId=2). 项目资金: 年度资金总额 0 | 0 | 0,
  分值 10, 执行率 0, 得分 0; 本年财政拨款 90 | 89.974 | 89.974. 产出 (50): 基建工程委托业务项目数量
  ≥50个 → 50, 8/8; 委托业务报告合格率 ≥100 → 100, 8/8; 经费支出合规性 (定性) 达成预期指标 8/8;
  提交报告及时性 (定性) 8/8; 项目总成本 ≤90万元 → 90, 8/8; 单项业务成本 (定性) 10/10. 效益 (30):
  three 定性 rows 效果明显 → 达成预期指标, 10/10 each. 满意度: truncated in the source.
- CQ: 重庆 西部科学城融媒体中心 2021 绩效自评表 (https://m.yzwku.com/doc/98587.html): 执行率 76 %,
  权重 10 → 7.6; every indicator row at full marks (Σ 90); total 97.6.
- SC-DY: 四川省大英县 2023 部门预算项目支出绩效自评表 (https://dyxrmt.cn/article-157795-21.html):
  安可替代补助 年初 0.00, 调整后 3.36, 执行 3.36, 100 %, 权重 10, 得分 10; 成本控制数 ≤30万元,
  完成值 “完成”, 权重 90, 得分 90.
- SC-QS: 四川省青神县 2023 部门预算项目支出绩效自评表 (https://www.scqs.gov.cn/info/13206/211004.htm):
  工资性支出 238.93 / 251.89 / 251.89, 100 %, 权重 10; indicators 60 + 30, no 满意度 row.
- The rules per row, the 定性 bands and the national weights and rating: the vendor's 自评自动计算得分规则
  (正向 a ≥ t → w, else round(a/t·w, 2); 等于; 反向 linear to 0 at 2t; 定性 [0.8w, w], [0.6w, 0.8w),
  [0, 0.6w)); the alternative 反向 rule t/a·w of the 填报说明 (http://biz.doczj.com/doc/174893555.html);
  优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60 (财政部预算司, http://www.dz-gczx.com/wap/articleDetails_id_1290.html).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path

import pytest

from xlperf.core.findings import CODES
from xlperf.core.framework import FrameworkError
from xlperf.core.project import evaluate_project
from xlperf.core.project.evaluation import FundRow, Funds, ProjectEvaluation, ProjectInfo, ProjectRow
from xlperf.core.project.framework import (
    ProjectFramework,
    get_project_framework,
    load_project_framework,
    parse_project_framework,
    project_bundled_ids,
)

D = Decimal
NATIONAL = get_project_framework("national-project")
SICHUAN = get_project_framework("sichuan-project")


# ------------------------------------------------------------------ an independent calculator


def _r2(x: Fraction) -> Fraction:
    """Half up to 2 places, in exact fractions (the published rule: round(…, 2))."""
    scaled = x * 100
    whole = int(scaled)  # toward zero; x ≥ 0 here
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole, 100)


def calc_row(op: str, w: str, t: str, a: str, reverse: str = "linear") -> Fraction:
    """The published per-row rules, written out again: w 分值, t 年度指标值, a 实际完成值."""
    W, T, A = Fraction(w), Fraction(t), max(Fraction(0), Fraction(a))  # negative actuals count 0
    if op in ("≥", ">") or (op == "=" and T > 0):
        return W if A >= T else min(W, _r2(A / T * W))
    if op == "=":
        return W if A <= 0 else Fraction(0)
    # 反向
    if A <= T:
        return W
    if T == 0:
        return Fraction(0)
    if reverse == "ratio":
        return min(W, _r2(T / A * W))
    return Fraction(0) if A >= 2 * T else _r2((1 - (A - T) / T) * W)


def as_dec(x: Fraction) -> Decimal:
    return (D(x.numerator) / D(x.denominator)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------ helpers


def funds(budget: str, executed: str, initial: str | None = None, reason: str = "") -> Funds:
    row = FundRow(initial=None if initial is None else D(initial), budget=D(budget), executed=D(executed))
    return Funds(total=row, current=row, reason=reason)


def variant(*edits: tuple[str, str]) -> ProjectFramework:
    """The bundled national framework with some lines of its TOML changed."""
    text = (resources.files("xlperf") / "frameworks" / "project" / "national-project.toml").read_text("utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return parse_project_framework(text, "variant")


def row(level1: str, name: str, target: str, actual: str, weight: str, **kw: str) -> ProjectRow:
    score = kw.pop("score", None)
    return ProjectRow(
        level1=level1,
        name=name,
        target=target,
        actual=actual,
        weight=D(weight),
        score=None if score is None else D(score),
        **kw,
    )


def info(name: str = "测试项目", year: int = 2024) -> ProjectInfo:
    return ProjectInfo(name=name, department="测试局", unit="测试单位", year=year)


def codes(result: object) -> list[str]:
    return [f.code for f in result.findings]  # type: ignore[attr-defined]


def single(op: str, w: str, t: str, a: str, fw=NATIONAL, **kw: str):  # type: ignore[no-untyped-def]
    """A form with one 产出 row (and filler rows so the weights add up), scored by ``fw``."""
    target = t if op in ("", "定性") else f"{op}{t}"
    first = row("产出指标", "被测指标", target, a, w, **kw)
    rest = D(90) - D(w)
    rows = [first]
    if rest > 0:
        rows.append(row("效益指标", "其余指标", "≥1", "1", str(rest)))
    ev = ProjectEvaluation(project=info(), funds=funds("100", "100"), rows=rows)
    return evaluate_project(ev, fw)


# ------------------------------------------------------------------ the frameworks


def test_bundled_project_frameworks() -> None:
    assert {"national-project", "sichuan-project"} <= set(project_bundled_ids())
    fw = NATIONAL
    # national defaults: 预算执行率 10, 产出 50, 效益 30, 满意度 10; 优 ≥ 90 …
    assert fw.budget.full == 10
    assert [(lv.name, lv.full) for lv in fw.levels] == [
        ("产出指标", 50),
        ("效益指标", 30),
        ("满意度指标", 10),
    ]
    assert fw.rating_names() == ["优", "良", "中", "差"]
    assert [fw.rate(D(x)) for x in ("90", "89.99", "80", "79.99", "60", "59.99")] == [
        "优",
        "良",
        "良",
        "中",
        "中",
        "差",
    ]
    q = fw.qualitative
    assert q is not None and [b.min for b in q.bands] == [D("0.8"), D("0.6"), D(0)]
    assert fw.sources and SICHUAN.sources
    # 四川: 10 + 90 spread freely, a reason below 90 %
    assert SICHUAN.budget.full == 10 and SICHUAN.budget.explain_below == 90
    assert SICHUAN.rows.weights == "free" and all(lv.full is None for lv in SICHUAN.levels)


GOOD = """
form = "project"
id = "tiny-project"
name = "测试项目框架"
total = 100
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
formula = "ratio"
[[row_rules]]
rule = "qualitative"
operators = ["定性"]
bands = [
  { name = "达成", keyword = "达成", min = 0.8 },
  { name = "部分达成", keyword = "部分达成", min = 0.5 },
  { name = "未达成", keyword = "未达成", min = 0 },
]
[[levels]]
id = "output"
name = "产出指标"
keyword = "产出"
"""


def test_a_project_framework_file_works_without_python(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD, encoding="utf-8")
    fw = load_project_framework(path)
    assert fw.id == "tiny-project" and not fw.rated and fw.rate(D(99)) == ""
    # 湖北-style 80 %/50 % bands: 部分达成 of w = 10 runs from 5 to under 8
    r = single("定性", "10", "好", "部分达成", fw=fw, score="5")
    assert r.rows[0].score == 5 and "J14" not in codes(r)
    r = single("定性", "10", "好", "部分达成", fw=fw, score="4.99")
    assert r.rows[0].score == 5 and "J14" in codes(r)


def test_framework_problems_are_listed_with_paths_and_lines() -> None:
    bad = GOOD.replace('formula = "ratio"', 'formula = "half"').replace("full = 20", "full = 120")
    bad = bad.replace('operators = ["≤", "<"]', 'operators = ["≤", "<", "≥"]')
    with pytest.raises(FrameworkError) as exc:
        parse_project_framework(bad, "bad.toml")
    text = str(exc.value)
    # pydantic problems first (a wrong literal), with the 1-based path and the line
    assert "row_rules[3].formula" in text and "第" in text and "linear" in text
    good_literal = bad.replace('formula = "half"', 'formula = "linear"')
    with pytest.raises(FrameworkError) as exc:
        parse_project_framework(good_literal, "bad.toml")
    problems = exc.value.problems
    assert any(p.startswith("budget.full") and "0 与 100" in p for p in problems)
    assert any("row_rules[3].operators" in p and "“≥”已由 row_rules[1]" in p for p in problems)
    # a framework without form = "project" is not a project framework
    with pytest.raises(FrameworkError, match="form"):
        parse_project_framework(GOOD.replace('form = "project"', ""), "x.toml")


def test_framework_checks_bands_operators_and_sums() -> None:
    text = GOOD.replace("min = 0.5", "min = 0.9").replace('operators = ["定性"]', 'operators = ["定性", "≈"]')
    text = text.replace('weights = "free"', 'weights = "fixed"')
    with pytest.raises(FrameworkError) as exc:
        parse_project_framework(text, "x.toml")
    problems = "\n".join(exc.value.problems)
    assert "row_rules[4]" in problems and "从高到低" in problems
    assert "不认识计算符号“≈”" in problems
    assert "levels[1].full" in problems  # fixed weights need a 分值 per 一级
    missing = GOOD.replace('[[row_rules]]\nrule = "reverse"\noperators = ["≤", "<"]\nformula = "ratio"\n', "")
    with pytest.raises(FrameworkError, match="计算符号 ≤ < 没有计分规则"):
        parse_project_framework(missing, "x.toml")
    assert "project" in NATIONAL.canonical() and len(NATIONAL.sha256) == 64


# ------------------------------------------------------------------ golden: 安徽 (AH)


def anhui() -> ProjectEvaluation:
    out = "产出指标(50分)"
    ben = "效益指标(30分)"
    rows = [
        row(out, "基建工程委托业务项目数量", "≥50个", "50", "8", level2="数量指标", score="8"),
        row(out, "委托业务报告合格率", "≥100", "100", "8", level2="质量指标", score="8"),
        row(out, "经费支出合规性", "合规", "达成预期指标", "8", level2="质量指标", score="8"),
        row(out, "提交报告及时性", "及时", "达成预期指标", "8", level2="时效指标", score="8"),
        row(out, "项目总成本", "≤90万元", "90", "8", level2="成本指标", score="8"),
        row(out, "单项业务成本", "合理", "达成预期指标", "10", level2="成本指标", score="10"),
        *(
            row(ben, f"社会效益{i}", "效果明显", "达成预期指标", "10", level2="社会效益指标", score="10")
            for i in (1, 2, 3)
        ),
    ]
    money = Funds(
        total=FundRow(initial=D(0), budget=D(0), executed=D(0)),
        current=FundRow(initial=D(90), budget=D("89.974"), executed=D("89.974")),
        full=D(10),
        rate=D(0),
        score=D(0),
    )
    return ProjectEvaluation(project=info("委托业务", 2022), funds=money, rows=rows)


def test_anhui_table() -> None:
    r = evaluate_project(anhui(), NATIONAL)
    levels = {lv.id: lv for lv in r.levels}
    assert levels["output"].full == 50 and levels["output"].score == 50  # 产出 rows sum to 50
    assert levels["benefit"].full == 30 and levels["benefit"].score == 30  # 效益 to 30
    # the total row left at 0: A and B from 当年财政拨款, 89.974 / 89.974 = 100 % → 10
    assert r.budget.from_parts and r.budget.budget == D("89.974")
    assert r.budget.rate == 100 and r.budget.score == 10
    assert r.total == 90  # 10 + 50 + 30 (the 满意度 rows are cut off in the source)
    j03 = [f for f in r.findings if f.code == "J03"]
    assert len(j03) == 1 and j03[0].path == "funds.total.budget" and "89.974" in j03[0].message
    # the form's own 执行率 0 and 得分 0 on the empty total row are flagged with the computed figures
    j04 = {f.path: f.message for f in r.findings if f.code == "J04"}
    assert set(j04) == {"funds.rate", "funds.score"} and "应为 10 分" in j04["funds.score"]
    # the 定性 rows read 达成预期指标 as the top grade; every row at its 分值 needs no reason
    assert {row.grade for row in r.rows if row.operator == "定性"} == {"达成年度指标"}
    assert not {"J12", "J14", "J17"} & set(codes(r))
    # the 满意度 rows are missing: the weights do not reach 100 (J20), 满意度 has 0 of 10 (J22)
    assert "J20" in codes(r) and "J22" in codes(r)


# ------------------------------------------------------------------ golden: 重庆 (CQ)


def test_chongqing_arithmetic() -> None:
    rows = [
        row("产出指标", "数量", "≥10个", "10", "50"),
        row("效益指标", "效益", "≥1", "1", "30"),
        row("满意度指标", "满意度", "≥90%", "95%", "10"),
    ]
    ev = ProjectEvaluation(project=info(), funds=funds("100", "76"), rows=rows)
    r = evaluate_project(ev, NATIONAL)
    assert r.budget.rate == 76 and r.budget.score == D("7.6")  # 76 % → 7.6
    assert r.total == D("97.6") and r.rating == "优"  # 7.6 + 90
    assert not [f for f in r.findings if f.is_error]
    # 76 % is no reason to explain nationally, but is in 四川 (below 90 %)
    r = evaluate_project(ev, SICHUAN)
    assert [f.path for f in r.findings if f.code == "J06"] == ["funds.reason"]
    ev.funds.reason = "部分设备采购合同延至次年支付"
    assert "J06" not in codes(evaluate_project(ev, SICHUAN))


# ------------------------------------------------------------------ golden: 四川 10 + 90 (SC-DY, SC-QS)


def test_sichuan_tables() -> None:
    money = Funds(
        total=FundRow(initial=D(0), budget=D("3.36"), executed=D("3.36")),
        full=D(10),
        rate=D(100),
        score=D(10),
    )
    cost = row("产出指标", "成本控制数", "≤30万元", "完成", "90", level2="成本指标", score="90")
    ev = ProjectEvaluation(project=info("安可替代补助", 2023), funds=money, rows=[cost])
    r = evaluate_project(ev, SICHUAN)
    assert r.budget.rate == 100 and r.budget.score == 10  # 3.36 / 3.36
    assert "J20" not in codes(r)  # 10 + 90 = 100, one row may carry all 90
    # the published 完成值 “完成” is no number: the row cannot be checked against ≤30万元 and says so
    p01 = [f for f in r.findings if f.code == "P01"]
    assert p01 and p01[0].path == "rows[0].actual" and "没有数值" in p01[0].message
    ev.rows[0].actual = "30万元"
    r = evaluate_project(ev, SICHUAN)
    assert r.rows[0].score == 90 and r.total == 100 and r.rating == "优"
    assert not [f for f in r.findings if f.is_error]
    # 青神: 238.93 / 251.89 / 251.89 → 100 %, 10; indicators 60 + 30 without a 满意度 row: no weight finding
    money = Funds(total=FundRow(initial=D("238.93"), budget=D("251.89"), executed=D("251.89")))
    rows = [
        row("产出指标", "发放人数", "≥40人", "40人", "60"),
        row("效益指标", "保障运转", "达成", "达成年度指标", "30", score="30"),
    ]
    r = evaluate_project(ProjectEvaluation(project=info("工资性支出", 2023), funds=money, rows=rows), SICHUAN)
    assert r.budget.score == 10 and r.total == 100
    assert not {"J20", "J21", "J22"} & set(codes(r))
    # the same rows under the national framework: 一级 weights 60/30/0 differ from 50/30/10 (warnings only)
    r = evaluate_project(ProjectEvaluation(project=info(), funds=money, rows=rows), NATIONAL)
    assert [f.code for f in r.findings if f.code.startswith("J2")] == ["J22", "J22"]
    assert not r.has_errors


# ------------------------------------------------------------------ every row rule at its edges

QUANT_CASES = [
    # (op, w, t, a)
    ("≥", "8", "50", "50"),  # a = t
    ("≥", "8", "50", "49"),
    ("≥", "8", "50", "100"),  # a = 2t (capped at w)
    ("≥", "8", "50", "0"),
    ("≥", "8", "50", "-5"),  # negative a counts 0
    ("≥", "7", "3", "1"),  # 2.333… → 2.33
    ("≥", "10", "6", "5"),  # 8.333… → 8.33
    ("≥", "9", "8", "7.5"),  # 8.4375 → 8.44
    (">", "5", "0", "0"),  # t = 0
    ("=", "10", "0", "0"),  # t = 0, a = 0
    ("=", "10", "0", "1"),  # t = 0, a > 0
    ("=", "10", "100", "99"),
    ("=", "10", "100", "120"),
    ("≤", "8", "90", "90"),  # a = t
    ("≤", "8", "90", "60"),
    ("≤", "8", "90", "135"),  # 1.5t
    ("≤", "8", "90", "180"),  # a = 2t
    ("≤", "8", "90", "200"),
    ("≤", "8", "90", "90.01"),
    ("≤", "6", "0", "0"),  # t = 0
    ("≤", "6", "0", "3"),
    ("<", "8", "7", "-1"),  # negative a counts 0
]


@pytest.mark.parametrize(("op", "w", "t", "a"), QUANT_CASES)
def test_quantitative_rules_at_their_edges(op: str, w: str, t: str, a: str) -> None:
    for fw, reverse in ((NATIONAL, "linear"), (SICHUAN, "ratio")):
        r = single(op, w, t, a, fw=fw)
        got = r.rows[0]
        assert got.operator == op and got.scored
        assert got.score == as_dec(calc_row(op, w, t, a, reverse)), (fw.id, op, w, t, a)
        assert got.score <= D(w)  # no row above its 分值
        if D(a) < 0:
            assert "J16" in codes(r)


def test_the_two_reverse_formulas_differ_at_one_and_a_half_t() -> None:
    # a = 1.5t: (1 − 0.5)·w = 0.50w against t/a·w = 0.67w
    assert single("≤", "6", "90", "135", fw=NATIONAL).rows[0].score == 3
    assert single("≤", "6", "90", "135", fw=SICHUAN).rows[0].score == 4


BAND_CASES = [
    # (grade, w, typed score, expected score, flagged)
    ("达成年度指标", "10", "8", "8", False),  # the lower edge belongs to the band
    ("达成年度指标", "10", "10", "10", False),  # the top band includes w
    ("达成年度指标", "10", "7.99", "8", True),
    ("达成年度指标", "10", "10.5", "10", True),  # never above 分值
    ("部分达成年度指标并具有一定效果", "10", "6", "6", False),
    ("部分达成年度指标并具有一定效果", "10", "7.99", "7.99", False),
    ("部分达成年度指标并具有一定效果", "10", "8", "7.99", True),  # 0.8w belongs to the band above
    ("部分达成年度指标并具有一定效果", "10", "5.99", "6", True),
    ("未达成年度指标且效果较差", "10", "0", "0", False),
    ("未达成年度指标且效果较差", "10", "5.99", "5.99", False),
    ("未达成年度指标且效果较差", "10", "6", "5.99", True),
    ("未达成年度指标且效果较差", "10", "-1", "0", True),
    ("达成预期指标", "8", "6.4", "6.4", False),  # 湖北/安徽 wording of the top grade; 0.8 × 8
    ("部分达成预期指标", "8", "4.8", "4.8", False),  # 0.6 × 8
]


@pytest.mark.parametrize(("grade", "w", "typed", "expected", "flagged"), BAND_CASES)
def test_qualitative_bands_at_their_edges(
    grade: str, w: str, typed: str, expected: str, flagged: bool
) -> None:
    r = single("定性", w, "效果明显", grade, score=typed, reason="原因")
    assert r.rows[0].score == D(expected)
    assert ("J14" in codes(r)) is flagged


def test_qualitative_without_grade_or_score() -> None:
    r = single("定性", "10", "效果明显", "很好", score="9")
    assert "J14" in codes(r) and "达成年度指标" in next(f.message for f in r.findings if f.code == "J14")
    r = single("定性", "10", "效果明显", "部分达成")
    j14 = next(f for f in r.findings if f.code == "J14")
    assert (
        j14.path == "rows[0].score" and r.rows[0].score == 6
    )  # the band's lower edge until a score is given


# ------------------------------------------------------------------ reasons, 不适用, caps, units


def test_reasons_below_full_and_far_above_target() -> None:
    r = single("≥", "10", "100", "90")
    assert [f.path for f in r.findings if f.code == "J12"] == ["rows[0].reason"]
    assert "J12" not in codes(single("≥", "10", "100", "90", reason="受疫情影响，已调整计划"))
    # national: 130 % of the target needs a reason (no deduction); 129.99 % does not
    r = single("≥", "10", "100", "130")
    assert "J13" in codes(r) and r.rows[0].score == 10
    assert "J13" not in codes(single("≥", "10", "100", "129.99"))
    assert "J13" not in codes(single("≤", "10", "100", "10"))  # less is better for 反向 rows
    # a framework that deducts (the platform manual: 2 points) takes them with or without a reason
    deducting = variant(("excess_deduct = 0 ", "excess_deduct = 2 "))
    r = single("≥", "10", "100", "150", fw=deducting, reason="年初指标设置偏低")
    assert r.rows[0].deduction == 2 and r.rows[0].score == 8 and "J13" not in codes(r)


def test_not_applicable_rows_rescale_where_allowed() -> None:
    rows = [
        row("产出指标", "数量", "≥10个", "10", "40"),
        row("产出指标", "质量", "≥100%", "不适用", "10"),
        row("效益指标", "效益", "≥1", "0.5", "30", reason="推广延后"),
        row("满意度指标", "满意度", "≥90%", "95%", "10"),
    ]
    ev = ProjectEvaluation(project=info(), funds=funds("100", "100"), rows=rows)
    r = evaluate_project(ev, NATIONAL)
    # 10 + 40 + 15 + 10 = 75 of the 90 that apply → 75 × 100 / 90 = 83.33
    assert r.raw_total == 75 and r.applicable_full == 90 and r.total == D("83.33")
    assert "J19" in codes(r) and "J18" not in codes(r)
    r = evaluate_project(ev, SICHUAN)  # 四川 does not allow 不适用: an error, scored 0
    assert "J18" in codes(r) and r.total == 75


def test_whole_score_caps_by_execution_rate() -> None:
    # the platform manual's caps: 70–80 % → at most 89, 60–70 % → 79, below 60 % → 69, below 50 % → 59
    capped = variant(
        (
            "# caps = [{ below = 80, max = 89 }]",
            "caps = [{ below = 80, max = 89 }, { below = 70, max = 79 }, { below = 60, max = 69 }, "
            "{ below = 50, max = 59 }]",
        )
    )
    rows = [
        row("产出指标", "数量", "≥1", "1", "50"),
        row("效益指标", "效益", "≥1", "1", "30"),
        row("满意度指标", "满意", "≥1", "1", "10"),
    ]
    for executed, total in (
        ("80", "98"),
        ("79.99", "89"),
        ("70", "89"),
        ("69.99", "79"),
        ("55", "69"),
        ("49.99", "59"),
    ):
        ev = ProjectEvaluation(project=info(), funds=funds("100", executed, reason="x"), rows=rows)
        r = evaluate_project(ev, capped)
        assert r.total == D(total), executed
        assert ("J32" in codes(r)) is (D(total) < 90 + D(executed) / 10)


def test_units_mixed_and_totals_typed() -> None:
    # 万元 and 元 in one row: converted with a note; 个 against 家: not comparable
    r = single("≤", "10", "90万元", "899740元")
    assert r.rows[0].actual == D("89.974") and r.rows[0].score == 10 and "P02" in codes(r)
    r = single("≥", "10", "50个", "52家")
    assert "J15" in codes(r) and not r.rows[0].scored and r.rows[0].score == 0
    # the direction word in the target against the 计算符号
    r = single("", "10", "≤90万元", "80万元", operator="≥")
    assert "J11" in codes(r)
    # a target without any direction: scored as ≥ with a warning
    r = single("", "10", "100%", "100%")
    assert "J24" in codes(r) and r.rows[0].score == 10
    # a typed 得分 that the rule does not give, a typed 合计 and 等级
    r = single("≥", "10", "100", "90", score="10", reason="x")
    assert [f.path for f in r.findings if f.code == "J17"] == ["rows[0].score"]
    ev = ProjectEvaluation(
        project=info(),
        funds=funds("100", "100"),
        rows=[row("产出指标", "数量", "≥1", "1", "90")],
        claimed_total=D(95),
        claimed_rating="良",
    )
    r = evaluate_project(ev, NATIONAL)
    assert {"J30", "J31"} <= set(codes(r)) and r.total == 100


def test_budget_block_checks() -> None:
    ev = ProjectEvaluation(
        project=info(),
        funds=Funds(total=FundRow(budget=D(100))),
        rows=[row("产出指标", "a", "≥1", "1", "90")],
    )
    r = evaluate_project(ev, NATIONAL)
    assert r.budget.rate is None and r.budget.score == 0 and "J02" in codes(r)
    ev.funds = Funds(
        total=FundRow(budget=D(100), executed=D(110)),
        current=FundRow(budget=D(60), executed=D(70)),
        other=FundRow(budget=D(30), executed=D(30)),
        full=D(20),
    )
    r = evaluate_project(ev, NATIONAL)
    assert r.budget.rate == 110 and r.budget.score == 10  # at most 分值
    assert {"J03", "J05", "J07"} <= set(codes(r))
    assert [f.path for f in r.findings if f.code == "J03"] == ["funds.total.budget", "funds.total.executed"]


def test_report_outline_and_readback() -> None:
    r = evaluate_project(anhui(), NATIONAL)
    headings = [p.text for p in r.report.paragraphs if p.level == 1]
    assert headings == [
        "一、项目基本情况",
        "二、绩效目标实现情况",
        "三、偏差原因分析",
        "四、存在问题及改进措施",
    ]
    assert r.report.title == "项目支出绩效自评报告"
    text = r.report.text()
    assert "自评得分90分" in text and "预算执行率为100%，得分10分" in text
    assert "J40" not in codes(r)
    # a report whose numbers differ from the result is caught
    from dataclasses import replace

    from xlperf.core.project.narrative import check_project_report

    wrong = replace(r, total=D("91"))
    assert [f.code for f in check_project_report(wrong, r.report)] == ["J40"]


def test_every_project_code_is_known() -> None:
    for code in ("J01", "J02", "J03", "J04", "J05", "J06", "J07", "J10", "J11", "J12", "J13", "J14", "J15"):
        assert code in CODES
