"""The one entry point every adapter calls: ``evaluate(evaluation) -> Result``."""

from __future__ import annotations

from collections.abc import Iterable

from xlperf.evaluation import Evaluation
from xlperf.findings import Finding
from xlperf.framework import Framework, get_framework
from xlperf.result import Result
from xlperf.scoring import score
from xlperf.validation import validate


def evaluate(
    evaluation: Evaluation, framework: Framework | None = None, extra: Iterable[Finding] = ()
) -> Result:
    """Score and validate. ``extra`` are findings an adapter made while reading (P/R codes).

    Findings are ordered: reading problems first, then by code, each group in input order.
    The narrative is built once here, verified (V42) and kept on the result for the adapters to write.
    """
    from xlperf.narrative import build_report, check_report

    fw = framework or get_framework(evaluation.framework)
    result, rule_findings = score(evaluation, fw)
    findings = [*extra, *rule_findings, *validate(evaluation, fw, result)]
    # V42: the narrative is written from this very result; reading its numbers back guards the writer
    report = build_report(result)
    findings += check_report(result, report)
    findings.sort(key=lambda f: (f.code[0] != "R", f.code[0] != "P", f.code))
    return result.with_report(report).with_findings(findings)
