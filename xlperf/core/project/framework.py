"""Project frameworks: the rules of one 项目支出绩效自评表 (``form = "project"``), read from TOML.

The second framework family on the same machinery as :mod:`xlperf.core.framework`: the same file
limits and encodings, the same Chinese messages naming the key at fault with 1-based positions
(``row_rules[2].formula（第31行）``), every problem reported at once. What differs is the content:

- ``[budget]`` — the 项目资金 block: 分值, the 执行率 below which a written reason is required, and
  optional caps of the whole score by 执行率 (``caps``);
- ``[[row_rules]]`` — which 计算符号 each row kind scores (正向 ≥ >, 等于 =, 反向 ≤ <, 定性), the
  formula 反向 uses above its target, the 定性 bands (docs/DOMAIN.md §5.3);
- ``[rows]`` — how far above its target an actual needs an explanation (and what it costs),
  whether 不适用 rows are allowed (and the rest rescaled);
- ``[[levels]]`` — the 一级指标 (产出, 效益, 满意度) with their 二级 and, where the framework fixes
  them, their 分值;
- ``[rating]`` — optional (湖北: 可以不评级).

The row kinds are code registered by name (:mod:`xlperf.core.project.rules`); the numbers are here.
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from xlperf.core.decimals import plain
from xlperf.core.framework import (
    MAX_CANONICAL,
    Band,
    FrameworkError,
    RatingSpec,
    _Locator,
    _pydantic_problems,
    _Rules,
    _Spec,
    read_canonical,
    read_file_text,
    read_toml,
)
from xlperf.core.project.registry import BLOCK_KINDS, ROW_KINDS

if TYPE_CHECKING:
    from xlperf.core.project.rules import RowKind

#: the value of ``form`` that marks a project framework (a department framework has no ``form``)
FORM: Literal["project"] = "project"
#: the folder of the bundled project frameworks, inside ``xlperf/frameworks``
BUNDLED_FOLDER = "project"
#: the 计算符号 a row may carry; 定性 rows are graded, the others compared with their target
OPERATORS = ("≥", ">", "=", "≤", "<", "定性")


class QualBand(_Spec):
    """One grade of a 定性 row: its name, the word that recognises it, the lower edge as a share of 分值."""

    name: str
    #: the words that recognise the grade in what the clerk typed (达成, 部分达成, 未达成)
    keyword: str
    #: lower edge as a share of the row's 分值 (0.8 = 80 %); the band runs to the next higher one's edge
    min: Decimal


class RowRuleSpec(_Spec):
    """A row kind the framework uses (:data:`xlperf.core.project.rules.ROW_KINDS`) and its numbers."""

    rule: str
    #: the 计算符号 this kind scores
    operators: tuple[str, ...]
    #: 反向 above its target: "linear" (1 − (a−t)/t)·w falling to 0 at 2t, or "ratio" t/a·w
    formula: Literal["linear", "ratio"] | None = None
    #: 定性: the grades from the highest down; the lowest starts at 0
    bands: tuple[QualBand, ...] = ()

    @property
    def kind(self) -> RowKind:
        """The row kind that scores these rows (:mod:`xlperf.core.project.rules`)."""
        return ROW_KINDS[self.rule]


class Cap(_Spec):
    """A cap of the whole score: an 执行率 below ``below`` percent allows at most ``max`` points."""

    below: Decimal
    max: Decimal


class BudgetSpec(_Spec):
    """The 项目资金 block: 得分 = 执行率 × 分值, at most 分值."""

    rule: str = "execution_rate"
    full: Decimal
    #: an 执行率 below this (percent) needs a written reason (四川: 90); none when absent
    explain_below: Decimal | None = None
    #: the whole project score capped by 执行率 (some provinces; none nationally)
    caps: tuple[Cap, ...] = ()


class RowsSpec(_Spec):
    """What applies to every indicator row."""

    #: an actual at or above this percent of its target needs an explanation (130 = 30 % over);
    #: none when absent
    excess_threshold: Decimal | None = None
    #: points such a row loses (D33: 2); 0 = only the explanation is asked for
    excess_deduct: Decimal = Decimal(0)
    #: 不适用 rows may be left out, the rest rescaled to the total (DZJ); otherwise a 不适用 row is an error
    not_applicable: bool = False
    #: a typed 得分 may differ from the rule's score by at most this much (0.01: rounding)
    tolerance: Decimal = Decimal("0.01")
    #: 一级 weights: "fixed" (rows must add up to the 一级's 分值), "adjustable" (a difference is only
    #: a warning: "一级指标权重可做适当调整"), "free" (only the total counts: 四川)
    weights: Literal["fixed", "adjustable", "free"] = "adjustable"


class LevelSpec(_Spec):
    """One 一级指标 (产出指标 …): the words that recognise it, its 二级 and, where fixed, its 分值."""

    id: str
    name: str
    #: what recognises the 一级 cell's text (产出 in “产出指标(50分)”)
    keyword: str
    full: Decimal | None = None
    groups: tuple[str, ...] = ()


class ProjectFramework(_Rules):
    """A project framework. Use :func:`parse_project_framework` or :func:`get_project_framework`."""

    form: Literal["project"]
    id: str
    name: str
    total: Decimal
    years: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    budget: BudgetSpec
    rows: RowsSpec = RowsSpec()
    row_rules: tuple[RowRuleSpec, ...]
    levels: tuple[LevelSpec, ...]
    rating: RatingSpec | None = None

    # identity (canonical JSON, SHA-256, label) and years: _Rules, as the department form's
    # -- rules ------------------------------------------------------------------------------
    def rule_for(self, operator: str) -> RowRuleSpec | None:
        """The row kind that scores a 计算符号 (None: this framework has no kind for it)."""
        return next((r for r in self.row_rules if operator in r.operators), None)

    @property
    def qualitative(self) -> RowRuleSpec | None:
        return self.rule_for("定性")

    def level(self, text: str) -> LevelSpec | None:
        """The 一级 whose keyword the text contains (产出指标(50分) → 产出)."""
        return next((lv for lv in self.levels if lv.keyword and lv.keyword in text), None)

    @property
    def indicators_full(self) -> Decimal:
        """What the indicator rows together weigh: the total less the 项目资金 block."""
        return self.total - self.budget.full

    # -- rating -----------------------------------------------------------------------------
    @property
    def rated(self) -> bool:
        return self.rating is not None and bool(self.rating.bands)

    def rating_names(self) -> list[str]:
        if self.rating is None:
            return []
        return [b.name for b in sorted(self.rating.bands, key=lambda b: b.min, reverse=True)]

    def rate(self, total: Decimal) -> str:
        """The rating of a total; "" when the framework does not rate (湖北: 可以不评级)."""
        if self.rating is None or not self.rating.bands:
            return ""
        for band in sorted(self.rating.bands, key=lambda b: b.min, reverse=True):
            if total >= band.min:
                return band.name
        return self.rating.bands[-1].name


def is_project_data(data: dict[str, Any]) -> bool:
    """Whether parsed framework data (TOML or embedded JSON) belongs to the project family."""
    return data.get("form") == FORM


def form_of_text(text: str) -> str:
    """``"project"`` when a framework text (TOML or canonical JSON) says ``form = "project"``, else
    ``"department"``; a text that does not parse is the department family's to report."""
    stripped = text.lstrip()
    try:
        data = json.loads(stripped) if stripped.startswith("{") else tomllib.loads(text)
    except (ValueError, RecursionError):
        return "department"
    return FORM if isinstance(data, dict) and is_project_data(data) else "department"


