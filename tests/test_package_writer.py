"""The scored workbook is the clerk's own package plus three sheets (issue 17).

What openpyxl does not model must survive: a picture, a data validation kept in the sheet's extLst
(Excel writes lists from other sheets there) and cached formula results, checked byte for byte in
the zip. Re-scoring replaces the old output sheets with their parts and names and never grows the
styles. Every output opens in openpyxl, python-calamine and LibreOffice, and the new writer gives the
same output sheets and marks as the openpyxl model (``write_results``) on every corpus workbook.
"""

from __future__ import annotations

import io
import posixpath
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from bad_inputs.make_corpus import example_bytes, make_corpus, sheet_part
from lxml import etree
from office import calamine_sheets, convert_many
from openpyxl.drawing.image import Image
from openpyxl_oracle import write_results
from PIL import Image as PillowImage

from xlperf.ooxml.package import Package
from xlperf.ooxml.spreadsheet import WorkbookXml
from xlperf.pipeline import assess, load_input, write_scored
from xlperf.workbook import layout as L
from xlperf.workbook.writer import CHECK_AUTHOR, Provenance

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
EXT_DV = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="' + X14 + '">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>'_xlperf'!$A$3:$A$4</xm:f></x14:formula1><xm:sqref>D40</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext></extLst>"
)
FORMULA = b'<c r="F40"><f>1+1</f><v>2</v></c>'


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))


def _with_extras(tmp_path: Path) -> Path:
    """The example workbook with a seal picture on 基本信息, an extLst validation and a cached formula."""
    wb = openpyxl.load_workbook(io.BytesIO(example_bytes()))
    picture = io.BytesIO()
    PillowImage.new("RGB", (40, 40), (180, 20, 30)).save(picture, "PNG")
    wb[L.BASIC].add_image(Image(picture), "E2")
    plain = io.BytesIO()
    wb.save(plain)
    src = plain.getvalue()
    part = sheet_part(src, L.BASIC)
    out = tmp_path / "extras.xlsx"
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data = data.replace(b"</sheetData>", b'<row r="40">' + FORMULA + b"</row></sheetData>")
                data = data.replace(b"</worksheet>", EXT_DV.encode() + b"</worksheet>")
            zout.writestr(info, data)
    return out


def _score(src: Path, out: Path) -> Path:
    loaded = load_input(src)
    return write_scored(loaded, assess(loaded), out)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _sheet_root(path: Path, title: str) -> Any:
    data = path.read_bytes()
    return etree.fromstring(_parts(path)[sheet_part(data, title)])


def test_picture_extension_and_cached_formula_are_kept_byte_for_byte(tmp_path: Path) -> None:
    src = _with_extras(tmp_path)
    out = _score(src, tmp_path / "scored.xlsx")
    before, after = _parts(src), _parts(out)
    media = [n for n in before if n.startswith("xl/media/")]
    assert media and all(after[n] == before[n] for n in media)  # the seal, byte for byte
    drawings = [n for n in before if n.startswith("xl/drawings/drawing")]
    assert drawings and all(after[n] == before[n] for n in drawings)
    ext_before = _sheet_root(src, L.BASIC).find(f"{{{L_MAIN}}}extLst")
    ext_after = _sheet_root(out, L.BASIC).find(f"{{{L_MAIN}}}extLst")
    assert ext_after is not None and etree.tostring(ext_after) == etree.tostring(ext_before)
    assert FORMULA in after[sheet_part(out.read_bytes(), L.BASIC)]
    # the formula still reads as its cached result (P02), not as a formula without one (P03)
    codes = {(f.code, f.cell) for f in assess(load_input(out)).findings if f.sheet == L.BASIC}
    assert ("P03", "F40") not in codes
    # every part the input had that xlperf does not edit is identical
    untouched = [
        n
        for n in before
        if n.startswith(("xl/media/", "xl/drawings/drawing", "xl/drawings/_rels/", "xl/theme/", "docProps/"))
    ]
    assert len(untouched) >= 5 and all(after[n] == before[n] for n in untouched)


L_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _style_counts(path: Path) -> dict[str, int]:
    root = etree.fromstring(_parts(path)["xl/styles.xml"])
    return {kind: len(root.find(f"{{{L_MAIN}}}{kind}")) for kind in ("fonts", "fills", "borders", "cellXfs")}


