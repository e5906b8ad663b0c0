"""Rule kinds of the project form: how one 绩效指标 row, and the 项目资金 block, are scored.

Each kind is one unit registered by name (:mod:`xlperf.core.project.registry`), chosen by a
framework's ``[[row_rules]] rule = "…"`` (rows) or ``[budget] rule = "…"`` (the block), carrying
its framework checks, its arithmetic and its description in a clerk's words. The numbers
(bands, the 反向 formula, caps) come from the framework. w = 分值, t = 年度指标值, a = 实际完成值
(a negative a counts as 0 before any rule sees it); every row score is rounded half up to 2 places
and never above w (docs/DOMAIN.md §5.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from xlperf.core.decimals import HUNDRED, ONE, TWO_PLACES, ZERO, plain, round2
from xlperf.core.project.registry import BLOCK_KINDS, register_block, register_row

if TYPE_CHECKING:
    from xlperf.core.framework import _Locator
    from xlperf.core.project.framework import ProjectFramework, QualBand, RowRuleSpec


@dataclass(frozen=True)
class Outcome:
    """What a row kind made of one row: the score (before any excess deduction) and, for 定性
    rows, the band and whether the typed score had to be moved into it."""

    score: Decimal
    band: QualBand | None = None
    #: 定性: the band's edges in points (low inclusive; high inclusive only for the top band)
    low: Decimal | None = None
    high: Decimal | None = None
    top: bool = False
    #: 定性: the typed score lay outside its band (or was missing) and was moved to ``score``
    moved: bool = False


class RowKind:
    """The contract of a row kind."""

    name: ClassVar[str]
    #: its Chinese name (正向, 等于, 反向, 定性)
    title: ClassVar[str]
    #: the 计算符号 it may score
    operators: ClassVar[tuple[str, ...]]
    #: scored against a number (a target); 定性 rows are graded
    quantitative: ClassVar[bool] = True
    #: an actual far above the target is an overshoot to explain (not for 反向 rows, where less is better)
    overshoots: ClassVar[bool] = True

    def check(self, spec: RowRuleSpec, fw: ProjectFramework, locate: _Locator, i: int) -> list[str]:
        """Problems of the framework's parameters for this kind."""
        extra = []
        if spec.formula is not None:
            extra.append("formula 只用于 reverse 规则")
        if spec.bands:
            extra.append("bands 只用于 qualitative 规则")
        return extra

    def describe(self, spec: RowRuleSpec) -> str:
        raise NotImplementedError

    def score(self, spec: RowRuleSpec, w: Decimal, t: Decimal, a: Decimal) -> Decimal:
        """The row's score for target t and actual a (a ≥ 0; t ≥ 0 is checked before)."""
        raise NotImplementedError


def _capped(value: Decimal, w: Decimal) -> Decimal:
    return min(w, max(ZERO, round2(value)))


@register_row
class Positive(RowKind):
    """正向 (≥, >): a ≥ t → w; else round(a/t · w, 2)."""

    name = "positive"
    title = "正向"
    operators = ("≥", ">")

    def describe(self, spec: RowRuleSpec) -> str:
        return (
            f"正向指标（{' '.join(spec.operators)}）：实际完成值达到年度指标值得满分，"
            "否则得分 = 实际完成值 ÷ 年度指标值 × 分值"
        )

    def score(self, spec: RowRuleSpec, w: Decimal, t: Decimal, a: Decimal) -> Decimal:
        if a >= t:
            return w
        return _capped(a / t * w, w)


@register_row
class Equal(RowKind):
    """等于 (=): for t > 0 as 正向; for t = 0: a ≤ 0 → w, else 0."""

    name = "equal"
    title = "等于"
    operators = ("=",)

    def describe(self, spec: RowRuleSpec) -> str:
        return "等于指标（=）：按正向指标计分；年度指标值为 0 时，实际完成值为 0 得满分，否则得 0 分"

    def score(self, spec: RowRuleSpec, w: Decimal, t: Decimal, a: Decimal) -> Decimal:
        if t == 0:
            return w if a <= 0 else ZERO
        return Positive().score(spec, w, t, a)


