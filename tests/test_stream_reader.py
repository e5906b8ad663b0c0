"""Issue 17: the streaming reader (zipfile + lxml) gives read_book exactly what openpyxl gives it.

For every workbook the tests use or generate — the committed template and example, the bad-input
corpus, the clerk-input cases (saved by openpyxl and round-tripped through LibreOffice), workbooks
with formulas and cached values, rich text, dates, hyperlinks, merged cells, escapes, pictures —
``read_book`` over :func:`xlperf.ooxml.stream.read_package` and over openpyxl (``open_workbook``,
today's path and the second reader here) give the same Evaluation, findings and SourceMap. A file
that cannot be read gives a Chinese :class:`WorkbookReadError` naming the part, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.styles.numbers import is_date_format as openpyxl_is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.utils.datetime import from_excel as openpyxl_from_excel
from openpyxl.workbook.workbook import Workbook

from tests.bad_inputs.make_corpus import (
    SST_REL,
    SST_TYPE,
    Case,
    example_book,
    example_bytes,
    make_corpus,
    sheet_part,
)
from xlperf.cli import main
from xlperf.ooxml import constants, stream
from xlperf.ooxml.errors import WorkbookReadError
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.stream import read_package
from xlperf.pipeline import load_input
from xlperf.workbook import layout as L
from xlperf.workbook.book import open_workbook
from xlperf.workbook.reader import read_book
from xlperf.workbook.template import TEMPLATES_DIR, save_workbook

ROOT = Path(__file__).resolve().parents[1]


def both(path: Path) -> tuple[Any, Any]:
    """read_book over openpyxl (today's path) and over the stream book, as comparable values."""
    wb, values = open_workbook(path, Limits())
    old = read_book(wb, values)
    _, book = read_package(path, Limits())
    new = read_book(book)
    return _comparable(old), _comparable(new)


def _comparable(read: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
    ev, findings, source = read
    return (
        ev.model_dump(),
        [(f.code, f.sheet, f.cell, f.message, f.path) for f in findings],
        dict(source.cells),
    )


def assert_same(path: Path) -> None:
    old, new = both(path)
    assert new[0] == old[0], f"{path.name}: Evaluation differs"
    assert new[1] == old[1], f"{path.name}: findings differ"
    assert new[2] == old[2], f"{path.name}: SourceMap differs"
    assert old[2], "the map is never empty for a workbook read"


# --------------------------------------------------------------------------- the workbooks


def _edit(folder: Path, name: str, edit: Callable[[Workbook], None]) -> Path:
    wb = example_book()
    edit(wb)
    return save_workbook(wb, folder / f"{name}.xlsx")


def _rewrite(src: Path, dest: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info)))
    return dest


def _named(wb: Workbook, name: str) -> Any:
    sheet, coord = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][coord.replace("$", "")]


def _table_cell(wb: Workbook, sheet: str, header: str, index: int) -> Any:
    ws = wb[sheet]
    table = next(iter(ws.tables.values()))
    first = ws[table.ref.split(":")[0]]
    col = next(c.column for c in ws[first.row] if c.value == header)
    return ws.cell(first.row + 1 + index, col)


def _rich(wb: Workbook) -> None:
    _named(wb, "xp_dept_intro").value = CellRichText(
        ["部门", TextBlock(InlineFont(b=True), "主要职责"), "是服务企业"]
    )
    _table_cell(wb, L.OUTPUTS, "年度实际值（文字）", 0).value = CellRichText(
        [TextBlock(InlineFont(i=True), "完成"), "100%"]
    )


def _dates(wb: Workbook) -> None:
    for f in L.all_fields():
        if f.type is L.FieldType.TEXT and "date" in f.name:
            _named(wb, f.name).value = dt.datetime(2024, 3, 15)
    _table_cell(wb, L.OUTPUTS, "年度实际值（文字）", 1).value = dt.date(2023, 12, 31)
    cell = _table_cell(wb, L.OUTPUTS, "实际值", 2)
    cell.value = dt.time(12, 30)
    cell = _table_cell(wb, L.OUTPUTS, "实际值", 3)
    cell.value, cell.number_format = 45000, "yyyy-mm-dd"


def _date1904(wb: Workbook) -> None:
    _dates(wb)
    wb.epoch = CALENDAR_MAC_1904


