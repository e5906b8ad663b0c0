"""Read a 项目支出绩效自评表 workbook into a ``ProjectEvaluation``, keeping each value's cell.

The form is found by its labels and headers, never by fixed addresses: the 绩效指标 table by a row
holding 三级指标, 年度指标值 and 实际完成值 (and their spellings in :mod:`xlperf.project.layout`), the
项目资金 block by a row holding 全年预算数 and 全年执行数 and the row labels under it, single fields by
the label beside them. So xlperf's template and a bureau's own form (other columns, a title row
more, merged 一级/二级) read alike. 一级 and 二级 are carried down to the rows under them (a merged
cell reads as its first cell's value, the others empty). What cannot be found is an R01 naming the
sheet (and the cell where it was looked for); what cannot be read is a P01/P03 on its cell.

Reads any :class:`xlperf.workbook.book.Book` (the stream reader's, or openpyxl's through ``as_book``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeAlias

from openpyxl.workbook.workbook import Workbook

from xlperf.catalog import Recorded
from xlperf.core.decimals import plain, to_decimal
from xlperf.core.findings import Finding, finding
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import ProjectFramework, form_of_text
from xlperf.core.quantity import normalise_text, parse_quantity
from xlperf.ooxml.refs import column_letter, name_destinations
from xlperf.project import layout as P
from xlperf.project.catalog import find, for_project_workbook, project_workbook_rules
from xlperf.workbook import layout as L
from xlperf.workbook.book import Book, BookLike, CellValue, as_book
from xlperf.workbook.book import Sheet as Worksheet
from xlperf.workbook.cells import is_percent, raw
from xlperf.workbook.reader import AMOUNT_UNITS, SourceMap

#: how far the reader looks: rows of a sheet, columns of a row (a form is narrow and short)
MAX_ROWS = 2000
MAX_COLS = 40
#: sheets never read as the form (xlperf's own outputs, the hidden sheet)
_SKIP = {*P.OUTPUT_SHEETS, L.HIDDEN, P.README}

#: the model's input as the reader builds it, nested by the fields' paths (``funds.total.budget``)
#: and validated by pydantic: texts, years, amounts and scores, groups, and the indicator rows
Input: TypeAlias = "dict[str, InputValue]"
InputValue: TypeAlias = "str | int | Decimal | Input | list[Input] | None"


@dataclass
class _Cells:
    """One sheet's values, read once, with the merged-follower cells marked."""

    ws: Worksheet
    last_row: int
    values: dict[tuple[int, int], CellValue] = field(default_factory=dict)
    followers: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def read(cls, ws: Worksheet) -> _Cells:
        ws.cell(1, 1)  # the stream reader loads a sheet no defined name points at on its first cell
        last = min(ws.max_row, MAX_ROWS)
        out = cls(ws, last)
        for r in range(1, last + 1):
            for c in range(1, MAX_COLS + 1):
                cell = ws.cell(r, c)
                if cell.merged:
                    out.followers.add((r, c))
                elif cell.value is not None and not (isinstance(cell.value, str) and not cell.value.strip()):
                    out.values[(r, c)] = cell.value
        return out

    def text(self, r: int, c: int) -> str:
        value = self.values.get((r, c))
        return "" if value is None else str(value)

    def key(self, r: int, c: int) -> str:
        return P.key(self.values.get((r, c)))

    def right_of(self, r: int, c: int) -> int | None:
        """The column of a label's value: the first cell right of the label not covered by the
        label's own merge (a value cell is next to its label on every form we know).

        A sheet read without its merged ranges (the add-in's bulk read of a live book on an engine
        that sends values only) has no followers: there the value is the first filled cell to the
        right before the next label; an empty value's cell cannot be known (None)."""
        col = c + 1
        while (r, col) in self.followers and col < MAX_COLS:
            col += 1
        if self.followers or (r, col) in self.values:
            return col
        filled = next((k for k in range(col + 1, MAX_COLS + 1) if (r, k) in self.values), None)
        if filled is None or is_label(self.text(r, filled)):
            return None
        return filled

    def below(self, r: int, c: int) -> int:
        """The row of the value under a label (past the label's own merged rows)."""
        row = r + 1
        while (row, c) in self.followers and row < self.last_row:
            row += 1
        return row