@register_row
class Reverse(RowKind):
    """反向 (≤, <): a ≤ t → w; above t by the framework's formula: "linear" (1 − (a−t)/t) · w, 0 from
    2t on (PMK-R), or "ratio" t/a · w (DZJ)."""

    name = "reverse"
    title = "反向"
    operators = ("≤", "<")
    overshoots = False

    def check(self, spec: RowRuleSpec, fw: ProjectFramework, locate: _Locator, i: int) -> list[str]:
        problems = []
        if spec.formula is None:
            problems.append(
                'reverse 规则须用 formula 选定超出指标值后的算法："linear"（(1 −（实际−指标）÷ 指标）× 分值，'
                '达到指标值 2 倍得 0 分）或 "ratio"（指标值 ÷ 实际值 × 分值）'
            )
        if spec.bands:
            problems.append("bands 只用于 qualitative 规则")
        return problems

    def describe(self, spec: RowRuleSpec) -> str:
        above = (
            "超出时得分 =（1 −（实际完成值 − 年度指标值）÷ 年度指标值）× 分值，"
            "达到年度指标值 2 倍及以上得 0 分"
            if spec.formula == "linear"
            else "超出时得分 = 年度指标值 ÷ 实际完成值 × 分值"
        )
        return f"反向指标（{' '.join(spec.operators)}）：实际完成值不超过年度指标值得满分，{above}"

    def score(self, spec: RowRuleSpec, w: Decimal, t: Decimal, a: Decimal) -> Decimal:
        if a <= t:
            return w
        if t == 0:
            return ZERO
        if spec.formula == "ratio":
            return _capped(t / a * w, w)
        if a >= 2 * t:
            return ZERO
        return _capped((ONE - (a - t) / t) * w, w)


@register_row
class Qualitative(RowKind):
    """定性: the clerk gives a grade and a score inside its band (nationally 达成 [0.8w, w],
    部分达成 [0.6w, 0.8w), 未达成 [0, 0.6w)); a score outside is moved to the band's nearest edge."""

    name = "qualitative"
    title = "定性"
    operators = ("定性",)
    quantitative = False
    overshoots = False

    def check(self, spec: RowRuleSpec, fw: ProjectFramework, locate: _Locator, i: int) -> list[str]:
        problems = []
        if spec.formula is not None:
            problems.append("formula 只用于 reverse 规则")
        bands = spec.bands
        if len(bands) < 2:
            problems.append("qualitative 规则须列出至少两个等级（bands），从高到低")
            return problems
        mins = [b.min for b in bands]
        if any(not m.is_finite() or not ZERO <= m < ONE for m in mins):
            problems.append("等级下限是分值的比例，应在 0 与 1 之间（不含 1），如 0.8 表示 80%")
        elif mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            problems.append("等级须按下限从高到低排列，下限不能重复")
        elif mins[-1] != 0:
            problems.append("最低一个等级的下限应为 0")
        words = [b.keyword.strip() for b in bands]
        if any(not w for w in words) or len(set(words)) != len(words):
            problems.append("每个等级须有不重复的识别词（keyword），如 达成、部分达成、未达成")
        names = [b.name.strip() for b in bands]
        if any(not n for n in names) or len(set(names)) != len(names):
            problems.append("等级名称不能为空或重复")
        return problems

    def describe(self, spec: RowRuleSpec) -> str:
        parts = []
        for i, band in enumerate(spec.bands):
            low = plain(band.min * 100)
            if i == 0:
                parts.append(f"{band.name} {low}%–100%")
            else:
                parts.append(f"{band.name} {low}%–不足 {plain(spec.bands[i - 1].min * 100)}%")
        return "定性指标：按等级在分值的相应区间内评分——" + "；".join(parts)

    def band(self, spec: RowRuleSpec, text: str) -> QualBand | None:
        """The grade a typed text names: the band whose keyword it contains, the longest keyword
        first (部分达成 and 未达成 before 达成)."""
        from xlperf.core.quantity import normalise_text

        norm = normalise_text(text)
        for band in sorted(spec.bands, key=lambda b: len(b.keyword), reverse=True):
            if band.keyword and band.keyword in norm:
                return band
        return None

    def edges(self, spec: RowRuleSpec, band: QualBand, w: Decimal) -> tuple[Decimal, Decimal, bool]:
        """(low, high, top): the band's range in points; ``high`` is inclusive only for the top band."""
        index = spec.bands.index(band)
        high = w if index == 0 else spec.bands[index - 1].min * w
        return band.min * w, high, index == 0

    def graded(self, spec: RowRuleSpec, band: QualBand, w: Decimal, typed: Decimal | None) -> Outcome:
        low, high, top = self.edges(spec, band, w)
        if typed is None:
            return Outcome(round2(low), band, low, high, top, moved=True)
        if typed < low:
            return Outcome(round2(low), band, low, high, top, moved=True)
        if typed > high or (typed == high and not top):
            # the band's highest score in cents: just below the next band's edge
            best = high if top else (high - TWO_PLACES).quantize(TWO_PLACES)
            return Outcome(max(round2(low), best), band, low, high, top, moved=True)
        return Outcome(round2(typed), band, low, high, top)

    def score(self, spec: RowRuleSpec, w: Decimal, t: Decimal, a: Decimal) -> Decimal:
        raise TypeError("定性 rows are graded (Qualitative.graded), not computed from numbers")


