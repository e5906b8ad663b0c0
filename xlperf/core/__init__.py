"""The one entry point every adapter calls: ``evaluate(evaluation) -> Result``."""

from __future__ import annotations

from collections.abc import Iterable

from xlperf.core.evaluation import Evaluation
from xlperf.core.findings import Finding, one_per_field, ordered
from xlperf.core.framework import Framework, get_framework
from xlperf.core.narrative import build_report, check_report
from xlperf.core.result import Result
from xlperf.core.scoring import score
from xlperf.core.validation import validate


def evaluate(
    evaluation: Evaluation, framework: Framework | None = None, extra: Iterable[Finding] = ()
) -> Result:
    """Score and validate. ``extra`` are findings an adapter made while reading (P/R codes).

    One finding per field: a cell the reader could not read gets that finding only, not also
    "请填写…" from the checks that saw it empty. Findings are ordered by where they point
    (:func:`findings.ordered`).
    The narrative is built once here, verified (V42) and kept on the result for the adapters to write.
    """
    fw = framework or get_framework(evaluation.framework)
    result, rule_findings = score(evaluation, fw)
    findings = one_per_field([*extra, *rule_findings, *validate(evaluation, fw, result)])
    result = result.with_findings(ordered(findings))
    # V42: the narrative is written from this very result; reading its numbers back guards the writer
    report = build_report(result)
    v42 = check_report(result, report)
    return result.with_report(report).with_findings(ordered([*result.findings, *v42]))