def parse_project_framework(text: str, source: str) -> ProjectFramework:
    """Parse and check a project framework TOML text; :class:`FrameworkError` with every problem."""
    data = read_toml(text, source)
    return _validated(data, source, _Locator(text, data))


@lru_cache(maxsize=64)
def parse_project_canonical(text: str, source: str) -> ProjectFramework:
    """A project framework from its canonical JSON (as a workbook embeds it). Cached."""
    data = read_canonical(text, source)
    return _validated(data, source, _Locator("", data))


def load_project_framework(path: Path) -> ProjectFramework:
    """A project framework file anywhere on disk (a path the user typed)."""
    return parse_project_framework(read_file_text(path), str(path))


def _validated(data: dict[str, Any], source: str, locate: _Locator) -> ProjectFramework:
    if not is_project_data(data):
        raise FrameworkError(source, ['form：项目支出评分框架须写 form = "project"'])
    try:
        fw = ProjectFramework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(source, _pydantic_problems(exc, locate)) from exc
    except (RecursionError, InvalidOperation) as exc:
        raise FrameworkError(source, ["内容无法读取（嵌套过深或数字无效）"]) from exc
    problems = _problems(fw, locate)
    if problems:
        raise FrameworkError(source, problems)
    return fw


def _number(value: Decimal, where: str, problems: list[str], low: Decimal, high: Decimal, what: str) -> bool:
    if not value.is_finite() or not low <= value <= high:
        problems.append(f"{where}：{what}应在 {plain(low)} 与 {plain(high)} 之间（现为 {value}）")
        return False
    return True


