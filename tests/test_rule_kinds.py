"""A rule kind is one unit (issue 13): a new kind, written in this one file and named in a framework,
is scored, checked, narrated, read back (V42), shown and put in the score card without any other
module knowing its name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from xlperf.core import evaluate
from xlperf.core.decimals import ZERO
from xlperf.core.evaluation import Evaluation
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import Framework, IndicatorSpec, parse_framework
from xlperf.core.narrative import Writer, format_full, format_score
from xlperf.core.result import IndicatorScore, Result
from xlperf.core.rules import RULES, Context, RuleKind, register
from xlperf.examples import example_evaluation

ROOT = Path(__file__).resolve().parents[1]


@register
class ExecutionThreshold(RuleKind):
    """A 履职效能 indicator scored from the 预算执行率: full marks at or above 90 %, else none."""

    name = "test_execution_threshold"
    subtotal = True
    management_entry = False

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        rate = ctx.ratios.get("budget_execution")
        full = rate is not None and rate >= 90
        return IndicatorScore(spec, ctx.section, spec.full if full else ZERO, ratio=rate), []

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        if ind.ratio is None:
            return [finding("V32", f"“{spec.name}”无法计算：请填写全年预算数和执行数", "budget.executed")]
        return []

    def narrate(self, w: Writer, result: Result, k: int, ind: IndicatorScore) -> None:
        w.add(
            4,
            f"（{k}）{ind.spec.name}。总分{format_full(ind.full)}分，预算执行率达到90%即得满分，"
            f"自评得分{format_score(ind.score)}分。",
            "lead",
        )

    def card(self, ind: IndicatorScore, section: str) -> list[dict[str, Any]]:
        return [{"section": section, "id": ind.id, "name": ind.spec.name, "score": float(ind.score)}]


def _framework() -> Framework:
    text = (ROOT / "xlperf/frameworks/guangzhou-2023.toml").read_text(encoding="utf-8")
    text = text.replace('rule = "monthly_mean"', 'rule = "test_execution_threshold"')
    text = text.replace('id = "guangzhou-2023"', 'id = "test-new-kind"')
    return parse_framework(text, "test")


def test_a_new_kind_is_scored_checked_narrated_and_carded_through_its_own_class() -> None:
    assert "test_execution_threshold" in RULES
    fw = _framework()
    result = evaluate(example_evaluation(), fw)
    ind = next(i for i in result.indicator_scores() if i.spec.rule == "test_execution_threshold")
    assert ind.score == 10  # 96.19 % ≥ 90 %
    assert result.section_scores()[ind.id] == 10  # a 履职效能 subtotal, as the score tables show it
    assert not [f for f in result.findings if f.code == "V42"], result.findings  # narrated and read back
    text = result.report.text()
    duty = text.split("（三）管理效率分析")[0]
    assert f"（3）{ind.spec.name}。总分10分，预算执行率达到90%即得满分，自评得分10分。" in duty
    assert f"（3）{ind.spec.name}。\n" not in text  # not narrated as a 管理效率 indicator
    card = result.scorecard()
    assert {"section": "duty", "id": ind.id, "name": ind.spec.name, "score": 10.0} in card["indicators"]
    assert ind.id not in {s.id for s in fw.management()}  # no row on the 管理效率 sheet


def test_the_new_kind_owns_its_input_check() -> None:
    ev = example_evaluation()
    ev.budget.executed = None
    result = evaluate(ev, _framework())
    assert any(
        f.code == "V32" and "预算执行率达到" not in f.message and f.path == "budget.executed"
        for f in result.findings
    )
    ind = next(i for i in result.indicator_scores() if i.spec.rule == "test_execution_threshold")
    assert ind.score == 0


def test_no_module_outside_the_rules_names_a_kind() -> None:
    """grep: the kinds' names appear only in the rules package (and framework data)."""
    names = [k for k in RULES if not k.startswith("test_")]
    offenders = []
    for path in (ROOT / "xlperf").rglob("*.py"):
        if "rules" in path.relative_to(ROOT / "xlperf").parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"rule\s*(==|!=|in\b|not in\b)", text) or any(f'"{n}"' in text for n in names):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
