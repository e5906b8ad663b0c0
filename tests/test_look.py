"""One look (issue 26): the colours, fonts and output-sheet widths are defined once, in
xlperf/workbook/look.py, and the template builder, the package writer and the ribbon's handlers take
them from there (tests/test_excel_handlers.py checks the ribbon's sheets against the scored copy)."""

from __future__ import annotations

import re

from conftest import ROOT

from xlperf.excel import handlers
from xlperf.workbook import look, writer

#: the modules that style sheets xlperf writes (汇总, summary.py, has its own tables)
STYLERS = ["xlperf/workbook/template.py", "xlperf/workbook/writer.py", "xlperf/excel/handlers.py"]


def test_no_module_but_look_spells_a_colour_a_font_or_a_width() -> None:
    for name in STYLERS:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not re.search(r"\b(Font|PatternFill|Side|Border)\(", text), name
        assert not re.search(r"[\"'#][0-9A-Fa-f]{6}[\"']", text), name
        assert not re.search(r"_WIDTHS\s*(?::[^=]*)?=\s*\[", text), name
        assert not re.search(r"\"(宋体|黑体)\"", text), name


def test_the_writer_and_the_ribbon_share_the_widths() -> None:
    assert writer.REPORT_WIDTHS == handlers.REPORT_WIDTHS == look.REPORT_WIDTHS == (88,)
    assert (
        writer.SUMMARY_WIDTHS == handlers.SUMMARY_WIDTHS
        and writer.FINDINGS_WIDTHS == handlers.FINDINGS_WIDTHS
    )
