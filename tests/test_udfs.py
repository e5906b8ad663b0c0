"""Worksheet functions: the numbers of docs/DOMAIN.md §2, and the registry the VBA wrappers come from."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from xlperf.core.framework import get_framework
from xlperf.core.scoring import score
from xlperf.excel import udfs
from xlperf.excel.registry import UDFS

# docs/DOMAIN.md §2: 23 产出 rows, ③ target 2 actual 1, ⑤ 10 → 6, ㉒ 定性 部分完成, all others complete
SEED_OUTPUT_TARGETS: list[object] = [100] * 23
SEED_OUTPUT_ACTUALS: list[object] = [100] * 23
SEED_OUTPUT_TARGETS[2], SEED_OUTPUT_ACTUALS[2] = 2, 1
SEED_OUTPUT_TARGETS[4], SEED_OUTPUT_ACTUALS[4] = "10个", "6个"
SEED_OUTPUT_TARGETS[21], SEED_OUTPUT_ACTUALS[21] = "完成", "部分完成"
# 效益 ① 7 vs 7.1, ② 110 vs 102.59, ③ 7 vs 8.6, ④ 5 vs 12.7, ⑤ ⑥ 定性 完成
SEED_BENEFIT_TARGETS: list[object] = [7, 110, 7, 5, "完成", "完成"]
SEED_BENEFIT_ACTUALS: list[object] = [7.1, 102.59, 8.6, 12.7, "完成", "完成"]


def test_section_score_reproduces_the_seed() -> None:
    assert udfs.section_score(SEED_OUTPUT_TARGETS, SEED_OUTPUT_ACTUALS, 20) == Decimal("18.79")
    assert udfs.section_score(SEED_BENEFIT_TARGETS, SEED_BENEFIT_ACTUALS, 20) == Decimal("19.78")
    assert udfs.XLPERF_SECTION_SCORE(SEED_OUTPUT_TARGETS, SEED_OUTPUT_ACTUALS, 20.0) == 18.79
    assert udfs.XLPERF_SECTION_SCORE(SEED_BENEFIT_TARGETS, SEED_BENEFIT_ACTUALS, 20.0, None) == 19.78


def test_section_score_agrees_with_the_core_on_the_example(seed: object) -> None:
    from xlperf.core.evaluation import Evaluation, Kind

    assert isinstance(seed, Evaluation)
    result, _ = score(seed, get_framework())
    for rows, section in ((seed.outputs, "output"), (seed.benefits, "benefit")):
        targets = [r.grade and "完成" if r.kind is Kind.QUAL else r.target_value for r in rows]
        actuals = [r.grade if r.kind is Kind.QUAL and r.grade else r.actual_value for r in rows]
        directions = [r.direction.value if r.direction else None for r in rows]
        got = udfs.section_score(targets, actuals, 20, directions)
        core = next(i.score for i in result.indicator_scores() if i.spec.rows == section + "s")
        assert got == core
        assert float(got) == {"output": 18.79, "benefit": 19.78}[section]


def test_section_score_skips_blank_rows_and_takes_per_row_weights() -> None:
    targets = [*SEED_BENEFIT_TARGETS, None, ""]
    actuals = [*SEED_BENEFIT_ACTUALS, None, None]
    assert udfs.section_score(targets, actuals, 20) == Decimal("19.78")
    # a 2-D column as Excel passes it, and one 分值 per row (here 10 each: Σ = 20)
    assert udfs.section_score([[2], [4]], [[1], [4]], [10, 10]) == Decimal("15.00")
    assert udfs.section_score([], [], 20) == Decimal(0)
    assert "同样大小" in udfs.XLPERF_SECTION_SCORE([1, 2], [1], 20)


def test_completion_reads_clerk_input() -> None:
    assert udfs.completion_rate("不少于180家", 190) == Decimal(190) / Decimal(180)
    assert udfs.completion_rate(2, 1) == Decimal("0.5")
    assert udfs.completion_rate(5, 4, "反向") == Decimal("1.25")
    assert udfs.completion_rate("≤5", 4) == Decimal("1.25")
    assert udfs.completion_rate(10, 8, "=") == Decimal("0.8")
    assert udfs.completion_rate("完成", "部分完成") == Decimal("0.5")
    assert udfs.completion_rate(None, 3) is None
    assert udfs.XLPERF_COMPLETION(None, 3) == ""
    assert udfs.XLPERF_COMPLETION(7, 7.1) == pytest.approx(7.1 / 7)
    assert "目标值" in udfs.XLPERF_COMPLETION("一百到两百", 3)
    assert "方向" in udfs.XLPERF_COMPLETION(1, 1, "向上")


def test_rating() -> None:
    assert udfs.rating(98.57) == "优"
    assert udfs.rating(89.99) == "良"
    assert udfs.rating(89.995) == "优"  # rated on the total rounded to 2 places
    assert udfs.rating(59.99) == "差"
    assert udfs.XLPERF_RATING(None) == ""
    assert udfs.XLPERF_RATING(80) == "良"


def test_ratio() -> None:
    assert udfs.ratio_percent(76740.31, 79776.38) == Decimal("96.19")
    assert udfs.XLPERF_RATIO(76740.31, 79776.38) == 96.19
    assert udfs.ratio_percent(1, 0) is None
    assert udfs.XLPERF_RATIO(1, 0) == ""
    assert udfs.XLPERF_RATIO(1, None) == ""


@pytest.mark.parametrize("udf", UDFS, ids=lambda u: u.name)
def test_functions_match_the_registry(udf: object) -> None:
    """The prebuilt VBA wrappers pass the registry's arguments by position."""
    from xlperf.excel.registry import Udf

    assert isinstance(udf, Udf)
    fn = getattr(udfs, udf.name)
    params = list(inspect.signature(fn).parameters.values())
    if udf.caller:  # xlwings' reserved argument, last: Excel never shows it
        assert params[-1].name == "caller" and params[-1].default is None
        params = params[:-1]
    assert [p.name for p in params] == [a.name for a in udf.args]
    for p, a in zip(params, udf.args, strict=True):
        assert (p.default is None) if a.optional else (p.default is inspect.Parameter.empty), a.name
        assert p.annotation is inspect.Parameter.empty, "annotations would become xlwings converters"
        assert a.help.strip().endswith("。"), a.name
    assert inspect.getdoc(fn) == udf.help
    assert udf.help.strip()
    assert udf.name in udfs.__all__


def test_every_public_udf_is_registered() -> None:
    exported = {n for n in udfs.__all__ if n.startswith("XLPERF_")}
    assert exported == {u.name for u in UDFS}
