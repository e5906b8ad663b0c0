"""部门预算资金支出率: the mean of the 12 monthly rates (or the annual mean), full × min(1, mean/100).

The kind owns the 0–100 % range of each rate (V20: an impossible rate is never averaged or scored),
the completeness and cumulative-rate checks (V20, V21) and its paragraph in the report.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from xlperf.core.decimals import ONE, ZERO, plain, round2
from xlperf.core.evaluation import Evaluation
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import Framework, IndicatorSpec
from xlperf.core.narrative import (
    NUM,
    Checker,
    Writer,
    format_full,
    format_percent,
    format_score,
    self_ref,
    year_text,
)
from xlperf.core.report import Role
from xlperf.core.result import IndicatorScore, Result
from xlperf.core.rules import Context, RuleKind, register


@register
class MonthlyMean(RuleKind):
    """部门预算资金支出率: mean of the 12 monthly rates (or the annual mean), full × min(1, mean/100)."""

    name = "monthly_mean"
    subtotal = True
    management_entry = False
    monthly_rates = True

    def describe(self, spec: IndicatorSpec, fw: Framework) -> str:
        return (
            "按 12 个月一般公共预算支出执行率的平均数计分（没有月度数时用年度平均执行率）："
            f"得分 = {plain(spec.full)} × 平均执行率，最高 {plain(spec.full)} 分。"
        )

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        sp = ctx.evaluation.spending
        entered = [(i, m) for i, m in enumerate(sp.monthly) if m is not None]
        # V20 owns the range: a rate outside 0–100 % is never averaged, scored or printed
        bad = [
            finding(
                "V20",
                f"{i + 1}月执行率 {m}% 应在 0–100% 之间，请按财政部门通报的数填写；该项暂按 0 分计",
                f"spending.monthly[{i}]",
            )
            for i, m in entered
            if not ZERO <= m <= 100
        ]
        if not entered and sp.annual_mean is not None and not ZERO <= sp.annual_mean <= 100:
            bad.append(
                finding(
                    "V20",
                    f"年度平均执行率 {sp.annual_mean}% 应在 0–100% 之间；该项暂按 0 分计",
                    "spending.annual_mean",
                )
            )
        if bad:
            return IndicatorScore(
                spec, ctx.section, ZERO, outcome="执行率填写有误（不在0–100%之间），未计分"
            ), bad
        if entered and len(entered) < 12 and sp.annual_mean is None:
            # V20: twelve rates or an annual mean; a mean of the months that happen to be there is not scored
            absent = "、".join(str(i + 1) for i, m in enumerate(sp.monthly) if m is None)
            return IndicatorScore(spec, ctx.section, ZERO, outcome=f"缺少{absent}月执行率，未计分"), []
        months = [m for _, m in entered]
        if months:
            mean = sum(months, ZERO) / len(months)
        elif sp.annual_mean is not None:
            mean = sp.annual_mean
        else:
            mean = None
        if mean is None:
            return IndicatorScore(spec, ctx.section, ZERO, outcome="未填写执行率，得 0 分"), []
        score = round2(spec.full * min(ONE, max(ZERO, mean) / 100))
        return IndicatorScore(spec, ctx.section, score, ratio=round2(mean), inputs={"mean": mean}), []

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        out: list[Finding] = []
        _validate_months(ev, out)
        return out

    def narrate(self, w: Writer, result: Result, k: int, ind: IndicatorScore) -> None:
        _narrate(w, result, k, ind)

    def verify(self, c: Checker, result: Result, ind: IndicatorScore, block: str) -> None:
        if ind.ratio is not None:
            c.number(
                "年度平均执行率",
                rf"^（\d+）{re.escape(ind.spec.name)}。.*?年度平均执行率{NUM}%",
                ind.ratio,
                f"report.{ind.id}",
            )

    def card(self, ind: IndicatorScore, section: str) -> list[dict[str, Any]]:
        return []  # the score card gives it under "sections" (its subtotal), as docs/DESIGN.md shows


def _validate_months(ev: Evaluation, out: list[Finding]) -> None:
    sp = ev.spending
    entered = [(i, m) for i, m in enumerate(sp.monthly) if m is not None]
    if not entered and sp.annual_mean is None:
        out.append(
            finding(
                "V20", "请填写12个月的一般公共预算支出执行率，或填写年度平均执行率", "spending.monthly[0]"
            )
        )
    elif entered and len(entered) < 12 and sp.annual_mean is None:
        absent = [str(i + 1) for i, m in enumerate(sp.monthly) if m is None]
        out.append(
            finding(
                "V20",
                f"缺少 {'、'.join(absent)} 月的执行率，请补齐12个月或改填年度平均执行率",
                f"spending.monthly[{int(absent[0]) - 1}]" if absent else "spending.monthly[0]",
            )
        )
    # the 0–100 % range of each rate is checked by the monthly_mean rule, which refuses to score it
    values = [m for _, m in entered]
    if len(values) == 12 and all(a < b for a, b in pairwise(values)) and values[0] < 50:
        out.append(
            finding(
                "V21",
                "执行率逐月递增，像是累计执行率；评分按各月执行率的平均值计算，请填写财政部门通报的各月执行率",
                "spending.monthly[0]",
            )
        )


def _narrate(w: Writer, result: Result, k: int, ind: IndicatorScore) -> None:
    ev = result.evaluation
    sp = ev.spending
    monthly = any(m is not None for m in sp.monthly)
    method = (
        "按财政部门通报的部门月度一般公共预算支出执行率计算年度平均执行率"
        if monthly
        else "按填报的一般公共预算支出年度平均执行率计算"
    )
    if ind.ratio is None:
        # an impossible rate is named (never printed); blank months are left out: V20 asks for them
        rates = [
            *(m for m in sp.monthly if m is not None),
            *([sp.annual_mean] if sp.annual_mean is not None else []),
        ]
        wrong = any(not ZERO <= m <= 100 for m in rates)
        result_text = ("执行率填写有误（不在0–100%之间），未计分，" if wrong else "") + (
            f"自评得分{format_score(ind.score)}分。"
        )
    else:
        # the standard named where it deducts: score = 分值 × mean rate (the seed's 100 % needs no word)
        rule = (
            f"按评分标准，得分为分值{format_full(ind.spec.full)}分乘以年度平均执行率，"
            if ind.score < ind.spec.full
            else ""
        )
        result_text = (
            f"{self_ref(ev)}{year_text(ev)}年度全年一般公共预算支出年度平均执行率{format_percent(ind.ratio)}，"
            f"{rule}自评得分{format_score(ind.score)}分。"
        )
    w.add(
        4, f"（{k}）{ind.spec.name}。总分{format_full(ind.spec.full)}分。{method}，{result_text}", Role.LEAD
    )
