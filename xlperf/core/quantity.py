"""Understanding what clerks type into a numeric cell (docs/DOMAIN.md §3, "Input forms").

``parse_quantity`` turns ``1957``, ``1,957``, ``1957个``, ``１９５７``, ``92.13%``, ``≥5%``,
``不少于180家``, ``每届不少于150家``, ``-``, ``/``, ``无`` or a blank into a value, a unit and a
direction — or into a problem with a Chinese message. It never guesses: anything it cannot read
exactly (two numbers, a range, a formula, an Excel error value) is a problem, not a number.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from xlperf.core.decimals import plain, to_decimal

#: the magnitudes a department's figure can have: past Excel's 15 significant digits no budget figure
#: or rate is real (and the scores' decimal arithmetic would overflow), below 1e-9 it is a typo (or a
#: JSON number like 1e-999999 that a float would silently make 0)
PLAUSIBLE_MIN, PLAUSIBLE_MAX = Decimal("1e-9"), Decimal("1e15")


def plausible(value: Decimal) -> bool:
    """Zero, or a finite magnitude within [PLAUSIBLE_MIN, PLAUSIBLE_MAX) — the one such range."""
    return value.is_finite() and (not value or PLAUSIBLE_MIN <= abs(value) < PLAUSIBLE_MAX)


class Direction(StrEnum):
    """How an actual value is compared with its target (docs/DOMAIN.md §1.3)."""

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
    "≥": Direction.GE,
    ">=": Direction.GE,
    "以上": Direction.GE,
    "不少于": Direction.GE,
    "达到": Direction.GE,
    "不低于": Direction.GE,
    "大于等于": Direction.GE,
    "正向": Direction.GE,
    "≤": Direction.LE,
    "<=": Direction.LE,
    "以下": Direction.LE,
    "不超过": Direction.LE,
    "控制在": Direction.LE,
    "不高于": Direction.LE,
    "小于等于": Direction.LE,
    "反向": Direction.LE,
    "=": Direction.EQ,
    "等于": Direction.EQ,
}

#: Words that say "nothing to enter here" rather than a number.
NONE_WORDS = frozenset({"-", "—", "--", "/", "无", "没有", "不适用", "N/A", "n/a", "NA"})

EXCEL_ERRORS = frozenset(
    {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
)

_QUALIFIERS = (
    "每届",
    "每年",
    "每月",
    "每季度",
    "每季",
    "累计",
    "全年",
    "年度",
    "同比增长",
    "增长",
    "实现",
    "完成",
    "共",
)

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_ANY_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_DATE_RE = re.compile(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:T\d{2}:\d{2}:\d{2})?")
_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d{1,4}")
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
    #: the other way the same keystrokes may have been meant, in percent contexts only: a bare
    #: 0 < x ≤ 1.5 may be a fraction (×100), a percent-formatted cell may hold a number typed as
    #: percent points (÷100). None when the input is explicit ("95%" typed as text, or any unit).
    alternative: Decimal | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def normalise_text(text: str) -> str:
    """NFKC (full-width digits and signs to ASCII), unify minus signs, drop spaces."""
    return _normalise_short(text) if len(text) <= 256 else _normalise(text)


@functools.lru_cache(maxsize=4096)  # the same headers and labels come back in every workbook
def _normalise_short(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2212", "-").replace("\u2013", "-").replace("\uff0d", "-")
    return _SPACES.sub("", text)


_SPACES = re.compile(r"\s+")


_PUNCT = re.compile(r"[\s“”\"'‘’「」『』《》〈〉（）()【】\[\]、，,。.：:；;！!？?·…\-—]")


def normalised_words(text: str) -> str:
    """The text as words only (NFKC, no spaces or punctuation), to compare names and mentions."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text))


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
            return Quantity(value=plain(value * 100), unit="%", blank=False, alternative=value)
        return Quantity(value=value, blank=False, alternative=fraction_alternative(value))
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
    if _DATE_RE.fullmatch(norm):
        return Quantity(
            blank=False,
            problem=f"单元格内容是日期 {norm[:10]}（单元格可能被设成了日期格式），"
            "请把格式改为“常规”或“数值”后重新填写数值",
        )
    if _SCIENTIFIC_RE.fullmatch(norm):
        value = Decimal(norm)
        return Quantity(
            value=value,
            blank=False,
            note=f"已将“{_clip(stripped)}”识别为 {plain(value)}",
            alternative=fraction_alternative(value),
        )
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
        return Quantity(blank=False, problem=f"“{_clip(stripped)}”的千位分隔不规范，请填写如 1957 或 1,957")
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
    # said only when the reading differs from what was typed: "96.5%" read as 96.5 % is no news
    # (issue 25), "不少于 180 家" read as 180家 or "1,957" as 1957 is
    if isinstance(raw, str) and norm.replace(" ", "") != f"{match.group(0)}{unit}":
        note = f"已将“{_clip(stripped)}”识别为 {value}{unit}"
    return Quantity(
        value=value,
        unit=unit,
        direction=direction,
        qualifier="".join(qualifier_parts),
        blank=False,
        note=note,
        alternative=None if unit else fraction_alternative(value),
    )