def _check_package(path: Path) -> None:
    """Every relationship points at a part, every part is reached and has a content type, the
    output sheets appear once, and every local defined name belongs to an existing sheet."""
    pkg = Package(path.read_bytes())
    reached = {"[Content_Types].xml"}
    for name in list(pkg.order):
        source = "" if name == "_rels/.rels" else None
        if name.endswith(".rels"):
            folder, base = posixpath.split(name)
            source = (
                posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))
                if source is None
                else source
            )
            reached.add(name)
            for rel in pkg.rels(source):
                if not rel.external:
                    target = pkg.target(source, rel)
                    assert target in pkg, f"{name}: {rel.target} is missing"
                    reached.add(target)
    assert reached == set(pkg.order), set(pkg.order) - reached
    assert all(
        pkg.content_type(n) for n in pkg.order if not n.endswith(".rels") and n != "[Content_Types].xml"
    )
    book = WorkbookXml(pkg)
    names = [s.name for s in book.sheets()]
    assert names[:3] == list(L.OUTPUT_SHEETS) and all(names.count(t) == 1 for t in L.OUTPUT_SHEETS)
    for dn in book.defined_names():
        if dn.get("localSheetId") is not None:
            assert int(dn.get("localSheetId")) < len(names)
    titles = [dn for dn in book.defined_names() if dn.get("name") == "_xlnm.Print_Titles"]
    assert len({dn.get("localSheetId") for dn in titles}) == len(titles)


def test_rescoring_replaces_the_output_sheets_and_never_grows_the_styles(tmp_path: Path) -> None:
    src = _with_extras(tmp_path)
    first = _score(src, tmp_path / "first.xlsx")
    second = _score(first, tmp_path / "second.xlsx")
    third = _score(second, tmp_path / "third.xlsx")
    for path in (first, second, third):
        _check_package(path)
    assert _style_counts(second) == _style_counts(third) == _style_counts(first)
    assert len(_parts(third)) == len(_parts(first))
    wb = openpyxl.load_workbook(third)
    assert wb.sheetnames.count(L.SCORES) == 1 and wb.active.title == L.SCORES
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [L.SCORES]


def test_a_fixed_cell_loses_its_mark_on_the_next_scoring(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(example_bytes()))
    dest = wb.defined_names["xp_total_budget"].destinations
    sheet, coord = next(iter(dest))
    coord = coord.replace("$", "")
    typed = wb[sheet][coord].value
    wb[sheet][coord] = "abc"  # unreadable: P01 on that cell
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    scored = _score(bad, tmp_path / "bad.scored.xlsx")
    marked = openpyxl.load_workbook(scored)[sheet][coord]
    assert marked.comment is not None and marked.comment.author == CHECK_AUTHOR
    assert marked.fill.fgColor.rgb.endswith(L.ERROR_FILL)
    fixed_wb = openpyxl.load_workbook(scored)
    fixed_wb[sheet][coord] = typed
    fixed = tmp_path / "fixed.xlsx"
    fixed_wb.save(fixed)
    again = openpyxl.load_workbook(_score(fixed, tmp_path / "fixed.scored.xlsx"))[sheet][coord]
    assert again.comment is None and not again.fill.fgColor.rgb.endswith(L.ERROR_FILL)


def _written_both_ways(src: Path, tmp_path: Path) -> tuple[Path, Path]:
    loaded = load_input(src)
    result = assess(loaded)
    new = write_scored(
        loaded, result, tmp_path / f"{src.stem}.new.xlsx", scored_at="2026-12-01T10:00:00+08:00"
    )
    wb = openpyxl.load_workbook(src)
    write_results(
        wb, result, loaded.source, Provenance(result.framework, loaded.sha256, "2026-12-01T10:00:00+08:00")
    )
    old = tmp_path / f"{src.stem}.old.xlsx"
    wb.save(old)
    return new, old


def _content(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"sheets": wb.sheetnames, "active": wb.active.title}
    for title in L.OUTPUT_SHEETS:
        ws = wb[title]
        out[title] = [[c.value for c in row] for row in ws.iter_rows()]
        out[title + " merges"] = sorted(str(m) for m in ws.merged_cells.ranges)
        out[title + " formats"] = [[c.number_format for c in row] for row in ws.iter_rows()]
        out[title + " links"] = sorted(
            (c.coordinate, c.hyperlink.target)
            for row in ws.iter_rows()
            for c in row
            if c.hyperlink is not None
        )
    for ws in wb.worksheets:
        if ws.title in L.INPUT_SHEETS:
            out[ws.title + " marks"] = sorted(
                (c.coordinate, c.comment.text, c.fill.fgColor.rgb)
                for row in ws.iter_rows()
                for c in row
                if c.comment is not None and c.comment.author == CHECK_AUTHOR
            )
            out[ws.title + " header"] = ws.oddHeader.center.text
    return out


def _corpus_workbooks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("writer-corpus")
    corpus = make_corpus(folder, big=False)
    return sorted(c.path for c in corpus.values() if c.exit_code != 2 and c.path.suffix in (".xlsx", ".xlsm"))


