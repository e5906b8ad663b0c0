"""管理效率 kinds: checklist (Σ points of sub-items answered 是/不适用), count ratio (full × M / N) and
ratio with threshold (a computed ratio against a limit, per-point deduction, floored).

Each kind owns its own input checks (V32/V07/V33), the computed sentence of its paragraph and the
V42 read-back of its ratio; the paragraph's common parts are written by
:func:`xlperf.core.narrative.management_indicator`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from xlperf.core.decimals import ZERO, fmt2, plain, round2
from xlperf.core.evaluation import Answer, Evaluation, ManagementEntry
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import Framework, IndicatorSpec
from xlperf.core.narrative import (
    BUDGET_LABELS,
    NUM,
    Checker,
    format_full,
    format_money,
    format_percent,
    mentions,
    quoted,
    read_decimal,
    sentence,
    standard_ending,
)
from xlperf.core.result import IndicatorScore, Result
from xlperf.core.rules import Context, RuleKind, register


def _entry(ev: Evaluation, spec: IndicatorSpec) -> ManagementEntry | None:
    return next((m for m in ev.management if m.indicator == spec.id), None)


def _answered_full(answer: Answer | None) -> bool:
    return answer in (Answer.YES, Answer.NA)


def _override(
    spec: IndicatorSpec, entry: ManagementEntry | None, computed: Decimal
) -> tuple[Decimal, list[Finding]]:
    """Apply a clerk's score override (V31 range, V43 reason); return the score to use."""
    if entry is None or entry.override_score is None:
        return computed, []
    path = f"management[{spec.id}].override_score"
    if not (ZERO <= entry.override_score <= spec.full):
        return computed, [
            finding(
                "V31",
                f"“{spec.name}”的手工得分 {entry.override_score} 不在 0 与分值 {spec.full} 之间，"
                f"已按计算得分 {computed} 计",
                path,
            )
        ]
    if not entry.override_reason.strip():
        return computed, [
            finding("V43", f"“{spec.name}”填写了手工得分但没有理由，已忽略，按计算得分 {computed} 计", path)
        ]
    return entry.override_score, [
        finding(
            "V43",
            f"“{spec.name}”使用手工得分 {entry.override_score}（计算得分 {computed}），理由："
            f"{entry.override_reason.strip()}",
            path,
        )
    ]


@register
class Checklist(RuleKind):
    """Σ points of the sub-items answered 是 or 不适用."""

    name = "checklist"

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return [] if spec.items else ["checklist 规则须列出 items"]

    def describe(self, spec: IndicatorSpec, fw: Framework) -> str:
        items = "；".join(f"{fw.item_text(it)}（{plain(it.points)}分）" for it in spec.items)
        return f"逐项答复 是/否/不适用，答“是”或“不适用”得该项分值：{items}。"

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        entry = ctx.entry(spec.id)
        answers = tuple((entry.answers if entry else [])[: len(spec.items)])
        answers = answers + (None,) * (len(spec.items) - len(answers))
        computed = sum(
            (it.points for it, a in zip(spec.items, answers, strict=True) if _answered_full(a)), ZERO
        )
        score, findings = _override(spec, entry, computed)
        return IndicatorScore(spec, ctx.section, score, answers=answers, computed_score=computed), findings

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        entry = _entry(ev, spec)
        if entry is None:
            return []
        return [
            finding(
                "V32",
                f"“{spec.name}”的子项“{fw.item_text(item)}”未答复，请选择 是/否/不适用",
                f"management[{spec.id}].answers[{j}]",
            )
            for j, item in enumerate(spec.items)
            if (entry.answers[j] if j < len(entry.answers) else None) is None
        ]

    def lost_items(self, result: Result, ind: IndicatorScore) -> list[str]:
        """The sub-items answered 否, as the report says them (an unanswered one is a blank: its
        finding says so, the report does not)."""
        return [
            f"{failed}，扣{format_full(item.points)}分"
            for failed, item in zip(self.failed_items(result, ind), self._failed(ind), strict=True)
        ]

    @staticmethod
    def _failed(ind: IndicatorScore) -> list[Any]:
        return [item for item, a in zip(ind.spec.items, ind.answers, strict=False) if a is Answer.NO]

    def failed_items(self, result: Result, ind: IndicatorScore) -> list[str]:
        return [f"{quoted(result.framework.item_text(item))}未做到" for item in self._failed(ind)]


