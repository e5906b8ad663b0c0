"""Every typed form of docs/DOMAIN.md §3 is understood exactly or rejected with a message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xlperf.core.quantity import Direction, parse_direction, parse_quantity, parse_rate


@pytest.mark.parametrize(
    ("raw", "value", "unit", "direction"),
    [
        ("1957", "1957", "", None),
        ("1,957", "1957", "", None),
        ("1957个", "1957", "个", None),
        ("１９５７", "1957", "", None),
        ("92.13%", "92.13", "%", None),
        ("0.9213", "0.9213", "", None),
        ("≥5%", "5", "%", Direction.GE),
        ("不少于180家", "180", "家", Direction.GE),
        ("每届不少于150家", "150", "家", Direction.GE),
        ("4 场以上", "4", "场", Direction.GE),
        ("不超过 3 次", "3", "次", Direction.LE),
        ("110亿元", "110", "亿元", None),
        ("-16.56%", "-16.56", "%", None),
        ("１２.７％", "12.7", "%", None),
        (1957, "1957", "", None),
        (12.7, "12.7", "", None),
        (0.1, "0.1", "", None),
    ],
)
def test_understood(raw: object, value: str, unit: str, direction: Direction | None) -> None:
    q = parse_quantity(raw)
    assert q.ok, q.problem
    assert q.value == Decimal(value)
    assert q.unit == unit
    assert q.direction is direction


def test_qualifier_kept() -> None:
    assert parse_quantity("每届不少于150家").qualifier == "每届"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_blank(raw: object) -> None:
    q = parse_quantity(raw)
    assert q.value is None and q.blank and q.ok


@pytest.mark.parametrize("raw", ["-", "/", "无", "—", "不适用"])
def test_none_words(raw: str) -> None:
    q = parse_quantity(raw)
    assert q.value is None and q.none_word and not q.blank and q.ok


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("=SUM(A1:A3)", "公式"),
        ("#N/A", "错误值"),
        ("#DIV/0!", "错误值"),
        ("领军团队10个、领军人才30人", "多个数值"),
        ("100-200", "多个数值"),
        ("1,95", "千位分隔"),
        ("约一百", "没有数值"),
        ("abc", "没有数值"),
        ("不少于100以下", "矛盾"),
        ("5%个", "单位"),
    ],
)
def test_rejected_with_a_message(raw: str, fragment: str) -> None:
    q = parse_quantity(raw)
    assert q.value is None
    assert q.problem is not None and fragment in q.problem


def test_percent_cell_and_rates() -> None:
    assert parse_quantity(0.05, percent_cell=True).value == Decimal(5)
    assert parse_rate(0.9213).value == Decimal("92.13")
    assert parse_rate(0.9213).note is not None  # the conversion is shown to the clerk
    assert parse_rate("92.13%").value == Decimal("92.13")
    assert parse_rate(100).value == Decimal(100)
    assert parse_rate(1, percent_cell=True).value == Decimal(100)
    assert parse_rate("100家").problem is not None


@pytest.mark.parametrize(
    ("raw", "direction"),
    [
        ("≥", Direction.GE),
        ("以上", Direction.GE),
        ("≤", Direction.LE),
        ("不超过", Direction.LE),
        ("=", Direction.EQ),
        ("", None),
        ("乱写", None),
    ],
)
def test_direction_column(raw: str, direction: Direction | None) -> None:
    assert parse_direction(raw) is direction


def test_a_huge_number_in_a_percent_cell_is_read_without_crashing() -> None:
    """Found by test_fuzz_inputs: 1e26 in a percent-formatted 支出进度 cell raised InvalidOperation."""
    from xlperf.core.quantity import parse_rate

    q = parse_rate(1e26, percent_cell=True)
    assert q.value is not None and q.value > 10**27  # the reader then rejects it as 超出合理范围
