"""The logic of xlperf's worksheet functions (XLPERF_COMPLETION, XLPERF_SECTION_SCORE, XLPERF_RATING,
XLPERF_RATIO), pure: the add-in's UDFs (:mod:`xlperf.excel.udfs`) wrap these for Excel, and the 报送
freeze computes a frozen UDF cell with them, so the frozen value is what the cell showed in Excel.

Arguments come as a worksheet gives them (text typed with units, numbers, ranges as nested lists):
typed ``object`` and narrowed here; an argument that cannot be read raises :class:`UdfInputError`,
whose text the cell shows.
"""

from __future__ import annotations

from decimal import Decimal

from xlperf.core.decimals import HUNDRED, ONE, ZERO, round2, to_decimal
from xlperf.core.evaluation import IndicatorRow, Kind
from xlperf.core.framework import Framework, get_framework
from xlperf.core.quantity import Direction, direction_in_text, parse_direction, parse_quantity
from xlperf.core.rules import completion

__all__ = ["UdfInputError", "completion_rate", "rating", "ratio_percent", "section_score"]


class UdfInputError(ValueError):
    """An argument cannot be read; ``str()`` is the Chinese text the cell shows."""


def _framework() -> Framework:
    return get_framework()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: object, what: str) -> tuple[Decimal | None, Direction | None]:
    """A number typed the way clerks type it (``180``, ``不少于180家``, ``92.13%``) and its direction word."""
    if _blank(value):
        return None, None
    q = parse_quantity(value)
    if q.problem:
        raise UdfInputError(f"{what}：{q.problem}")
    return q.value, q.direction


def _direction(value: object) -> Direction | None:
    if _blank(value):
        return None
    d = parse_direction(value)
    if d is None:
        raise UdfInputError(f"方向“{value}”无法识别，请填写 ≥、≤ 或 =（也可写 正向、反向、等于）")
    return d


def completion_rate(
    target: object, actual: object, direction: object = None, framework: Framework | None = None
) -> Decimal | None:
    """Completion rate r of one indicator as a fraction (1 = 100 %), uncapped (docs/DOMAIN.md §1.3).

    ``target`` and ``actual`` are read like the workbook's 目标值/实际值 cells (``不少于180家`` is 180,
    direction ≥). An ``actual`` that is one of the framework's 完成等级 gives that grade's rate.
    The direction is ``direction`` if given, else the one written in the target, else ≥.
    None when the target or the actual is blank.
    """
    fw = framework or _framework()
    if isinstance(actual, str) and actual.strip() in fw.completion.grades:
        row = IndicatorRow(kind=Kind.QUAL, grade=actual.strip())
        return completion(row, fw)[0]
    t, t_dir = _number(target, "目标值")
    try:
        a, _ = _number(actual, "实际值")
    except UdfInputError as exc:
        if not isinstance(actual, str):
            raise
        raise UdfInputError(
            f"实际值“{actual.strip()[:20]}”既不是数值，也不是本工作簿评分规则的完成等级"
            f"（{'/'.join(fw.grade_names())}）"
        ) from exc
    if t is None or a is None:
        return None
    d = _direction(direction) or t_dir
    if d is None and isinstance(target, str):
        d = direction_in_text(target)
    row = IndicatorRow(kind=Kind.QUANT, direction=d or Direction.GE, target_value=t, actual_value=a)
    return completion(row, fw)[0]


def _items(value: object) -> list[object]:
    if isinstance(value, list | tuple):
        out: list[object] = []
        for v in value:
            out += _items(v) if isinstance(v, list | tuple) else [v]
        return out
    return [value]


def section_score(
    targets: object,
    actuals: object,
    full: object,
    directions: object = None,
    framework: Framework | None = None,
) -> Decimal:
    """A 产出/效益 section score by rule R-a (docs/DOMAIN.md §1.1).

    Rows where both target and actual are blank are left out (a selected range may include the
    table's empty rows); every other row counts once. With ``full`` one number (the section's 分值,
    e.g. 20): weight w = full / n. With ``full`` a range of one 分值 per row: w is that row's value and
    the section's 分值 is their sum. Deduction per row d = round_half_up(w × (1 − min(r, cap)), 2),
    r = 0 when it cannot be computed; score = max(0, 分值 − Σ d).
    """
    fw = framework or _framework()
    t_list, a_list = _items(targets), _items(actuals)
    if len(t_list) != len(a_list):
        raise UdfInputError(
            f"目标值区域有 {len(t_list)} 个单元格，实际值区域有 {len(a_list)} 个，请选择同样大小的区域"
        )
    d_list = _items(directions) if not _blank(directions) and directions is not None else []
    if d_list and len(d_list) != len(t_list):
        raise UdfInputError("方向区域的大小应与目标值区域相同")
    fulls = _items(full)
    per_row = len(fulls) > 1
    if per_row and len(fulls) != len(t_list):
        raise UdfInputError("分值区域的大小应与目标值区域相同，或只给一个分值（如 20）")
    rows = [i for i in range(len(t_list)) if not (_blank(t_list[i]) and _blank(a_list[i]))]
    if not rows:
        return ZERO
    weights: list[Decimal] = []
    if per_row:
        for i in rows:
            w = to_decimal(fulls[i])
            if w is None:
                raise UdfInputError(f"第 {i + 1} 行的分值“{fulls[i]}”不是数值")
            weights.append(w)
        total_full = sum(weights, ZERO)
    else:
        f = to_decimal(fulls[0]) if not isinstance(fulls[0], str) else _number(fulls[0], "分值")[0]
        if f is None:
            raise UdfInputError("请填写这组指标的分值（如 20）")
        total_full = f
        weights = [f / len(rows)] * len(rows)
    deductions = ZERO
    for w, i in zip(weights, rows, strict=True):
        try:
            r = completion_rate(t_list[i], a_list[i], d_list[i] if d_list else None, fw)
        except UdfInputError as exc:
            raise UdfInputError(f"第 {i + 1} 行：{exc}") from exc
        used = ZERO if r is None else min(max(r, ZERO), fw.completion.cap)
        deductions += round2(w * (ONE - used))
    return min(total_full, max(ZERO, total_full - deductions))


def rating(total: object, framework: Framework | None = None) -> str:
    """The framework's rating of a total (rated on the total rounded to 2 places); 不评级 for rules
    that do not rate."""
    if _blank(total):
        return ""
    value = to_decimal(total) if not isinstance(total, str) else _number(total, "总分")[0]
    if value is None:
        raise UdfInputError(f"总分“{total}”不是数值")
    return (framework or _framework()).rate(round2(value))


def ratio_percent(numerator: object, denominator: object) -> Decimal | None:
    """numerator ÷ denominator in percent, rounded half up to 2 places; None when the denominator
    is blank or zero (no #DIV/0!)."""
    n, _ = _number(numerator, "分子")
    d, _ = _number(denominator, "分母")
    if n is None or d is None or d == 0:
        return None
    return round2(n / d * HUNDRED)