def _hyperlinks(wb: Workbook) -> None:
    ws = wb[L.OUTPUTS]
    _table_cell(wb, L.OUTPUTS, "实际值", 4).value = None
    _table_cell(wb, L.OUTPUTS, "实际值", 4).hyperlink = "http://example.invalid/evidence"
    cell = _table_cell(wb, L.OUTPUTS, "年度实际值（文字）", 5)
    cell.hyperlink = "http://example.invalid/x"  # a link on a cell with text keeps the text
    _named(wb, "xp_dept_intro").hyperlink = "#'填表说明'!A1"
    del ws


def _merged(wb: Workbook) -> None:
    wb[L.OUTPUTS].merge_cells("K7:L8")
    wb[L.BUDGET].merge_cells("A8:B8")


def _formulas(wb: Workbook) -> None:
    for i in (0, 1):
        cell = _table_cell(wb, L.OUTPUTS, "实际值", i)
        cell.value = f"=A{cell.row}*0+95"
    _named(wb, "xp_dept_name").value = '="ABC"&"DEF"'
    _named(wb, "xp_dept_short").value = "=1/0"


def _array_formula(wb: Workbook) -> None:
    from openpyxl.worksheet.formula import ArrayFormula

    cell = _table_cell(wb, L.OUTPUTS, "实际值", 2)
    cell.value = ArrayFormula(cell.coordinate, "=SUM(1*1)")


def _escapes(wb: Workbook) -> None:
    _named(wb, "xp_dept_intro").value = "PLACE1"
    _table_cell(wb, L.TASKS, "主要内容", 0).value = "PLACE2"


def _number_formats(wb: Workbook) -> None:
    for i, fmt in enumerate(("0.0%", '0.00"%"', "#,##0.00", "[Red]0.00%", "@", "General", "0%;[Red]-0%")):
        cell = _table_cell(wb, L.OUTPUTS, "实际值", i)
        cell.value, cell.number_format = 0.5 + i, fmt


EDITS: dict[str, Callable[[Workbook], None]] = {
    "rich_text": _rich,
    "dates": _dates,
    "date1904": _date1904,
    "hyperlinks": _hyperlinks,
    "merged": _merged,
    "formulas_no_cache": _formulas,
    "array_formula": _array_formula,
    "escapes": _escapes,
    "number_formats": _number_formats,
}


def _with_cached(src: Path, dest: Path) -> Path:
    """The formulas of ``formulas_no_cache`` with the cached values Excel would save: two as a shared
    formula (what Excel writes for a filled-down column), a cached string (t="str"), a cached error."""

    def change(name: str, body: bytes) -> bytes:
        text = body.decode("utf-8")
        master = re.search(r'<c r="([A-Z]+)(\d+)"([^>]*)><f>A\2\*0\+95</f><v></v></c>', text)
        if master:
            col, row = master.group(1), int(master.group(2))
            text = text.replace(
                master.group(0),
                f'<c r="{col}{row}"{master.group(3)}><f t="shared" ref="{col}{row}:{col}{row + 1}" '
                f'si="0">A{row}*0+95</f><v>95</v></c>',
            )
            text = re.sub(
                rf'<c r="{col}{row + 1}"([^>]*)><f>A{row + 1}\*0\+95</f><v></v></c>',
                rf'<c r="{col}{row + 1}"\1><f t="shared" si="0"/><v>95</v></c>',
                text,
            )
        text = re.sub(
            r'<c r="([A-Z]+\d+)"([^>]*)><f>"ABC"&amp;"DEF"</f><v></v></c>',
            r'<c r="\1"\2 t="str"><f>"ABC"&amp;"DEF"</f><v>ABC_x000D_DEF</v></c>',
            text,
        )
        text = re.sub(
            r'<c r="([A-Z]+\d+)"([^>]*)><f>1/0</f><v></v></c>',
            r'<c r="\1"\2 t="e"><f>1/0</f><v>#DIV/0!</v></c>',
            text,
        )
        return text.encode("utf-8") if name.startswith("xl/worksheets/") else body

    return _rewrite(src, dest, change)


def _with_escapes(src: Path, dest: Path) -> Path:
    def change(name: str, body: bytes) -> bytes:
        body = body.replace(b"PLACE1", "企业服务中心_x000D_\n科技馆_x005F_x000D_".encode())
        return body.replace(b"PLACE2", b"_x000D_\n_x4E2D_")

    return _rewrite(src, dest, change)


