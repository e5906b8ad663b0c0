"""Fill a workbook of any template version the way a clerk does: into the cells the workbook itself
offers (its defined names; its tables, column by header text), in Excel's own terms — a rate typed
"92.13%" is stored as 0.9213 in a percent cell, a target as "180家" — and nothing where the
workbook has no place for it. Used to take every template this repository ever shipped
(tests/shipped_templates/) through check, upgrade, run and submit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

from xlperf.core.evaluation import Evaluation, IndicatorRow
from xlperf.core.framework import get_framework
from xlperf.workbook import layout as L
from xlperf.workbook.cells import put, put_text


def _model(ev: Evaluation, path: str, type_: L.FieldType) -> Any:
    obj: Any = ev
    for part in path.split("."):
        obj = getattr(obj, part)
    if obj is None or obj == "":
        return None
    if type_ is L.FieldType.RATE:
        return obj / 100
    if isinstance(obj, bool):
        return "是" if obj else "否"
    return getattr(obj, "value", obj) if not isinstance(obj, Decimal | str | int) else obj


def _typed_quantity(value: Decimal | None, unit: str) -> Any:
    """A number as a clerk types it: with its unit where it has one (“180家”), bare otherwise."""
    if value is None:
        return None
    if unit and unit != "%":
        return f"{value}{unit}"
    return value


def fill_like_a_clerk(src: Path, ev: Evaluation, out: Path) -> Path:
    """``src`` (any template version) with ``ev`` typed in where ``src`` has a place for it."""
    wb = openpyxl.load_workbook(src)
    fw = get_framework(ev.framework)
    for item in L.all_fields():
        if item.type is L.FieldType.COMPUTED or item.name not in wb.defined_names:
            continue
        sheet, coord = next(iter(wb.defined_names[item.name].destinations))
        value = _model(ev, item.path, item.type)
        cell = wb[sheet][coord.replace("$", "")]
        if isinstance(value, str):
            put_text(cell, value)
        else:
            put(cell, value)
    for spec in L.tables_for(fw):
        ws = next(w for w in wb.worksheets if spec.table in w.tables)
        table = ws.tables[spec.table]
        c1, r1, c2, r2 = range_boundaries(table.ref)
        columns = {}
        for c in range(c1, c2 + 1):
            col = spec.column_named(str(ws.cell(row=r1, column=c).value or ""))
            if col is not None:
                columns[c] = col
        if spec.path == "management":
            entries = {m.indicator: m for m in ev.management}
            for r in range(r1 + 1, r2 + 1):
                by_attr = {col.attr: c for c, col in columns.items() if col.attr}
                entry = entries.get(str(ws.cell(row=r, column=by_attr["indicator"]).value))
                if entry is None:
                    continue
                for i, answer in enumerate(entry.answers):
                    if answer is not None and f"answers.{i}" in by_attr:
                        ws.cell(row=r, column=by_attr[f"answers.{i}"]).value = answer.value
                for attr in ("count_total", "count_done", "evidence", "explanation"):
                    value = getattr(entry, attr)
                    if value not in (None, "") and attr in by_attr:
                        put(ws.cell(row=r, column=by_attr[attr]), value)
            continue
        if spec.path == "spending.monthly":
            rate = next(c for c, col in columns.items() if col.attr == "rate")
            for month, value in enumerate(ev.spending.monthly, start=1):
                if value is not None:
                    cell = ws.cell(row=r1 + month, column=rate)
                    cell.value = value / 100
                    cell.number_format = "0.00%"
            continue
        rows: list[Any] = list(getattr(ev, spec.path))
        if r1 + len(rows) > r2:  # Excel grows the table as the clerk types below it
            r2 = r1 + len(rows)
            table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
        for i, row in enumerate(rows):
            r = r1 + 1 + i
            for c, col in columns.items():
                if col.attr is None or not col.is_input:
                    continue
                if isinstance(row, str):
                    put_text(ws.cell(row=r, column=c), row)
                    continue
                value = getattr(row, col.attr)
                if isinstance(row, IndicatorRow) and col.attr in ("target_value", "actual_value"):
                    value = _typed_quantity(value, row.unit)
                elif col.percent and value is not None:
                    value = value / 100
                value = (
                    getattr(value, "value", value) if not isinstance(value, Decimal | str | int) else value
                )
                if value in (None, ""):
                    continue
                if isinstance(value, str):
                    put_text(ws.cell(row=r, column=c), value)
                else:
                    put(ws.cell(row=r, column=c), value)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