@pytest.mark.slow
def test_new_writer_gives_what_the_openpyxl_model_gave(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Equivalence on every readable corpus workbook (the unreadable ones never reach a writer)."""
    from xlperf.core.errors import InputError

    checked = 0
    for src in _corpus_workbooks(tmp_path_factory):
        try:
            new, old = _written_both_ways(src, tmp_path)
        except InputError:
            continue
        assert _content(new) == _content(old), src.name
        _check_package(new)
        checked += 1
    assert checked >= 10


@pytest.mark.slow
def test_second_readers_open_every_output(tmp_path: Path) -> None:
    src = _with_extras(tmp_path)
    first = _score(src, tmp_path / "first.xlsx")
    second = _score(first, tmp_path / "second.xlsx")
    for path in (first, second):
        sheets = calamine_sheets(path)
        assert list(sheets)[:3] == list(L.OUTPUT_SHEETS)
        assert any("总分" in str(v) for row in sheets[L.SCORES] for v in row)
    out = convert_many([first, second], "pdf", tmp_path / "lo", tmp_path / "profile")
    for pdf in out.values():
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "总分" in text and text.count("评分汇总") >= 1


def test_scored_copy_of_a_macro_workbook_is_a_plain_xlsx(tmp_path: Path) -> None:
    """A .xlsm's VBA project is not carried into the .xlsx (Excel refuses such a file)."""
    src = tmp_path / "clerk.xlsm"
    with zipfile.ZipFile(io.BytesIO(example_bytes())) as zin, zipfile.ZipFile(src, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                data = data.replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" '
                    b'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                    b'Target="vbaProject.bin"/></Relationships>',
                )
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 508)
    out = _score(src, tmp_path / "clerk.scored.xlsx")
    parts = _parts(out)
    assert "xl/vbaProject.bin" not in parts and b"vbaProject" not in parts["xl/_rels/workbook.xml.rels"]
    assert b"macroEnabled" not in parts["[Content_Types].xml"]
    _check_package(out)
    assert re.search(rb"spreadsheetml\.sheet\.main\+xml", parts["[Content_Types].xml"])


def test_submission_workbook_keeps_picture_and_extension_and_freezes_the_formula(tmp_path: Path) -> None:
    """The 报送 workbook is written by the same package writer: the seal and the extLst validation
    byte for byte, the formula replaced by its value, every sheet protected, no calculation chain."""
    from xlperf.submission.package import export_package

    src = _with_extras(tmp_path)
    package = export_package(src, tmp_path / "报送包", force=True, reason="测试：示例含提醒与错误")
    frozen = package.workbook
    before, after = _parts(src), _parts(frozen)
    media = [n for n in before if n.startswith("xl/media/")]
    assert media and all(after[n] == before[n] for n in media)
    ext_before = _sheet_root(src, L.BASIC).find(f"{{{L_MAIN}}}extLst")
    ext_after = _sheet_root(frozen, L.BASIC).find(f"{{{L_MAIN}}}extLst")
    assert ext_after is not None and etree.tostring(ext_after) == etree.tostring(ext_before)
    cell = _sheet_root(frozen, L.BASIC).find(f".//{{{L_MAIN}}}c[@r='F40']")
    assert (
        cell is not None
        and cell.find(f"{{{L_MAIN}}}f") is None
        and float(cell.findtext(f"{{{L_MAIN}}}v") or "nan") == 2
    )
    assert not any(n.endswith("calcChain.xml") for n in after)
    _check_package(frozen)
    pkg = Package(frozen.read_bytes())
    for ref in WorkbookXml(pkg).sheets():
        assert pkg.peek(ref.part).find(f"{{{L_MAIN}}}sheetProtection") is not None, ref.name
        assert pkg.peek(ref.part).find(f".//{{{L_MAIN}}}f") is None, ref.name
    wb = openpyxl.load_workbook(frozen)
    assert wb.properties.contentStatus == "强制报送" and wb[L.HIDDEN].sheet_state == "veryHidden"
    assert "xp_frozen_at" in wb.defined_names


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_frozen_value_leaves_the_cell_empty(value: float) -> None:
    """A value no spreadsheet can read as a number never reaches the sheet XML as "nan"/"inf"."""
    from xlperf.ooxml.spreadsheet import SheetXml
    from xlperf.submission.freeze import store_value

    sheet = SheetXml(
        etree.fromstring(
            f'<worksheet xmlns="{L_MAIN}"><sheetData><row r="1"><c r="A1"><f>1/0</f>'
            "<v>1</v></c></row></sheetData></worksheet>".encode()
        )
    )
    store_value(sheet, "A1", value)
    cell = sheet.cell("A1")
    assert cell is not None and len(cell) == 0 and cell.get("t") is None


