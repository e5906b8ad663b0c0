"""Score one 项目支出绩效自评表: the 项目资金 block, every 绩效指标 row, the total (docs/DOMAIN.md §5).

Findings are collected, never raised; each names the field path its cell is found by
(``rows[3].actual``, ``funds.total.budget``). A row that cannot be scored (data missing, unreadable,
units that do not agree, a 计算符号 contradicting its target) counts 0 until it is fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from xlperf.core.decimals import HUNDRED, ZERO, fmt2, plain, round2
from xlperf.core.findings import Finding, finding
from xlperf.core.project.evaluation import FUND_ROWS, ProjectEvaluation, ProjectRow
from xlperf.core.project.framework import ProjectFramework
from xlperf.core.project.result import BudgetScore, LevelScore, ProjectResult, RowResult
from xlperf.core.project.rules import Qualitative, block_kind
from xlperf.core.quantity import Direction, Quantity, normalise_text, parse_quantity

#: amounts in 万元 agree within this (as the department form's ``settings.tolerance``)
TOLERANCE = Decimal("0.01")
#: money units a target and an actual may mix, as factors to 万元 (the form's 万元 and 元 mixed)
MONEY_UNITS = {"万元": Decimal(1), "元": Decimal("0.0001"), "千元": Decimal("0.1"), "亿元": Decimal(10000)}
#: a bare actual at most this large, against a target in percent, is a fraction (0.98 = 98 %)
FRACTION = Decimal("1.5")
#: what a clerk may type as 计算符号, and the symbol it means
OPERATOR_ALIASES = {
    "≥": "≥",
    ">=": "≥",
    "大于等于": "≥",
    "不低于": "≥",
    "不少于": "≥",
    "正向": "≥",
    ">": ">",
    "大于": ">",
    "=": "=",
    "等于": "=",
    "≤": "≤",
    "<=": "≤",
    "小于等于": "≤",
    "不高于": "≤",
    "不超过": "≤",
    "反向": "≤",
    "<": "<",
    "小于": "<",
    "定性": "定性",
    "定性指标": "定性",
}
#: the words that mark a row 不适用 (in 实际完成值 or 计算符号)
NOT_APPLICABLE = frozenset({"不适用", "N/A", "n/a", "NA"})
_SAME_WAY = {"≥": Direction.GE, ">": Direction.GE, "=": Direction.EQ, "≤": Direction.LE, "<": Direction.LE}


def row_label(index: int, row: ProjectRow) -> str:
    """How messages and the report name a row: its 三级 name (or its place when unnamed)."""
    name = row.name.strip().replace("“", "‘").replace("”", "’")
    return f"指标“{name}”" if name else f"第{index + 1}项指标"


def _path(index: int, field: str) -> str:
    return f"rows[{index}].{field}"


def parse_operator(text: str) -> str | None:
    """The 计算符号 a typed text means (None: blank or not understood)."""
    key = normalise_text(text)
    return OPERATOR_ALIASES.get(key) if key else None


def _strict(text: str) -> tuple[str, str]:
    """A leading sign :func:`parse_quantity` does not take — > and < (strict), and = (which it would
    take for a formula) — as (sign, rest)."""
    norm = normalise_text(text)
    if norm[:1] in (">", "<") and norm[1:2] != "=":
        return norm[0], norm[1:]
    if norm[:1] == "=" and norm[1:2] not in ("", "="):
        return "=", norm[1:]
    return "", text


def _quantity(text: str) -> tuple[str, Quantity]:
    sign, rest = _strict(text)
    return sign, parse_quantity(rest if rest.strip() else None)


@dataclass
class _Ctx:
    ev: ProjectEvaluation
    fw: ProjectFramework
    unreadable: frozenset[str]
    findings: list[Finding]

    def add(self, code: str, message: str, path: str) -> None:
        self.findings.append(finding(code, message, path))


# ------------------------------------------------------------------------------- 项目资金


def score_budget(ctx: _Ctx) -> BudgetScore:
    """The 项目资金 block. The total row is what the form states; left empty (or all 0) while its
    parts are filled — the 安徽 table — A and B are the parts' sums, and J03 asks for the total."""
    ev, fw = ctx.ev, ctx.fw
    funds = ev.funds
    kind = block_kind(fw)
    full = fw.budget.full
    total = funds.total
    parts = funds.parts()
    filled = [row for _, row in parts if not row.empty]

    def part_sum(attr: str) -> Decimal | None:
        values = [getattr(row, attr) for row in filled if getattr(row, attr) is not None]
        return sum(values, ZERO) if values else None

    budget, executed, from_parts = total.budget, total.executed, False
    if total.empty and filled:
        budget, executed, from_parts = part_sum("budget"), part_sum("executed"), True
        ctx.add(
            "J03",
            f"年度资金总额行未填写（或为 0），而其下各项已填写：全年预算数合计 {_money(budget)}、"
            f"全年执行数合计 {_money(executed)}；已按各项之和计分，请在年度资金总额行填写合计",
            "funds.total.budget",
        )
    elif filled:
        for attr, label in (("initial", "年初预算数"), ("budget", "全年预算数"), ("executed", "全年执行数")):
            stated, summed = getattr(total, attr), part_sum(attr)
            if stated is not None and summed is not None and abs(stated - summed) > TOLERANCE:
                names = "、".join(dict(FUND_ROWS)[k] for k, row in parts if not row.empty)
                ctx.add(
                    "J03",
                    f"年度资金总额的{label} {_money(stated)} 不等于{names}之和 {_money(summed)}；"
                    "已按年度资金总额计分，请核对",
                    f"funds.total.{attr}",
                )
    for key, row in [("total", total), *parts]:
        for attr in ("initial", "budget", "executed"):
            value = getattr(row, attr)
            if value is not None and value < 0:
                ctx.add(
                    "J02",
                    f"{dict(FUND_ROWS)[key]}的金额不能为负数（现为 {_money(value)}）",
                    f"funds.{key}.{attr}",
                )
    rate: Decimal | None = None
    where = "funds.total" if not from_parts else "funds.current"
    if budget is None or budget <= 0:
        if f"{where}.budget" not in ctx.unreadable:
            ctx.add(
                "J02",
                "请填写全年预算数（A）"
                + ("，应大于 0" if budget is not None else "")
                + "；缺少它无法计算预算执行率，该项暂按 0 分计",
                f"{where}.budget",
            )
    elif executed is None or executed < 0:
        if f"{where}.executed" not in ctx.unreadable and executed is None:
            ctx.add(
                "J02", "请填写全年执行数（B）；缺少它无法计算预算执行率，该项暂按 0 分计", f"{where}.executed"
            )
    else:
        rate = kind.rate(budget, executed)
    score = kind.score(rate, full) if rate is not None else ZERO
    if rate is not None and rate > HUNDRED:
        ctx.add(
            "J05",
            f"全年执行数 {_money(executed)} 超过全年预算数 {_money(budget)}（执行率 {fmt2(rate)}%），"
            f"请核对；得分最高为分值 {fmt2(full)} 分",
            f"{where}.executed",
        )
    explain = fw.budget.explain_below
    if rate is not None and explain is not None and rate < explain and not funds.reason.strip():
        ctx.add(
            "J06",
            f"预算执行率 {fmt2(rate)}% 低于 {plain(explain)}%，请填写预算执行偏差原因",
            "funds.reason",
        )
    if funds.full is not None and funds.full != full:
        ctx.add(
            "J07",
            f"预算执行率的分值填写为 {fmt2(funds.full)}，评分框架 {fw.id} 规定为 {fmt2(full)} 分；"
            f"已按 {fmt2(full)} 分计",
            "funds.full",
        )
    if funds.rate is not None and rate is not None and abs(funds.rate - rate) > TOLERANCE:
        ctx.add(
            "J04",
            f"执行率填写为 {fmt2(funds.rate)}%，按全年执行数 ÷ 全年预算数应为 {fmt2(rate)}%",
            "funds.rate",
        )
    if funds.score is not None and abs(funds.score - score) > TOLERANCE:
        how = f"执行率 {fmt2(rate)}% × 分值 {fmt2(full)}" if rate is not None else "无法计算执行率"
        ctx.add(
            "J04", f"预算执行率得分填写为 {fmt2(funds.score)}，按{how}，应为 {fmt2(score)} 分", "funds.score"
        )
    return BudgetScore(full, budget, executed, rate, score, from_parts)


