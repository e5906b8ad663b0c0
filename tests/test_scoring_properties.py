"""Property tests of the scoring rules (docs/DOMAIN.md §1.3–1.4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from xlperf.core import evaluate
from xlperf.core.evaluation import Evaluation, IndicatorRow, Kind
from xlperf.core.framework import get_framework
from xlperf.core.quantity import Direction
from xlperf.core.rules import completion

FW = get_framework()
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


def row(target: Decimal, actual: Decimal, direction: Direction = Direction.GE) -> IndicatorRow:
    return IndicatorRow(
        name="x", kind=Kind.QUANT, direction=direction, target_value=target, unit="个", actual_value=actual
    )


def ev(outputs: list[IndicatorRow], benefits: list[IndicatorRow] | None = None) -> Evaluation:
    return Evaluation(outputs=outputs, benefits=benefits if benefits is not None else outputs[:1])


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(
        st.tuples(
            money, st.decimals(min_value=0, max_value=200000, places=2), st.sampled_from(list(Direction))
        ),
        min_size=1,
        max_size=60,
    )
)
def test_sections_stay_within_zero_and_full(rows: list[tuple[Decimal, Decimal, Direction]]) -> None:
    result = evaluate(ev([row(t, a, d) for t, a, d in rows]))
    for ind in result.indicator_scores():
        assert Decimal(0) <= ind.score <= ind.full
    for sec in result.sections:
        assert Decimal(0) <= sec.score <= sec.full
    assert Decimal(0) <= result.total <= Decimal(100)


@given(money, money, money)
def test_completion_rises_with_actual_for_ge_and_falls_for_le(
    target: Decimal, a1: Decimal, a2: Decimal
) -> None:
    lo, hi = sorted((a1, a2))
    ge_lo, _ = completion(row(target, lo, Direction.GE), FW)
    ge_hi, _ = completion(row(target, hi, Direction.GE), FW)
    le_lo, _ = completion(row(target, lo, Direction.LE), FW)
    le_hi, _ = completion(row(target, hi, Direction.LE), FW)
    assert ge_lo is not None and ge_hi is not None and le_lo is not None and le_hi is not None
    assert ge_lo <= ge_hi
    assert le_lo >= le_hi


@pytest.mark.parametrize("n", range(1, 61))
def test_all_rows_complete_gives_exactly_full_marks(n: int) -> None:
    """The 23 × 20/23 float trap: n equal weights must add back to exactly 20."""
    rows = [row(Decimal(10), Decimal(10)) for _ in range(n)]
    result = evaluate(ev(rows, rows))
    assert result.indicator("output").score == Decimal(20)
    assert result.indicator("benefit").score == Decimal(20)


@pytest.mark.parametrize(
    ("total", "rating"),
    [
        ("59.99", "差"),
        ("60", "中"),
        ("79.99", "中"),
        ("80", "良"),
        ("89.99", "良"),
        ("90", "优"),
        ("100", "优"),
        ("0", "差"),
    ],
)
def test_rating_bands(total: str, rating: str) -> None:
    assert FW.rate(Decimal(total)) == rating


def test_rule_r_a_rounds_each_deduction_half_up() -> None:
    # w = 20/23; r = 0.5 → d = 0.43478… → 0.43; r = 0.6 → 0.3478… → 0.35 (docs/DOMAIN.md §2)
    rows = [row(Decimal(10), Decimal(10)) for _ in range(23)]
    rows[2] = row(Decimal(2), Decimal(1))
    rows[4] = row(Decimal(10), Decimal(6))
    result = evaluate(ev(rows))
    assert result.indicator("output").score == Decimal("19.22")


def test_le_direction_and_zero_actual() -> None:
    assert completion(row(Decimal(5), Decimal(10), Direction.LE), FW)[0] == Decimal("0.5")
    assert completion(row(Decimal(5), Decimal(0), Direction.LE), FW)[0] == Decimal(1)
    assert completion(row(Decimal(8), Decimal(10), Direction.EQ), FW)[0] == Decimal("0.8")
    assert completion(row(Decimal(10), Decimal(8), Direction.EQ), FW)[0] == Decimal("0.8")


def test_qualitative_grades_from_framework() -> None:
    for grade, rate in [("完成", "1"), ("基本完成", "0.8"), ("部分完成", "0.5"), ("未完成", "0")]:
        r = IndicatorRow(name="q", kind=Kind.QUAL, grade=grade, target_text="t")  # type: ignore[arg-type]
        assert completion(r, FW)[0] == Decimal(rate)


def test_monthly_mean_score() -> None:
    e = Evaluation()
    e.spending.monthly = [Decimal(90)] * 6 + [Decimal(100)] * 6
    assert evaluate(e).indicator("spending").score == Decimal("9.50")
    e2 = Evaluation()
    e2.spending.annual_mean = Decimal("88.888")
    assert evaluate(e2).indicator("spending").score == Decimal("8.89")


def test_ratio_threshold_deductions() -> None:
    e = Evaluation()
    b = e.budget
    b.closing_balance, b.final_general = Decimal(7), Decimal(100)  # 结转结余率 7 % → 2 points over → −0.4
    b.opening_balance = b.final_fund = b.final_other = Decimal(0)  # typed as 0: a blank gives no ratio
    b.public_funds_actual, b.public_funds_budget = Decimal(110), Decimal(100)  # +10 % → −2.0 → floor 0
    b.fixed_assets_total, b.fixed_assets_in_use = Decimal(100), Decimal(90)  # 90 % → 5 below → −0.5
    b.three_public_actual, b.three_public_budget = Decimal(50), Decimal(100)
    r = evaluate(e)
    assert r.ratios["carryover"] == Decimal("7.00")
    assert r.indicator("M02").score == Decimal("1.60")
    assert r.indicator("M21").score == Decimal(0)
    assert r.indicator("M20").score == Decimal("1.50")
    assert r.indicator("M22").score == Decimal(2)
    b.final_other = None  # a blank 其他收入 is not a 0 (issue 25): no ratio, and the indicator is 0
    again = evaluate(e)
    assert again.ratios["carryover"] is None and again.indicator("M02").score == 0


def test_count_ratio() -> None:
    e = Evaluation()
    from xlperf.core.evaluation import ManagementEntry

    e.management = [ManagementEntry(indicator="M12", count_total=Decimal(3), count_done=Decimal(2))]
    assert evaluate(e).indicator("M12").score == Decimal("2.00")
    e.management = [ManagementEntry(indicator="M12", count_total=Decimal(0))]
    assert evaluate(e).indicator("M12").score == Decimal(3)
    e.management = [ManagementEntry(indicator="M12", answers=["是"])]  # type: ignore[list-item]
    assert evaluate(e).indicator("M12").score == Decimal(3)
    e.management = [ManagementEntry(indicator="M12")]
    assert evaluate(e).indicator("M12").score == Decimal(0)
