"""The ``ProjectResult`` of scoring one 项目支出绩效自评表, and its score card (docs/DESIGN.md §6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from xlperf.core.decimals import round2
from xlperf.core.findings import Finding, has_errors
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import ProjectFramework
from xlperf.core.report import EMPTY_REPORT, Report
from xlperf.core.result import SCORECARD_SCHEMA


@dataclass(frozen=True)
class BudgetScore:
    """The 项目资金 block: A, B (from the total row, or the sum of its parts when it was left empty)."""

    full: Decimal
    budget: Decimal | None  # A
    executed: Decimal | None  # B
    rate: Decimal | None  # percent, 2 places; None when it cannot be computed
    score: Decimal
    #: A and B were taken from the parts because the total row was left empty
    from_parts: bool = False


@dataclass(frozen=True)
class RowResult:
    """One 绩效指标 row as scored."""

    index: int
    level: str  # the 一级's id in the framework ("" when not recognised)
    level1: str  # as typed
    level2: str
    name: str
    operator: str  # the 计算符号 used ("" when none could be decided)
    kind: str  # the row kind's name ("" when not scored)
    weight: Decimal | None
    target: Decimal | None
    actual: Decimal | None
    unit: str
    #: a / t as a percent (2 places), for the report and the excess check; None when not computed
    completion: Decimal | None
    #: the row's score before an excess deduction (the rule's, or the graded one)
    computed: Decimal
    deduction: Decimal
    grade: str = ""  # 定性: the band's name
    applicable: bool = True
    scored: bool = True  # False: data missing or in conflict, counted 0 until fixed
    reason: str = ""
    target_text: str = ""
    actual_text: str = ""

    @property
    def score(self) -> Decimal:
        return max(Decimal(0), self.computed - self.deduction)

    @property
    def full(self) -> Decimal:
        return self.weight or Decimal(0)

    @property
    def below_full(self) -> bool:
        return self.applicable and self.weight is not None and self.score < self.weight


@dataclass(frozen=True)
class LevelScore:
    """A 一级指标's rows: their 分值 and 得分 added up."""

    id: str
    name: str
    full: Decimal
    score: Decimal
    rows: tuple[RowResult, ...]


@dataclass(frozen=True)
class ProjectResult:
    """Everything computed from one ``ProjectEvaluation`` under one ``ProjectFramework``."""

    evaluation: ProjectEvaluation
    framework: ProjectFramework
    budget: BudgetScore
    rows: tuple[RowResult, ...]
    levels: tuple[LevelScore, ...]
    #: budget score plus the applicable rows' scores, before 不适用 rescaling and caps
    raw_total: Decimal
    #: the share the applicable rows and the block weigh of the total (< total when rows are 不适用)
    applicable_full: Decimal
    #: the cap of the whole score by 执行率, when one applied
    cap: Decimal | None
    total: Decimal
    findings: tuple[Finding, ...] = ()
    report: Report = field(default=EMPTY_REPORT, compare=False, repr=False)

    form = "project"

    @property
    def rating(self) -> str:
        return self.framework.rate(self.total)

    @property
    def has_errors(self) -> bool:
        return has_errors(list(self.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]

    def with_findings(self, findings: Sequence[Finding]) -> ProjectResult:
        return replace(self, findings=tuple(findings))

    def with_report(self, report: Report) -> ProjectResult:
        return replace(self, report=report)

    def section_scores(self) -> dict[str, Decimal]:
        """Scores by id: the 项目资金 block (``budget``) and every 一级."""
        out = {"budget": self.budget.score}
        for level in self.levels:
            out[level.id] = level.score
        return out

    def scorecard(self, *, workbook: str = "", sha256: str = "") -> dict[str, Any]:
        """The score card (same schema and keys as the department form's, plus ``form``, ``project``
        and ``budget``; ``department`` is the 主管部门, so a bureau groups projects by department)."""
        info = self.evaluation.project
        fw = self.framework
        return {
            "schema": SCORECARD_SCHEMA,
            "form": "project",
            "framework": fw.id,
            "framework_name": fw.name,
            "framework_sha256": fw.sha256,
            "rating_names": fw.rating_names(),
            "workbook": workbook,
            "sha256": sha256,
            "department": info.department,
            "project": info.name,
            "unit": info.unit,
            "year": info.year,
            # not filled in (no amount, no indicator): batch's 未填写, never counted in 项目自评汇总
            "blank": self.evaluation.is_blank,
            "total": float(self.total),
            "rating": self.rating,
            "sections": {k: float(v) for k, v in self.section_scores().items()},
            "ratios": {"budget_execution": None if self.budget.rate is None else float(self.budget.rate)},
            "budget": {
                "full": float(self.budget.full),
                "budget": _num(self.budget.budget),
                "executed": _num(self.budget.executed),
                "rate": _num(self.budget.rate),
                "score": float(self.budget.score),
            },
            "indicators": [
                {
                    "section": r.level,
                    "seq": r.index + 1,
                    "level1": r.level1,
                    "level2": r.level2,
                    "name": r.name,
                    "operator": r.operator,
                    "full": _num(r.weight),
                    "target": _num(r.target),
                    "actual": _num(r.actual),
                    "target_text": r.target_text,  # as typed (≥12个): what 汇总 and the pages show
                    "actual_text": r.actual_text,
                    "completion": None if r.completion is None else float(round2(r.completion)),
                    "grade": r.grade,
                    "applicable": r.applicable,
                    "deduction": float(r.deduction),
                    "score": float(r.score) if r.applicable else None,
                    "reason": r.reason,
                }
                for r in self.rows
            ],
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
        }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