@register
class CountRatio(RuleKind):
    """full × M / N (N = 0 → full). Without counts, the one sub-item answer 是/不适用 attests "all"."""

    name = "count_ratio"
    counts = True

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return [] if spec.count_labels else ["count_ratio 规则须给出 count_labels"]

    def describe(self, spec: IndicatorSpec, fw: Framework) -> str:
        n, m = spec.count_labels or ("N", "M")
        item = fw.item_text(spec.items[0]) if spec.items else ""
        return (
            f"{item + '。' if item else ''}填写{n}（N）与{m}（M）时，得分 = {plain(spec.full)} × M ÷ N"
            f"（N 为 0 得满分）；不填数量时按答复计分。"
        )

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        entry = ctx.entry(spec.id)
        findings: list[Finding] = []
        n = entry.count_total if entry else None
        m = entry.count_done if entry else None
        answers: tuple[Answer | None, ...] = tuple((entry.answers if entry else [])[:1]) or (None,)
        inputs: dict[str, Decimal | None] = {"N": n, "M": m}
        labels = spec.count_labels or ("N", "M")
        unreadable = {f"management[{spec.id}].{a}" for a in ("count_total", "count_done")} & ctx.unreadable
        if unreadable:  # a count was typed but not understood: not scored from the answer instead (P01)
            computed, outcome = ZERO, "数量填写有误，未计分"
        elif n is not None:
            if n == 0:
                computed, outcome = spec.full, f"{labels[0]}为 0，得满分"
            elif m is None:
                computed, outcome = ZERO, f"未填写{labels[1]}"
            elif n < 0 or not ZERO <= m <= n:  # V07 says these counts are wrong: they are not scored
                computed, outcome = ZERO, f"{labels[1]} {m} 与{labels[0]} {n} 不合理，未计分"
            else:
                computed = round2(spec.full * m / n)
                outcome = f"{labels[1]} {fmt2(m)} / {labels[0]} {fmt2(n)}，得 {fmt2(computed)} 分"
        elif _answered_full(answers[0]):
            computed = spec.full
            outcome = "全部按时完成" if answers[0] is Answer.YES else "本年度无此类事项"
        else:
            computed, outcome = ZERO, "未填写数量"
        score, more = _override(spec, entry, computed)
        findings.extend(more)
        return IndicatorScore(
            spec, ctx.section, score, answers=answers, inputs=inputs, outcome=outcome, computed_score=computed
        ), findings

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        entry = _entry(ev, spec)
        if entry is None:
            return []
        out: list[Finding] = []
        p = f"management[{spec.id}]"
        n, m = entry.count_total, entry.count_done
        first = entry.answers[0] if entry.answers else None
        labels = spec.count_labels or ("N", "M")
        if n is None and first not in (Answer.YES, Answer.NA):
            out.append(
                finding(
                    "V32",
                    f"“{spec.name}”请填写{labels[0]}和{labels[1]}，或在子项中选择“是”（全部按时）/“不适用”",
                    f"{p}.count_total",
                )
            )
        if n is not None and m is None and n != 0:
            out.append(finding("V32", f"“{spec.name}”请填写{labels[1]}", f"{p}.count_done"))
        if n is not None and m is not None and (m > n or m < 0 or n < 0):
            out.append(
                finding(
                    "V07",
                    f"“{spec.name}”的{labels[1]} {m} 不能大于{labels[0]} {n}，也不能为负",
                    f"{p}.count_done",
                )
            )
        elif (
            n is not None
            and m is not None
            and first in (Answer.YES, Answer.NO)
            and (first is Answer.YES) != (m == n)
        ):
            said = "是（全部按时）" if first is Answer.YES else "否"
            out.append(
                finding(
                    "V06",
                    f"“{spec.name}”子项答复为“{said}”，但{labels[1]} {fmt2(m)} / {labels[0]} {fmt2(n)}，"
                    f"{'并非全部' if first is Answer.YES else '已全部'}完成；按数量计分，请核对答复或数量",
                    f"{p}.answers[0]",
                )
            )
        return out

    def computed_sentence(self, result: Result, ind: IndicatorScore, evidence: str) -> str:
        """The counts and the standard, ending as the seed does; nothing the 评价说明 states already, and
        nothing from a blank count (its finding says what to fill in)."""
        spec = ind.spec
        labels = spec.count_labels or ("应完成数", "已完成数")
        n, m = ind.inputs.get("N"), ind.inputs.get("M")
        score = ind.computed_score if ind.computed_score is not None else ind.score
        ending = standard_ending(evidence, score)
        if n is not None and mentions(evidence, n) and (n == 0 or mentions(evidence, m)):
            return ending
        if n is not None and n == 0:
            clauses = [f"{labels[0]}为0"]
        elif n is not None and m is not None and ZERO <= m <= n:
            clauses = [f"{labels[0]}为{fmt2(n)}", f"{labels[1]}为{fmt2(m)}"]
            clauses += [f"按{labels[1]}占{labels[0]}的比例计分"] if m < n else []
        else:
            return ""
        text = "，".join(clauses)
        return f"{text}，{ending}" if ending else sentence(text)

    def failed_items(self, result: Result, ind: IndicatorScore) -> list[str]:
        labels = ind.spec.count_labels or ("应完成数", "已完成数")
        n, m = ind.inputs.get("N"), ind.inputs.get("M")
        if n is not None and m is not None and ZERO <= m < n:
            return [f"{labels[0]}为{fmt2(n)}，{labels[1]}仅为{fmt2(m)}"]
        return []