def _money(value: Decimal | None) -> str:
    """An amount as the clerk typed it (not rounded: 89.974万元), in a message."""
    return "（空）" if value is None else f"{plain(value)}万元"


# ------------------------------------------------------------------------------- rows


def _readable(ctx: _Ctx, index: int, field: str) -> bool:
    return _path(index, field) not in ctx.unreadable


def score_row(ctx: _Ctx, index: int, row: ProjectRow) -> RowResult:
    fw = ctx.fw
    label = row_label(index, row)
    level = fw.level(row.level1)
    base = dict(
        index=index,
        level=level.id if level else "",
        level1=row.level1,
        level2=row.level2,
        name=row.name,
        weight=row.weight,
        reason=row.reason.strip(),
        target_text=row.target,
        actual_text=row.actual,
    )
    if level is None:
        ctx.add(
            "J23",
            f"{label}的一级指标“{row.level1[:20]}”"
            f"无法识别（应为 {'、'.join(lv.name for lv in fw.levels)} 之一）"
            if row.level1.strip()
            else f"{label}没有一级指标；请填写 {'、'.join(lv.name for lv in fw.levels)} 之一",
            _path(index, "level1"),
        )
    if not row.name.strip():
        ctx.add("J10", f"第{index + 1}项指标没有三级指标名称", _path(index, "name"))
    w = row.weight
    if w is None or w <= 0:
        if _readable(ctx, index, "weight"):
            ctx.add("J10", f"{label}请填写分值（大于 0 的数字）", _path(index, "weight"))
        w = None

    def unscored(operator: str = "", kind: str = "") -> RowResult:
        return RowResult(
            **base,  # type: ignore[arg-type]
            operator=operator,
            kind=kind,
            target=None,
            actual=None,
            unit="",
            completion=None,
            computed=ZERO,
            deduction=ZERO,
            scored=False,
        )

    # 不适用
    typed_op = row.operator.strip()
    if normalise_text(row.actual) in NOT_APPLICABLE or normalise_text(typed_op) in NOT_APPLICABLE:
        if fw.rows.not_applicable:
            ctx.add(
                "J19",
                f"{label}标为不适用，不计分；其余指标得分按百分制折算",
                _path(index, "actual"),
            )
            return RowResult(
                **base,  # type: ignore[arg-type]
                operator="",
                kind="",
                target=None,
                actual=None,
                unit="",
                completion=None,
                computed=ZERO,
                deduction=ZERO,
                applicable=False,
            )
        ctx.add(
            "J18",
            f"{label}标为不适用，但评分框架 {fw.id} 不允许不适用的指标；请填写实际完成值，"
            "或删除该行并调整分值",
            _path(index, "actual"),
        )
        return unscored()

    # the 计算符号: typed, else the direction word in the target text, else 定性 for a target without a number
    operator = parse_operator(typed_op) if typed_op else None
    if typed_op and operator is None:
        ctx.add(
            "J10",
            f"{label}的计算符号“{typed_op[:10]}”无法识别；请从下拉列表选择 ≥ > = ≤ < 或 定性",
            _path(index, "operator"),
        )
        return unscored()
    sign, target_q = _quantity(row.target)
    if operator is None:
        words_only = row.target.strip() and not re.search(r"\d", normalise_text(row.target))
        if (words_only and not target_q.none_word) or (not row.target.strip() and _is_grade(fw, row.actual)):
            operator = "定性"  # a target in words (“效果明显”), or none with a grade as the actual
        elif sign:
            operator = sign
        elif target_q.direction is not None:
            operator = target_q.direction.value
        elif target_q.value is not None:
            operator = "≥"
            ctx.add(
                "J24",
                f"{label}没有计算符号，年度指标值“{row.target[:20]}”中也没有方向词；已按“≥”（正向）计分，如为成本等反向指标请选择“≤”",
                _path(index, "operator"),
            )
    spec = fw.rule_for(operator) if operator else None
    if operator == "定性":
        return _qualitative(ctx, index, row, base, w, label)
    if operator is None or spec is None:
        if not row.target.strip() and _readable(ctx, index, "target"):
            ctx.add("J10", f"{label}请填写年度指标值", _path(index, "target"))
        elif operator is None and target_q.problem and _readable(ctx, index, "target"):
            ctx.add("P01", f"{label}的年度指标值：{target_q.problem}", _path(index, "target"))
        return unscored(operator or "")
    kind = spec.kind
    # conflict between the typed symbol and the target's own direction word
    stated = _SAME_WAY.get(sign) if sign else target_q.direction
    if typed_op and stated is not None and stated is not _SAME_WAY[operator]:
        ctx.add(
            "J11",
            f"{label}的计算符号为“{operator}”，而年度指标值“{row.target[:20]}”写的是“{stated.value}”；"
            "请改正其中之一，改正前该指标按 0 分计",
            _path(index, "operator"),
        )
        return unscored(operator, spec.rule)
    if target_q.problem or target_q.value is None:
        if _readable(ctx, index, "target"):
            if target_q.problem:
                ctx.add("P01", f"{label}的年度指标值：{target_q.problem}", _path(index, "target"))
            else:
                ctx.add("J10", f"{label}请填写年度指标值（数值）", _path(index, "target"))
        return unscored(operator, spec.rule)
    _, actual_q = _quantity(row.actual)
    if actual_q.problem or actual_q.value is None:
        if _readable(ctx, index, "actual"):
            if actual_q.problem:
                ctx.add("P01", f"{label}的实际完成值：{actual_q.problem}", _path(index, "actual"))
            else:
                ctx.add("J10", f"{label}请填写实际完成值", _path(index, "actual"))
        return unscored(operator, spec.rule)
    t = target_q.value
    a = actual_q.value
    if target_q.unit == "%" and not actual_q.unit and actual_q.alternative is not None and t > FRACTION:
        # 0.98 against a target of 95%: a fraction typed for a percent (as docs/DOMAIN.md §1.5 reads it)
        ctx.add(
            "P02",
            f"{label}的实际完成值 {plain(a)} 按百分数读作 {plain(actual_q.alternative)}%（年度指标值为 "
            f"{plain(t)}%），请核对",
            _path(index, "actual"),
        )
        a = actual_q.alternative
    unit = target_q.unit or actual_q.unit
    if target_q.unit and actual_q.unit and target_q.unit != actual_q.unit:
        tu, au = target_q.unit, actual_q.unit
        if tu in MONEY_UNITS and au in MONEY_UNITS:
            converted = plain(a * MONEY_UNITS[au] / MONEY_UNITS[tu])
            ctx.add(
                "P02",
                f"{label}的年度指标值以{tu}计、实际完成值以{au}计；已把实际完成值 {plain(a)}{au} 换算为 "
                f"{converted}{tu}，请核对并统一单位",
                _path(index, "actual"),
            )
            a = converted
        else:
            ctx.add(
                "J15",
                f"{label}的年度指标值单位为“{tu}”，实际完成值单位为“{au}”，无法比较；请统一单位，"
                "改正前该指标按 0 分计",
                _path(index, "actual"),
            )
            return unscored(operator, spec.rule)
    if t < 0:
        ctx.add("J10", f"{label}的年度指标值不能为负数（现为 {plain(t)}）", _path(index, "target"))
        return unscored(operator, spec.rule)
    if a < 0:
        ctx.add("J16", f"{label}的实际完成值 {plain(a)} 为负数，按 0 计分", _path(index, "actual"))
        a = ZERO
    completion = round2(a / t * HUNDRED) if t > 0 else None
    computed = kind.score(spec, w, t, a) if w is not None else ZERO
    deduction = ZERO
    threshold = fw.rows.excess_threshold
    over = (
        kind.overshoots
        and threshold is not None
        and t > 0
        and completion is not None
        and a / t * HUNDRED >= threshold
    )
    if over and threshold is not None:
        deduction = min(computed, fw.rows.excess_deduct)
        if not row.reason.strip():
            cost = f"；按评分框架扣 {fmt2(deduction)} 分" if deduction else ""
            ctx.add(
                "J13",
                f"{label}的实际完成值 {plain(a)}{unit} 达到年度指标值 {plain(t)}{unit} 的 "
                f"{fmt2(completion or ZERO)}%"
                f"（超出 {plain(threshold - HUNDRED)}% 及以上），请在偏差原因分析中说明（如年初指标设置"
                f"偏低）{cost}",
                _path(index, "reason"),
            )
    result = RowResult(
        **base,  # type: ignore[arg-type]
        operator=operator,
        kind=spec.rule,
        target=t,
        actual=a,
        unit=unit,
        completion=completion,
        computed=computed,
        deduction=deduction,
    )
    _typed_score(ctx, index, row, result, label)
    _reason(ctx, index, row, result, label, over)
    return result