class BlockKind:
    """The contract of a block kind (the 项目资金 block): its rate, its score, the whole-score cap."""

    name: ClassVar[str]

    def rate(self, budget: Decimal, executed: Decimal) -> Decimal:
        raise NotImplementedError

    def score(self, rate: Decimal, full: Decimal) -> Decimal:
        raise NotImplementedError

    def cap(self, fw: ProjectFramework, rate: Decimal | None) -> Decimal | None:
        return None

    def describe(self, fw: ProjectFramework) -> str:
        raise NotImplementedError


@register_block
class ExecutionRate(BlockKind):
    """执行率 = B / A in percent, 2 places; 得分 = 执行率 × 分值, at most 分值."""

    name = "execution_rate"

    def rate(self, budget: Decimal, executed: Decimal) -> Decimal:
        return round2(executed / budget * HUNDRED)

    def score(self, rate: Decimal, full: Decimal) -> Decimal:
        return min(full, round2(rate / HUNDRED * full))

    def cap(self, fw: ProjectFramework, rate: Decimal | None) -> Decimal | None:
        """The lowest cap whose 执行率 bound the rate is below (None: no cap applies)."""
        if rate is None:
            return None
        caps = [c.max for c in fw.budget.caps if rate < c.below]
        return min(caps) if caps else None

    def describe(self, fw: ProjectFramework) -> str:
        b = fw.budget
        text = (
            f"预算执行率（{plain(b.full)} 分）：执行率 = 全年执行数 ÷ 全年预算数（保留两位小数），"
            f"得分 = 执行率 × 分值，最高 {plain(b.full)} 分"
        )
        if b.explain_below is not None:
            text += f"；执行率低于 {plain(b.explain_below)}% 须说明原因"
        if b.caps:
            text += "；总分按执行率封顶：" + "，".join(
                f"执行率低于 {plain(c.below)}% 最高 {plain(c.max)} 分" for c in b.caps
            )
        return text


def describe_all(fw: ProjectFramework) -> list[str]:
    """The framework's rules as lines a clerk reads (``frameworks show``, the workbook's 填表说明)."""
    lines = [block_kind(fw).describe(fw)]
    for spec in fw.row_rules:
        lines.append(spec.kind.describe(spec))
    r = fw.rows
    lines.append(
        "每个指标得分不超过其分值；实际完成值为负数的按 0 计分；得分低于分值的须填写偏差原因分析及改进措施"
    )
    if r.excess_threshold is not None:
        more = plain(r.excess_threshold - 100)
        text = f"实际完成值超出年度指标值 {more}% 及以上的须说明原因"
        if r.excess_deduct:
            text += f"，并扣 {plain(r.excess_deduct)} 分"
        lines.append(text)
    lines.append(
        "不适用的指标不计分，其余指标得分按百分制折算"
        if r.not_applicable
        else "不允许把指标标为不适用：每个指标都须计分"
    )
    return lines


def block_kind(fw: ProjectFramework) -> BlockKind:
    """The block kind a framework's ``[budget]`` names."""
    return BLOCK_KINDS[fw.budget.rule]
