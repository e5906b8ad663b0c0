"""Frameworks as data: the scoring rules of one finance bureau and year, read from TOML.

Numbers (分值, thresholds, deductions, grade rates, rating bands) live in the TOML file; the rule
*kinds* are code registered by name in :mod:`xlperf.core.rules`. Loading validates the file and
reports every problem at once, in Chinese, naming the key at fault.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xlperf.core.decimals import plain
from xlperf.core.errors import XlperfError
from xlperf.core.evaluation import Budget
from xlperf.core.registry import RULES

if TYPE_CHECKING:
    from xlperf.core.rules import RuleKind


class FrameworkError(XlperfError):
    """The framework file is missing or inconsistent; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"评分框架 {source} 有误：" + "；".join(problems))


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

    @property
    def label(self) -> str:
        return self.short or self.name

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


class Band(_Spec):
    name: str
    min: Decimal


class RatingSpec(_Spec):
    bands: tuple[Band, ...]


#: The 产出指标/效益指标 column, the V13 message and the report line for a completion rate at or above
#: the framework's ``excess_threshold`` (percent); ``{}`` is the threshold as :func:`excess_label` writes it.
EXCESS_LABEL = "完成率在{}%以上的原因"


def excess_label(threshold: Decimal) -> str:
    """The V13 reason's label for ``threshold`` percent: 150 → 完成率在150%以上的原因, 137.5 → …137.5%…."""
    return EXCESS_LABEL.format(format(plain(threshold), "f"))


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
        return excess_label(self.excess_threshold)

    def is_excess(self, r: Decimal) -> bool:
        """Whether a completion rate r (1 = 100 %) needs the V13 reason ("以上" includes the number)."""
        threshold = self.excess_threshold / 100
        return r >= threshold if self.excess_inclusive else r > threshold


class Framework(_Spec):
    """A scoring framework. Use :func:`load_framework` or :func:`get_framework` to obtain one."""

    id: str
    name: str
    total: Decimal
    settings: dict[str, Decimal | int | str] = Field(default_factory=dict)
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

    def item_text(self, item: Item) -> str:
        """An item's text with per-year settings (e.g. {contract_signing_days}) filled in."""
        return item.text.format(**{k: str(v) for k, v in self.settings.items()})

    def rate(self, total: Decimal) -> str:
        for band in sorted(self.rating.bands, key=lambda b: b.min, reverse=True):
            if total >= band.min:
                return band.name
        return self.rating.bands[-1].name


BUDGET_FIELDS = frozenset(Budget.model_fields)


def parse_framework(text: str, source: str) -> Framework:
    """Parse and check a framework TOML text; raise :class:`FrameworkError` with every problem."""

    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(source, [f"TOML 语法错误：{exc}"]) from exc
    try:
        fw = Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(
            source, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from exc
    problems: list[str] = []
    section_sum = sum((s.full for s in fw.sections), Decimal(0))
    if section_sum != fw.total:
        problems.append(f"各部分分值之和 {section_sum} 不等于总分 {fw.total}")
    seen: set[str] = set()
    for sec in fw.sections:
        ind_sum = sum((i.full for i in sec.indicators), Decimal(0))
        if ind_sum != sec.full:
            problems.append(f"{sec.name} 的三级指标分值之和 {ind_sum} 不等于 {sec.full}")
        for ind in sec.indicators:
            where = f"{sec.name}/{ind.name}"
            if ind.id in seen:
                problems.append(f"{where}: 指标编号 {ind.id} 重复")
            seen.add(ind.id)
            rule = RULES.get(ind.rule)
            if rule is None:
                problems.append(f"{where}: 未知的计分规则 {ind.rule}（可用：{'、'.join(sorted(RULES))}）")
                continue
            problems.extend(f"{where}: {p}" for p in rule.check(ind, fw))
            if ind.items:
                item_sum = sum((it.points for it in ind.items), Decimal(0))
                if item_sum != ind.full:
                    problems.append(f"{where}: 子项分值之和 {item_sum} 不等于指标分值 {ind.full}")
    for key, ratio in fw.ratios.items():
        for name in (*ratio.numerator, *ratio.denominator):
            field = name.lstrip("-").rstrip("?")
            if field not in BUDGET_FIELDS:
                problems.append(f"ratios.{key}: 未知的收支字段 {field}")
    bands = [b.min for b in fw.rating.bands]
    if bands != sorted(bands, reverse=True) or not bands:
        problems.append("rating.bands 须按下限从高到低排列")
    if problems:
        raise FrameworkError(source, problems)
    return fw


def load_framework(path: Path) -> Framework:
    """Load a framework from a TOML file anywhere on disk."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameworkError(str(path), [f"无法读取文件：{exc.strerror}"]) from exc
    return parse_framework(text, str(path))


def bundled_ids() -> list[str]:
    """Ids of the frameworks shipped inside the package."""
    folder = resources.files("xlperf") / "frameworks"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


@cache
def get_framework(framework_id: str = "guangzhou-2023") -> Framework:
    """A bundled framework by id, or a TOML file by path."""
    if framework_id.endswith(".toml"):
        return load_framework(Path(framework_id))
    if framework_id not in bundled_ids():
        raise FrameworkError(framework_id, [f"没有这个评分框架（可用：{'、'.join(bundled_ids())}）"])
    text = (resources.files("xlperf") / "frameworks" / f"{framework_id}.toml").read_text(encoding="utf-8")
    return parse_framework(text, framework_id)
