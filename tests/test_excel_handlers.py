"""The ribbon handlers on xlwings' remote engine (docs/EXCEL.md section 4).

A remote Book is built from the example workbook (the payload a real Excel client would send), a
handler runs on it, and the recorded actions are replayed onto an openpyxl copy of the workbook.
The replayed 评分汇总 / 校验结果 / 自评报告 must hold the same values that ``xlperf run`` writes for
the same file, and the number of actions must not depend on the number of indicator rows.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlwings as xw
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.excel import handlers, on_ribbon
from xlperf.excel.book import EXEC_RATE_FORMULA, parse_reference, snapshot
from xlperf.excel.registry import BUTTONS
from xlperf.pipeline import assess, load_input, write_scored
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

PROVENANCE_LABELS = {"输入文件 SHA-256", "计分时间"}  # differ from run to run by design
_ROW_FORMULA = re.compile(r"^=ROW\(\)-(\d+)$")


# ------------------------------------------------------------------------------ fixtures


def _excel_value(cell: Any, wb: Workbook) -> Any:
    """What Excel would send for a cell of the saved file: formulas as their computed value."""
    value = cell.value
    if cell.data_type != "f":
        return "" if value is None else value
    m = _ROW_FORMULA.match(str(value))
    if m:
        return cell.row - int(m.group(1))
    if value == EXEC_RATE_FORMULA:
        ex, tot = (_named(wb, n) for n in ("xp_executed", "xp_total_budget"))
        return float(ex) / float(tot) if isinstance(ex, int | float) and tot else ""
    return ""  # other template formulas (完成率, 月均) are not read as inputs


def _named(wb: Workbook, name: str) -> Any:
    sheet, coord = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][coord.replace("$", "")].value


def payload(path: Path) -> dict[str, Any]:
    """The remote-engine payload for a saved workbook (shape of xlwings/pro/_xlremote.py)."""
    wb = load_workbook(path)
    names = []
    for name, dn in wb.defined_names.items():
        sheet, coord = next(iter(dn.destinations))
        names.append(
            {
                "name": name,
                "refers_to": f"={dn.attr_text}",
                "sheet_index": wb.sheetnames.index(sheet),
                "address": coord.replace("$", ""),
                "book_scope": True,
                "scope_sheet_name": None,
                "scope_sheet_index": None,
            }
        )
    sheets = []
    for ws in wb.worksheets:
        values = [
            [_excel_value(c, wb) for c in row]
            for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column)
        ]
        tables = [
            {
                "name": t.displayName,
                "range_address": t.ref,
                "header_row_range_address": None,
                "data_body_range_address": None,
                "total_row_range_address": None,
                "show_headers": True,
                "show_totals": False,
                "table_style": "",
                "show_autofilter": True,
            }
            for t in ws.tables.values()
        ]
        sheets.append({"name": ws.title, "values": values, "pictures": [], "tables": tables})
    return {
        "client": "VBA",
        "version": xw.__version__,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": names,
        "sheets": sheets,
    }


def remote_book(path: Path) -> Any:
    return xw.Book(json=payload(path))


def save_example(path: Path, ev: Evaluation | None = None) -> Path:
    return save_workbook(build_workbook(get_framework(), ev or example_evaluation()), path)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return save_example(tmp_path / "example.xlsx")


# ------------------------------------------------------------------------------ replayer


def _range(ws: Any, a: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            ws.cell(row=a["start_row"] + 1 + i, column=a["start_column"] + 1 + j)
            for j in range(a["column_count"])
        ]
        for i in range(a["row_count"])
    ]


def _put(cell: Any, value: Any) -> None:
    if value == "" or value is None:
        cell.value = None
    elif isinstance(value, str) and value.startswith("'"):
        cell.value = value[1:]
        cell.data_type = "s"  # Excel: an apostrophe makes the rest text
    else:
        cell.value = value  # "=…" becomes a formula, as in Excel


def replay(wb: Workbook, actions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Apply recorded actions to ``wb``; return the alerts (prompt, title, mode). Unknown → fail."""
    alerts: list[tuple[str, str, str]] = []
    for a in actions:
        func = a["func"]
        ws = wb.worksheets[a["sheet_position"]] if a.get("sheet_position") is not None else None
        args = a["args"]
        if func == "addSheet":
            wb.create_sheet(args[1], args[0])
        elif func == "sheetClear":
            assert ws is not None
            ws._cells.clear()
        elif func == "activateSheet":
            wb.active = args[0]
        elif func == "alert":
            alerts.append((args[0], args[1], args[3]))
        elif func == "setValues":
            assert ws is not None
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    _put(ws.cell(row=a["start_row"] + 1 + i, column=a["start_column"] + 1 + j), v)
        elif func == "setRangeColors":
            assert ws is not None
            for i, row in enumerate(args[0]):
                for j, color in enumerate(row):
                    if color == "keep":
                        continue
                    cell = ws.cell(row=a["start_row"] + 1 + i, column=a["start_column"] + 1 + j)
                    cell.fill = (
                        PatternFill() if color is None else PatternFill("solid", fgColor=color[1:].upper())
                    )
        elif func == "setRangeColor":
            assert ws is not None
            for row in _range(ws, a):
                for cell in row:
                    cell.fill = PatternFill("solid", fgColor=args[0][1:].upper())
        elif func == "setFontProperty":
            assert ws is not None
            prop, value = args
            for row in _range(ws, a):
                for cell in row:
                    f = cell.font
                    kw = {"name": f.name, "size": f.size, "bold": f.bold, "color": f.color}
                    kw[prop] = value[1:].upper() if prop == "color" else value
                    cell.font = Font(**kw)
        elif func == "setNumberFormat":
            assert ws is not None
            for row in _range(ws, a):
                for cell in row:
                    cell.number_format = args[0]
        elif func == "setWrapText":
            assert ws is not None
            for row in _range(ws, a):
                for cell in row:
                    cell.alignment = Alignment(wrap_text=args[0])
        elif func == "setColumnWidth":
            assert ws is not None
            ws.column_dimensions[get_column_letter(a["start_column"] + 1)].width = args[0]
        else:
            raise AssertionError(f"replayer does not know action {func!r}: {a}")
    return alerts