#: a bare number at most this large, typed where a percent is meant, may be a fraction (0.95 = 95 %)
FRACTION_LIMIT = Decimal("1.5")


def fraction_alternative(value: Decimal) -> Decimal | None:
    """The ×100 reading of a bare number that may be a fraction typed for a percent."""
    return plain(value * 100) if Decimal(0) < abs(value) <= FRACTION_LIMIT else None


def parse_rate(raw: object, *, percent_cell: bool = False, maximum: Decimal = Decimal(100)) -> Quantity:
    """Parse a rate in percent (支出执行率, 手工完成率): see :func:`rate_reading`."""
    return rate_reading(parse_quantity(raw, percent_cell=percent_cell), maximum=maximum)


def rate_reading(q: Quantity, *, maximum: Decimal = Decimal(100)) -> Quantity:
    """The one reading convention for a cell that holds a rate (README "Percentages").

    * ``95%`` typed as text, or a percent-formatted cell showing 95 % (stored 0.95): 95.
    * A bare number ``95``: 95 (percent points).
    * A bare number 0 < x ≤ 1.5 (``0.95``): a fraction, 95, reported in ``note`` (P02) — a rate of
      0.95 % is not what anyone types; ``0.95%`` typed with its sign stays 0.95.
    * A percent-formatted cell whose stored number was typed as percent points (LibreOffice and WPS
      store ``96`` typed into a % cell as 9600 %): when the shown value is above ``maximum`` and the
      stored number is a plausible rate, the stored number is used, reported in ``note``.
    """
    if q.value is None or q.problem:
        return q
    if q.unit not in ("", "%"):
        return Quantity(blank=False, problem=f"应填写百分数，单位“{q.unit}”无法识别")
    alt = q.alternative
    if q.unit == "%" and alt is not None:  # a percent-formatted number
        if q.value > maximum and FRACTION_LIMIT < alt <= maximum:
            return Quantity(
                value=alt,
                unit="%",
                blank=False,
                note=f"单元格为百分比格式，显示为 {q.value}%，已按 {alt}% 理解；若确为 {q.value}%，请核对",
            )
        return Quantity(value=q.value, unit="%", blank=False)
    if q.unit == "%":
        return q
    if alt is not None:
        return Quantity(
            value=alt,
            unit="%",
            blank=False,
            note=f"{q.value} 按小数理解为 {alt}%（若确为 {q.value}%，请填写“{q.value}%”）",
        )
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


def completion_ratio(target: Decimal, actual: Decimal, direction: Direction) -> Decimal:
    """Completion r of a 定量 row (docs/DOMAIN.md §1.3), uncapped."""
    if direction is Direction.GE:
        if target == 0:
            return Decimal(1) if actual >= 0 else Decimal(0)
        return actual / target
    if direction is Direction.LE:
        return Decimal(1) if actual == 0 else target / actual
    hi, lo = max(actual, target), min(actual, target)
    return Decimal(1) if hi == 0 else lo / hi


@dataclass(frozen=True)
class PercentChoice:
    """How a row's target and actual were read under the percent convention."""

    target: Decimal
    actual: Decimal
    #: the fields read the other way: (field, as typed reading, used reading)
    changed: tuple[tuple[str, Decimal, Decimal], ...] = ()
    typed_rate: Decimal | None = None  # r (percent) of the as-typed readings, when they were replaced
    used_rate: Decimal | None = None  # r (percent) of the readings used