def _compressed(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each part's (CRC, method, compressed bytes) as stored in the zip."""
    data = path.read_bytes()
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            start = info.header_offset
            name_len, extra_len = (
                int.from_bytes(data[start + 26 : start + 28], "little"),
                int.from_bytes(data[start + 28 : start + 30], "little"),
            )
            begin = start + 30 + name_len + extra_len
            out[info.filename] = (info.CRC, info.compress_type, data[begin : begin + info.compress_size])
    return out


def test_unchanged_parts_are_copied_compressed_and_every_part_is_decompressed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part xlperf leaves alone is written as its compressed bytes were (no second compression),
    and reading, checking and writing share one decompression of each part."""
    src = _with_extras(tmp_path)
    opened: dict[str, int] = {}
    real_open = zipfile.ZipFile.open

    def counting(self: zipfile.ZipFile, name: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "r":
            key = name.filename if isinstance(name, zipfile.ZipInfo) else name
            opened[key] = opened.get(key, 0) + 1
        return real_open(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting)
    out = _score(src, tmp_path / "scored.xlsx")
    monkeypatch.undo()
    assert opened and max(opened.values()) == 1, {k: v for k, v in opened.items() if v > 1}
    before, after = _compressed(src), _compressed(out)
    untouched = [
        n for n in before if n.startswith(("xl/media/", "xl/theme/", "xl/drawings/drawing", "docProps/"))
    ]
    assert len(untouched) >= 4 and all(after[n] == before[n] for n in untouched)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None  # every CRC matches its part
    assert calamine_sheets(out)  # a second reader opens it


def test_styles_are_the_same_whatever_was_scored_before_in_the_process(tmp_path: Path) -> None:
    """The formats added to styles.xml are taken from a memo when an equal styles part got the same
    kinds before; the result must not depend on what the process scored earlier."""
    from xlperf.workbook import writer

    src = _with_extras(tmp_path)
    writer._Formats._memo.clear()
    first = _parts(_score(src, tmp_path / "alone.xlsx"))["xl/styles.xml"]
    assert writer._Formats._memo  # remembered …
    other = tmp_path / "other.xlsx"
    other.write_bytes(example_bytes())
    _score(other, tmp_path / "other.scored.xlsx")  # … another workbook, other findings, in between
    again = _parts(_score(src, tmp_path / "again.xlsx"))["xl/styles.xml"]
    assert again == first
    writer._Formats._memo.clear()
    fresh = _parts(_score(src, tmp_path / "fresh.xlsx"))["xl/styles.xml"]
    assert fresh == first


@pytest.mark.parametrize(
    "text", ["广州市白云区科工商信局 · 2023 年度 · 评分汇总", "A&B <x> \"q\" 'y'", "&&P", ""]
)
def test_output_sheet_header_is_what_openpyxl_writes(text: str) -> None:
    """The <headerFooter> of an output sheet is made from a template (openpyxl's, made once):
    any header text gives what openpyxl itself would write."""
    from openpyxl.worksheet.header_footer import HeaderFooter
    from openpyxl.xml.functions import tostring

    from xlperf.workbook.printing import FOOTER
    from xlperf.workbook.writer import _header_footer

    hf = HeaderFooter()
    hf.oddHeader.center.text = text.replace("&", "&&")
    hf.oddHeader.center.size = 9
    hf.oddFooter.center.text = FOOTER
    hf.oddFooter.center.size = 9
    assert _header_footer(text) == tostring(hf.to_tree()).decode()


class _Unseekable(io.RawIOBase):
    """A write-only stream zipfile cannot seek in: it then puts each part's sizes and CRC in a data
    descriptor after the data (as some Java and streaming writers do)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.buf += bytes(b)
        return len(b)


def test_an_input_with_data_descriptors_is_copied_compressed_and_stays_valid(tmp_path: Path) -> None:
    """A part copied as its compressed bytes gets a local header with its sizes (the source's data
    descriptor is not carried over): every reader still opens the output."""
    sink = _Unseekable()
    with (
        zipfile.ZipFile(io.BytesIO(example_bytes())) as zin,
        zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    src = tmp_path / "descriptors.xlsx"
    src.write_bytes(bytes(sink.buf))
    with zipfile.ZipFile(src) as zf:
        assert all(i.flag_bits & 0x08 for i in zf.infolist())  # the input really has descriptors
    out = _score(src, tmp_path / "scored.xlsx")
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert not any(i.flag_bits & 0x08 for i in zf.infolist())
    before, after = _parts(src), _parts(out)
    theme = [n for n in before if n.startswith("xl/theme/")]
    assert theme and all(after[n] == before[n] for n in theme)
    assert _compressed(out)[theme[0]][2] == _compressed(src)[theme[0]][2]
    assert calamine_sheets(out) and openpyxl.load_workbook(out).sheetnames[0] == L.OUTPUT_SHEETS[0]
