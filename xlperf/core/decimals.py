"""Decimal helpers shared by the core: one rounding rule, one way to turn inputs into Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
ONE = Decimal(1)


def round2(value: Decimal) -> Decimal:
    """Round half up to 2 places (docs/DOMAIN.md §1.4): the only rounding the scores use."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal | None:
    """Convert an int, str or Decimal to Decimal without passing through a binary float.

    Floats (as openpyxl returns them) are converted through ``repr``, which gives the shortest
    string that round-trips, so 0.1 stays 0.1 rather than 0.1000000000000000055511151231257827.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def pct(value: Decimal) -> str:
    """Format a percentage figure (already in percent) with two decimals, e.g. 96.19."""
    return f"{round2(value):.2f}"


def plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (92.1300 → 92.13, 100 → 100)."""
    if value == value.to_integral_value():
        try:
            return value.quantize(ONE)
        except InvalidOperation:  # more digits than the context holds (1e28): a typo the reader rejects
            return value
    return value.normalize()


def fmt2(value: Decimal) -> str:
    """Rounded to 2 places, trailing zeros dropped, as Chinese reports write: 48.57, 3, 3247.7, -16.56."""
    return format(plain(round2(value)), "f")