def _with_shared_strings(src: Path, dest: Path) -> Path:
    """Every inline string (what openpyxl writes) moved into xl/sharedStrings.xml, as Excel and
    LibreOffice store text; rich-text runs kept, and a phonetic run (ignored by readers) added."""
    items: list[bytes] = []

    def share(m: re.Match[bytes]) -> bytes:
        items.append(m.group(2))
        return m.group(1) + b' t="s"><v>' + str(len(items) - 1).encode() + b"</v></c>"

    with zipfile.ZipFile(src) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    for name in list(parts):
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            parts[name] = re.sub(
                rb'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="inlineStr"><is>(.*?)</is></c>',
                share,
                parts[name],
                flags=re.S,
            )
    assert items
    items[0] += b'<rPh sb="0" eb="1"><t>PHONETIC</t></rPh>'
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
        % (len(items), len(items))
        + b"".join(b"<si>" + i + b"</si>" for i in items)
        + b"</sst>"
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + SST_TYPE + b'"/></Types>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Type="' + SST_REL + b'" Target="/xl/sharedStrings.xml" Id="rIdSst"/></Relationships>',
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, body in parts.items():
            zout.writestr(name, body)
    return dest


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return make_corpus(tmp_path_factory.mktemp("corpus"), big=False)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("edited")
    books = {name: _edit(folder, name, edit) for name, edit in EDITS.items()}
    books["formulas_cached"] = _with_cached(books["formulas_no_cache"], folder / "formulas_cached.xlsx")
    books["escapes"] = _with_escapes(books["escapes"], folder / "escapes_x000d.xlsx")
    books["shared_strings"] = _with_shared_strings(books["rich_text"], folder / "shared_strings.xlsx")
    books["shared_escapes"] = _with_shared_strings(books["escapes"], folder / "shared_escapes.xlsx")
    return books


COMMITTED = sorted(TEMPLATES_DIR.rglob("*.xlsx"))