def _problems(fw: ProjectFramework, locate: _Locator) -> list[str]:
    """Everything the schema cannot say: sums, ranges, bands in order, every 计算符号 covered once."""
    problems: list[str] = []
    d = locate.describe
    if not fw.total.is_finite() or fw.total <= 0:
        problems.append(f"{d(('total',))}：总分应为大于 0 的数字（现为 {fw.total}）")
    for y in fw.years:
        if not 2000 <= y <= 2100:
            problems.append(f"{d(('years',))}：年度 {y} 不在 2000–2100 之间")
    # the budget block
    b = fw.budget
    if BLOCK_KINDS.get(b.rule) is None:
        problems.append(
            f"{d(('budget', 'rule'))}：未知的计分规则 {b.rule}（可用：{'、'.join(sorted(BLOCK_KINDS))}）"
        )
    if (
        _number(b.full, d(("budget", "full")), problems, Decimal(0), fw.total, "项目资金（预算执行率）的分值")
        and b.full >= fw.total
    ):
        problems.append(f"{d(('budget', 'full'))}：预算执行率的分值应小于总分 {plain(fw.total)}")
    if b.explain_below is not None:
        _number(b.explain_below, d(("budget", "explain_below")), problems, Decimal(0), Decimal(100), "百分数")
    previous: Cap | None = None
    for i, cap in enumerate(b.caps):
        where = d(("budget", "caps", i))
        _number(cap.below, f"{where}.below", problems, Decimal(0), Decimal(100), "执行率（百分数）")
        _number(cap.max, f"{where}.max", problems, Decimal(0), fw.total, "得分上限")
        if previous is not None and not (cap.below < previous.below and cap.max <= previous.max):
            problems.append(f"{where}：封顶档次须按执行率从高到低排列，执行率越低上限越低")
        previous = cap
    # rows
    r = fw.rows
    if r.excess_threshold is not None:
        _number(
            r.excess_threshold,
            d(("rows", "excess_threshold")),
            problems,
            Decimal("100.01"),
            Decimal(10000),
            "须说明原因的完成比例（百分数，如 130 表示超出指标值 30%）",
        )
    _number(r.excess_deduct, d(("rows", "excess_deduct")), problems, Decimal(0), fw.total, "扣分")
    _number(r.tolerance, d(("rows", "tolerance")), problems, Decimal(0), Decimal(1), "允许误差")
    # row kinds: every operator exactly once, the kind's own parameters
    seen: dict[str, int] = {}
    for i, spec in enumerate(fw.row_rules):
        where = d(("row_rules", i))
        kind = ROW_KINDS.get(spec.rule)
        if kind is None:
            problems.append(
                f"{d(('row_rules', i, 'rule'))}：未知的计分规则 {spec.rule}（可用："
                f"{'、'.join(sorted(ROW_KINDS))}）"
            )
            continue
        if not spec.operators:
            problems.append(f"{d(('row_rules', i, 'operators'))}：至少列出一个计算符号")
        for op in spec.operators:
            if op not in OPERATORS:
                problems.append(
                    f"{d(('row_rules', i, 'operators'))}：不认识计算符号“{op}”（可用：{' '.join(OPERATORS)}）"
                )
            elif op in seen:
                problems.append(
                    f"{d(('row_rules', i, 'operators'))}：计算符号“{op}”已由 row_rules[{seen[op] + 1}] "
                    "计分（每个符号只能有一种算法）"
                )
            else:
                seen[op] = i
            if op not in kind.operators and op in OPERATORS:
                problems.append(
                    f"{d(('row_rules', i, 'operators'))}：{spec.rule} 规则不能给“{op}”"
                    f"计分（它适用于 {' '.join(kind.operators)}）"
                )
        problems.extend(f"{where}：{p}" for p in kind.check(spec, fw, locate, i))
    missing = [op for op in OPERATORS if op not in seen]
    if missing:
        problems.append(f"{d(('row_rules',))}：计算符号 {' '.join(missing)} 没有计分规则")
    # levels
    if not fw.levels:
        problems.append(f"{d(('levels',))}：至少要有一个一级指标（[[levels]]）")
    ids: set[str] = set()
    keywords: set[str] = set()
    fixed = Decimal(0)
    for i, lv in enumerate(fw.levels):
        where = d(("levels", i))
        if lv.id in ids:
            problems.append(f"{d(('levels', i, 'id'))}：一级指标编号 {lv.id} 重复")
        ids.add(lv.id)
        if not lv.keyword.strip() or lv.keyword in keywords:
            problems.append(f"{d(('levels', i, 'keyword'))}：识别词不能为空或重复")
        keywords.add(lv.keyword)
        if lv.keyword.strip() and lv.keyword not in lv.name:
            problems.append(f"{where}：识别词“{lv.keyword}”应出现在名称“{lv.name}”中")
        if lv.full is not None:
            if _number(lv.full, d(("levels", i, "full")), problems, Decimal(0), fw.total, "分值"):
                fixed += lv.full
        elif r.weights != "free":
            problems.append(
                f'{d(("levels", i, "full"))}：rows.weights = "{r.weights}" 时每个一级指标须有分值（或'
                '改为 "free"）'
            )
    if fw.levels and all(lv.full is not None for lv in fw.levels):
        if fixed + b.full != fw.total:
            problems.append(
                f"{d(('total',))}：预算执行率 {plain(b.full)} 与各一级指标分值之和 {plain(fixed)} "
                f"相加不等于总分 {plain(fw.total)}"
            )
    elif fixed + b.full > fw.total:
        problems.append(f"{d(('levels',))}：一级指标分值之和 {plain(fixed)} 加预算执行率超过总分")
    # rating
    if fw.rating is not None:
        problems.extend(_rating_problems(fw.rating.bands, fw.total, locate))
    if not problems and len(fw.canonical()) > MAX_CANONICAL:
        problems.append(f"规则内容过多（{len(fw.canonical())} 个字符，上限 {MAX_CANONICAL}），无法嵌入工作簿")
    return problems


