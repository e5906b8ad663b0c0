"""Rule kinds: how an indicator is scored. The numbers come from the framework file.

Each kind is registered by name; a framework's ``rule = "…"`` picks one. Adding a kind is a new
class here; adding or changing a framework is a TOML edit only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from xlperf.decimals import ONE, ZERO, fmt2, round2
from xlperf.evaluation import Answer, Evaluation, IndicatorRow, Kind, ManagementEntry
from xlperf.findings import Finding, finding
from xlperf.framework import Framework, IndicatorSpec
from xlperf.quantity import Direction, completion_ratio, direction_in_text
from xlperf.result import IndicatorScore, RowScore


@dataclass
class Context:
    """What a rule may look at: the inputs, the framework, the computed ratios."""

    evaluation: Evaluation
    framework: Framework
    section: str
    ratios: dict[str, Decimal | None]
    ratio_inputs: dict[str, dict[str, Decimal | None]]

    def entry(self, indicator_id: str) -> ManagementEntry | None:
        return next((m for m in self.evaluation.management if m.indicator == indicator_id), None)


class Rule(Protocol):
    name: ClassVar[str]

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]: ...

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]: ...


RULES: dict[str, Rule] = {}


def register(cls: type[Any]) -> type[Any]:
    """Class decorator: make a rule kind available to frameworks under its ``name``."""
    RULES[cls.name] = cls()
    return cls


def completion(row: IndicatorRow, fw: Framework) -> tuple[Decimal | None, str]:
    """Completion rate r of one row (DOMAIN.md §1.3), uncapped; None when it cannot be computed.

    ``source`` says why: "grade" / "value"; "missing" (an input is blank or unreadable) and
    "conflict" (the target text's direction word contradicts the 方向 column, V11) are not scored.
    """
    if row.kind is Kind.QUAL:
        if row.grade is None:
            return None, "missing"
        return fw.completion.grades[row.grade.value], "grade"
    target, actual = row.target_value, row.actual_value
    if target is None or actual is None:
        return None, "missing"
    stated = direction_in_text(row.target_text)
    if row.direction is not None and stated is not None and stated is not row.direction:
        return None, "conflict"
    return completion_ratio(target, actual, row.direction or stated or Direction.GE), "value"


def row_label(index: int, row: IndicatorRow) -> str:
    """How every message, the report and 评分汇总 name a row: its place in the table (序号N)."""
    name = row.name.strip().replace("“", "‘").replace("”", "’") or "（未命名）"
    return f"序号{index + 1}“{name}”"


def row_path(rows: str, index: int, field: str) -> str:
    """Field path of one 产出/效益 row, e.g. ``outputs[2].actual_value``."""
    return f"{rows}[{index}].{field}"


@register
class CompletionSection:
    """产出/效益: weight w = full / n; deduction per row round_half_up(w × (1 − r), 2) (rule R-a)."""

    name = "completion_section"

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return [] if spec.rows else ["completion_section 规则须指定 rows = \"outputs\" 或 \"benefits\""]

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        rows = ctx.evaluation.outputs if spec.rows == "outputs" else ctx.evaluation.benefits
        fw = ctx.framework
        findings: list[Finding] = []
        scored: list[RowScore] = []
        n = len(rows)
        weight = spec.full / n if n else ZERO
        for index, row in enumerate(rows):
            r, source = completion(row, fw)
            computed = None
            if row.override_rate is not None:
                path = row_path(spec.rows or "", index, "override_rate")
                if row.override_reason.strip():
                    computed = r
                    r, source = row.override_rate / 100, "override"
                    shown = "无法计算" if computed is None else f"{round2(computed * 100)}%"
                    findings.append(finding(
                        "V43",
                        f"{row_label(index, row)}使用手工完成率 {row.override_rate}%"
                        f"（公式计算为 {shown}），理由：{row.override_reason.strip()}",
                        path,
                    ))
                else:
                    findings.append(finding(
                        "V43",
                        f"{row_label(index, row)}填写了手工完成率但没有理由，已忽略，"
                        "按公式计分；如需调整请在“调整理由”列写明理由",
                        path,
                    ))
            used = ZERO if r is None else min(max(r, ZERO), fw.completion.cap)
            deduction = round2(weight * (ONE - used))
            scored.append(RowScore(spec.id, index, index + 1, row.name, weight, r, computed, used, deduction, source))
        # a framework may cap r above 1: a bonus can offset other rows, never lift the section past full
        total = min(spec.full, max(ZERO, spec.full - sum((s.deduction for s in scored), ZERO)))
        if n == 0:
            findings.append(finding("V10", f"没有填写任何{spec.label.removesuffix('完成情况')}，该项得 0 分", spec.rows or ""))
            total = ZERO
        return IndicatorScore(spec, ctx.section, total, rows=tuple(scored)), findings


@register
class MonthlyMean:
    """部门预算资金支出率: mean of the 12 monthly rates (or the annual mean), full × min(1, mean/100)."""

    name = "monthly_mean"

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return []

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        sp = ctx.evaluation.spending
        entered = [(i, m) for i, m in enumerate(sp.monthly) if m is not None]
        # V20 owns the range: a rate outside 0–100 % is never averaged, scored or printed
        bad = [finding("V20", f"{i + 1}月执行率 {m}% 应在 0–100% 之间，请按财政部门通报的数填写；该项暂按 0 分计",
                       f"spending.monthly[{i}]") for i, m in entered if not ZERO <= m <= 100]
        if not entered and sp.annual_mean is not None and not ZERO <= sp.annual_mean <= 100:
            bad.append(finding("V20", f"年度平均执行率 {sp.annual_mean}% 应在 0–100% 之间；该项暂按 0 分计",
                               "spending.annual_mean"))
        if bad:
            return IndicatorScore(spec, ctx.section, ZERO, outcome="执行率填写有误（不在0–100%之间），未计分"), bad
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


def _answered_full(answer: Answer | None) -> bool:
    return answer in (Answer.YES, Answer.NA)


def _override(spec: IndicatorSpec, entry: ManagementEntry | None, computed: Decimal) -> tuple[Decimal, list[Finding]]:
    """Apply a clerk's score override (V31 range, V43 reason); return the score to use."""
    if entry is None or entry.override_score is None:
        return computed, []
    path = f"management[{spec.id}].override_score"
    if not (ZERO <= entry.override_score <= spec.full):
        return computed, [finding(
            "V31", f"“{spec.name}”的手工得分 {entry.override_score} 不在 0 与分值 {spec.full} 之间，已按计算得分 {computed} 计", path
        )]
    if not entry.override_reason.strip():
        return computed, [finding(
            "V43", f"“{spec.name}”填写了手工得分但没有理由，已忽略，按计算得分 {computed} 计", path
        )]
    return entry.override_score, [finding(
        "V43", f"“{spec.name}”使用手工得分 {entry.override_score}（计算得分 {computed}），理由：{entry.override_reason.strip()}", path
    )]


@register
class Checklist:
    """Σ points of the sub-items answered 是 or 不适用."""

    name = "checklist"

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return [] if spec.items else ["checklist 规则须列出 items"]

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        entry = ctx.entry(spec.id)
        answers = tuple((entry.answers if entry else [])[: len(spec.items)])
        answers = answers + (None,) * (len(spec.items) - len(answers))
        computed = sum((it.points for it, a in zip(spec.items, answers, strict=True) if _answered_full(a)), ZERO)
        score, findings = _override(spec, entry, computed)
        return IndicatorScore(spec, ctx.section, score, answers=answers, computed_score=computed), findings


@register
class CountRatio:
    """full × M / N (N = 0 → full). Without counts, the one sub-item answer 是/不适用 attests "all"."""

    name = "count_ratio"

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return [] if spec.count_labels else ["count_ratio 规则须给出 count_labels"]

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        entry = ctx.entry(spec.id)
        findings: list[Finding] = []
        n = entry.count_total if entry else None
        m = entry.count_done if entry else None
        answers: tuple[Answer | None, ...] = tuple((entry.answers if entry else [])[:1]) or (None,)
        inputs: dict[str, Decimal | None] = {"N": n, "M": m}
        labels = spec.count_labels or ("N", "M")
        if n is not None:
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


@register
class RatioThreshold:
    """A computed ratio against a threshold; per-point deduction beyond it; floored."""

    name = "ratio_threshold"

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
                spec, ctx.section, score, inputs=inputs, outcome="缺少计算所需数据，无法计算", computed_score=ZERO
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
                f"{name}为 {fmt2(ratio)}%，{'超出' if spec.limit == 'max' else '低于'}标准 {fmt2(beyond)} 个百分点，"
                f"每个百分点扣 {fmt2(spec.per_point)} 分，得 {fmt2(computed)} 分"
            )
        score, findings = _override(spec, entry, computed)
        return IndicatorScore(
            spec, ctx.section, score, inputs=inputs, ratio=ratio, outcome=outcome, computed_score=computed
        ), findings

