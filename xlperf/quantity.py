"""Understanding what clerks type into a numeric cell (DOMAIN.md §3, "Input forms").

``parse_quantity`` turns ``1957``, ``1,957``, ``1957个``, ``１９５７``, ``92.13%``, ``≥5%``,
``不少于180家``, ``每届不少于150家``, ``-``, ``/``, ``无`` or a blank into a value, a unit and a
direction — or into a problem with a Chinese message. It never guesses: anything it cannot read
exactly (two numbers, a range, a formula, an Excel error value) is a problem, not a number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from xlperf.decimals import plain, to_decimal


class Direction(StrEnum):
    """How an actual value is compared with its target (DOMAIN.md §1.3)."""

    GE = "≥"
    LE = "≤"
    EQ = "="


# Longest words first so "不少于" wins over "少于"-like fragments.
_GE_WORDS = ("及以上", "不少于", "不低于", "不小于", "大于等于", "以上", "达到", "至少", ">=", "≥", "≧")
_LE_WORDS = ("及以下", "不超过", "不高于", "不大于", "小于等于", "控制在", "以下", "以内", "<=", "≤", "≦")
_EQ_WORDS = ("等于", "=")

DIRECTION_WORDS: dict[Direction, tuple[str, ...]] = {
    Direction.GE: _GE_WORDS,
    Direction.LE: _LE_WORDS,
    Direction.EQ: _EQ_WORDS,
}

#: The words a clerk may type in the 方向 column, mapped to a direction.
DIRECTION_ALIASES: dict[str, Direction] = {
    "≥": Direction.GE, ">=": Direction.GE, "以上": Direction.GE, "不少于": Direction.GE,
    "达到": Direction.GE, "不低于": Direction.GE, "大于等于": Direction.GE, "正向": Direction.GE,
    "≤": Direction.LE, "<=": Direction.LE, "以下": Direction.LE, "不超过": Direction.LE,
    "控制在": Direction.LE, "不高于": Direction.LE, "小于等于": Direction.LE, "反向": Direction.LE,
    "=": Direction.EQ, "等于": Direction.EQ,
}

#: Words that say "nothing to enter here" rather than a number.
NONE_WORDS = frozenset({"-", "—", "--", "/", "无", "没有", "不适用", "N/A", "n/a", "NA"})

EXCEL_ERRORS = frozenset(
    {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
)

_QUALIFIERS = ("每届", "每年", "每月", "每季度", "每季", "累计", "全年", "年度", "同比增长", "增长", "实现", "完成", "共")

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_ANY_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_UNIT_RE = re.compile(r"^[A-Za-z\u4e00-\u9fff㎡²³/·（）()]*$")


@dataclass(frozen=True)
class Quantity:
    """What was understood from one typed cell.

    ``value`` is None for a blank or a "none" word (``-``, ``/``, ``无``): ``blank`` tells which.
    ``problem`` is a Chinese sentence when the text could not be read exactly; then ``value`` is None.
    """

    value: Decimal | None = None
    unit: str = ""
    direction: Direction | None = None
    qualifier: str = ""
    blank: bool = True
    none_word: bool = False
    problem: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def normalise_text(text: str) -> str:
    """NFKC (full-width digits and signs to ASCII), unify minus signs, drop spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2212", "-").replace("\u2013", "-").replace("\uff0d", "-")
    return re.sub(r"\s+", "", text)


def parse_direction(text: object) -> Direction | None:
    """Read a direction typed in the 方向 column; None when blank or not understood."""
    if text is None:
        return None
    key = normalise_text(str(text))
    return DIRECTION_ALIASES.get(key)


def direction_in_text(text: str) -> Direction | None:
    """The direction that a target text states in words (``不少于``, ``以上``, ``≤`` …), if any."""
    norm = normalise_text(text)
    for direction, words in DIRECTION_WORDS.items():
        if direction is Direction.EQ:
            continue
        if any(word in norm for word in words):
            return direction
    return None


