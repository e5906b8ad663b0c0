"""A test oracle: the scored workbook as the openpyxl object model makes it.

xlperf writes the scored workbook part by part (``xlperf.workbook.writer.scored_package``), keeping
everything of the clerk's file openpyxl would lose. This second implementation of the same
contract — the three output sheets from the same layouts and the same look, the flagged cells'
fills and notes, the formula cells of ``writer.formula_edits``, the page headers and provenance —
goes through openpyxl instead; tests/test_package_writer.py requires the two to agree on every
corpus workbook. It is not part of xlperf.
"""

from __future__ import annotations

from copy import copy
from typing import Any

from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlperf.core.findings import Finding
from xlperf.core.result import Result
from xlperf.ooxml.refs import name_destinations
from xlperf.workbook import layout as L
from xlperf.workbook import look
from xlperf.workbook.cells import put
from xlperf.workbook.printing import fit_row_heights, set_page_header, setup_print
from xlperf.workbook.reader import SourceMap
from xlperf.workbook.writer import (
    CHECK_AUTHOR,
    Provenance,
    SheetLayout,
    formula_edits,
    output_layouts,
    page_header,
)


def write_results(wb: Workbook, result: Result, source: SourceMap | None, prov: Provenance) -> None:
    """Rebuild the output sheets of ``wb`` and mark the flagged input cells.

    The three output sheets come first, 评分汇总 active: the scored workbook opens on the result."""
    findings = list(result.findings)
    _clear_marks(wb)
    if source is not None:
        _mark_cells(wb, findings)
        _formula_cells(wb, result, source)
    for title in L.OUTPUT_SHEETS:
        if title in wb.sheetnames:
            del wb[title]
    for i, layout in enumerate(output_layouts(result, prov, set(wb.sheetnames))):
        _fill(wb.create_sheet(layout.title, i), layout)
    for title in L.INPUT_SHEETS:  # the clerk's pages print under the department's name too
        if title in wb.sheetnames:
            set_page_header(wb[title], page_header(result, title))
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = False  # one selected tab: several would open as a group
    wb.active = wb.sheetnames.index(L.SCORES)
    wb[L.SCORES].sheet_view.tabSelected = True
    _provenance(wb, prov)


def _provenance(wb: Workbook, prov: Provenance) -> None:
    for name, _, value in prov.hidden():
        defined = wb.defined_names.get(name)
        if defined is None:
            continue
        for sheet, coord in name_destinations(defined):
            if sheet in wb.sheetnames and ":" not in coord:
                wb[sheet][coord.replace("$", "")].value = value


def _clear_marks(wb: Workbook) -> None:
    for title in L.INPUT_SHEETS:
        if title not in wb.sheetnames:
            continue
        for cell in list(wb[title]._cells.values()):
            if cell.comment is not None and cell.comment.author == CHECK_AUTHOR:
                cell.comment = None
                cell.fill = look.fill(look.INPUT)


def _note(cell: Any, text: str) -> None:
    comment = Comment(text[:2000], CHECK_AUTHOR)
    comment.width, comment.height = 320, 120
    cell.comment = comment


def _mark_cells(wb: Workbook, findings: list[Finding]) -> None:
    notes: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell and f.sheet not in (*L.OUTPUT_SHEETS, L.HIDDEN):
            notes.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, coord), fs in notes.items():
        cell = wb[sheet][coord]
        if type(cell).__name__ == "MergedCell":
            continue
        cell.fill = look.fill(look.ERROR if any(f.is_error for f in fs) else look.WARNING)
        _note(cell, "\n".join(f"[{f.code}] {f.message}" for f in fs))


def _formula_cells(wb: Workbook, result: Result, source: SourceMap) -> None:
    for sheet, edits in formula_edits(result, source).items():
        ws = wb[sheet]
        for coord, (_, value) in edits.cells.items():  # a value, or a formula's text ("=…")
            ws[coord].value = value
        for coord, text in edits.notes.items():
            cell = ws[coord]
            _note(cell, f"{cell.comment.text}\n{text}" if cell.comment is not None else text)


def _fill(ws: Worksheet, layout: SheetLayout) -> None:
    """The layout in an openpyxl sheet: each kind of cell styled from its look once and copied, rows
    sized to their wrapped text, the page set up."""
    for i, w in enumerate(layout.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    protos: dict[tuple[Any, ...], Any] = {}
    for r, c, value, key, link in layout.cells():
        cell = ws.cell(row=r, column=c)
        put(cell, value)
        proto = protos.get(key)
        if proto is not None:
            cell._style = copy(proto)
        else:
            style, _, fmt, is_link, align = key
            cell_look = look.output_cell(style, c, fmt, is_link, align)
            cell.font = look.font(cell_look.font)
            cell.fill = look.fill(cell_look.fill)
            cell.alignment = look.alignment(cell_look)
            cell.number_format = cell_look.number_format
            protos[key] = copy(cell._style)
        if link:
            cell.hyperlink = link
    for r, first, last in layout.merges:
        ws.merge_cells(start_row=r, start_column=first, end_row=r, end_column=last)
    fit_row_heights(ws)
    setup_print(ws, title_rows=layout.title_rows, landscape=layout.landscape, header=layout.header)
    ws.print_options.gridLines = False