def _rating_problems(bands: tuple[Band, ...], total: Decimal, locate: _Locator) -> list[str]:
    where = locate.describe(("rating", "bands"))
    problems = []
    mins = [b.min for b in bands]
    if bands and (mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins)):
        problems.append(f"{where}：等级须按下限从高到低排列，下限不能重复")
    names = [b.name.strip() for b in bands]
    if any(not n for n in names) or len(set(names)) != len(names):
        problems.append(f"{where}：等级名称不能为空或重复")
    if bands and (bands[-1].min > 0 or any(b.min < 0 or b.min > total for b in bands)):
        problems.append(f"{where}：下限应在 0 与总分之间，最低一档的下限应为 0（否则低分无等级）")
    return problems


def project_bundled_ids() -> list[str]:
    """Ids of the project frameworks shipped inside the package (``xlperf/frameworks/project``)."""
    folder = resources.files("xlperf") / "frameworks" / BUNDLED_FOLDER
    if not folder.is_dir():
        return []
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


#: the bundled national form (财预〔2020〕10号 附件's defaults)
NATIONAL_ID = "national-project"


@cache
def get_project_framework(framework_id: str = NATIONAL_ID) -> ProjectFramework:
    """A bundled project framework by id (never a path)."""
    if framework_id not in project_bundled_ids():
        raise FrameworkError(
            framework_id, [f"没有这个项目支出评分框架（内置：{'、'.join(project_bundled_ids())}）"]
        )
    text = (resources.files("xlperf") / "frameworks" / BUNDLED_FOLDER / f"{framework_id}.toml").read_text(
        encoding="utf-8"
    )
    return parse_project_framework(text, framework_id)
