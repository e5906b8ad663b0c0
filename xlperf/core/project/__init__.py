"""The 项目支出绩效自评表 (project expenditure self-evaluation): the second framework family on the
same engine (docs/DOMAIN.md §5). Pure like the rest of the core: ``evaluate_project`` is the one
entry point every adapter of the project form calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from xlperf.core.findings import Finding, one_per_field, ordered
from xlperf.core.narrative import draft_notice
from xlperf.core.project import rules  # noqa: F401 - the row and block kinds register themselves
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import ProjectFramework, get_project_framework
from xlperf.core.project.narrative import build_project_report, check_project_report
from xlperf.core.project.result import ProjectResult
from xlperf.core.project.scoring import score_project

__all__ = ["ProjectEvaluation", "ProjectFramework", "ProjectResult", "evaluate_project"]


def evaluate_project(
    evaluation: ProjectEvaluation, framework: ProjectFramework | None = None, extra: Iterable[Finding] = ()
) -> ProjectResult:
    """Score and check one project form. ``extra`` are the reader's findings (P/R/F codes); a cell
    the reader could not read gets that finding only. The report is built once here and read back
    (J40), as ``core.evaluate`` does for the department form."""
    fw = framework or get_project_framework(evaluation.framework)
    extra = list(extra)
    unreadable = frozenset(f.path for f in extra if f.code in ("P01", "P03") and f.path)
    result, found = score_project(evaluation, fw, unreadable)
    result = result.with_findings(ordered(one_per_field([*extra, *found])))
    report = build_project_report(result)
    j40 = check_project_report(result, report)
    findings = ordered([*result.findings, *j40])
    # produced while errors remain, it is a draft, as the department form's report (issue 25)
    report = replace(report, draft=draft_notice(sum(1 for f in findings if f.is_error)))
    return result.with_report(report).with_findings(findings)
