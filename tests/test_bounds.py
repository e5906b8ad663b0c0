"""Bounded time and memory on any file of any size (issue 12, cases 8–12).

Every file is made here from the clean seed workbook by rewriting sheet XML in the zip. Each runs
as a real ``xlperf`` process under a memory cap (``resource.setrlimit(RLIMIT_AS)`` in the child),
with a time limit, and must end with exit 0 (just under a limit) or with exit 2 and one Chinese line
naming the sheet and what to do (just over it) — never a MemoryError, a traceback or a hang.
"""

from __future__ import annotations

import io
import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
from make_corpus import sheet_part

from xlperf.core.framework import get_framework
from xlperf.ooxml.checks import check_file
from xlperf.ooxml.limits import Limits
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook

XLPERF = Path(sys.executable).with_name("xlperf")
MEMORY_CAP = 2 << 30  # address space of the child: far below what the old code needed for these files
SECONDS = 60  # a generous bound on a shared 2-core machine; a refusal takes a few seconds
HUGE = "D1:XFD1048576"


@pytest.fixture(scope="module")
def base() -> bytes:
    """The clean seed (no error findings: submit goes all the way) with two spare sheets."""
    from test_submit import clean_evaluation

    ev = clean_evaluation()
    wb = build_workbook(get_framework(ev.framework), ev)
    wb.create_sheet("附表一")
    wb.create_sheet("附表二")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


Writer = Callable[[IO[bytes]], None]


