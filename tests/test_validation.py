"""Each validation code of docs/DOMAIN.md §3 has a case that triggers it and one that does not.

The seed is the "does not" baseline for most codes; each test changes one input.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from xlperf.core import evaluate
from xlperf.core.evaluation import Answer, Evaluation, Grade, Kind, ManagementEntry
from xlperf.core.findings import CODES, Severity
from xlperf.core.quantity import Direction

D = Decimal


def codes(e: Evaluation) -> set[str]:
    return {f.code for f in evaluate(e).findings}


def paths(e: Evaluation, code: str) -> set[str]:
    return {f.path for f in evaluate(e).findings if f.code == code}


def located(e: Evaluation, code: str) -> set[tuple[str, str]]:
    return {(f.path, f.message) for f in evaluate(e).findings if f.code == code}


def _v01(e: Evaluation) -> None:
    e.budget.total_budget = D("80000")


def _v02(e: Evaluation) -> None:
    e.budget.spend_fund = D("2000")


def _v03(e: Evaluation) -> None:
    e.budget.spend_basic = D("3000")


def _v04(e: Evaluation) -> None:
    e.budget.stated_execution_rate = D("92.13")  # the seed's typed rate


def _v05(e: Evaluation) -> None:
    e.budget.closing_balance = D("20")
    e.budget.year_end_balance = D("20")


def _v06(e: Evaluation) -> None:
    e.budget.year_end_balance = D("12.38")


def _v07(e: Evaluation) -> None:
    e.budget.fixed_assets_in_use = D("800")


def _v10(e: Evaluation) -> None:
    e.outputs[0].unit = ""


def _v11(e: Evaluation) -> None:
    e.outputs[6].direction = Direction.LE  # target text says 不少于


def _v12(e: Evaluation) -> None:
    e.outputs[2].shortfall_reason = ""


def _v13(e: Evaluation) -> None:
    e.benefits[3].excess_reason = ""


def _v15(e: Evaluation) -> None:
    e.outputs[11].target_change_note = ""


def _v16(e: Evaluation) -> None:
    e.outputs[0].target_text = "新建众创空间 8 个、孵化器 3 个"


def _v17(e: Evaluation) -> None:
    e.problems = ["无"]


def _v20(e: Evaluation) -> None:
    e.spending.monthly[4] = None


def _v21(e: Evaluation) -> None:
    e.spending.monthly = [D(8 * (i + 1)) for i in range(12)]


def _v30(e: Evaluation) -> None:
    e.management = e.management[:-1]


def _v31(e: Evaluation) -> None:
    e.management[2].override_score = D(5)
    e.management[2].override_reason = "试算"


def _v32(e: Evaluation) -> None:
    e.management[3].evidence = ""


def _v33(e: Evaluation) -> None:
    e.management[21].explanation = ""


def _v40(e: Evaluation) -> None:
    e.claims.total = D("99.00")


def _v41(e: Evaluation) -> None:
    e.claims.rating = "良"


def _v43(e: Evaluation) -> None:
    e.outputs[2].override_rate = D(100)
    e.outputs[2].override_reason = "政策已报批，视同完成"


BREAKERS: dict[str, Callable[[Evaluation], None]] = {
    "V01": _v01,
    "V02": _v02,
    "V03": _v03,
    "V04": _v04,
    "V05": _v05,
    "V06": _v06,
    "V07": _v07,
    "V10": _v10,
    "V11": _v11,
    "V12": _v12,
    "V13": _v13,
    "V15": _v15,
    "V16": _v16,
    "V17": _v17,
    "V20": _v20,
    "V21": _v21,
    "V30": _v30,
    "V31": _v31,
    "V32": _v32,
    "V33": _v33,
    "V40": _v40,
    "V41": _v41,
    "V43": _v43,
}


@pytest.mark.parametrize("code", sorted(BREAKERS))
def test_code_triggered_by_one_change(seed: Evaluation, code: str) -> None:
    before = codes(seed)
    assert code not in before or code in ("V12", "V13", "V16", "V17")
    before_found = located(seed, code)
    BREAKERS[code](seed)
    after = evaluate(seed)
    new = located(seed, code) - before_found
    assert new, f"{code} not triggered"
    for f in after.findings:
        if f.code == code:
            assert f.message and f.severity is CODES[code][0]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in f.message)  # a Chinese message


def test_errors_do_not_stop_scoring(seed: Evaluation) -> None:
    _v01(seed)
    _v32(seed)
    result = evaluate(seed)
    assert result.has_errors
    assert float(result.total) == 98.57  # scoring still shows what it can


def test_override_keeps_both_values(seed: Evaluation) -> None:
    _v43(seed)
    row = evaluate(seed).indicator("output").rows[2]
    assert row.source == "override" and row.used == 1 and row.computed_completion == D("0.5")


def test_override_without_reason_is_ignored(seed: Evaluation) -> None:
    seed.outputs[2].override_rate = D(100)
    result = evaluate(seed)
    assert result.indicator("output").score == D("18.79")
    assert "V43" in {f.code for f in result.findings}


def test_v13_inclusive_threshold() -> None:
    e = Evaluation()
    e.outputs = []
    from xlperf.core.evaluation import IndicatorRow

    e.outputs.append(
        IndicatorRow(
            name="a", kind=Kind.QUANT, direction=Direction.GE, target_value=D(2), unit="场", actual_value=D(3)
        )
    )
    assert "V13" in codes(e)  # exactly 150 %: "以上" includes the number
    e.outputs[0].actual_value = D("2.99")
    assert "V13" not in codes(e)


def test_qualitative_missing_grade_is_v10() -> None:
    from xlperf.core.evaluation import IndicatorRow

    e = Evaluation(outputs=[IndicatorRow(name="q", kind=Kind.QUAL, target_text="推进")])
    assert "outputs[0].grade" in paths(e, "V10")
    e.outputs[0].grade = Grade.DONE
    assert "outputs[0].grade" not in paths(e, "V10")


def test_checklist_missing_answer_is_v32(seed: Evaluation) -> None:
    seed.management[3] = ManagementEntry(indicator="M04", answers=[Answer.YES], evidence="x")
    assert "management[M04].answers[1]" in paths(seed, "V32")
    assert evaluate(seed).indicator("M04").score == D(1)


def test_identity_is_required(seed: Evaluation) -> None:
    assert "I01" not in codes(seed)
    seed.department.name = ""
    seed.department.year = 23
    assert paths(seed, "I01") == {"department.name", "department.year"}


def test_every_code_has_severity_and_title() -> None:
    for sev, title in CODES.values():
        assert isinstance(sev, Severity) and title
    assert {c for c in CODES if c.startswith("V")} >= set(BREAKERS)
