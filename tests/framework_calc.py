"""A small scoring calculator written for the tests, independent of xlperf's engine.

It reads a framework's TOML with ``tomllib`` (not xlperf's loader) and an ``Evaluation``'s entered
values, and applies docs/DOMAIN.md §1 as written there: rule R-a for 产出/效益 rows (w = full ÷ n,
d = round_half_up(w × (1 − r), 2), r capped by ``completion.cap``), the monthly mean, checklists
(是/不适用 earn the item), counts (full × M ÷ N), ratios against a threshold, the total as the sum of
rounded children, the rating read off the total (or no rating when ``bands = []``). It checks
itself against the published seed (98.57, 优) in ``tests/test_framework_names.py``.

What it leaves out on purpose (the tests' evaluations do not use them): hand overrides (V43), the
direction word in a target's text, unreadable cells.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlperf.core.evaluation import Evaluation

ZERO, ONE = Decimal(0), Decimal(1)
YES_OR_NA = ("是", "不适用")


def r2(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Expected:
    total: Decimal
    rating: str  # "" when the framework does not rate
    sections: dict[str, Decimal]
    indicators: dict[str, Decimal]


def _row_rate(row: Any, grades: dict[str, Decimal]) -> Decimal:
    if row.kind is not None and row.kind.value == "定性":
        return grades.get(row.grade or "", ZERO)
    t, a = row.target_value, row.actual_value
    if t is None or a is None:
        return ZERO
    d = row.direction.value if row.direction is not None else "≥"
    if t < 0 or (t == 0 and d != "≤"):
        return ZERO
    if d == "≥":
        return a / t
    if d == "≤":
        return ONE if a == 0 else t / a
    return min(a, t) / max(a, t) if max(a, t) else ONE


def _rows(ind: dict[str, Any], ev: Evaluation, fw: dict[str, Any]) -> Decimal:
    rows = ev.outputs if ind["rows"] == "outputs" else ev.benefits
    full = Decimal(str(ind["full"]))
    if not rows:
        return ZERO
    cap = Decimal(str(fw["completion"].get("cap", 1)))
    grades = {k: Decimal(str(v)) for k, v in fw["completion"]["grades"].items()}
    w = full / len(rows)
    lost = sum((r2(w * (ONE - min(max(_row_rate(r, grades), ZERO), cap))) for r in rows), ZERO)
    return min(full, max(ZERO, full - lost))


def _monthly(ind: dict[str, Any], ev: Evaluation) -> Decimal:
    full = Decimal(str(ind["full"]))
    months = [m for m in ev.spending.monthly if m is not None]
    if len(months) == 12:
        mean = sum(months, ZERO) / 12
    elif not months and ev.spending.annual_mean is not None:
        mean = ev.spending.annual_mean
    else:
        return ZERO
    return r2(full * min(ONE, max(ZERO, mean) / 100))


def _ratio(spec: dict[str, Any], ev: Evaluation) -> Decimal | None:
    def total(names: list[str]) -> Decimal | None:
        out = ZERO
        for name in names:
            value = getattr(ev.budget, name.lstrip("-").rstrip("?"))
            if value is None:
                if not name.endswith("?"):
                    return None
                value = ZERO
            out += -value if name.startswith("-") else value
        return out

    num, den = total(spec["numerator"]), total(spec["denominator"])
    return None if num is None or den is None or den == 0 else r2(num / den * 100)


def _management(ind: dict[str, Any], ev: Evaluation, fw: dict[str, Any]) -> Decimal:
    full = Decimal(str(ind["full"]))
    entry = next((m for m in ev.management if m.indicator == ind["id"]), None)
    answers = [None if a is None else a.value for a in (entry.answers if entry else [])]
    rule = ind["rule"]
    if rule == "checklist":
        items = ind["items"]
        answers += [None] * (len(items) - len(answers))
        return sum(
            (Decimal(str(it["points"])) for it, a in zip(items, answers, strict=False) if a in YES_OR_NA),
            ZERO,
        )
    if rule == "count_ratio":
        n = entry.count_total if entry else None
        m = entry.count_done if entry else None
        if n is not None:
            if n == 0:
                return full
            return ZERO if m is None else r2(full * m / n)
        return full if answers and answers[0] in YES_OR_NA else ZERO
    if rule == "ratio_threshold":
        ratio = _ratio(fw["ratios"][ind["ratio"]], ev)
        if ratio is None:
            return ZERO
        threshold = Decimal(str(ind["threshold"]))
        beyond = ratio - threshold if ind["limit"] == "max" else threshold - ratio
        if beyond <= 0:
            return full
        floor = Decimal(str(ind.get("floor", 0)))
        return max(floor, r2(full - Decimal(str(ind["per_point"])) * beyond))
    raise ValueError(rule)


def expected(toml_text: str, ev: Evaluation) -> Expected:
    fw = tomllib.loads(toml_text, parse_float=Decimal)
    sections: dict[str, Decimal] = {}
    indicators: dict[str, Decimal] = {}
    for sec in fw["sections"]:
        score = ZERO
        for ind in sec["indicators"]:
            if ind["rule"] == "completion_section":
                s = _rows(ind, ev, fw)
            elif ind["rule"] == "monthly_mean":
                s = _monthly(ind, ev)
            else:
                s = _management(ind, ev, fw)
            indicators[ind["id"]] = s
            score += s
        sections[sec["id"]] = score
    total = sum(sections.values(), ZERO)
    bands = sorted(fw["rating"]["bands"], key=lambda b: Decimal(str(b["min"])), reverse=True)
    rating = next((b["name"] for b in bands if total >= Decimal(str(b["min"]))), "")
    return Expected(total, rating, sections, indicators)
