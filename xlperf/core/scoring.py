"""Scoring: computed ratios and every indicator's score, by the framework's rules (docs/DOMAIN.md §1)."""

from __future__ import annotations

from decimal import Decimal

from xlperf.core.decimals import round2
from xlperf.core.evaluation import Budget, Evaluation
from xlperf.core.findings import Finding
from xlperf.core.framework import Framework, RatioSpec
from xlperf.core.result import IndicatorScore, Result, SectionScore
from xlperf.core.rules import Context


def ratio_inputs(budget: Budget, spec: RatioSpec) -> dict[str, Decimal | None]:
    """The budget fields a ratio reads, by field name (optional ones marked ``?`` in the framework)."""
    out: dict[str, Decimal | None] = {}
    for name in (*spec.numerator, *spec.denominator):
        field = name.lstrip("-").rstrip("?")
        out[field] = getattr(budget, field)
    return out


def compute_ratio(budget: Budget, spec: RatioSpec) -> Decimal | None:
    """numerator ÷ denominator × 100, rounded to 2 places; None when an input is blank or the
    denominator is 0. No ratio is computed from a blank, not even of an input marked ``name?`` (one
    that is often 0): a blank cell is not a 0, and its finding (V32) asks the clerk to type 0
    (issue 25: a blank 其他收入 used to be counted as 0 while the report printed it as 未填写)."""

    def signed_sum(names: tuple[str, ...]) -> Decimal | None:
        total = Decimal(0)
        for name in names:
            field = name.lstrip("-").rstrip("?")
            value = getattr(budget, field)
            if value is None:
                return None
            if value < 0:  # V07 calls a negative amount wrong: no ratio is computed from it
                return None
            total += -value if name.startswith("-") else value
        return total

    num, den = signed_sum(spec.numerator), signed_sum(spec.denominator)
    if num is None or den is None or den == 0:
        return None
    return round2(num / den * 100)


def score(
    evaluation: Evaluation, framework: Framework, unreadable: frozenset[str] = frozenset()
) -> tuple[Result, list[Finding]]:
    """Score every indicator. Returns the result (without findings) and the rules' own findings.
    ``unreadable``: paths of filled cells the reader could not read (a rule must not read them as blank)."""
    ratios = {key: compute_ratio(evaluation.budget, spec) for key, spec in framework.all_ratios().items()}
    inputs = {key: ratio_inputs(evaluation.budget, spec) for key, spec in framework.ratios.items()}
    findings: list[Finding] = []
    sections: list[SectionScore] = []
    for sec in framework.sections:
        ctx = Context(evaluation, framework, sec.id, ratios, inputs, unreadable)
        scored: list[IndicatorScore] = []
        for spec in sec.indicators:
            ind, more = spec.kind.score(spec, ctx)
            scored.append(ind)
            findings.extend(more)
        sections.append(SectionScore(sec.id, sec.name, sec.full, tuple(scored)))
    return Result(evaluation, framework, tuple(sections), ratios), findings