def run_button(
    path: Path, button_id: str
) -> tuple[Workbook, list[dict[str, Any]], list[tuple[str, str, str]]]:
    """Run a ribbon button on the remote book of ``path``; return the replayed copy, actions, alerts."""
    book = remote_book(path)
    on_ribbon(button_id, book)
    actions = book.json()["actions"]
    wb = load_workbook(path)
    alerts = replay(wb, actions)
    return wb, actions, alerts


def headless(path: Path, out: Path) -> Workbook:
    """What ``xlperf run`` writes for the same file."""
    loaded = load_input(path)
    write_scored(loaded, assess(loaded), out)
    return load_workbook(out)


_LINK = re.compile(r'^=HYPERLINK\("#\'(?:[^\']|\'\')+\'!([A-Z]+\d+)","([^"]*)"\)$')


def sheet_values(ws: Any) -> list[list[Any]]:
    """All values of a sheet, trailing blanks dropped, HYPERLINK formulas read as their text,
    numbers as floats and the provenance cells that differ per run blanked."""
    rows: list[list[Any]] = []
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        values = []
        for c in row:
            v = c.value
            if isinstance(v, str) and _LINK.match(v):
                v = _LINK.match(v).group(2)  # type: ignore[union-attr]
            if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
                v = float(v)
            values.append(v)
        if values and values[0] in PROVENANCE_LABELS:
            values = values[:2]
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _fill(cell: Any) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    return str(fill.fgColor.rgb)[-6:].upper()


# ------------------------------------------------------------------------------ tests