def _is_grade(fw: ProjectFramework, text: str) -> bool:
    spec = fw.qualitative
    return spec is not None and isinstance(spec.kind, Qualitative) and spec.kind.band(spec, text) is not None


def _qualitative(
    ctx: _Ctx, index: int, row: ProjectRow, base: dict[str, object], w: Decimal | None, label: str
) -> RowResult:
    fw = ctx.fw
    qspec = fw.qualitative
    assert qspec is not None  # every framework scores 定性 (checked when it is loaded)
    kind = qspec.kind
    assert isinstance(kind, Qualitative)
    band = kind.band(qspec, row.actual)
    grades = "、".join(b.name for b in qspec.bands)
    computed = ZERO
    grade = ""
    if band is None:
        if _readable(ctx, index, "actual"):
            ctx.add(
                "J14",
                f"{label}是定性指标，请在实际完成值中填写等级（{grades}）"
                + (f"；现为“{row.actual[:20]}”" if row.actual.strip() else ""),
                _path(index, "actual"),
            )
        if row.score is not None and w is not None:
            computed = min(w, max(ZERO, round2(row.score)))
    elif w is not None:
        outcome = kind.graded(qspec, band, w, row.score)
        computed, grade = outcome.score, band.name
        low, high = fmt2(outcome.low or ZERO), fmt2(outcome.high or ZERO)
        span = f"{low}–{high} 分" if outcome.top else f"{low} 分至不足 {high} 分"
        if row.score is None:
            ctx.add(
                "J14",
                f"{label}评为“{band.name}”，请在得分栏填写该等级区间（{span}）内的得分；"
                f"暂按 {fmt2(computed)} 分计",
                _path(index, "score"),
            )
        elif outcome.moved:
            ctx.add(
                "J14",
                f"{label}评为“{band.name}”，得分应在 {span}，填写的 {fmt2(row.score)} 分不在区间内；"
                f"已按 {fmt2(computed)} 分计",
                _path(index, "score"),
            )
    else:
        grade = band.name
    result = RowResult(
        **base,  # type: ignore[arg-type]
        operator="定性",
        kind=qspec.rule,
        target=None,
        actual=None,
        unit="",
        completion=None,
        computed=computed,
        deduction=ZERO,
        grade=grade,
        scored=band is not None and w is not None,
    )
    _reason(ctx, index, row, result, label, False)
    return result


