"""One look (issue 26): the colours, fonts and output-sheet widths are defined once, in
xlperf/workbook/look.py, and the template builder, the package writer and the ribbon's handlers take
them from there (tests/test_excel_handlers.py checks the ribbon's sheets against the scored copy)."""

from __future__ import annotations

import re

from conftest import ROOT

from xlperf.excel import handlers
from xlperf.project import writer as project_writer
from xlperf.workbook import look, writer

#: the modules that style sheets xlperf writes, both forms' (汇总, summary.py, keeps the workbook's
#: default font in its tables; its colours are look's)
STYLERS = [
    "xlperf/workbook/template.py",
    "xlperf/workbook/writer.py",
    "xlperf/excel/handlers.py",
    "xlperf/excel/project.py",
    "xlperf/project/template.py",
    "xlperf/project/writer.py",
    "xlperf/project/summary.py",
]


def test_no_module_but_look_spells_a_colour_a_font_or_a_width() -> None:
    for name in STYLERS:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not re.search(r"\b(Font|PatternFill|Side|Border)\(", text), name
        assert not re.search(r"[\"'#][0-9A-Fa-f]{6}[\"']", text), name
        assert not re.search(r"_WIDTHS\s*(?::[^=]*)?=\s*\[", text), name
        assert not re.search(r"\"(宋体|黑体)\"", text), name


def test_the_writer_and_the_ribbon_share_the_widths() -> None:
    assert writer.REPORT_WIDTHS == handlers.REPORT_WIDTHS == look.REPORT_WIDTHS == (88,)
    assert writer.SCORE_WIDTHS == handlers.SCORE_WIDTHS and writer.FINDINGS_WIDTHS == handlers.FINDINGS_WIDTHS


def test_the_project_form_takes_the_same_widths_and_colours() -> None:
    assert project_writer.FINDINGS_WIDTHS is look.FINDINGS_WIDTHS
    assert project_writer.REPORT_WIDTHS is look.REPORT_WIDTHS
    assert project_writer.SCORE_WIDTHS is look.PROJECT_SCORE_WIDTHS


def test_summary_spells_no_colour() -> None:
    text = (ROOT / "xlperf/summary.py").read_text(encoding="utf-8")
    assert not re.search(r"[\"'#][0-9A-Fa-f]{6}[\"']", text)
    assert not re.search(r"\bPatternFill\(", text)