def test_score_matches_xlperf_run(example: Path, tmp_path: Path) -> None:
    wb, actions, alerts = run_button(example, "xlperf_score")
    expected = headless(example, tmp_path / "run.xlsx")
    for title in (L.SCORES, L.FINDINGS):
        assert title in wb.sheetnames
        assert sheet_values(wb[title]) == sheet_values(expected[title]), title
    assert wb.active.title == L.SCORES
    assert len(alerts) == 1 and "98.57" in alerts[0][0] and "优" in alerts[0][0]
    # the same input cells are marked, with the same colours, as in the scored file
    for title in L.INPUT_SHEETS:
        if title not in wb.sheetnames:
            continue
        for row in expected[title].iter_rows():
            for cell in row:
                if _fill(cell) in (L.ERROR_FILL, L.WARNING_FILL):
                    assert _fill(wb[title][cell.coordinate]) == _fill(cell), f"{title}!{cell.coordinate}"
    # percent formats where the openpyxl writer puts them
    summary = wb[L.SCORES]
    total_row = next(r for r in summary.iter_rows() if r[0].value == "合计")
    assert total_row[5].number_format == "0.00%"
    assert any(a["func"] == "setNumberFormat" for a in actions)


def test_validate_writes_findings_and_links(example: Path, tmp_path: Path) -> None:
    wb, actions, alerts = run_button(example, "xlperf_validate")
    expected = headless(example, tmp_path / "run.xlsx")
    assert sheet_values(wb[L.FINDINGS]) == sheet_values(expected[L.FINDINGS])
    assert L.SCORES not in wb.sheetnames  # 校验 does not score
    assert wb.active.title == L.FINDINGS
    links = [c.value for c in wb[L.FINDINGS]["E"] if isinstance(c.value, str) and c.value.startswith("=")]
    assert links and all(_LINK.match(v) for v in links)
    assert "错误" in alerts[0][0] and alerts[0][2] in ("info", "critical")
    fills = [a for a in actions if a["func"] in ("setRangeColors", "setRangeColor")]
    assert fills, "flagged cells are coloured"


def test_report_sheet_matches_and_docx_skipped_on_remote(example: Path, tmp_path: Path) -> None:
    wb, _, alerts = run_button(example, "xlperf_report")
    expected = headless(example, tmp_path / "run.xlsx")
    assert sheet_values(wb[L.REPORT]) == sheet_values(expected[L.REPORT])
    assert "没有生成 Word 报告" in alerts[0][0]
    assert not list(tmp_path.glob("*.docx"))


def test_rerun_clears_and_rewrites(example: Path) -> None:
    """Run 计算得分 on a book that already has the output sheets: cleared, not added twice."""
    first, _, _ = run_button(example, "xlperf_score")
    again_path = example.with_name("again.xlsx")
    first.save(again_path)
    wb, actions, _ = run_button(again_path, "xlperf_score")
    funcs = [a["func"] for a in actions]
    assert "addSheet" not in funcs and funcs.count("sheetClear") == 2
    assert wb.sheetnames.count(L.SCORES) == 1


def _tripled(ev: Evaluation) -> Evaluation:
    """3× as many 产出 rows: the extra ones copies of a complete, finding-free row."""
    from xlperf.core import evaluate

    result = evaluate(ev, get_framework())
    flagged = {f.path.split(".")[0] for f in result.findings if f.path.startswith("outputs[")}
    complete = next(
        i
        for i, row in enumerate(ev.outputs)
        if f"outputs[{i}]" not in flagged
        and row.actual_value is not None
        and row.target_value is not None
        and row.actual_value == row.target_value
    )
    extra = [
        ev.outputs[complete].model_copy(update={"seq": len(ev.outputs) + k + 1, "name": f"补充指标{k + 1}"})
        for k in range(2 * len(ev.outputs))
    ]
    # the claimed total (V40) would no longer match: the variant claims nothing
    return ev.model_copy(update={"outputs": [*ev.outputs, *extra], "claims": type(ev.claims)()})


