"""Frameworks as data: the scoring rules of one finance bureau and year, read from TOML.

Numbers (分值, thresholds, deductions, grade rates, rating bands) live in the TOML file; the rule
*kinds* are code registered by name in :mod:`xlperf.core.rules`. Loading validates the file and
reports every problem at once, in Chinese, naming the key at fault.
"""

from __future__ import annotations

import json
import re
import tomllib
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xlperf.core.decimals import plain
from xlperf.core.digest import sha256_bytes
from xlperf.core.errors import XlperfError
from xlperf.core.evaluation import DEFAULT_FRAMEWORK, Budget
from xlperf.core.quantity import normalise_text
from xlperf.core.registry import RULES

if TYPE_CHECKING:
    from xlperf.core.rules import RuleKind


class FrameworkError(XlperfError):
    """The framework file is missing or inconsistent; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(
            f"评分框架 {source} 有误（共 {len(problems)} 处）：\n" + "\n".join(f"  {p}" for p in problems)
        )


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Item(_Spec):
    text: str
    points: Decimal


class IndicatorSpec(_Spec):
    id: str
    group: str
    name: str
    short: str = ""
    full: Decimal
    rule: str
    assesses: str = ""
    rows: Literal["outputs", "benefits"] | None = None
    items: tuple[Item, ...] = ()
    count_labels: tuple[str, str] | None = None
    ratio: str | None = None
    limit: Literal["max", "min"] | None = None
    threshold: Decimal | None = None
    per_point: Decimal | None = None
    floor: Decimal = Decimal(0)
    explain_below: Decimal | None = None
    #: what one row of a row-based indicator is called in the report ("设置了8个产出指标"); by default the
    #: name of the table the rows are entered in, whatever the indicator itself is called
    noun: str = ""

    @property
    def label(self) -> str:
        return self.short or self.name

    @property
    def row_noun(self) -> str:
        if self.noun:
            return self.noun
        return {"outputs": "产出指标", "benefits": "效益指标"}.get(self.rows or "", self.label)

    @property
    def kind(self) -> RuleKind:
        """The rule kind that scores, checks and narrates this indicator (:mod:`xlperf.core.rules`)."""
        return RULES[self.rule]


class SectionSpec(_Spec):
    id: str
    name: str
    full: Decimal
    indicators: tuple[IndicatorSpec, ...]


class RatioSpec(_Spec):
    name: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]


#: 预算执行率 = 全年实际执行数 ÷ 全年预算数, a fact of the 收支情况 sheet whatever the rules: the report's
#: 收支情况 paragraph and the score card give it also when a framework scores no indicator by it
BUDGET_EXECUTION_ID = "budget_execution"
BUDGET_EXECUTION = RatioSpec(name="预算执行率", numerator=("executed",), denominator=("total_budget",))


class Band(_Spec):
    name: str
    min: Decimal


class RatingSpec(_Spec):
    #: from the highest band down; empty (``bands = []``) for rules that score without rating
    #: (湖北 "可以不评级"): every place a rating would be shown says :data:`NO_RATING`
    bands: tuple[Band, ...]


#: what a framework that does not rate shows wherever a rating would be (评分汇总, the report, the
#: score card's ``rating``, 汇总, the web pages): one word, never a rating of another framework
NO_RATING = "不评级"


#: The 产出指标/效益指标 column, the V13 message and the report line for a completion rate at or above
#: the framework's ``excess_threshold`` (percent); ``{}`` is the threshold as :func:`excess_label` writes it.
EXCESS_LABEL = "完成率在{}%以上的原因"
#: the same when the threshold itself does not need a reason (``excess_inclusive = false``): "超过"
EXCESS_LABEL_EXCLUSIVE = "完成率超过{}%的原因"


def excess_label(threshold: Decimal, inclusive: bool = True) -> str:
    """The V13 reason's label for ``threshold`` percent: 150 → 完成率在150%以上的原因, 137.5 → …137.5%…;
    a threshold the rule excludes is worded 超过: 完成率超过120%的原因."""
    return (EXCESS_LABEL if inclusive else EXCESS_LABEL_EXCLUSIVE).format(format(plain(threshold), "f"))


class CompletionSpec(_Spec):
    cap: Decimal = Decimal(1)
    excess_threshold: Decimal = Decimal(150)
    excess_inclusive: bool = True
    #: V18 and the percent convention: a completion rate outside this range (percent) is implausible
    plausible_min: Decimal = Decimal(5)
    plausible_max: Decimal = Decimal(1000)
    grades: dict[str, Decimal]

    @property
    def excess_label(self) -> str:
        """This framework's V13 label, e.g. 完成率在150%以上的原因 (the table header the template writes)."""
        return excess_label(self.excess_threshold, self.excess_inclusive)

    @property
    def excess_words(self) -> str:
        """The condition in a sentence: 在 150% 以上 (inclusive) or 超过 120% (exclusive)."""
        t = format(plain(self.excess_threshold), "f")
        return f"在 {t}% 以上" if self.excess_inclusive else f"超过 {t}%"

    def is_excess(self, r: Decimal) -> bool:
        """Whether a completion rate r (1 = 100 %) needs the V13 reason ("以上" includes the number)."""
        threshold = self.excess_threshold / 100
        return r >= threshold if self.excess_inclusive else r > threshold


