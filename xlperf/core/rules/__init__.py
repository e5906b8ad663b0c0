"""Rule kinds: how an indicator is scored, checked, narrated and reported. The numbers come from
the framework file.

A kind is one unit: a class registered here by ``name`` that a framework's ``rule = "…"`` picks,
carrying everything the rest of xlperf asks of it — whether it is a 履职效能 subtotal, whether the
clerk answers it on the 管理效率 sheet (and with counts), how it scores, which input checks it owns,
how the report narrates it and reads the narration back (V42), and what it puts in the score card.
No module outside this package compares ``spec.rule`` with a name: adding a kind is one new module
(or one class in a test) and a TOML edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from xlperf.core.evaluation import Evaluation, IndicatorRow, Kind, ManagementEntry
from xlperf.core.findings import Finding
from xlperf.core.framework import Framework, IndicatorSpec
from xlperf.core.quantity import Direction, completion_ratio, direction_in_text
from xlperf.core.registry import RULES, register

if TYPE_CHECKING:
    from xlperf.core.narrative import Checker, Writer
    from xlperf.core.result import IndicatorScore, Result


@dataclass
class Context:
    """What a rule may look at while scoring: the inputs, the framework, the computed ratios."""

    evaluation: Evaluation
    framework: Framework
    section: str
    ratios: dict[str, Decimal | None]
    ratio_inputs: dict[str, dict[str, Decimal | None]]
    #: field paths of cells that were filled but could not be read (P01/P03): never scored as blank
    unreadable: frozenset[str] = frozenset()

    def entry(self, indicator_id: str) -> ManagementEntry | None:
        return next((m for m in self.evaluation.management if m.indicator == indicator_id), None)


class RuleKind:
    """The contract of a rule kind, with the defaults of a 管理效率 indicator."""

    name: ClassVar[str]
    #: a part of a 履职效能-style section: listed in the score tables and narrated as "（k）…自评得分X分"
    subtotal: ClassVar[bool] = False
    #: the clerk answers it in one row of the 管理效率 sheet (sub-items, 评价说明)
    management_entry: ClassVar[bool] = True
    #: that row takes the counts N and M
    counts: ClassVar[bool] = False
    #: it is the monthly spending rate whose mean the frozen workbook shows
    monthly_rates: ClassVar[bool] = False

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        """Problems of the framework's description of this indicator (FrameworkError)."""
        return []

    def describe(self, spec: IndicatorSpec, fw: Framework) -> str:
        """How this indicator is scored, in a clerk's words (``xlperf frameworks show``, 评分规则 sheet)."""
        return ""

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        raise NotImplementedError

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        """The input checks this kind owns (docs/DOMAIN.md §3), beyond the generic ones."""
        return []

    def narrate(self, w: Writer, result: Result, k: int, ind: IndicatorScore) -> None:
        """Write this indicator's part of the 自评报告 (``k`` is its number in its group)."""
        from xlperf.core.narrative import management_indicator

        management_indicator(w, result, k, ind, self.computed_sentence, self.lost_items)

    def computed_sentence(self, result: Result, ind: IndicatorScore, evidence: str) -> str:
        """For computed indicators: inputs, ratio and outcome, leaving out what ``evidence`` states."""
        return ""

    def lost_items(self, result: Result, ind: IndicatorScore) -> list[str]:
        """What lost points, as the report's sentence says it ("“…”未做到，扣1分")."""
        return []

    def failed_items(self, result: Result, ind: IndicatorScore) -> list[str]:
        """The requirements not met (answered 否, fewer done than due), for 存在的主要问题; a blank is
        not a failure (its finding asks for it)."""
        return []

    def verify(self, c: Checker, result: Result, ind: IndicatorScore, block: str) -> None:
        """V42 beyond the generic 分值/得分/得分率 read-back: ``block`` is the text after the heading."""

    def card(self, ind: IndicatorScore, section: str) -> list[dict[str, Any]]:
        """Score-card entries (docs/DESIGN.md "Score card JSON")."""
        return [
            {
                "section": section,
                "id": ind.id,
                "group": ind.spec.group,
                "name": ind.spec.name,
                "full": float(ind.full),
                "score": float(ind.score),
                "ratio": None if ind.ratio is None else float(ind.ratio),
            }
        ]


def completion(row: IndicatorRow, fw: Framework) -> tuple[Decimal | None, str]:
    """Completion rate r of one row (docs/DOMAIN.md §1.3), uncapped; None when it cannot be computed.

    ``source`` says why: "grade" / "value"; "missing" (an input is blank or unreadable), "bad_grade"
    (a grade these rules do not name: a JSON's, or a workbook's made for other rules) and
    "conflict" (the target text's direction word contradicts the 方向 column, V11) and "bad_target"
    (a target of 0 for ≥/=, or below 0, V10) are not scored.
    """
    if row.kind is Kind.QUAL:
        if row.grade is None:
            return None, "missing"
        rate = fw.completion.grades.get(row.grade)
        return (None, "bad_grade") if rate is None else (rate, "grade")
    target, actual = row.target_value, row.actual_value
    if target is None or actual is None:
        return None, "missing"
    stated = direction_in_text(row.target_text)
    if row.direction is not None and stated is not None and stated is not row.direction:
        return None, "conflict"
    direction = row.direction or stated or Direction.GE
    if target < 0 or (target == 0 and direction is not Direction.LE):
        return None, "bad_target"  # "≥ 0" or a negative target: every actual value would complete it
    return completion_ratio(target, actual, direction), "value"


def row_label(index: int, row: IndicatorRow) -> str:
    """How every message, the report and 评分汇总 name a row: its place in the table (序号N)."""
    name = row.name.strip().replace("“", "‘").replace("”", "’") or "（未命名）"
    return f"序号{index + 1}“{name}”"


def row_path(rows: str, index: int, field: str) -> str:
    """Field path of one 产出/效益 row, e.g. ``outputs[2].actual_value``."""
    return f"{rows}[{index}].{field}"


# the bundled kinds register themselves on import
from xlperf.core.rules import management, rows, spending  # noqa: E402

__all__ = [
    "RULES",
    "Context",
    "RuleKind",
    "completion",
    "management",
    "register",
    "row_label",
    "row_path",
    "rows",
    "spending",
]