@pytest.mark.parametrize("button", ["xlperf_validate", "xlperf_score", "xlperf_report"])
def test_action_count_does_not_grow_with_rows(button: str, tmp_path: Path) -> None:
    ev = example_evaluation()
    big = _tripled(ev)
    assert len(big.outputs) == 3 * len(ev.outputs)
    small_path = save_example(tmp_path / "small.xlsx", ev)
    big_path = save_example(tmp_path / "big.xlsx", big)
    small_findings = assess(load_input(small_path)).findings
    big_findings = assess(load_input(big_path)).findings
    assert [f.code for f in small_findings] == [f.code for f in big_findings]
    _, small_actions, _ = run_button(small_path, button)
    _, big_actions, _ = run_button(big_path, button)
    assert [a["func"] for a in small_actions] == [a["func"] for a in big_actions]
    assert len(small_actions) < 70


def test_typed_exec_rate_fires_v04_like_the_file(tmp_path: Path) -> None:
    """A typed 预算执行率 is kept (V04); the template's formula value is not (no V04)."""
    ev = example_evaluation()
    path = tmp_path / "typed.xlsx"
    wb = build_workbook(get_framework(), ev)
    sheet, coord = next(iter(wb.defined_names["xp_exec_rate"].destinations))
    wb[sheet][coord.replace("$", "")].value = 0.95
    save_workbook(wb, path)
    replayed, _, _ = run_button(path, "xlperf_validate")
    codes = [row[2] for row in sheet_values(replayed[L.FINDINGS])[3:] if len(row) > 2]
    assert "V04" in codes
    expected = headless(path, tmp_path / "run.xlsx")
    assert sheet_values(replayed[L.FINDINGS]) == sheet_values(expected[L.FINDINGS])
    plain, _, _ = run_button(save_example(tmp_path / "plain.xlsx"), "xlperf_validate")
    assert "V04" not in [row[2] for row in sheet_values(plain[L.FINDINGS])[3:] if len(row) > 2]


def test_snapshot_restores_percent_and_formula(example: Path) -> None:
    snap = snapshot(remote_book(example))
    sheet, coord = snap.names["xp_exec_rate"]
    assert snap.workbook[sheet][coord].value == EXEC_RATE_FORMULA
    months = snap.tables["tbl_months"]
    ws = snap.workbook[months[0]]
    assert ws["B5"].number_format == "0.00%" and ws["B5"].value == 1
    assert snap.path is None and snap.remote


def test_unknown_button_alerts_without_raising(example: Path) -> None:
    book = remote_book(example)
    on_ribbon("xlperf_nope", book)
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "未知的按钮" in actions[0]["args"][0] and actions[0]["args"][3] == "critical"


