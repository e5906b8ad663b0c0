"""Worksheet functions (UDFs) of the xlperf add-in: thin wrappers over the core.

Excel reaches them through the VBA wrappers prebuilt into ``xlperf.xlam`` from
:data:`xlperf.excel.registry.UDFS` (docs/EXCEL.md section 3), which pass the arguments by position: the
names, order and optional arguments here must equal the registry's (tests/test_udfs.py checks).
The decorated functions carry no type annotations on purpose: xlwings turns annotations into
converters. The logic lives in the plain functions (``completion_rate`` …), usable without Excel.

UDFs work on Windows Excel only (an xlwings limitation); the ribbon buttons work on Mac too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import xlwings as xw

from xlperf.catalog import for_workbook
from xlperf.core.decimals import HUNDRED, ONE, ZERO, round2, to_decimal
from xlperf.core.evaluation import IndicatorRow, Kind
from xlperf.core.framework import Framework, FrameworkError, get_framework
from xlperf.core.quantity import Direction, direction_in_text, parse_direction, parse_quantity
from xlperf.core.rules import completion
from xlperf.excel.book import named_text, recorded_rules
from xlperf.excel.registry import UDF_CATEGORY, udf_by_name

__all__ = [
    "XLPERF_COMPLETION",
    "XLPERF_RATING",
    "XLPERF_RATIO",
    "XLPERF_SECTION_SCORE",
    "UdfInputError",
    "caller_framework",
    "completion_rate",
    "rating",
    "ratio_percent",
    "section_score",
]


class UdfInputError(ValueError):
    """An argument cannot be read; ``str()`` is the Chinese text the cell shows."""


def _framework() -> Framework:
    return get_framework()


#: the rules of each calling workbook, by (workbook, recorded hash): a sheet recalculates its
#: functions often, and reading the embedded rules on every call would be slow
_BOOK_RULES: dict[tuple[str, str], Framework] = {}


def caller_framework(caller: Any) -> Framework:
    """The rules the calling cell's workbook carries, decided as every command decides
    (:func:`xlperf.catalog.for_workbook`: the embedded copy, else the framework its id names); the
    default framework for a workbook xlperf did not make, or with no caller (a call from VBA)."""
    if caller is None:
        return _framework()
    try:
        book = caller.sheet.book
        key = (str(book.fullname), named_text(book, "xp_framework_sha256") or "")
    except Exception:  # not a cell of a workbook (xlwings passes what Excel's Application.Caller is)
        return _framework()
    found = _BOOK_RULES.get(key)
    if found is None:
        try:
            found, _ = for_workbook(recorded_rules(book))
        except FrameworkError as exc:
            raise UdfInputError(f"本工作簿的评分规则无法使用：{'；'.join(exc.problems)[:200]}") from exc
        _BOOK_RULES[key] = found
    return found


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any, what: str) -> tuple[Decimal | None, Direction | None]:
    """A number typed the way clerks type it (``180``, ``不少于180家``, ``92.13%``) and its direction word."""
    if _blank(value):
        return None, None
    q = parse_quantity(value)
    if q.problem:
        raise UdfInputError(f"{what}：{q.problem}")
    return q.value, q.direction


def _direction(value: Any) -> Direction | None:
    if _blank(value):
        return None
    d = parse_direction(value)
    if d is None:
        raise UdfInputError(f"方向“{value}”无法识别，请填写 ≥、≤ 或 =（也可写 正向、反向、等于）")
    return d


def completion_rate(
    target: Any, actual: Any, direction: Any = None, framework: Framework | None = None
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


def _items(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for v in value:
            out += _items(v) if isinstance(v, list | tuple) else [v]
        return out
    return [value]


def section_score(
    targets: Sequence[Any] | Any,
    actuals: Sequence[Any] | Any,
    full: Any,
    directions: Sequence[Any] | Any = None,
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


def rating(total: Any, framework: Framework | None = None) -> str:
    """The framework's rating of a total (rated on the total rounded to 2 places); 不评级 for rules
    that do not rate."""
    if _blank(total):
        return ""
    value = to_decimal(total) if not isinstance(total, str) else _number(total, "总分")[0]
    if value is None:
        raise UdfInputError(f"总分“{total}”不是数值")
    return (framework or _framework()).rate(round2(value))


def ratio_percent(numerator: Any, denominator: Any) -> Decimal | None:
    """numerator ÷ denominator in percent, rounded half up to 2 places; None when the denominator
    is blank or zero (no #DIV/0!)."""
    n, _ = _number(numerator, "分子")
    d, _ = _number(denominator, "分母")
    if n is None or d is None or d == 0:
        return None
    return round2(n / d * HUNDRED)


# ------------------------------------------------------------------------------ Excel wrappers


def _excel_result(fn: Any) -> Any:
    """Call ``fn()``; Decimal → float, None → "" (a blank cell), a bad input → its message."""
    try:
        value = fn()
    except UdfInputError as exc:
        return str(exc)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    return value


def _excel_function(**arg_options: dict[str, Any]) -> Any:
    """``@xw.arg`` for every argument and ``@xw.func``, with the registry's help texts: the
    function's docstring (Excel's description) and each argument's ``doc`` come from
    :data:`xlperf.excel.registry.UDFS`, the same texts the VBA wrappers register, so they cannot drift."""

    def wrap(fn: Any) -> Any:
        spec = udf_by_name(fn.__name__)
        fn.__doc__ = spec.help
        for arg in reversed(spec.args):
            fn = xw.arg(arg.name, doc=arg.help, **arg_options.get(arg.name, {}))(fn)
        return xw.func(category=UDF_CATEGORY)(fn)

    return wrap


# The four functions Excel calls. Their docstrings (Excel's descriptions) are set from the registry
# by _excel_function; the logic is in the plain functions above.


# ``caller`` is xlwings' reserved argument: not shown in Excel, it receives the calling cell, so each
# function scores by the rules of the workbook it is typed in (the VBA wrapper passes Nothing there).


@_excel_function()
def XLPERF_COMPLETION(target, actual, direction=None, caller=None):
    return _excel_result(lambda: completion_rate(target, actual, direction, caller_framework(caller)))


@_excel_function(targets={"ndim": 1}, actuals={"ndim": 1}, directions={"ndim": 1})
def XLPERF_SECTION_SCORE(targets, actuals, full, directions=None, caller=None):
    return _excel_result(lambda: section_score(targets, actuals, full, directions, caller_framework(caller)))


@_excel_function()
def XLPERF_RATING(total, caller=None):
    return _excel_result(lambda: rating(total, caller_framework(caller)))


@_excel_function()
def XLPERF_RATIO(numerator, denominator):
    return _excel_result(lambda: ratio_percent(numerator, denominator))