class _Rules(_Spec):
    """What both forms' frameworks share (the department's :class:`Framework`, the project form's
    ``ProjectFramework``): their identity (canonical content, SHA-256, label) and years."""

    if TYPE_CHECKING:  # fields of the subclasses (declared there, in their own order)
        id: str
        years: tuple[int, ...]

    def canonical(self) -> str:
        """The framework's canonical content: compact JSON, keys sorted, numbers as their TOML text,
        values equal to their defaults left out. Comments and layout of the TOML file do not change
        it, nor does a later xlperf adding an optional key with a default (every workbook made before
        would otherwise name rules that no longer match); every rule does."""
        return _canonical_json(self.model_dump(mode="json", exclude_defaults=True))

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of :meth:`canonical`: the identity of these rules in workbooks, cards and manifests."""
        return sha256_bytes(self.canonical().encode("utf-8"))

    @property
    def label(self) -> str:
        """How a clerk or reviewer sees which rules scored a workbook: id and the hash's first 8 digits."""
        return f"{self.id}（{self.sha256[:8]}）"

    def fits_year(self, year: int | None) -> bool:
        return not self.years or year is None or year in self.years


class Framework(_Rules):
    """A scoring framework. Use :func:`load_framework` or :func:`get_framework` to obtain one."""

    id: str
    name: str
    total: Decimal
    #: the evaluation years these rules are for (empty: any year); a workbook of another year gets F03
    years: tuple[int, ...] = ()
    #: where the rules come from (a document number, a URL): shown by ``xlperf frameworks show``
    sources: tuple[str, ...] = ()
    #: per-year settings: numbers (kept as Decimal, also when read back from an embedded copy) or text
    settings: dict[str, Annotated[Decimal | str, Field(union_mode="left_to_right")]] = Field(
        default_factory=dict
    )
    rating: RatingSpec
    completion: CompletionSpec
    ratios: dict[str, RatioSpec]
    sections: tuple[SectionSpec, ...]

    def indicators(self) -> list[IndicatorSpec]:
        return [ind for sec in self.sections for ind in sec.indicators]

    def indicator(self, indicator_id: str) -> IndicatorSpec:
        for ind in self.indicators():
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def section_of(self, indicator_id: str) -> SectionSpec:
        for sec in self.sections:
            if any(ind.id == indicator_id for ind in sec.indicators):
                return sec
        raise KeyError(indicator_id)

    def management(self) -> list[IndicatorSpec]:
        """Indicators entered on the 管理效率 sheet: every one that is not row- or month-based."""
        return [ind for ind in self.indicators() if ind.kind.management_entry]

    def all_ratios(self) -> dict[str, RatioSpec]:
        """The ratios computed for a workbook: 预算执行率 always, then the framework's own."""
        return {BUDGET_EXECUTION_ID: BUDGET_EXECUTION, **self.ratios}

    def item_text(self, item: Item) -> str:
        """An item's text with per-year settings (e.g. {contract_signing_days}) filled in."""
        return item.text.format(**{k: str(v) for k, v in self.settings.items()})

    @property
    def rated(self) -> bool:
        """Whether these rules give a rating at all (``[rating] bands = []``: they do not)."""
        return bool(self.rating.bands)

    def rating_names(self) -> list[str]:
        """Rating names from the highest band down (empty when the framework does not rate)."""
        return [b.name for b in sorted(self.rating.bands, key=lambda b: b.min, reverse=True)]

    def rate(self, total: Decimal) -> str:
        """The rating of ``total``; :data:`NO_RATING` when the framework does not rate."""
        bands = sorted(self.rating.bands, key=lambda b: b.min, reverse=True)
        if not bands:
            return NO_RATING
        for band in bands:
            if total >= band.min:
                return band.name
        return bands[-1].name

    def grade_names(self) -> tuple[str, ...]:
        """The completion grades a 定性 row may be given, highest rate first (the template's list; the
        same order whether the rules came from the file or a workbook's embedded copy,
        whose keys are sorted)."""
        grades = self.completion.grades
        return tuple(sorted(grades, key=lambda g: (-grades[g], g)))