def test_handler_error_becomes_chinese_alert(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(book: Any) -> handlers.Outcome:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(handlers.HANDLERS, "score", boom)
    book = remote_book(example)
    on_ribbon("xlperf_score", book)  # must not raise
    (alert,) = book.json()["actions"]
    assert (
        alert["func"] == "alert" and "程序内部错误" in alert["args"][0] and "disk on fire" in alert["args"][0]
    )
    assert alert["args"][1] == "xlperf · 计算得分"


def test_domain_error_message_is_shown_as_is(example: Path) -> None:
    book = remote_book(example)
    on_ribbon("xlperf_package", book)
    (alert,) = book.json()["actions"]
    assert "在线 Excel 中无法导出报送包" in alert["args"][0] and "Traceback" not in alert["args"][0]


def test_help_and_new_on_remote(example: Path) -> None:
    book = remote_book(example)
    on_ribbon("xlperf_help", book)
    on_ribbon("xlperf_new", book)
    help_alert, new_alert = book.json()["actions"]
    for b in BUTTONS:
        assert b.label in help_alert["args"][0]
    assert "XLPERF_COMPLETION" in help_alert["args"][0]
    assert "xlperf new" in new_alert["args"][0]


def test_every_button_has_a_handler() -> None:
    assert {b.action for b in BUTTONS} == set(handlers.HANDLERS)


# ------------------------------------------------------------------------------ pure helpers


def test_cell_text_protects_text_from_excel_parsing() -> None:
    assert handlers.cell_text("=SUM(A1)") == "'=SUM(A1)"
    assert handlers.cell_text("180") == "'180"
    assert handlers.cell_text("2023-01-01") == "'2023-01-01"
    assert handlers.cell_text("TRUE") == "'TRUE"
    assert handlers.cell_text("不少于180家") == "不少于180家"
    assert handlers.cell_text("a\x00b") == "ab"


def test_areas_cover_cells_exactly() -> None:
    cells = {(r, c) for r in range(5, 40) for c in (2, 3, 4)} | {(7, 11), (9, 11), (10, 11)}
    found = handlers.areas(cells)
    covered = {(r, c) for r1, c1, r2, c2 in found for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    assert covered == cells
    assert (5, 2, 39, 4) in found and len(found) == 3


def test_address_chunks_respect_excel_limit() -> None:
    addresses = [f"K{r}" for r in range(5, 400, 2)]
    chunks = handlers.address_chunks(addresses)
    assert all(len(c) <= handlers.MAX_ADDRESS for c in chunks)
    assert ",".join(chunks).split(",") == addresses
    assert len(chunks) <= len(",".join(addresses)) // (handlers.MAX_ADDRESS - 5) + 1


class _FakeRange:
    def __init__(self, calls: list[tuple[str, str]], address: str) -> None:
        self.calls, self.address = calls, address

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("calls", "address"):
            object.__setattr__(self, name, value)
        else:
            self.calls.append((self.address, value))


class _FakeSheet:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def range(self, address: str) -> _FakeRange:
        return _FakeRange(self.calls, address)


def test_desktop_paint_uses_chunked_multi_area_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "is_remote", lambda book: False)
    sheet = _FakeSheet()
    colors = {(r, 11): handlers.ERROR_COLOR for r in range(5, 300, 2)}
    colors.update({(r, c): handlers.INPUT_COLOR for r in range(5, 300) for c in (2, 3)})
    handlers.SheetWriter(object(), sheet).paint(colors, [handlers.INPUT_COLOR, handlers.ERROR_COLOR])
    assert sheet.calls[0] == ("B5:C299", handlers.INPUT_COLOR)
    red = [addr for addr, color in sheet.calls if color == handlers.ERROR_COLOR]
    assert all(len(a) <= handlers.MAX_ADDRESS for a in red)
    assert sorted(",".join(red).split(",")) == sorted(f"K{r}" for r in range(5, 300, 2))
    assert len(red) < 10


def test_parse_reference() -> None:
    assert parse_reference("=基本信息!$B$5") == ("基本信息", "B5")
    assert parse_reference("='a b'!$A$1:$C$3") == ("a b", "A1:C3")
    assert parse_reference("=#REF!") is None


# ------------------------------------------------------------------------------ 导出报送包 / 发送财政局


class _FakeApp:
    """A desktop-like app: alert() answers from a script; no engine name (so: not remote)."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.alerts: list[tuple[str, str, str]] = []
        self.answers = answers or []

    def alert(self, prompt: str, title: str = "", buttons: str = "ok", mode: str = "info") -> str:
        self.alerts.append((prompt, title, mode))
        return self.answers.pop(0) if buttons != "ok" and self.answers else "ok"


class _FakeApi:
    def __init__(self, saved: bool) -> None:
        self.Saved = saved


class _FakeBook:
    def __init__(self, fullname: str, saved: bool = True, answers: list[str] | None = None) -> None:
        self.fullname = fullname
        self.name = Path(fullname).name
        self.app = _FakeApp(answers)
        self.api = _FakeApi(saved)
        self.closed = False

    def close(self) -> None:
        self.closed = True


# ------------------------------------------------------------------------------ no workbook open
# The VBA OnRibbon adds a blank workbook and passes blank=True when ActiveWorkbook Is Nothing
# (tests/test_addin_vba.py checks that side). _FakeBook stands in for that desktop workbook.


def test_help_with_no_workbook_open_closes_the_blank_book() -> None:
    blank = _FakeBook("工作簿1")
    on_ribbon("xlperf_help", blank, blank=True)
    ((prompt, title, _),) = blank.app.alerts
    assert title == "xlperf · 帮助" and "XLPERF_COMPLETION" in prompt
    assert blank.closed


def test_new_with_no_workbook_open_writes_into_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(handlers, "_documents", lambda: tmp_path)
    monkeypatch.setattr(xw, "Book", lambda path: opened.append(path))  # no Excel here: record the open
    seen: list[Any] = []
    real_new = handlers.HANDLERS["new"]
    monkeypatch.setitem(handlers.HANDLERS, "new", lambda book: seen.append(book) or real_new(book))
    blank = _FakeBook("工作簿1")
    on_ribbon("xlperf_new", blank, blank=True)
    assert seen == [None]  # the handler runs as with no workbook, not on the blank one
    (created,) = tmp_path.glob("*.xlsx")
    assert opened == [str(created)]
    assert "已新建空白自评表" in blank.app.alerts[-1][0] and blank.closed
    assert load_workbook(created).sheetnames[0] == "填表说明"


@pytest.mark.parametrize("button_id", [b.id for b in BUTTONS if b.needs_workbook])
def test_workbook_buttons_with_no_workbook_say_open_one_first(
    button_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlperf.excel import NO_WORKBOOK_MESSAGE

    action = next(b.action for b in BUTTONS if b.id == button_id)
    monkeypatch.setitem(handlers.HANDLERS, action, lambda book: pytest.fail("handler must not run"))
    blank = _FakeBook("工作簿1")
    on_ribbon(button_id, blank, blank=True)
    assert [a[0] for a in blank.app.alerts] == [NO_WORKBOOK_MESSAGE] and blank.closed


def test_package_asks_to_save_first(example: Path) -> None:
    book = _FakeBook("工作簿1")
    on_ribbon("xlperf_package", book)
    assert "请先保存" in book.app.alerts[-1][0]
    book = _FakeBook(str(example), saved=False)
    on_ribbon("xlperf_send", book)
    assert "未保存的修改" in book.app.alerts[-1][0]


def test_package_refuses_a_workbook_with_errors(example: Path) -> None:
    """The real submission module: the example still has error findings, so nothing is exported."""
    book = _FakeBook(str(example))
    on_ribbon("xlperf_package", book)
    prompt, title, mode = book.app.alerts[-1]
    assert "不能报送" in prompt and title == "xlperf · 导出报送包" and mode == "critical"
    assert not [p for p in example.parent.iterdir() if p.is_dir()]


def _clean_example(folder: Path) -> Path:
    """The example with the reasons the published report left out, so it has no error findings."""
    folder.mkdir(parents=True, exist_ok=True)
    ev = example_evaluation()
    ev.outputs[21].shortfall_reason = "涉及多个部门，协调周期较长"
    for i in (7, 16, 20):
        ev.outputs[i].excess_reason = "年初目标设置偏保守"
    return save_workbook(build_workbook(get_framework(), ev), folder / "clean.xlsx")


@pytest.mark.parametrize(("answer", "replaced"), [("yes", True), ("no", False)])
def test_package_replaces_an_existing_folder_only_when_asked(
    tmp_path: Path, answer: str, replaced: bool
) -> None:
    src = _clean_example(tmp_path / "wb")
    on_ribbon("xlperf_package", _FakeBook(str(src)))
    folders = [p for p in src.parent.iterdir() if p.is_dir()]
    assert len(folders) == 1
    manifest = next(folders[0].glob("*manifest.json"))
    before = manifest.stat().st_ino
    book = _FakeBook(str(src), answers=[answer])
    on_ribbon("xlperf_package", book)
    assert "是否用新的报送包替换" in book.app.alerts[0][0]
    manifest = next(folders[0].glob("*manifest.json"))
    assert (manifest.stat().st_ino != before) is replaced
    assert ("报送包已导出" in book.app.alerts[-1][0]) is replaced


@pytest.fixture
def mail_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "XLPERF_SMTP_SECURITY": "none",
        "XLPERF_SMTP_FROM": "bgs@example.cn",
        "XLPERF_SUBMIT_TO": "czj@example.cn",
        "XLPERF_HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_send_exports_afresh_and_sends_through_a_real_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail_env: dict[str, str], plain_server: Any
) -> None:
    monkeypatch.setenv("XLPERF_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("XLPERF_SMTP_PORT", str(plain_server.port))
    src = _clean_example(tmp_path / "wb")
    book = _FakeBook(str(src))
    on_ribbon("xlperf_send", book)
    assert "已发送到财政局" in book.app.alerts[-1][0] and "czj@example.cn" in book.app.alerts[-1][0]
    [msg] = plain_server.recorder.parsed()
    names = sorted(str(part.get_filename()) for part in msg.iter_attachments())
    assert any(n.endswith("_部门整体支出绩效自评.xlsx") for n in names) and len(names) == 3


def test_send_via_outlook_opens_a_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail_env: dict[str, str]
) -> None:
    """Outlook cannot run here: a stand-in for its COM object records what xlperf asks of it."""
    import xlperf.submission.outlook as outlook

    monkeypatch.setenv("XLPERF_SEND_VIA", "outlook")
    made: dict[str, Any] = {}

    class Attachments:
        def __init__(self) -> None:
            self.paths: list[str] = []

        def Add(self, path: str) -> None:
            self.paths.append(path)

    class Mail:
        def __init__(self) -> None:
            self.Attachments = Attachments()
            self.To = self.Subject = self.Body = ""
            self.shown: bool | None = None

        def Display(self, modal: bool) -> None:
            self.shown = modal

    class Outlook:
        def CreateItem(self, kind: int) -> Mail:
            made["kind"] = kind
            made["mail"] = Mail()
            return made["mail"]

    real = outlook.open_outlook_draft
    monkeypatch.setattr(
        outlook,
        "open_outlook_draft",
        lambda package, to, dispatch=None: real(package, to, dispatch=lambda name: Outlook()),
    )
    src = _clean_example(tmp_path / "wb")
    book = _FakeBook(str(src))
    on_ribbon("xlperf_send", book)
    mail = made["mail"]
    assert made["kind"] == 0 and mail.shown is False
    assert mail.To == "czj@example.cn" and "部门整体支出绩效自评" in mail.Subject and "98.57" in mail.Body
    assert len(mail.Attachments.paths) == 3 and all(Path(p).is_file() for p in mail.Attachments.paths)
    assert "Outlook" in book.app.alerts[-1][0]


def test_outlook_without_windows_says_what_to_do(
    tmp_path: Path, mail_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLPERF_SEND_VIA", "outlook")
    book = _FakeBook(str(_clean_example(tmp_path / "wb")))
    on_ribbon("xlperf_send", book)
    assert "只适用于 Windows" in book.app.alerts[-1][0]


def test_report_writes_docx_beside_a_saved_book(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Desktop case: the .docx goes beside the workbook (the folder is faked on the remote engine)."""
    out = example.with_name("example_自评报告.docx")
    monkeypatch.setattr(handlers, "_docx_path", lambda snap: out)
    _, _, alerts = run_button(example, "xlperf_report")
    assert out.is_file() and out.stat().st_size > 0
    assert str(out) in alerts[0][0]


def test_upgrade_saves_the_current_template_beside_the_old_one_and_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """升级模板 on a workbook filled in the first template this repository shipped (issue 25)."""
    from clerk import fill_like_a_clerk
    from conftest import ROOT

    first = sorted((ROOT / "tests" / "shipped_templates").glob("v01_*.xlsx"))[0]
    old = fill_like_a_clerk(first, example_evaluation(), tmp_path / "白云区_2023.xlsx")
    (tmp_path / "白云区_2023_新模板.xlsx").write_bytes(b"the clerk's earlier upgrade, kept")
    opened: list[str] = []
    monkeypatch.setattr(xw, "Book", lambda path: opened.append(path))  # no Excel here: record the open
    book = _FakeBook(str(old))
    on_ribbon("xlperf_upgrade", book)
    prompt, title, mode = book.app.alerts[-1]
    target = tmp_path / "白云区_2023_新模板（2）.xlsx"  # an existing file is never replaced
    assert opened == [str(target)] and title == "xlperf · 升级模板" and mode == "info"
    assert "原表为模板版本 1" in prompt and "填报人" in prompt and "已全部迁移" in prompt
    assert load_input(target).evaluation == load_input(old).evaluation
    unsaved = _FakeBook(str(old), saved=False)
    on_ribbon("xlperf_upgrade", unsaved)
    assert "未保存的修改" in unsaved.app.alerts[-1][0]


def test_the_ribbon_writes_the_look_of_the_scored_copy(example: Path, tmp_path: Path) -> None:
    """One look (issue 26): the ribbon's output sheets have the column widths, body font and title
    font of the command line's scored copy (自评报告 was 110 wide on the ribbon, 88 in the file)."""
    expected = headless(example, tmp_path / "run.xlsx")
    for button, title in (
        ("xlperf_score", L.SCORES),
        ("xlperf_validate", L.FINDINGS),
        ("xlperf_report", L.REPORT),
    ):
        wb, _, _ = run_button(example, button)
        got, want = wb[title], expected[title]
        widths = [want.column_dimensions[get_column_letter(i)].width for i in range(1, want.max_column + 1)]
        assert [
            got.column_dimensions[get_column_letter(i)].width for i in range(1, len(widths) + 1)
        ] == widths
        assert (
            (got["A1"].font.name, got["A1"].font.sz)
            == (want["A1"].font.name, want["A1"].font.sz)
            == ("黑体", 14)
        )
        body = [c for c in want["A"] if c.value][-1]  # the last line: 计分依据, a finding, a paragraph
        mine = got[body.coordinate].font
        assert (mine.name, mine.sz) == (body.font.name, body.font.sz) == ("宋体", 10), body.coordinate


def test_score_shows_xlperfs_completion_where_the_formula_cannot(tmp_path: Path) -> None:
    """Targets typed with their units (“8个”): the ribbon's 计算得分 puts xlperf's completion into the
    产出指标 cells the formula leaves blank, as the scored file does, and keeps the other formulas."""
    from clerk import fill_like_a_clerk

    blank = save_workbook(build_workbook(get_framework()), tmp_path / "blank.xlsx")
    src = fill_like_a_clerk(blank, example_evaluation(), tmp_path / "units.xlsx")
    wb = load_workbook(src)
    wb[L.OUTPUTS]["E6"], wb[L.OUTPUTS]["K6"] = 4, 5  # 序号2 typed as bare numbers
    wb.save(src)
    replayed, actions, _ = run_button(src, "xlperf_score")
    loaded = load_input(src)
    rows = next(i for i in assess(loaded).indicator_scores() if i.spec.rows == "outputs").rows
    first = loaded.source.formulas["outputs[0].completion"].cell
    assert replayed[L.OUTPUTS][first].value == pytest.approx(float(rows[0].completion))
    second = loaded.source.formulas["outputs[1].completion"].cell
    assert str(replayed[L.OUTPUTS][second].value).startswith("=IFERROR(")
    assert sum(a["func"] == "setValues" and a.get("sheet_position") == 4 for a in actions) == 1
