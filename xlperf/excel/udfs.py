"""Worksheet functions (UDFs) of the xlperf add-in: thin wrappers over the core.

Excel reaches them through the VBA wrappers prebuilt into ``xlperf.xlam`` from
:data:`xlperf.excel.registry.UDFS` (docs/EXCEL.md section 3), which pass the arguments by position: the
names, order and optional arguments here must equal the registry's (tests/test_udfs.py checks).
The decorated functions carry no type annotations on purpose: xlwings turns annotations into
converters. The logic lives in :mod:`xlperf.core.functions` (``completion_rate`` …), usable without
Excel (and by the 报送 freeze); it is imported here under the same names.

UDFs work on Windows Excel only (an xlwings limitation); the ribbon buttons work on Mac too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import xlwings as xw

from xlperf.catalog import for_workbook
from xlperf.core.framework import Framework, FrameworkError, get_framework
from xlperf.core.functions import UdfInputError, completion_rate, rating, ratio_percent, section_score
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


#: the rules of each calling workbook, by (workbook, recorded hash): a sheet recalculates its
#: functions often, and reading the embedded rules on every call would be slow
_BOOK_RULES: dict[tuple[str, str], Framework] = {}


def caller_framework(caller: Any) -> Framework:
    """The rules the calling cell's workbook carries, decided as every command decides
    (:func:`xlperf.catalog.for_workbook`: the embedded copy, else the framework its id names); the
    default framework for a workbook xlperf did not make, or with no caller (a call from VBA)."""
    if caller is None:
        return get_framework()
    try:
        book = caller.sheet.book
        key = (str(book.fullname), named_text(book, "xp_framework_sha256") or "")
    except Exception:  # not a cell of a workbook (xlwings passes what Excel's Application.Caller is)
        return get_framework()
    found = _BOOK_RULES.get(key)
    if found is None:
        try:
            found, _ = for_workbook(recorded_rules(book))
        except FrameworkError as exc:
            raise UdfInputError(f"本工作簿的评分规则无法使用：{'；'.join(exc.problems)[:200]}") from exc
        _BOOK_RULES[key] = found
    return found


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