def resolve_percent_row(
    target: Quantity, actual: Quantity, direction: Direction, low: Decimal, high: Decimal
) -> PercentChoice | None:
    """A row whose unit is % and whose target and actual disagree by a factor of 100.

    Each value has its reading and, when the keystrokes allow it, an :attr:`Quantity.alternative`
    (a bare 0.95 that may be 95 %; a percent-formatted 9600 % that may be 96). When the readings as
    typed give a completion rate outside ``low``–``high`` percent and another combination of
    readings falls inside it, that combination is used (closest to 100 %); the caller reports it
    (P02). Returns None when both values are not numbers.
    """
    if target.value is None or actual.value is None:
        return None
    t0, a0 = target.value, actual.value

    def rate(t: Decimal, a: Decimal) -> Decimal:
        return completion_ratio(t, a, direction) * 100

    first = rate(t0, a0)
    if low <= first <= high:
        return PercentChoice(t0, a0)
    options = []
    for t in {t0, target.alternative or t0}:
        for a in {a0, actual.alternative or a0}:
            if (t, a) == (t0, a0):
                continue
            r = rate(t, a)
            if low <= r <= high:
                options.append((abs(r - 100), t, a, r))
    if not options:
        return PercentChoice(t0, a0)
    _, t, a, r = min(options, key=lambda o: o[0])
    changed = tuple(
        (field, old, new)
        for field, old, new in (("target_value", t0, t), ("actual_value", a0, a))
        if old != new
    )
    return PercentChoice(t, a, changed, first, r)


#: what clerks type for a dropdown value, when it is not one of the values
_SYNONYMS = {
    "已完成": "完成",
    "全部完成": "完成",
    "完成了": "完成",
    "已全部完成": "完成",
    "按时完成": "完成",
    "达标": "完成",
    "大部分完成": "基本完成",
    "基本完成了": "基本完成",
    "大体完成": "基本完成",
    "部分完成了": "部分完成",
    "完成部分": "部分完成",
    "一半": "部分完成",
    "没完成": "未完成",
    "没有完成": "未完成",
    "未能完成": "未完成",
    "不达标": "未完成",
    "未达标": "未完成",
    "是的": "是",
    "对": "是",
    "有": "是",
    "已": "是",
    "√": "是",
    "Y": "是",
    "YES": "是",
    "不是": "否",
    "没有": "否",
    "N": "否",
    "NO": "否",
    "未": "否",
    "无": "不适用",
    "不涉及": "不适用",
    "无此项": "不适用",
    "N/A": "不适用",
    "NA": "不适用",
    "定量指标": "定量",
    "数量": "定量",
    "定性指标": "定性",
    ">": "≥",
    "大于": "≥",
    "<": "≤",
    "小于": "≤",
    "＝": "=",
}


#: traditional and variant characters clerks type, to their simplified form in the dropdown values
_VARIANTS = str.maketrans(
    {
        "份": "分",
        "沒": "没",
        "適": "适",
        "實": "实",
        "無": "无",
        "對": "对",
        "達": "达",
        "標": "标",
        "項": "项",
        "盡": "尽",
    }
)
#: words around a dropdown value that do not change its meaning (已完成, 完成了, 均已完成。)
_FILLER = set("已了的均都全部按时期。，.,！!")


def suggest(text: str, options: tuple[str, ...]) -> str | None:
    """The valid dropdown value a clerk most likely meant by ``text`` (``已完成`` → ``完成``), or None.

    Only a sure guess: a known synonym, the value written in traditional characters, or the value with
    filler words around it. ``部份完成`` suggests 部分完成, ``完成率50%`` nothing (never a reversed meaning).
    """
    key = normalise_text(text).upper().translate(_VARIANTS)
    if key in options:
        return key
    if key in _SYNONYMS and _SYNONYMS[key] in options:
        return _SYNONYMS[key]
    for option in sorted(options, key=len, reverse=True):
        if option in key and set(key.replace(option, "", 1)) <= _FILLER:
            return option
    return None