def _typed_score(ctx: _Ctx, index: int, row: ProjectRow, result: RowResult, label: str) -> None:
    if row.score is None or result.weight is None:
        return
    if abs(row.score - result.score) > ctx.fw.rows.tolerance:
        ctx.add(
            "J17",
            f"{label}的得分填写为 {fmt2(row.score)}，按{_how(ctx.fw, result)}，应为 {fmt2(result.score)} 分",
            _path(index, "score"),
        )


def _how(fw: ProjectFramework, r: RowResult) -> str:
    spec = fw.rule_for(r.operator)
    title = spec.kind.title if spec is not None else ""
    what = (
        f"{title}指标规则（实际 {plain(r.actual or ZERO)}{r.unit}，指标 {plain(r.target or ZERO)}{r.unit}）"
    )
    if r.deduction:
        what += f"并扣 {fmt2(r.deduction)} 分"
    return what


def _reason(ctx: _Ctx, index: int, row: ProjectRow, result: RowResult, label: str, over: bool) -> None:
    if over or not result.scored or result.weight is None or row.reason.strip():
        return
    if result.score < result.weight:
        ctx.add(
            "J12",
            f"{label}得分 {fmt2(result.score)} 分，低于分值 {fmt2(result.weight)} 分；"
            "请填写偏差原因分析及改进措施",
            _path(index, "reason"),
        )