@register
class RatioThreshold(RuleKind):
    """A computed ratio against a threshold; per-point deduction beyond it; floored."""

    name = "ratio_threshold"

    def describe(self, spec: IndicatorSpec, fw: Framework) -> str:
        ratio = fw.ratios.get(spec.ratio or "")
        name = ratio.name if ratio else str(spec.ratio)
        word, over = ("不高于", "每高出") if spec.limit == "max" else ("不低于", "每低")
        return (
            f"{name}{word} {plain(spec.threshold or ZERO)}% 得满分；"
            f"{over} 1 个百分点扣 {plain(spec.per_point or ZERO)} 分，"
            f"最低 {plain(spec.floor)} 分。"
        )

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        problems = []
        if spec.ratio not in fw.ratios:
            problems.append(f"ratio_threshold 规则引用了未定义的比率 {spec.ratio}")
        if spec.limit is None or spec.threshold is None or spec.per_point is None:
            problems.append("ratio_threshold 规则须给出 limit、threshold 和 per_point")
        return problems

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        assert spec.ratio and spec.threshold is not None and spec.per_point is not None
        ratio = ctx.ratios.get(spec.ratio)
        inputs = ctx.ratio_inputs.get(spec.ratio, {})
        entry = ctx.entry(spec.id)
        if ratio is None:
            score, findings = _override(spec, entry, ZERO)
            return IndicatorScore(
                spec,
                ctx.section,
                score,
                inputs=inputs,
                outcome="缺少计算所需数据，无法计算",
                computed_score=ZERO,
            ), findings
        beyond = ratio - spec.threshold if spec.limit == "max" else spec.threshold - ratio
        name = ctx.framework.ratios[spec.ratio].name
        word = "不高于" if spec.limit == "max" else "不低于"
        if beyond <= 0:
            computed = spec.full
            outcome = f"{name}为 {fmt2(ratio)}%，{word} {fmt2(spec.threshold)}%，得满分 {fmt2(spec.full)} 分"
        else:
            computed = max(spec.floor, round2(spec.full - spec.per_point * beyond))
            outcome = (
                f"{name}为 {fmt2(ratio)}%，{'高于' if spec.limit == 'max' else '低于'}评分标准"
                f"（{word} {fmt2(spec.threshold)}%）{fmt2(beyond)} 个百分点，"
                f"每个百分点扣 {fmt2(spec.per_point)} 分，得 {fmt2(computed)} 分"
            )
        score, findings = _override(spec, entry, computed)
        return IndicatorScore(
            spec, ctx.section, score, inputs=inputs, ratio=ratio, outcome=outcome, computed_score=computed
        ), findings

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        entry = _entry(ev, spec)
        if entry is None:
            return []
        out: list[Finding] = []
        p = f"management[{spec.id}]"
        assert spec.ratio is not None
        ratio_spec = fw.ratios[spec.ratio]
        if ind.ratio is None and not any(
            v is not None and v < 0 for v in ind.inputs.values()
        ):  # negative: V07
            needed = [f for f, v in ind.inputs.items() if v is None]  # no ratio from a blank
            what = (
                "、".join(BUDGET_LABELS.get(f, f) for f in needed) + "（没有请填 0）"
                if needed
                else "分母不能为 0 的数据"
            )
            out.append(
                finding(
                    "V32",
                    f"“{spec.name}”无法计算：请在“收支情况”中填写{what}",
                    f"budget.{needed[0]}" if needed else f"{p}.evidence",
                )
            )
        low = spec.explain_below is not None and ind.ratio is not None and ind.ratio < spec.explain_below
        if low and not entry.explanation.strip():
            out.append(
                finding(
                    "V33",
                    f"{ratio_spec.name}为 {fmt2(ind.ratio or ZERO)}%，"
                    f"低于 {fmt2(spec.explain_below or ZERO)}%，请在“情况说明”中说明原因",
                    f"{p}.explanation",
                )
            )
        return out

    def computed_sentence(self, result: Result, ind: IndicatorScore, evidence: str) -> str:
        name = result.framework.ratios[ind.spec.ratio or ""].name
        if ind.ratio is None:
            # a wrong amount (negative, or typed but unreadable) is named, never printed; a blank one
            # is left out (its finding asks for it): no ratio either way
            unreadable = {f.path for f in result.findings if f.code in ("P01", "P03")}
            wrong = [
                BUDGET_LABELS.get(k, k)
                for k, v in ind.inputs.items()
                if (v is not None and v < 0) or f"budget.{k}" in unreadable
            ]
            if wrong:
                return f"{name}无法计算（{'、'.join(wrong)}填写有误，见校验结果），本指标暂按0分计。"
            return ""
        spec = ind.spec
        score = ind.computed_score if ind.computed_score is not None else ind.score
        ending = standard_ending(evidence, score)
        assert spec.threshold is not None and spec.per_point is not None
        beyond = ind.ratio - spec.threshold if spec.limit == "max" else spec.threshold - ind.ratio
        word, over = ("不高于", "高出") if spec.limit == "max" else ("不低于", "低于")
        rule = (
            [
                f"评分标准为{name}{word}{format_full(spec.threshold)}%得满分，每{over}1个百分点扣"
                f"{format_full(spec.per_point)}分",
                f"现{over}{fmt2(beyond)}个百分点",
            ]
            if beyond > 0
            else []
        )
        clauses: list[str] = []
        if not mentions(evidence, ind.ratio, "%"):
            yi = result.evaluation.budget.unit_yi
            clauses = [
                f"{BUDGET_LABELS.get(k, k)}{format_money(v, yi=yi)}"
                for k, v in ind.inputs.items()
                if v is not None and not mentions(evidence, v)
            ]
            clauses.append(f"计算得{name}为{format_percent(ind.ratio)}")
        clauses += rule
        text = "，".join(clauses)
        if ending:
            return f"{text}，{ending}" if text else ending
        return sentence(text)

    def verify(self, c: Checker, result: Result, ind: IndicatorScore, block: str) -> None:
        """The ratio as printed — by xlperf or in the clerk's 评价说明 — must be the computed one."""
        if ind.ratio is None:
            return
        name = result.framework.ratios[ind.spec.ratio or ""].name
        stated = list(re.finditer(rf"{re.escape(name)}(?:为|是)?{NUM}%", block.replace(" ", "")))
        if not stated and not mentions(block, ind.ratio, "%"):
            c.fail(
                f"报告中找不到{name}，评分结果为 {format_percent(ind.ratio)}，请重新生成报告",
                f"report.{ind.id}",
            )
        for found in stated:
            if read_decimal(found.group(1)) != round2(ind.ratio):
                c.fail(
                    f"“{ind.spec.name}”的评价说明中写的{name}为 {found.group(1)}%，按填报数据计算为 "
                    f"{format_percent(ind.ratio)}，两者矛盾；报告照录评价说明，请改正评价说明或收支情况中的数据",
                    f"management[{ind.id}].evidence",
                )