def parse_quantity(raw: object, *, percent_cell: bool = False) -> Quantity:
    """Parse one typed cell.

    ``raw`` is what the cell holds: None, an int/float/Decimal, or text. ``percent_cell`` says the
    cell carries a percent number format, so a stored 0.9213 is 92.13 %.
    """
    if raw is None:
        return Quantity()
    if isinstance(raw, bool):
        return Quantity(blank=False, problem=f"“{raw}”不是数值，请填写数字")
    if isinstance(raw, int | float | Decimal):
        value = to_decimal(raw)
        if value is None:
            return Quantity(blank=False, problem="数值无法识别（非有限数），请重新填写")
        if percent_cell:
            return Quantity(value=plain(value * 100), unit="%", blank=False)
        return Quantity(value=value, blank=False)
    text = str(raw)
    stripped = text.strip()
    if not stripped:
        return Quantity()
    if stripped.upper() in EXCEL_ERRORS:
        return Quantity(blank=False, problem=f"单元格是 Excel 错误值 {stripped}，请改为实际数值")
    if stripped.startswith("="):
        return Quantity(blank=False, problem=f"单元格是公式“{stripped[:40]}”而非数值，请填写计算结果")
    norm = normalise_text(stripped)
    if norm in NONE_WORDS:
        return Quantity(blank=False, none_word=True)
    numbers = _ANY_NUMBER_RE.findall(norm)
    if not numbers:
        return Quantity(blank=False, problem=f"“{_clip(stripped)}”中没有数值，请填写数字（可带单位）")
    if len(numbers) > 1 or re.search(r"\d\s*[-~～至到]\s*\d", norm):
        return Quantity(
            blank=False,
            problem=f"“{_clip(stripped)}”包含多个数值或区间，请只填写计分用的一个数值，其余写入说明",
        )
    match = _NUMBER_RE.search(norm)
    if match is None or match.group(0).lstrip("+-") != numbers[0]:
        return Quantity(
            blank=False, problem=f"“{_clip(stripped)}”的千位分隔不规范，请填写如 1957 或 1,957"
        )
    try:
        value = Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex only admits valid numbers
        return Quantity(blank=False, problem=f"“{_clip(stripped)}”无法识别为数值")
    before, after = norm[: match.start()], norm[match.end() :]
    direction: Direction | None = None
    unit = ""
    qualifier_parts: list[str] = []
    # words before the number: direction words and qualifiers such as 每届
    rest = before
    while rest:
        for word in sorted(_QUALIFIERS, key=len, reverse=True):
            if rest.startswith(word):
                qualifier_parts.append(word)
                rest = rest[len(word) :]
                break
        else:
            found = _take_direction(rest)
            if found is None:
                return Quantity(
                    blank=False, problem=f"“{_clip(stripped)}”中“{rest}”无法识别，请只填写数值、单位和方向词"
                )
            word, found_dir = found
            if direction is not None and direction is not found_dir:
                return Quantity(blank=False, problem=f"“{_clip(stripped)}”中的方向词互相矛盾")
            direction = found_dir
            rest = rest[len(word) :]
    if after.startswith(("%", "％")):
        unit = "%"
        after = after[1:]
    for word in ("完成", "左右"):
        if word == "完成" and after.endswith(word):
            qualifier_parts.append(word)
            after = after[: -len(word)]
    # trailing direction words (以上/以下/及以上 …) end the text; the middle is the unit
    for found_dir, words in DIRECTION_WORDS.items():
        for word in sorted(words, key=len, reverse=True):
            if after.endswith(word) and word not in ("=",):
                if direction is not None and direction is not found_dir:
                    return Quantity(blank=False, problem=f"“{_clip(stripped)}”中的方向词互相矛盾")
                direction = found_dir
                after = after[: -len(word)]
                break
    if after:
        if unit or not _UNIT_RE.match(after):
            return Quantity(
                blank=False, problem=f"“{_clip(stripped)}”中“{after}”无法识别为单位，请只填写数值和单位"
            )
        unit = after
    note = None
    if isinstance(raw, str) and (unit or direction or qualifier_parts or "," in norm or norm != stripped):
        note = f"已将“{_clip(stripped)}”识别为 {value}{unit}"
    return Quantity(
        value=value,
        unit=unit,
        direction=direction,
        qualifier="".join(qualifier_parts),
        blank=False,
        note=note,
    )


def parse_rate(raw: object, *, percent_cell: bool = False) -> Quantity:
    """Parse a rate in percent (支出执行率). A bare number between 0 and 1.5 is read as a fraction.

    ``0.9213`` typed without a percent sign almost always means 92.13 %; a rate of 0.9 % in a
    monthly execution table is not plausible. The conversion is reported in ``note`` so the
    adapters can show it: the clerk sees what was understood.
    """
    q = parse_quantity(raw, percent_cell=percent_cell)
    if q.value is None or q.unit == "%" or percent_cell:
        if q.unit not in ("", "%"):
            return Quantity(blank=False, problem=f"执行率应为百分数，单位“{q.unit}”无法识别")
        return q
    if q.unit:
        return Quantity(blank=False, problem=f"执行率应为百分数，单位“{q.unit}”无法识别")
    if Decimal(0) < q.value <= Decimal("1.5"):
        value = plain(q.value * 100)
        return Quantity(value=value, unit="%", blank=False, note=f"{q.value} 按小数理解为 {value}%")
    return Quantity(value=q.value, unit="%", blank=False, note=q.note)


def _take_direction(text: str) -> tuple[str, Direction] | None:
    candidates = [
        (word, direction)
        for direction, words in DIRECTION_WORDS.items()
        for word in words
        if text.startswith(word)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: len(c[0]))


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
