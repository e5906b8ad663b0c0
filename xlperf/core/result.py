"""The ``Result`` of scoring one evaluation, and its score-card JSON (docs/DESIGN.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlperf.core.decimals import round2
from xlperf.core.evaluation import Answer, Evaluation
from xlperf.core.findings import Finding, has_errors
from xlperf.core.framework import Framework, IndicatorSpec
from xlperf.core.report import EMPTY_REPORT, Report

SCORECARD_SCHEMA = "xlperf.scorecard/1"


@dataclass(frozen=True)
class RowScore:
    """One 产出/效益 row under rule R-a."""

    section: str  # "output" | "benefit"
    index: int  # position in the evaluation's list
    seq: int | None
    name: str
    weight: Decimal  # full / n, unrounded
    completion: Decimal | None  # r as computed (uncapped), None when it cannot be computed
    computed_completion: Decimal | None  # the formula's r when a clerk override replaced it
    used: Decimal  # r used for scoring: clamped to [0, cap]
    deduction: Decimal  # round_half_up(w × (1 − used), 2)
    source: str  # "value" | "grade" | "override" | "missing"

    @property
    def full_display(self) -> Decimal:
        return round2(self.weight)

    @property
    def score(self) -> Decimal:
        """Row score as displayed: rounded weight less the deduction (never below 0)."""
        return max(Decimal(0), self.full_display - self.deduction)

    @property
    def completion_pct(self) -> Decimal | None:
        return None if self.completion is None else round2(self.completion * 100)


@dataclass(frozen=True)
class IndicatorScore:
    """One 三级指标's score and how it came about."""

    spec: IndicatorSpec
    section: str
    score: Decimal
    rows: tuple[RowScore, ...] = ()
    answers: tuple[Answer | None, ...] = ()
    inputs: dict[str, Decimal | None] = field(default_factory=dict)
    ratio: Decimal | None = None  # percent, rounded to 2 places
    outcome: str = ""  # the rule's outcome in one Chinese sentence
    computed_score: Decimal | None = None  # kept when a clerk override replaced it

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def full(self) -> Decimal:
        return self.spec.full

    @property
    def rate_pct(self) -> Decimal:
        return round2(self.score / self.full * 100) if self.full else Decimal(0)


@dataclass(frozen=True)
class SectionScore:
    id: str
    name: str
    full: Decimal
    indicators: tuple[IndicatorScore, ...]

    @property
    def score(self) -> Decimal:
        return sum((i.score for i in self.indicators), Decimal(0))


@dataclass(frozen=True)
class Result:
    """Everything computed from one ``Evaluation`` under one ``Framework``."""

    evaluation: Evaluation
    framework: Framework
    sections: tuple[SectionScore, ...]
    ratios: dict[str, Decimal | None]
    findings: tuple[Finding, ...] = ()
    #: the narrative built from this result by ``core.evaluate``, checked there (V42); the adapters
    #: write this very text instead of building it again
    report: Report = field(default=EMPTY_REPORT, compare=False, repr=False)

    @property
    def total(self) -> Decimal:
        return sum((s.score for s in self.sections), Decimal(0))

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

    def section(self, section_id: str) -> SectionScore:
        return next(s for s in self.sections if s.id == section_id)

    def indicator(self, indicator_id: str) -> IndicatorScore:
        return next(i for s in self.sections for i in s.indicators if i.id == indicator_id)

    def indicator_scores(self) -> list[IndicatorScore]:
        return [i for s in self.sections for i in s.indicators]

    def section_scores(self) -> dict[str, Decimal]:
        """Scores by id: every section and every 履职效能 child (output, benefit, spending)."""
        out: dict[str, Decimal] = {}
        for sec in self.sections:
            for ind in sec.indicators:
                if ind.spec.kind.subtotal:
                    out[ind.id] = ind.score
            out[sec.id] = sec.score
        return out

    def section_names(self) -> dict[str, str]:
        """The names of :meth:`section_scores`' keys, as the framework writes them (履职效能,
        产出指标完成情况)."""
        out: dict[str, str] = {}
        for sec in self.sections:  # each section, then its parts: how the tables list them
            out[sec.id] = sec.name
            for ind in sec.indicators:
                if ind.spec.kind.subtotal:
                    out[ind.id] = ind.spec.label
        return out

    def with_findings(self, findings: Sequence[Finding]) -> Result:
        return Result(
            self.evaluation, self.framework, self.sections, self.ratios, tuple(findings), self.report
        )

    def with_report(self, report: Report) -> Result:
        return Result(self.evaluation, self.framework, self.sections, self.ratios, self.findings, report)

    def scorecard(self, *, workbook: str = "", sha256: str = "") -> dict[str, Any]:
        """The versioned score-card JSON (docs/DESIGN.md): numbers rounded to 2 places, ratios in percent."""
        dep = self.evaluation.department
        indicators = [
            entry
            for sec in self.sections
            for ind in sec.indicators
            for entry in ind.spec.kind.card(ind, sec.id)
        ]
        return {
            "schema": SCORECARD_SCHEMA,
            "framework": self.framework.id,
            "framework_name": self.framework.name,
            "framework_sha256": self.framework.sha256,
            "rating_names": self.framework.rating_names(),
            "workbook": workbook,
            "sha256": sha256,
            "department": dep.name,
            "year": dep.year,
            "total": float(self.total),
            "rating": self.rating,
            "sections": {k: float(v) for k, v in self.section_scores().items()},
            "section_names": self.section_names(),
            "top_sections": [sec.id for sec in self.sections],
            "ratios": {k: (None if v is None else float(v)) for k, v in self.ratios.items()},
            "ratio_names": {k: spec.name for k, spec in self.framework.all_ratios().items()},
            "indicators": indicators,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
        }