@pytest.fixture(params=["whole", "streamed"])
def part_reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A sheet part is parsed whole up to ``stream.WHOLE_PART`` bytes and streamed beyond: both ways
    must read the same (the tests' sheets are small, so "streamed" lowers the bound to 0)."""
    if request.param == "streamed":
        monkeypatch.setattr(stream, "WHOLE_PART", 0)
    return str(request.param)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_committed_template_and_example(path: Path, part_reading: str) -> None:
    assert_same(path)


def test_the_committed_workbooks_are_there() -> None:
    assert len(COMMITTED) >= 2


CONTENT_CASES = (
    "missing_sheet",
    "renamed_sheet",
    "deleted_name",
    "removed_table",
    "renamed_headers",
    "merged_inputs",
    "typed_forms",
    "formulas_and_errors",
    "formula_texts",
    "long_texts",
    "too_many_rows_option",
)


@pytest.mark.parametrize("name", CONTENT_CASES)
def test_bad_input_corpus_workbooks(corpus: dict[str, Case], name: str, part_reading: str) -> None:
    assert_same(corpus[name].path)


def test_every_readable_corpus_case_is_compared(corpus: dict[str, Case]) -> None:
    readable = {n for n, c in corpus.items() if c.exit_code != 2 and not c.args}
    assert readable <= set(CONTENT_CASES)


@pytest.mark.parametrize("name", [*EDITS, "formulas_cached", "shared_strings", "shared_escapes"])
def test_edited_workbooks(edited: dict[str, Path], name: str, part_reading: str) -> None:
    assert_same(edited[name])


def test_the_edits_reach_the_reader(edited: dict[str, Path]) -> None:
    """The cases test what they say: cached values used (P02), the escape decoded, dates read."""
    _, book = read_package(edited["formulas_cached"], Limits())
    ev, findings, _ = read_book(book)
    p02 = [f.message for f in findings if f.code == "P02" and "公式" in f.message]
    assert len(p02) == 3, [f.message for f in findings]
    assert any(re.search(r"“=A(\d+)\*0\+95”", m) and "=A5" not in m for m in p02), (
        p02
    )  # the dependent, translated
    assert ev.department.name == "ABC\nDEF"
    assert any(f.code == "P03" and "=1/0" in f.message for f in findings)
    _, book = read_package(edited["escapes"], Limits())
    ev, _, _ = read_book(book)
    assert ev.department.intro == "企业服务中心\n科技馆_x000D_"  # _x005F_ escapes the underscore
    _, book = read_package(edited["shared_escapes"], Limits())
    assert (
        book._strings and read_book(book)[0].department.intro == "企业服务中心\n科技馆"
    )  # openpyxl drops x005F_ from shared strings
    _, book = read_package(edited["shared_strings"], Limits())
    assert read_book(book)[0].department.intro == "部门主要职责是服务企业"  # the rich-text runs joined
    assert not any("PHONETIC" in s for s in book._strings)
    _, book = read_package(edited["merged"], Limits())
    assert book[L.OUTPUTS].cell(7, 12).merged and not book[L.OUTPUTS].cell(7, 11).merged
    for name, shown in (
        ("dates", "2023-03-15"),
        ("date1904", "2027-03-16"),
    ):  # serial 45000 on either calendar
        _, book = read_package(edited[name], Limits())
        ev, findings, _ = read_book(book)
        assert book.date1904 == (name == "date1904")
        assert ev.department.fill_date == "2024年3月15日"
        assert any(shown in f.message for f in findings), [f.message for f in findings]
    _, book = read_package(edited["array_formula"], Limits())
    assert any("“=SUM(1*1)”" in f.message for f in read_book(book)[1])  # its text, not an object's repr
    _, book = read_package(edited["hyperlinks"], Limits())
    assert any(
        "http://example.invalid/evidenc" in f.message for f in read_book(book)[1]
    )  # the link text, as openpyxl


def test_benchmark_workbooks(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    for path in generate(3, tmp_path):
        assert_same(path)


@pytest.mark.slow
def test_libreoffice_round_tripped_workbooks(
    corpus: dict[str, Case], edited: dict[str, Path], tmp_path: Path
) -> None:
    """LibreOffice rewrites everything: shared strings, its own styles, cached results for every formula."""
    from test_clerk_input import CASES

    from tests.office import convert_many

    srcs = [_edit(tmp_path / "clerk", name, edit) for name, edit in CASES.items()]
    srcs += [corpus[n].path for n in ("typed_forms", "formulas_and_errors", "merged_inputs", "deleted_name")]
    srcs += [edited[n] for n in ("rich_text", "dates", "hyperlinks", "formulas_no_cache", "number_formats")]
    srcs += [p for p in COMMITTED]
    converted = convert_many(srcs, "xlsx", tmp_path / "lo", tmp_path / "profile")
    for src in srcs:
        assert_same(src)
        assert_same(converted[src])


def test_clerk_input_cases_saved_by_openpyxl(tmp_path: Path) -> None:
    from test_clerk_input import CASES

    for name, edit in CASES.items():
        assert_same(_edit(tmp_path, name, edit))


# --------------------------------------------------------------------------- the pieces


@pytest.mark.parametrize(
    "fmt",
    [
        *BUILTIN_FORMATS.values(),
        "yyyy年m月d日",
        "[$-804]aaaa",
        '"d"0.00',
        "0.00_d",
        "[Red]0.00",
        "[h]:mm",
        "[DBNum1]General",
        r"\d0",
        "0;[Red]yyyy",
        "[mm]:ss",
        None,
    ],
)
def test_date_formats_as_openpyxl(fmt: str | None) -> None:
    assert stream.is_date_format(fmt) == openpyxl_is_date_format(fmt)


def test_builtin_formats_as_openpyxl() -> None:
    assert constants.BUILTIN_FORMATS == BUILTIN_FORMATS


@pytest.mark.parametrize("serial", [0, 0.5, 0.999999, 1, 59, 60, 61, 45000, 45000.25, 2958465.9999])
@pytest.mark.parametrize("epoch", [stream.WINDOWS_EPOCH, stream.MAC_EPOCH])
def test_serials_as_openpyxl(serial: float, epoch: dt.datetime) -> None:
    def outcome(f: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return f(*args, **kw)
        except OverflowError:  # past 9999-12-31: both refuse (the cell becomes #VALUE!, as in openpyxl)
            return OverflowError

    for timedelta in (False, True):
        assert outcome(stream.from_excel, serial, epoch, timedelta=timedelta) == outcome(
            openpyxl_from_excel, serial, epoch, timedelta=timedelta
        )


def test_one_load_and_the_bytes_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_input reads the file once and never builds an openpyxl workbook unless asked."""
    import hashlib

    import openpyxl

    path = save_workbook(example_book(), tmp_path / "wb.xlsx")
    opened: list[Any] = []
    real = Path.open

    def counting(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            opened.append(args)
        return real(self, *args, **kwargs)

    def no_openpyxl(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("openpyxl must not load the input")

    monkeypatch.setattr(Path, "open", counting)
    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    loaded = load_input(path)
    assert len(opened) == 1
    assert loaded.data == path.read_bytes()
    assert loaded.sha256 == hashlib.sha256(loaded.data).hexdigest()
    assert loaded.book.sheetnames == list(openpyxl.reader.excel.load_workbook(path).sheetnames)
    monkeypatch.undo()
    assert not hasattr(loaded, "workbook")  # one workbook model: no openpyxl copy to load later


def test_only_the_sheets_read_keep_their_cells(tmp_path: Path) -> None:
    path = save_workbook(example_book(), tmp_path / "wb.xlsx")
    _, book = read_package(path, Limits())
    assert not book[L.README].loaded  # 填表说明: parsed to check it, its cells not kept
    assert book[L.BASIC].loaded


# --------------------------------------------------------------------------- unreadable files


@pytest.mark.parametrize(
    "name",
    [
        "random_bytes",
        "text_file",
        "empty",
        "truncated",
        "zip_not_workbook",
        "legacy_xls",
        "wps_et",
        "encrypted",
        "zip_entry_password",
        "billion_laughs",
        "doctype_in_sheet",
        "huge_table_ref",
    ],
)
def test_unreadable_corpus_same_message(corpus: dict[str, Case], name: str) -> None:
    path = corpus[name].path
    with pytest.raises(WorkbookReadError) as old:
        open_workbook(path, Limits())
    with pytest.raises(WorkbookReadError) as new:
        read_package(path, Limits())
    assert str(new.value) == str(old.value)


def _broken(src: Path, dest: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    return _rewrite(src, dest, lambda n, b: change(b) if n == part else b)


BREAKS: dict[str, tuple[Callable[[bytes], str], Callable[[bytes], bytes]]] = {
    "sheet_not_xml": (lambda d: sheet_part(d, L.OUTPUTS), lambda b: b[: len(b) // 2]),
    "sheet_bad_number": (
        lambda d: sheet_part(d, L.OUTPUTS),
        lambda b: re.sub(rb"<v>(\d+(\.\d+)?)</v>", b"<v>1,5</v>", b, count=1),
    ),
    "shared_strings_not_xml": (lambda d: "xl/sharedStrings.xml", lambda b: b.replace(b"</sst>", b"")),
    "workbook_not_xml": (lambda d: "xl/workbook.xml", lambda b: b.replace(b"</workbook>", b"</workbok>")),
    "styles_not_xml": (lambda d: "xl/styles.xml", lambda b: b[:100]),
    "shared_string_index": (
        lambda d: sheet_part(d, L.BASIC),
        lambda b: re.sub(rb't="s"><v>\d+</v>', b't="s"><v>99999</v>', b, count=1),
    ),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_bad_xml_is_a_chinese_message_naming_the_part(tmp_path: Path, name: str) -> None:
    src = _with_shared_strings(
        save_workbook(example_book(), tmp_path / "src" / "wb.xlsx"), tmp_path / "sst" / "wb.xlsx"
    )
    data = src.read_bytes()
    which, change = BREAKS[name]
    part = which(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert part in zf.namelist()
    bad = _broken(src, tmp_path / f"{name}.xlsx", part, change)
    with pytest.raises(WorkbookReadError) as new:
        read_package(bad, Limits())
    message = str(new.value)
    assert bad.name in message and "另存为" in message
    assert part in message or any(t in message for t in L.INPUT_SHEETS), message
    with pytest.raises(WorkbookReadError):  # openpyxl refused it too: same kind of answer, exit 2
        open_workbook(bad, Limits())
    result: Any = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "内部错误" not in result.output


@pytest.mark.parametrize(
    ("name", "part"), [("billion_laughs", "xl/sharedStrings.xml"), ("doctype_in_sheet", "xl/worksheets/")]
)
def test_the_stream_reader_refuses_a_dtd_by_itself(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch, name: str, part: str
) -> None:
    """Even without the pre-open checks, no part with a DTD reaches the parser (and libxml2
    expands nothing)."""
    monkeypatch.setattr(stream, "vet_package", lambda data, path, limits: stream.Parts(data, path.name))
    with pytest.raises(WorkbookReadError, match="DTD") as info:
        read_package(corpus[name].path, Limits())
    assert part in str(info.value)


def test_a_read_book_is_freed_without_the_garbage_collector(tmp_path: Path) -> None:
    """No reference cycle between the book and its sheets: a batch frees each workbook's cells as it
    moves on (with cycles they waited for the collector's passes, which cost time and memory)."""
    import gc
    import weakref

    path = tmp_path / "example.xlsx"
    path.write_bytes(example_bytes())
    gc.collect()
    gc.disable()
    try:
        loaded = load_input(path)
        book = weakref.ref(loaded.book)
        sheet = weakref.ref(loaded.book.worksheets[1])
        assert loaded.book.worksheets[1].max_row > 1
        del loaded
        assert book() is None and sheet() is None
    finally:
        gc.enable()