def is_label(text: str) -> bool:
    """Whether a cell's text is one of the form's labels (项目名称, 实施单位, 填报日期 …)."""
    k = P.key(text)
    return any(spec.matches(k) for spec in (*P.HEADER_FIELDS, *P.FOOTER_FIELDS, *P.GOAL_FIELDS)) or k in {
        P.key(w) for w in P.FOOTER_WORDS
    }


def coord(r: int, c: int) -> str:
    return f"{column_letter(c)}{r}"


class _Reader:
    def __init__(self, wb: Book) -> None:
        self.wb = wb
        self.findings: list[Finding] = []
        self.map = SourceMap()

    def add(self, path: str, cells: _Cells, r: int, c: int) -> None:
        self.map.add(path, cells.ws.title, coord(r, c))

    # ---------------------------------------------------------------- one cell's input
    def raw(
        self, cells: _Cells, r: int, c: int, path: str, *, display: bool = False
    ) -> tuple[CellValue, bool]:
        """The input of one cell and whether it is percent-formatted. A formula gives its cached
        result (P02) or a P03 when Excel never computed one; a ``display`` cell (xlperf's own live
        执行率) gives nothing and no finding."""
        ws = cells.ws
        where = coord(r, c)
        if (r, c) in cells.followers:
            return None, False
        cell = ws.cell(r, c)
        value = raw(cell)
        if cell.data_type == "f":
            if display:
                return None, False
            cached = self.wb.cached(ws.title, where)
            formula = str(cell.value)[:40]
            if cached is None or (isinstance(cached, str) and cached.startswith("#")):
                self.findings.append(
                    finding(
                        "P03",
                        f"{ws.title}!{where} 是公式“{formula}”，没有可用的计算结果；请改为直接填写",
                        path,
                    ).located(ws.title, where)
                )
                return None, False
            self.findings.append(
                finding(
                    "P02",
                    f"{ws.title}!{where} 是公式“{formula}”，已使用其计算结果 {cached}；建议改为直接填写",
                    path,
                ).located(ws.title, where)
            )
            return cached, is_percent(cell)
        if cell.data_type == "e":
            self.findings.append(
                finding("P03", f"{ws.title}!{where} 是错误值 {value}，请改为实际数值或文字", path).located(
                    ws.title, where
                )
            )
            return None, False
        return value, is_percent(cell)

    def text(self, cells: _Cells, r: int, c: int, path: str) -> str:
        """A cell as the clerk's text: numbers as typed (a percent cell's 0.95 as 95%), dates as dates."""
        value, percent = self.raw(cells, r, c, path)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, int | float | Decimal):
            number = to_decimal(value)
            if number is None:
                return str(value)
            return f"{plain(number * 100)}%" if percent else format(plain(number), "f")
        text = str(value).strip()
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:T00:00:00)?", text)
        return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日" if m else text

    def number(
        self, cells: _Cells, r: int, c: int, path: str, label: str, *, amount: bool = False
    ) -> Decimal | None:
        """A number (分值, 得分, an amount in 万元: 元 and 亿元 converted with a P02)."""
        value, _ = self.raw(cells, r, c, path)
        if value is None:
            return None
        q = parse_quantity(value, percent_cell=False)
        where = coord(r, c)
        if q.problem or q.value is None:
            if q.none_word:
                return Decimal(0) if amount else None
            if q.problem:
                self.findings.append(
                    finding("P01", f"{label}：{q.problem}", path, typed=str(value)[:40]).located(
                        cells.ws.title, where
                    )
                )
            return None
        unit = q.unit
        if amount:
            if unit not in AMOUNT_UNITS:
                self.findings.append(
                    finding(
                        "P01", f"{label}：单位“{unit}”不是金额单位，请以万元填写", path, typed=str(value)[:40]
                    ).located(cells.ws.title, where)
                )
                return None
            factor = AMOUNT_UNITS[unit]
            if factor != 1:
                converted = plain(q.value * factor)
                self.findings.append(
                    finding(
                        "P02", f"{label}：已将“{str(value)[:20]}”换算为 {converted} 万元，请核对", path
                    ).located(cells.ws.title, where)
                )
                return converted
            return q.value
        if unit not in ("", "分"):
            self.findings.append(
                finding("P01", f"{label}：“{str(value)[:20]}”应为分数", path, typed=str(value)[:40]).located(
                    cells.ws.title, where
                )
            )
            return None
        return q.value

    def rate(self, cells: _Cells, r: int, c: int, path: str) -> Decimal | None:
        """A typed 执行率, in percent: 76%, 0.76 in a percent cell, a bare 76 or 0.76 (a fraction)."""
        value, percent = self.raw(cells, r, c, path, display=True)
        if value is None:
            return None
        q = parse_quantity(value, percent_cell=percent and not isinstance(value, str))
        if q.value is None:
            return None
        if q.unit == "%":
            return q.value
        return plain(q.value * 100) if abs(q.value) <= Decimal("1.5") else q.value