BUDGET_FIELDS = frozenset(Budget.model_fields)

#: a grade or rating name: what a dropdown, a table cell and a sentence can carry
MAX_NAME = 16
#: answer columns the 管理效率 sheet can hold per indicator (the template makes as many as the
#: framework needs)
MAX_ITEMS = 8
#: a framework file larger than this is refused before parsing (the bundled one is about 11 KB)
MAX_BYTES = 1 << 20
#: the canonical content a workbook can embed (8 cells of 30,000 characters: ``workbook.layout.DEF_NAMES``)
MAX_CANONICAL = 240_000
#: arrays and tables nested deeper than this are refused (a framework needs 3)
MAX_DEPTH = 8


def _canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def decode_framework(data: bytes, source: str) -> str:
    """A framework file's text: UTF-8, with or without a BOM; anything else is refused by name."""
    if len(data) > MAX_BYTES:
        raise FrameworkError(
            source,
            [
                f"文件过大（{len(data) // 1024} KB，上限 {MAX_BYTES // 1024} KB）；评分框架文件只含规则，"
                "请检查是否选错了文件"
            ],
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FrameworkError(
            source, ["文件是 UTF-16 编码；请用记事本打开，“另存为”时把编码选为 UTF-8 后再试"]
        )
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        guess = ""
        try:
            data.decode("gb18030")
            guess = "（看起来是 GBK/GB18030 编码）"
        except UnicodeDecodeError:
            pass
        raise FrameworkError(
            source,
            [
                f"文件不是 UTF-8 编码{guess}，第{line}行无法读取；"
                "请用记事本打开，“另存为”时把编码选为 UTF-8 后再试"
            ],
        ) from exc


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings and comments (a cheap guard before tomllib)."""
    depth = deepest = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
        i += 1
    return deepest


# pydantic's error types, as a bureau's staff read them
_MESSAGES = {
    "missing": "缺少这一项，请补上",
    "extra_forbidden": "不认识这个键（是否拼写有误？）",
    "decimal_parsing": "应为数字，如 20 或 0.5",
    "decimal_type": "应为数字，如 20 或 0.5",
    "finite_number": "应为有限的数字",
    "int_parsing": "应为整数，如 2024",
    "int_type": "应为整数，如 2024",
    "int_from_float": "应为整数，如 2024",
    "string_type": '应为加引号的文字，如 "履职效能"',
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "tuple_type": '应为数组，如 ["a", "b"]',
    "list_type": '应为数组，如 ["a", "b"]',
    "dict_type": "应为表（[名称] 或 { 键 = 值 }）",
    "model_type": "应为表（[名称] 或 { 键 = 值 }）",
    "model_attributes_type": "应为表（[名称] 或 { 键 = 值 }）",
    "too_short": "项数太少",
    "too_long": "项数太多",
}


def _toml_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a TOML path with 1-based positions: sections[2].indicators[3].full."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Locator:
    """Names where a problem is in the file: the indicator (id and name) and the line, when found."""

    def __init__(self, text: str, data: dict[str, Any]) -> None:
        self.lines = text.splitlines()
        self.data = data

    def _indicator(self, loc: tuple[Any, ...]) -> dict[str, Any] | None:
        if len(loc) >= 4 and loc[0] == "sections" and loc[2] == "indicators":
            try:
                ind = self.data["sections"][loc[1]]["indicators"][loc[3]]
            except (KeyError, IndexError, TypeError):
                return None
            return ind if isinstance(ind, dict) else None
        return None

    def _line(self, key: str, after: int = 0) -> int | None:
        pattern = re.compile(rf"(^|[\s{{,])\"?{re.escape(key)}\"?\s*=|^\s*\[+\s*{re.escape(key)}\s*\]+")
        for i in range(after, len(self.lines)):
            if pattern.search(self.lines[i]):
                return i + 1
        return None

    def describe(self, loc: tuple[Any, ...]) -> str:
        where = _toml_path(loc)
        ind = self._indicator(loc)
        start = 0
        notes = []
        if ind is not None:
            ind_id, ind_name = ind.get("id"), ind.get("name")
            notes.append(
                f"指标 {ind_id}“{ind_name}”"
                if ind_id and ind_name
                else f"指标 {ind_id or ind_name or ''}".strip()
            )
            if isinstance(ind_id, str):
                found = None
                for i, line in enumerate(self.lines):
                    if re.match(rf"^\s*id\s*=\s*[\"']{re.escape(ind_id)}[\"']", line):
                        found = i + 1
                        break
                if found:
                    start = found - 1
        keys = [p for p in loc if isinstance(p, str)]
        line_no = self._line(keys[-1], start) if keys else None
        if line_no is None and start:
            line_no = start + 1
        if line_no is not None:
            notes.append(f"第{line_no}行")
        return where + (f"（{'，'.join(n for n in notes if n)}）" if notes else "")


def _pydantic_problems(exc: ValidationError, locate: _Locator) -> list[str]:
    problems = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        message = _MESSAGES.get(e["type"])
        if message is None and e["type"] == "literal_error":
            expected = str(e.get("ctx", {}).get("expected", "")).replace(" or ", "、").replace("'", '"')
            message = f"只能是 {expected}"
        if message is None:
            message = "取值无效"
        problems.append(f"{locate.describe(loc)}：{message}")
    return problems


def parse_framework(text: str, source: str) -> Framework:
    """Parse and check a framework TOML text; raise :class:`FrameworkError` with every problem."""
    data = read_toml(text, source)
    return _validated(data, source, _Locator(text, data))


def read_toml(text: str, source: str) -> dict[str, Any]:
    """A framework file's TOML, of either form, within the size and nesting limits; every number a
    Decimal. :class:`FrameworkError` in Chinese for what cannot be read."""
    if len(text) > MAX_BYTES:
        raise FrameworkError(source, [f"内容过大（上限 {MAX_BYTES // 1024} KB）"])
    if _depth(text) > MAX_DEPTH:
        raise FrameworkError(
            source, [f"数组或表嵌套超过 {MAX_DEPTH} 层；评分框架最多需要 3 层，请检查括号是否成对"]
        )
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(source, [f"TOML 语法错误：{_toml_syntax(str(exc))}"]) from exc
    except RecursionError as exc:
        raise FrameworkError(source, ["数组或表嵌套过深"]) from exc
    return data


def read_canonical(text: str, source: str) -> dict[str, Any]:
    """The data of rules a workbook embeds (canonical JSON), for either form's validation: bounded in
    size and nesting, numbers as Decimal; :class:`FrameworkError` in Chinese when it is not a table."""
    if len(text) > MAX_BYTES or _depth(text) > MAX_DEPTH + 2:
        raise FrameworkError(source, ["内嵌的评分规则过大或嵌套过深"])
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise FrameworkError(source, [f"内嵌的评分规则不是有效的 JSON：{exc}"]) from exc
    if not isinstance(data, dict):
        raise FrameworkError(source, ["内嵌的评分规则不是一个表"])
    return data


def read_file_text(path: Path) -> str:
    """A framework file the user named (either form), decoded; :class:`FrameworkError` when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrameworkError(str(path), [f"无法读取文件：{exc.strerror}"]) from exc
    return decode_framework(data, str(path))


@lru_cache(maxsize=64)
def parse_canonical(text: str, source: str) -> Framework:
    """A framework from its canonical JSON (:meth:`Framework.canonical`, as a workbook embeds it).
    Cached: a batch's workbooks mostly embed the same rules (the model is frozen, so sharing is safe)."""
    data = read_canonical(text, source)
    return _validated(data, source, _Locator("", data))


def _toml_syntax(message: str) -> str:
    m = re.search(r"\(at line (\d+), column (\d+)\)", message)
    where = f"第{m.group(1)}行第{m.group(2)}列" if m else ""
    what = re.sub(r"\s*\(at .*\)$", "", message)
    hints = {
        "Invalid value": "值无效（文字要加引号，数字不加）",
        "Unclosed array": "数组缺少 ]",
        "Unclosed inline table": "内联表缺少 }",
        "Cannot overwrite a value": "同一个键写了两次",
        "Cannot declare": "同一个表写了两次",
        "Expected '=' after a key in a key/value pair": "键后面缺少 =",
        "Invalid statement": "无法识别的一行",
        "Illegal character": "含有不允许的字符",
        "Unterminated string": "引号没有成对",
    }
    text = next((v for k, v in hints.items() if what.startswith(k)), what)
    return f"{where}{'：' if where else ''}{text}"


def _validated(data: dict[str, Any], source: str, locate: _Locator) -> Framework:
    try:
        fw = Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(source, _pydantic_problems(exc, locate)) from exc
    except (RecursionError, InvalidOperation) as exc:
        raise FrameworkError(source, ["内容无法读取（嵌套过深或数字无效）"]) from exc
    problems = _semantic_problems(fw, locate)
    if problems:
        raise FrameworkError(source, problems)
    return fw


def _name_problem(name: str) -> str:
    """Why a grade or rating name cannot be shown in a dropdown, a cell and a sentence ("" if it can)."""
    if not name.strip():
        return "不能为空"
    if len(name) > MAX_NAME:
        return f"超过 {MAX_NAME} 个字"
    if normalise_text(name) != name:
        return f"含空格或全角字母数字，请写作“{normalise_text(name)[:20]}”"
    if name[0] in "=+-@" or any(ch in name for ch in "\"'“”,，/\\") or not name.isprintable():
        return "不能以 = + - @ 开头，也不能含引号、逗号、斜杠或控制字符"
    return ""


def _positive(value: Decimal, where: str, problems: list[str], *, zero: bool = False) -> None:
    if not value.is_finite() or value < 0 or (value == 0 and not zero):
        problems.append(f"{where}：应为{'不小于 0 ' if zero else '大于 0 '}的数字（现为 {value}）")


def _semantic_problems(fw: Framework, locate: _Locator) -> list[str]:
    """Every rule the schema cannot say: sums at every level, ranges, names, references."""
    problems: list[str] = []
    _positive(fw.total, locate.describe(("total",)), problems)
    if not fw.sections:
        problems.append(f"{locate.describe(('sections',))}：至少要有一个部分（[[sections]]）")
    section_sum = sum((s.full for s in fw.sections), Decimal(0))
    if fw.sections and section_sum != fw.total:
        problems.append(
            f"{locate.describe(('total',))}：各部分分值之和 {plain(section_sum)} 不等于总分 {plain(fw.total)}"
        )
    for y in fw.years:
        if not 2000 <= y <= 2100:
            problems.append(f"{locate.describe(('years',))}：年度 {y} 不在 2000–2100 之间")
    seen: set[str] = set()
    seen_sections: set[str] = set()
    seen_rows: set[str] = set()
    for si, sec in enumerate(fw.sections):
        sloc: tuple[Any, ...] = ("sections", si)
        _positive(sec.full, locate.describe((*sloc, "full")), problems)
        if sec.id in seen_sections:
            problems.append(f"{locate.describe((*sloc, 'id'))}：部分编号 {sec.id} 重复")
        seen_sections.add(sec.id)
        if not sec.indicators:
            problems.append(f"{locate.describe(sloc)}：“{sec.name}”没有指标")
            continue
        ind_sum = sum((i.full for i in sec.indicators), Decimal(0))
        if ind_sum != sec.full:
            problems.append(
                f"{locate.describe((*sloc, 'full'))}：“{sec.name}”的三级指标分值之和 {plain(ind_sum)} "
                f"不等于 {plain(sec.full)}"
            )
        for ii, ind in enumerate(sec.indicators):
            iloc: tuple[Any, ...] = (*sloc, "indicators", ii)
            where = locate.describe(iloc)
            _positive(ind.full, locate.describe((*iloc, "full")), problems)
            if ind.id in seen:
                problems.append(f"{where}：指标编号 {ind.id} 重复（编号在整个框架中须唯一）")
            seen.add(ind.id)
            rule = RULES.get(ind.rule)
            if rule is None:
                problems.append(
                    f"{locate.describe((*iloc, 'rule'))}：未知的计分规则 {ind.rule}（可用："
                    f"{'、'.join(sorted(RULES))}）"
                )
                continue
            problems.extend(f"{where}：{p}" for p in rule.check(ind, fw))
            if ind.rows is not None:
                if ind.rows in seen_rows:
                    problems.append(
                        f"{locate.describe((*iloc, 'rows'))}：{ind.rows} 已被另一个指标使用（每张指标表只"
                        "能计一次分）"
                    )
                seen_rows.add(ind.rows)
            if len(ind.items) > MAX_ITEMS:
                problems.append(
                    f"{locate.describe((*iloc, 'items'))}：子项 {len(ind.items)} 个，"
                    f"超过上限 {MAX_ITEMS} 个；请合并子项"
                )
            for ti, item in enumerate(ind.items):
                _positive(item.points, locate.describe((*iloc, "items", ti, "points")), problems)
                for name in re.findall(r"\{(\w*)\}", item.text):
                    if name not in fw.settings:
                        problems.append(
                            f"{locate.describe((*iloc, 'items', ti, 'text'))}：文字中的 {{{name}}} 没有在 "
                            "[settings] 中定义"
                        )
                if any(ch in re.sub(r"\{\w*\}", "", item.text) for ch in "{}"):
                    problems.append(
                        f"{locate.describe((*iloc, 'items', ti, 'text'))}：文字中的花括号须成对，"
                        "且只用来引用 [settings] 中的设置"
                    )
            if ind.items:
                item_sum = sum((it.points for it in ind.items), Decimal(0))
                if item_sum != ind.full:
                    problems.append(
                        f"{locate.describe((*iloc, 'items'))}：子项分值之和 {plain(item_sum)} "
                        f"不等于指标分值 {plain(ind.full)}"
                    )
            if ind.per_point is not None:
                _positive(ind.per_point, locate.describe((*iloc, "per_point")), problems)
            if ind.floor < 0 or ind.floor > ind.full:
                problems.append(
                    f"{locate.describe((*iloc, 'floor'))}：最低分 {plain(ind.floor)} 应在 0 与指标分值 "
                    f"{plain(ind.full)} 之间"
                )
            if ind.explain_below is not None and not 0 <= ind.explain_below <= 1000:
                problems.append(f"{locate.describe((*iloc, 'explain_below'))}：应为 0–1000 之间的百分数")
    for si, sec in enumerate(fw.sections):
        if sec.id in seen:  # the score card keys sections and subtotal indicators alike
            problems.append(
                f"{locate.describe(('sections', si, 'id'))}：部分编号 {sec.id} 与一个指标的编号相同；"
                "请改用不同的编号"
            )
    for key, ratio in fw.ratios.items():
        for name in (*ratio.numerator, *ratio.denominator):
            field = name.lstrip("-").rstrip("?")
            if field not in BUDGET_FIELDS:
                problems.append(
                    f"{locate.describe(('ratios', key))}：未知的收支字段 {field}（可用："
                    f"{'、'.join(sorted(BUDGET_FIELDS))}）"
                )
        if not ratio.denominator:
            problems.append(f"{locate.describe(('ratios', key, 'denominator'))}：分母不能为空")
    c = fw.completion
    cloc = ("completion",)
    if not c.cap.is_finite() or not Decimal(1) <= c.cap <= Decimal(10):
        problems.append(
            f"{locate.describe((*cloc, 'cap'))}：封顶值是比率（1 表示 100%），应在 1 与 10 之间；"
            f"现为 {c.cap}" + (f"，如指 {c.cap}% 请写 {plain(c.cap / 100)}" if c.cap > 10 else "")
        )
    if not c.excess_threshold.is_finite() or not Decimal(100) < c.excess_threshold <= Decimal(10000):
        problems.append(
            f"{locate.describe((*cloc, 'excess_threshold'))}：须说明原因的完成率是百分数，应大于 100、"
            f"不超过 10000（如 150 表示 150%）；现为 {c.excess_threshold}"
        )
    if (
        not (c.plausible_min.is_finite() and c.plausible_max.is_finite())
        or not 0 <= c.plausible_min < 100 < c.plausible_max
    ):
        problems.append(
            f"{locate.describe((*cloc, 'plausible_min'))}：合理完成率范围（百分数）"
            "应满足 0 ≤ plausible_min < 100 < plausible_max"
        )
    if not c.grades:
        problems.append(
            f"{locate.describe((*cloc, 'grades'))}：至少要有一个完成等级，"
            '如 { "完成" = 1, "基本完成" = 0.8, "部分完成" = 0.5, "未完成" = 0 }'
        )
    for grade, rate in c.grades.items():
        where = locate.describe((*cloc, "grades", grade))
        problem = _name_problem(grade)
        if problem:
            problems.append(f"{where}：完成等级名称“{grade[:20]}”{problem}")
        if not rate.is_finite() or not 0 <= rate <= 1:
            problems.append(f"{where}：完成等级的得分比例应在 0 与 1 之间（1 表示 100%）；现为 {rate}")
    bands = fw.rating.bands
    mins = [b.min for b in bands]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        problems.append(f"{locate.describe(('rating', 'bands'))}：等级须按下限从高到低排列，下限不能重复")
    band_names = [b.name for b in bands]
    if len(set(band_names)) != len(band_names):
        problems.append(f"{locate.describe(('rating', 'bands'))}：等级名称不能重复")
    for bi, band in enumerate(bands):
        problem = _name_problem(band.name) or (
            "是不评级时显示的文字，不能作为等级名称（不评级请写 bands = []）"
            if band.name == NO_RATING
            else ""
        )
        if problem:
            problems.append(
                f"{locate.describe(('rating', 'bands', bi, 'name'))}：等级名称“{band.name[:20]}”{problem}"
            )
    if bands and (bands[-1].min > 0 or any(b.min < 0 or b.min > fw.total for b in bands)):
        problems.append(
            f"{locate.describe(('rating', 'bands'))}：下限应在 0 与总分之间，"
            "最低一档的下限应为 0（否则低分无等级）"
        )
    if not problems and len(fw.canonical()) > MAX_CANONICAL:
        problems.append(
            f"规则内容过多（{len(fw.canonical())} 个字符，上限 {MAX_CANONICAL}），无法嵌入工作簿；"
            "请精简说明文字"
        )
    return problems


def load_framework(path: Path) -> Framework:
    """Load a framework from a TOML file anywhere on disk (a path the user gave: never one a workbook
    or a department's JSON names)."""
    return parse_framework(read_file_text(path), str(path))


def bundled_ids() -> list[str]:
    """Ids of the frameworks shipped inside the package."""
    folder = resources.files("xlperf") / "frameworks"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


DEFAULT_ID = DEFAULT_FRAMEWORK


@cache
def get_framework(framework_id: str = DEFAULT_FRAMEWORK) -> Framework:
    """A bundled framework by id. Never a path: files come only from what the user names
    (:func:`load_framework`, the user's frameworks folder in :mod:`xlperf.catalog`)."""
    if framework_id not in bundled_ids():
        raise FrameworkError(framework_id, [f"没有这个评分框架（内置：{'、'.join(bundled_ids())}）"])
    text = (resources.files("xlperf") / "frameworks" / f"{framework_id}.toml").read_text(encoding="utf-8")
    return parse_framework(text, framework_id)