# ------------------------------------------------------------------------------- together


def score_project(
    ev: ProjectEvaluation, fw: ProjectFramework, unreadable: frozenset[str] = frozenset()
) -> tuple[ProjectResult, list[Finding]]:
    """Score the form; the findings of the rules and checks (reading findings are the adapter's)."""
    ctx = _Ctx(ev, fw, unreadable, [])
    info = ev.project
    if not info.name.strip():
        ctx.add("J01", "请填写项目名称", "project.name")
    if (info.year is None or not 2000 <= info.year <= 2100) and "project.year" not in unreadable:
        ctx.add("J01", "请填写年度（如 2024）", "project.year")
    if not ev.rows:
        ctx.add("J10", "绩效指标表中没有指标；请按项目的绩效目标填写产出、效益、满意度指标", "rows")
    budget = score_budget(ctx)
    rows = tuple(score_row(ctx, i, row) for i, row in enumerate(ev.rows))
    levels = []
    for lv in fw.levels:
        mine = tuple(r for r in rows if r.level == lv.id)
        full = sum((r.full for r in mine), ZERO)
        score = sum((r.score for r in mine if r.applicable), ZERO)
        levels.append(LevelScore(lv.id, lv.name, full, score, mine))
        if rows:  # an empty table is one J10, not a warning per 一级
            _level_weights(ctx, lv.id, lv.name, lv.full, mine)
    weights = sum((r.full for r in rows), ZERO)
    if rows and all(r.weight is not None for r in rows) and weights + fw.budget.full != fw.total:
        ctx.add(
            "J20",
            f"各指标分值之和 {fmt2(weights)} 加预算执行率分值 {fmt2(fw.budget.full)} 为 "
            f"{fmt2(weights + fw.budget.full)}，"
            f"应等于总分 {fmt2(fw.total)}；请调整分值",
            "rows",
        )
    raw = budget.score + sum((r.score for r in rows if r.applicable), ZERO)
    excluded = sum((r.full for r in rows if not r.applicable), ZERO)
    applicable_full = fw.total - excluded
    total = raw
    if excluded and applicable_full > 0:
        total = min(fw.total, round2(raw * fw.total / applicable_full))
    cap = block_kind(fw).cap(fw, budget.rate)
    if cap is not None and total > cap:
        ctx.add(
            "J32",
            f"预算执行率 {fmt2(budget.rate or ZERO)}%，按评分框架总分最高 {fmt2(cap)} 分；"
            f"计算得分 {fmt2(total)} 分已按 {fmt2(cap)} 分计",
            "funds.total.executed",
        )
        total = cap
    else:
        cap = None
    result = ProjectResult(ev, fw, budget, rows, tuple(levels), raw, applicable_full, cap, total)
    if ev.claimed_total is not None and abs(ev.claimed_total - total) > fw.rows.tolerance:
        ctx.add(
            "J30",
            f"得分合计填写为 {fmt2(ev.claimed_total)}，按各项得分应为 {fmt2(total)} 分",
            "claimed_total",
        )
    if ev.claimed_rating.strip() and fw.rated and normalise_text(ev.claimed_rating) != result.rating:
        ctx.add(
            "J31",
            f"评价等级填写为“{ev.claimed_rating[:10]}”，得分 {fmt2(total)} 分对应的等级是“{result.rating}”",
            "claimed_rating",
        )
    return result, ctx.findings


def _level_weights(
    ctx: _Ctx, level_id: str, name: str, full: Decimal | None, rows: tuple[RowResult, ...]
) -> None:
    """A 一级's rows against the 分值 the framework gives it: an error where the weights are fixed,
    a warning where they may be adjusted, nothing where they are free."""
    fw = ctx.fw
    if full is None or fw.rows.weights == "free" or any(r.weight is None for r in rows):
        return
    given = sum((r.full for r in rows), ZERO)
    if given == full:
        return
    first = next((r.index for r in rows), None)
    path = _path(first, "weight") if first is not None else "rows"
    if fw.rows.weights == "fixed":
        ctx.add(
            "J21", f"{name}下各指标分值之和为 {fmt2(given)}，评分框架规定为 {fmt2(full)} 分；请调整分值", path
        )
    else:
        ctx.add(
            "J22",
            f"{name}下各指标分值之和为 {fmt2(given)}，评分框架的默认分值为 {fmt2(full)} "
            "分（一级指标权重可适当调整，请确认）",
            path,
        )