# ------------------------------------------------------------------------------ finding the form


def _headers_in(cells: _Cells, r: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for c in range(1, MAX_COLS + 1):
        text = cells.values.get((r, c))
        if text is None:
            continue
        for col in P.INDICATOR_COLUMNS:
            if col.attr not in found and col.matches(str(text)):
                found[col.attr] = c
                break
    return found


def _header_row(cells: _Cells) -> tuple[int, dict[str, int]] | None:
    """The row of the 绩效指标 table's headers and the column of each header found. A header over
    two rows (年度指标值 merged down beside 绩效指标 over 一级/二级/三级) counts as the lower row."""
    needed = {"name", "target", "actual"}
    above: dict[str, int] = {}
    for r in range(1, cells.last_row + 1):
        found = _headers_in(cells, r)
        if needed <= set(found):
            return r, found
        both = {**above, **found}
        if found and above and needed <= set(both):
            return r, both
        above = found
    return None


def _form_sheet(wb: Book) -> tuple[_Cells, tuple[int, dict[str, int]] | None] | None:
    """The first sheet holding the 绩效指标 table (the one named 项目支出绩效自评表 first)."""
    names = [n for n in wb.sheetnames if n not in _SKIP]
    names.sort(key=lambda n: n != P.FORM_SHEET)
    first: _Cells | None = None
    for name in names:
        try:
            ws = wb[name]
        except KeyError:  # a chart sheet
            continue
        cells = _Cells.read(ws)
        first = first or cells
        found = _header_row(cells)
        if found is not None:
            return cells, found
    return (first, None) if first is not None else None


def _embedded(wb: Book) -> Recorded:
    values = {}
    for name in ("xp_framework", "xp_framework_sha256"):
        text = _named(wb, name)
        if text is not None:
            values[name] = text.strip()
    chunks = []
    for name in L.DEF_NAMES:
        text = _named(wb, name)
        if text is None:
            break
        chunks.append(text)
    return Recorded(values.get("xp_framework", ""), values.get("xp_framework_sha256", ""), "".join(chunks))


def _named(wb: Book, name: str) -> str | None:
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    for sheet, where in name_destinations(defined):
        where = where.replace("$", "")
        if sheet in wb.sheetnames and re.fullmatch(r"[A-Z]{1,3}\d{1,7}", where):
            value = wb[sheet][where].value
            return "" if value is None else str(value)
    return None


def is_project_book(book: BookLike) -> bool:
    """Whether a workbook is a 项目支出绩效自评表: its embedded rules say ``form = "project"``, the id
    it records is a project framework's, or — a bureau's own form — a sheet holds the 绩效指标 table's
    headers (三级指标, 年度指标值, 实际完成值). A department workbook (its defined names) is not."""
    wb = as_book(book)
    recorded = _embedded(wb)
    if recorded.embedded:
        return form_of_text(recorded.embedded) == "project"
    if recorded.framework_id:
        return find(recorded.framework_id) is not None
    if "xp_dept_name" in wb.defined_names:
        return False
    for name in wb.sheetnames:
        if name in _SKIP:
            continue
        try:
            ws = wb[name]
        except KeyError:
            continue
        if _header_row(_Cells.read(ws)) is not None:
            return True
    return False


# ------------------------------------------------------------------------------ reading


def own_rules(book: BookLike) -> ProjectFramework | None:
    """The rules a project workbook carries (:func:`xlperf.project.catalog.project_workbook_rules`)."""
    return project_workbook_rules(_embedded(as_book(book)))


def recorded_input_sha256(book: BookLike) -> str:
    """The SHA-256 of the input a scored copy was written from (``xp_input_sha256`` on the hidden
    sheet; "" when the workbook records none): what ties a scored copy to its score card."""
    return _named(as_book(book), "xp_input_sha256") or ""


def read_project_book(
    book: BookLike,
    framework: ProjectFramework | None = None,
    values_loader: Callable[[], Workbook | None] | None = None,
) -> tuple[ProjectEvaluation, list[Finding], SourceMap, ProjectFramework]:
    """Read the form; its rules are the workbook's own (:func:`for_project_workbook`) or
    ``framework`` (``--framework``). Raises :class:`FrameworkError` when no rules can be had."""
    wb = as_book(book, values_loader)
    r = _Reader(wb)
    recorded = _embedded(wb)
    fw, notes = for_project_workbook(recorded, framework)
    r.findings.extend(notes)
    data: Input = {"framework": fw.id, "project": {}, "funds": {}}
    found = _form_sheet(wb)
    if found is None:
        r.findings.append(
            finding(
                "R01",
                "工作簿中没有可读取的工作表；请用 xlperf new --framework national-project "
                "生成项目支出绩效自评表",
            )
        )
        return _done(r, data, fw)
    cells, table = found
    title = cells.ws.title
    if table is None:
        r.findings.append(
            finding(
                "R01",
                f"在工作表“{title}”（及其他工作表）中找不到绩效指标表：须有一行表头含“三级指标”“年度指标值”“实际完成值”"
                "（也可写作“指标名称”“年度目标值”“全年实际值”）；请对照 xlperf new --framework "
                "national-project 生成的标准表",
            ).located(title, "A1")
        )
        header_row, columns = cells.last_row + 1, dict[str, int]()
    else:
        header_row, columns = table
        # what concerns the table as a whole (no rows, the weights' sum) points at its 分值 header
        r.add("rows", cells, header_row, columns.get("weight", columns["name"]))
        missing = [c for c in P.INDICATOR_COLUMNS if c.required and c.attr not in columns]
        for col in missing:
            r.findings.append(
                finding(
                    "R01",
                    f"{title} 第{header_row}行的绩效指标表头中没有“{col.text}”列；请补上该列后再填写",
                    f"rows.{col.attr}",
                ).located(title, coord(header_row, 1))
            )
    _header_fields(r, cells, header_row, data)
    _funds(r, cells, header_row, data)
    _goals(r, cells, header_row, data)
    end = _rows(r, cells, header_row, columns, data) if table is not None else header_row
    _footer(r, cells, end, columns, data)
    return _done(r, data, fw)


def _done(
    r: _Reader, data: Input, fw: ProjectFramework
) -> tuple[ProjectEvaluation, list[Finding], SourceMap, ProjectFramework]:
    ev = ProjectEvaluation.model_validate(data)
    return ev, [r.map.locate(f) for f in r.findings], r.map, fw


def _label_cells(cells: _Cells, rows: range) -> list[tuple[int, int, str]]:
    return [(row, c, cells.key(row, c)) for (row, c) in sorted(cells.values) if row in rows]


def _header_fields(r: _Reader, cells: _Cells, before: int, data: Input) -> None:
    """项目名称, 主管部门, 实施单位, 年度: labels above the table, values to their right."""
    labels = _label_cells(cells, range(1, before))
    for spec in P.HEADER_FIELDS:
        hit = next(((row, c) for row, c, text in labels if spec.matches(text)), None)
        if hit is None:
            joined = next(
                (
                    (row, c)
                    for row, c, _ in labels
                    if re.match(rf"{spec.label}[:：]", normalise_text(cells.text(row, c)))
                ),
                None,
            )
            if joined is not None:  # "项目名称：xxx" in one cell
                row, c = joined
                _set_field(spec, re.split(r"[:：]", cells.text(row, c), maxsplit=1)[1].strip(), data)
                r.add(spec.path, cells, row, c)
                continue
            if spec.path == "project.year":
                _year_from_title(r, cells, before, data)
                continue
            r.findings.append(
                finding(
                    "R01", f"{cells.ws.title} 中找不到“{spec.label}”；请在表头填写{spec.label}", spec.path
                ).located(cells.ws.title, "A1")
            )
            continue
        row, c = hit
        col = cells.right_of(row, c)
        if col is None:  # empty, and where its cell is cannot be told: findings point at the label
            r.add(spec.path, cells, row, c)
            continue
        r.add(spec.path, cells, row, col)
        if spec.type is P.LabelType.INT:
            text = r.text(cells, row, col, spec.path)
            m = re.search(r"(\d{4})", text)
            if text and m is None:
                r.findings.append(
                    finding(
                        "P01", f"年度：“{text[:20]}”应为四位年份，如 2024", spec.path, typed=text[:40]
                    ).located(cells.ws.title, coord(row, col))
                )
            _set(data, spec.path, int(m[1]) if m else None)
        else:
            _set(data, spec.path, r.text(cells, row, col, spec.path))


def _set_field(spec: P.Label, text: str, data: Input) -> None:
    if spec.type is P.LabelType.INT:
        m = re.search(r"(\d{4})", text)
        _set(data, spec.path, int(m[1]) if m else None)
    else:
        _set(data, spec.path, text)


def _year_from_title(r: _Reader, cells: _Cells, before: int, data: Input) -> None:
    """No 年度 label: the year in a title line such as （2022年度）."""
    for (row, c), value in sorted(cells.values.items()):
        if row >= before:
            break
        m = re.search(r"(20\d{2})\s*年度?", normalise_text(str(value)))
        if m:
            _set(data, "project.year", int(m[1]))
            r.add("project.year", cells, row, c)
            return
    r.findings.append(
        finding(
            "R01",
            f"{cells.ws.title} 中找不到年度（“年度”一栏或标题中的“20XX年度”）；请填写年度",
            "project.year",
        ).located(cells.ws.title, "A1")
    )


def _set(data: Input, path: str, value: InputValue) -> None:
    parts = path.split(".")
    target = data
    for p in parts[:-1]:
        group = target.setdefault(p, {})
        if not isinstance(group, dict):  # pragma: no cover - no path is both a value and a group
            raise TypeError(f"{path}: {p} is a value")
        target = group
    target[parts[-1]] = value


def _funds(r: _Reader, cells: _Cells, before: int, data: Input) -> None:
    """The 项目资金 block above the table: its header row (全年预算数, 全年执行数 …) and the rows
    under it by their labels (年度资金总额, 当年财政拨款 …)."""
    title = cells.ws.title
    head = None
    for row in range(1, before):
        found: dict[str, int] = {}
        for c in range(1, MAX_COLS + 1):
            text = cells.values.get((row, c))
            if text is None:
                continue
            for col in P.FUND_COLUMNS:
                if col.attr not in found and col.matches(str(text)):
                    found[col.attr] = c
                    break
        if {"budget", "executed"} <= set(found):
            head = (row, found)
            break
    if head is None:
        r.findings.append(
            finding(
                "R01",
                f"{title} 中找不到项目资金表：须有一行表头含“全年预算数”“全年执行数”（或“调整后预算数”"
                "“预算执行数”），"
                "其下为“年度资金总额”等行；请对照标准表补上",
                "funds.total.budget",
            ).located(title, "A1")
        )
        return
    row0, columns = head
    first_amount = min(columns.values())
    wanted = {key: {P.key(a) for a in aliases} for key, aliases in P.FUND_ROW_LABELS.items()}
    seen: set[str] = set()
    for row in range(row0 + 1, min(row0 + 9, before)):
        labels = [cells.key(row, c) for c in range(1, first_amount)]
        key = next(
            (k for k, names in wanted.items() if k not in seen and any(t in names for t in labels)), None
        )
        if key is None:
            continue
        seen.add(key)
        label = dict(P.FUND_ROW_LABELS)[key][0].removeprefix("其中：")
        for attr in ("initial", "budget", "executed"):
            if attr not in columns:
                continue
            c = columns[attr]
            path = f"funds.{key}.{attr}"
            r.add(path, cells, row, c)
            _set(data, path, r.number(cells, row, c, path, f"{label}的{_fund_header(attr)}", amount=True))
        if key == "total":
            for attr in ("full", "rate", "score"):
                if attr not in columns:
                    continue
                c = columns[attr]
                path = f"funds.{attr}"
                r.add(path, cells, row, c)
                value = (
                    r.rate(cells, row, c, path)
                    if attr == "rate"
                    else r.number(cells, row, c, path, f"预算执行率的{'分值' if attr == 'full' else '得分'}")
                )
                _set(data, path, value)
    if "total" not in seen:
        r.findings.append(
            finding(
                "R01",
                f"{title} 第{row0}行项目资金表下没有“年度资金总额”行；请补上该行",
                "funds.total.budget",
            ).located(title, coord(row0 + 1, 1))
        )
        # the budget's checks point at where the row was expected
        r.add("funds.total", cells, row0 + 1, columns["budget"])


def _fund_header(attr: str) -> str:
    return next(c.text for c in P.FUND_COLUMNS if c.attr == attr)


def _goals(r: _Reader, cells: _Cells, before: int, data: Input) -> None:
    for spec in P.GOAL_FIELDS:
        hit = next(
            (
                (row, c)
                for (row, c) in sorted(cells.values)
                if row < before and spec.matches(cells.text(row, c))
            ),
            None,
        )
        if hit is None:
            continue  # a form without 年度总体目标: the report says （未填写）
        row, c = hit
        below = cells.below(row, c)
        r.add(spec.path, cells, below, c)
        _set(data, spec.path, r.text(cells, below, c, spec.path))


def _is_footer(cells: _Cells, row: int) -> bool:
    for c in range(1, MAX_COLS + 1):
        k = cells.key(row, c)
        if not k:
            continue
        if k in P.FOOTER_WORDS or any(spec.matches(k) for spec in P.FOOTER_FIELDS):
            return True
    return False


def _rows(r: _Reader, cells: _Cells, head: int, columns: dict[str, int], data: Input) -> int:
    """The 绩效指标 rows under the header until the footer; 一级/二级 carried down. Returns the row
    after the last one read."""
    rows: list[Input] = []
    level1 = level2 = ""
    row = head + 1
    while row <= cells.last_row and not _is_footer(cells, row):
        values: Input = {}
        if "level1" in columns and (row, columns["level1"]) in cells.values:
            new = cells.text(row, columns["level1"]).strip()
            if new != level1:
                level1, level2 = new, ""
        if "level2" in columns and (row, columns["level2"]) in cells.values:
            level2 = cells.text(row, columns["level2"]).strip()
        filled = any(
            (row, columns[a]) in cells.values
            for a in ("name", "operator", "target", "actual", "weight", "score", "reason")
            if a in columns
        )
        if not filled:
            row += 1
            continue
        index = len(rows)
        path = f"rows[{index}]"
        for attr, c in columns.items():
            r.add(f"{path}.{attr}", cells, row, c)
        for attr in ("level1", "level2"):  # the carried value, located on this row
            if attr not in columns:
                r.add(f"{path}.{attr}", cells, row, columns["name"])
        r.add(path, cells, row, columns["name"])
        values["level1"], values["level2"] = level1, level2
        for attr in ("name", "operator", "target", "actual", "reason"):
            if attr in columns:
                values[attr] = r.text(cells, row, columns[attr], f"{path}.{attr}")
        for attr, label in (("weight", "分值"), ("score", "得分")):
            if attr in columns:
                values[attr] = r.number(cells, row, columns[attr], f"{path}.{attr}", label)
        rows.append(values)
        row += 1
    data["rows"] = rows
    return row


def _footer(r: _Reader, cells: _Cells, start: int, columns: dict[str, int], data: Input) -> None:
    """总分 (the 得分 column of its row), 评价等级, 存在问题, 改进措施, 预算执行偏差原因, 填报人 …"""
    title = cells.ws.title
    score_col = columns.get("score")
    if start <= cells.last_row and score_col is not None:
        r.add("claimed_total", cells, start, score_col)
        data["claimed_total"] = r.number(cells, start, score_col, "claimed_total", "得分合计")
    labels = _label_cells(cells, range(1, cells.last_row + 1))
    for spec in P.FOOTER_FIELDS:
        hit = next(((row, c) for row, c, text in labels if spec.matches(text)), None)
        if hit is None:
            continue
        row, c = hit
        col = cells.right_of(row, c)
        if col is None:  # empty, its cell unknown: located at the label (评价等级 is then not written)
            if spec.path != "claimed_rating":
                r.add(spec.path, cells, row, c)
            continue
        r.add(spec.path, cells, row, col)
        text = r.text(cells, row, col, spec.path)
        if spec.path == "claimed_rating" and text.startswith("xlperf"):
            text = ""
        _set(data, spec.path, text)
    del title