def rewrite(
    src: bytes,
    dest: Path,
    sheets: dict[str, tuple[Writer | None, str]],
    edit: Callable[[str, str], str] | None = None,
) -> Path:
    """Copy ``src`` to ``dest``; for each sheet title, replace its sheetData rows by what the writer
    streams (``None``: keep them) and insert ``after`` right after ``</sheetData>``."""
    parts = {sheet_part(src, title): spec for title, spec in sheets.items()}
    with (
        zipfile.ZipFile(io.BytesIO(src)) as zin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename not in parts:
                if edit is not None:
                    data = edit(info.filename, data.decode("utf-8")).encode("utf-8")
                zout.writestr(info.filename, data)
                continue
            writer, after = parts[info.filename]
            text = data.decode("utf-8")
            if edit is not None:
                text = edit(info.filename, text)
            if "<sheetData/>" in text:
                text = text.replace("<sheetData/>", "<sheetData></sheetData>")
            i = text.index("<sheetData>") + len("<sheetData>")
            j = text.index("</sheetData>")
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(text[:i].encode())
                if writer is None:
                    fh.write(text[i:j].encode())
                else:
                    writer(fh)
                fh.write(b"</sheetData>" + after.encode() + text[j + len("</sheetData>") :].encode())
    return dest


def rows_of_cells(rows: int, cols: int, first: int = 1) -> Writer:
    letters = [openpyxl.utils.get_column_letter(c) for c in range(1, cols + 1)]

    def write(fh: IO[bytes]) -> None:
        for start in range(first, first + rows, 5000):
            fh.write(
                "".join(
                    f'<row r="{r}">' + "".join(f'<c r="{x}{r}"><v>{r}</v></c>' for x in letters) + "</row>"
                    for r in range(start, min(start + 5000, first + rows))
                ).encode()
            )

    return write


def merged(*refs: str) -> str:
    return (
        f'<mergeCells count="{len(refs)}">'
        + "".join(f'<mergeCell ref="{r}"/>' for r in refs)
        + "</mergeCells>"
    )


def linked(*refs: str) -> str:
    return (
        "<hyperlinks>"
        + "".join(f'<hyperlink ref="{r}" location="\'填表说明\'!A1" display="x"/>' for r in refs)
        + "</hyperlinks>"
    )


def limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def xlperf(tmp_path: Path, *args: str | Path) -> tuple[int, str, float]:
    env = {
        **os.environ,
        "XLPERF_HOME": str(tmp_path / "home"),
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
    }
    start = time.monotonic()
    done = subprocess.run(
        [str(XLPERF), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=SECONDS * 3,
        preexec_fn=limit_address_space,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def assert_refused(
    tmp_path: Path,
    path: Path,
    *words: str,
    args: tuple[str, ...] = (),
    commands: tuple[str, ...] = ("check", "run"),
) -> None:
    for command in commands:
        code, out, seconds = xlperf(tmp_path, command, path, *args)
        assert code == 2, out
        assert "Traceback" not in out and "MemoryError" not in out and "内部错误" not in out, out
        assert out.startswith("错误：") and path.name in out, out
        for word in words:
            assert word in out, (word, out)
        assert seconds < SECONDS, f"{command}: {seconds:.0f} s"
    assert sorted(p.name for p in path.parent.iterdir() if p.suffix == ".xlsx") == [path.name]


def assert_read(tmp_path: Path, path: Path, args: tuple[str, ...] = ()) -> str:
    code, out, seconds = xlperf(tmp_path, "check", path, *args)
    assert code == 0, out
    assert seconds < SECONDS, f"{seconds:.0f} s"
    return out


# -- 8. merged ranges and hyperlinks ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["merged", "hyperlink"])
def test_one_huge_range_is_refused_with_its_sheet_and_range(base: bytes, tmp_path: Path, kind: str) -> None:
    after = merged(HUGE) if kind == "merged" else linked(HUGE)
    path = rewrite(base, tmp_path / f"{kind}.xlsx", {L.README: (None, after)})
    assert path.stat().st_size < 100_000
    word = "合并单元格" if kind == "merged" else "超链接"
    assert_refused(tmp_path, path, L.README, word, HUGE, "100,000", commands=("check", "run", "submit"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["merged", "hyperlink"])
def test_ranges_just_under_and_just_over_the_limit(base: bytes, tmp_path: Path, kind: str) -> None:
    wrap = merged if kind == "merged" else linked
    (tmp_path / "under").mkdir()
    under = rewrite(
        base, tmp_path / "under" / "wb.xlsx", {"附表一": (None, wrap("A1:J5000", "A5001:J10000"))}
    )
    assert_read(tmp_path, under)
    (tmp_path / "over").mkdir()
    over = rewrite(
        base, tmp_path / "over" / "wb.xlsx", {"附表一": (None, wrap("A1:J5000", "A5001:J10000", "L1"))}
    )
    assert_refused(tmp_path, over, "附表一", "100,001")


def test_merged_range_within_the_row_limit_is_refused_quickly(base: bytes, tmp_path: Path) -> None:
    path = rewrite(base, tmp_path / "wb.xlsx", {L.README: (None, merged("D1:Z100000"))})
    assert_refused(tmp_path, path, "D1:Z100000", "合并单元格")


# -- 9. a table ref in lower case ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("ref", ["a4:r1000000", "A4:r1000000", "$a$4:$r$1000000"])
def test_table_ref_in_any_case_is_bounded(base: bytes, tmp_path: Path, ref: str) -> None:
    def edit(name: str, text: str) -> str:
        if name.startswith("xl/tables/") and '"tbl_outputs"' in text:
            return re.sub(r'ref="A4:R\d+"', f'ref="{ref}"', text, count=1)
        return text

    path = rewrite(base, tmp_path / "wb.xlsx", {}, edit=edit)
    assert_refused(tmp_path, path, "表格", "超过上限")


# -- 10. one stray value in XFD1048576 -------------------------------------------------------------------


@pytest.mark.slow
def test_stray_cell_in_the_last_cell_freezes_in_bounded_memory(base: bytes, tmp_path: Path) -> None:
    def stray(fh: IO[bytes]) -> None:
        fh.write(b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')

    path = rewrite(base, tmp_path / "白云区科工商信局_2023.xlsx", {"附表一": (stray, "")})
    assert_read(tmp_path, path)
    code, out, seconds = xlperf(tmp_path, "submit", path, "--eml", tmp_path / "草稿.eml")
    assert code == 0, out
    assert seconds < SECONDS
    [frozen] = (tmp_path / "报送包_区科工商信局_2023").glob("*.xlsx")
    wb = openpyxl.load_workbook(frozen, read_only=True)
    try:
        assert [c.value for row in wb["附表一"].iter_rows(min_row=1048576, min_col=16384) for c in row] == [
            "x"
        ]
    finally:
        wb.close()


# -- 11. the workbook as a whole ---------------------------------------------------------------------------


@pytest.mark.slow
def test_sheets_each_under_the_sheet_limit_but_too_many_together(base: bytes, tmp_path: Path) -> None:
    """Two sheets of 600,000 cells each: under the per-sheet limit, over the workbook's (defaults)."""
    path = rewrite(
        base,
        tmp_path / "wb.xlsx",
        {"附表一": (rows_of_cells(60_000, 10), ""), "附表二": (rows_of_cells(60_000, 10), "")},
    )
    assert_refused(tmp_path, path, "各工作表合计", "1,000,000", "附表二", "--max-workbook-cells")


@pytest.mark.slow
def test_workbook_limit_just_under_and_just_over(base: bytes, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    path = rewrite(
        base,
        tmp_path / "a" / "wb.xlsx",
        {"附表一": (rows_of_cells(1500, 10), ""), "附表二": (rows_of_cells(1500, 10), "")},
    )
    total = check_file(path, Limits())
    assert total > 30_000
    sheet = str(20_000)
    assert_read(tmp_path, path, args=("--max-cells", sheet, "--max-workbook-cells", str(total)))
    assert_refused(
        tmp_path,
        path,
        "各工作表合计",
        f"{total:,}",
        f"{total - 1:,}",
        args=("--max-cells", sheet, "--max-workbook-cells", str(total - 1)),
    )


# -- 12. rows really there, not the declared dimension ----------------------------------------------------


@pytest.mark.slow
def test_libreoffice_style_dimension_to_the_last_row_is_read(base: bytes, tmp_path: Path) -> None:
    """What LibreOffice saves after deleting a row of 效益指标: a <dimension> to row 1,048,576 and
    an empty, formatted last row."""

    def edit(name: str, text: str) -> str:
        return re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:R1048576"/>', text)

    last = (
        '<row r="1048576" customFormat="false" ht="12.8" hidden="false" customHeight="false" '
        'outlineLevel="0" collapsed="false"/>'
    )

    def keep_and_add(fh: IO[bytes]) -> None:
        fh.write(part_rows.encode() + last.encode())

    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        text = zf.read(sheet_part(base, L.BENEFITS)).decode()
    part_rows = text[text.index("<sheetData>") + len("<sheetData>") : text.index("</sheetData>")]
    path = rewrite(base, tmp_path / "白云区科工商信局_2023.xlsx", {L.BENEFITS: (keep_and_add, "")}, edit=edit)
    out = assert_read(tmp_path, path)
    assert "1,048,576" not in out
    code, out, seconds = xlperf(tmp_path, "submit", path, "--eml", tmp_path / "草稿.eml")
    assert code == 0 and seconds < SECONDS, out


@pytest.mark.slow
def test_real_rows_just_under_and_just_over(base: bytes, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    path = rewrite(
        base,
        tmp_path / "a" / "wb.xlsx",
        {"附表一": (rows_of_cells(3000, 1), "")},
        edit=lambda name, text: re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:A9"/>', text),
    )
    assert_read(tmp_path, path, args=("--max-rows", "3000"))
    assert_refused(tmp_path, path, "附表一", "3,000 行", "2,999 行", args=("--max-rows", "2999"))


def test_numbers_in_a_long_text_are_found_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pasted report of thousands of figures in 年度实际值（文字） took minutes (the unit was
    normalised again and the rest of the text copied for every number): now one pass."""
    from decimal import Decimal

    import xlperf.core.rules.rows as rows

    calls = {"n": 0}
    real = rows.normalise_text

    def counting(text: str) -> str:
        calls["n"] += 1
        return real(text)

    monkeypatch.setattr(rows, "normalise_text", counting)
    text = "完成 " + "，".join(f"{i}家" for i in range(20_000))
    found = rows._numbers_with_unit(text, "家")
    assert Decimal(19_999) in found and len(found) == 20_000
    assert calls["n"] <= 2
