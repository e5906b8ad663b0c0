"""Printing helpers (xlperf.workbook.printing): widths, row heights, page setup."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from office import convert
from openpyxl.styles import Alignment, Font

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.workbook import layout as L
from xlperf.workbook.printing import fit_column_widths, fit_row_heights, setup_print, text_width
from xlperf.workbook.template import BLANK_NAME

FW = get_framework()


def test_text_width_counts_cjk_and_full_width_as_two() -> None:
    assert text_width("abc") == 3
    assert text_width("总分") == 4
    assert text_width("98.57%，良") == 6 + 2 + 2
    assert text_width("①㉑") == 4  # ① is "ambiguous": full-width in the CJK fonts sheets print with
    assert text_width("①㉑", ambiguous_wide=False) == 3
    assert text_width("") == 0


def _sheet(width: float, text: str, wrap: bool = True) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["A"].width = width
    ws["A1"] = text
    ws["A1"].font = Font(name="宋体", size=10)
    ws["A1"].alignment = Alignment(wrap_text=wrap)
    return wb


def test_row_height_grows_with_wrapped_cjk_text() -> None:
    one = _sheet(40, "短句")
    fit_row_heights(one.active)
    long = _sheet(40, "部门整体支出绩效自评" * 20)  # 400 columns in a 40-wide column: many lines
    fit_row_heights(long.active)
    h1, h2 = one.active.row_dimensions[1].height, long.active.row_dimensions[1].height
    assert h1 is not None and h2 is not None
    assert h2 >= 8 * h1 - 30  # about 400 / 70 ≈ 6–8 lines against one
    latin = _sheet(40, "a" * 200)  # same number of characters as the CJK text, half the columns
    fit_row_heights(latin.active)
    assert latin.active.row_dimensions[1].height < h2


def test_row_height_stays_within_excels_limit() -> None:
    wb = _sheet(20, "很长" * 16000)  # 32,000 characters: thousands of lines
    fit_row_heights(wb.active)
    assert wb.active.row_dimensions[1].height == 409


def test_row_height_counts_line_breaks_and_ignores_unwrapped_cells() -> None:
    wb = _sheet(80, "一\n二\n三\n四")
    fit_row_heights(wb.active)
    four = wb.active.row_dimensions[1].height
    flat = _sheet(10, "很长的一段文字" * 10, wrap=False)
    fit_row_heights(flat.active)
    assert four > 3 * flat.active.row_dimensions[1].height - 10


def test_merged_cells_count_across_their_columns_and_min_height_is_a_floor() -> None:
    def height(merge: bool) -> float:
        wb = _sheet(20, "说明文字" * 15)
        ws = wb.active
        ws.column_dimensions["B"].width = 20
        ws.column_dimensions["C"].width = 20
        if merge:
            ws.merge_cells("A1:C1")
        fit_row_heights(ws, min_height=5)
        return ws.row_dimensions[1].height

    assert height(True) < height(False)
    wb = _sheet(40, "短")
    fit_row_heights(wb.active, min_height=40)
    assert wb.active.row_dimensions[1].height == 40


def test_fit_column_widths_fits_the_longest_label() -> None:
    wb = _sheet(10, "月均一般公共预算支出执行率", wrap=False)
    ws = wb.active
    fit_column_widths(ws, [1])
    # 13 CJK characters of 10 pt are 13 × 13.3 px ≈ 173 px ≈ 25 units of 7 px
    assert ws.column_dimensions["A"].width >= 25
    ws.column_dimensions["A"].width = 80
    fit_column_widths(ws, [1])
    assert ws.column_dimensions["A"].width == 80  # never narrowed


def test_setup_print_is_a4_one_page_wide_with_titles_header_and_footer(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "x"
    setup_print(ws, title_rows="3:3", landscape=True, header="白云区科工商信局 & 下属单位")
    wb.save(tmp_path / "p.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$3:$3"
    assert ws.oddHeader.center.text == "白云区科工商信局 && 下属单位"  # & escaped, not a code
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    plain = openpyxl.Workbook().active
    setup_print(plain, fit_width=False)
    assert plain.page_setup.orientation == "portrait"
    assert not plain.sheet_properties.pageSetUpPr or not plain.sheet_properties.pageSetUpPr.fitToPage


# ------------------------------------------------------------------ rendered through LibreOffice


@dataclass
class Rendered:
    """A file as LibreOffice prints it: the text of each page (layout kept) and each page's words."""

    pdf: Path
    pages: list[str]
    words: list[list[tuple[float, float, float, float, str]]]  # per page: xMin, yMin, xMax, yMax, word
    sizes: list[tuple[float, float]]  # per page: width, height in points

    def sheet_pages(self, title: str) -> list[int]:
        """The pages whose running header (their first line: department, year, sheet) names ``title``."""
        out = []
        for i, text in enumerate(self.pages):
            first = next((line.split() for line in text.splitlines() if line.strip()), [""])
            if first[-1] == title:
                out.append(i)
        return out


def render(src: Path, tmp: Path) -> Rendered:
    pdf = convert(src, "pdf", tmp / "pdf", tmp / "profile")
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    pages = []
    for n in range(1, len(sizes) + 1):
        pages.append(
            subprocess.run(
                ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for page in bbox.split("<page ")[1:]:
        words.append(
            [
                (float(a), float(b), float(c), float(d), html.unescape(w))
                for a, b, c, d, w in re.findall(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                    page,
                )
            ]
        )
    return Rendered(pdf, pages, words, sizes)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    done = CliRunner().invoke(main, ["demo", "-o", str(out)])
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="module")
def scored_pdf(demo_files: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(demo_files / "白云区科工商信局_2023.scored.xlsx", tmp_path_factory.mktemp("scored"))


@pytest.mark.slow
def test_every_report_paragraph_prints_whole(demo_files: Path, scored_pdf: Rendered) -> None:
    """Each paragraph of 自评报告 is found on its pages from its first to its last characters: a
    line cut at a page edge, or a row too low for its wrapped text, loses them."""
    wb = openpyxl.load_workbook(demo_files / "白云区科工商信局_2023.scored.xlsx")
    paragraphs = [str(row[0]) for row in wb[L.REPORT].iter_rows(values_only=True) if row[0]]
    pages = scored_pdf.sheet_pages(L.REPORT)
    assert pages, "no page of 自评报告 found"
    printed = flat("".join(scored_pdf.pages[i] for i in pages))
    assert len(paragraphs) > 100
    for text in paragraphs:
        whole = flat(text)
        assert whole[:6] in printed and whole[-8:] in printed, text
    for i in pages:  # and nothing beyond the paper
        width = scored_pdf.sizes[i][0]
        assert all(w[0] >= 0 and w[2] <= width for w in scored_pdf.words[i])


@pytest.mark.slow
def test_summary_prints_one_a4_page_wide(scored_pdf: Rendered) -> None:
    pages = scored_pdf.sheet_pages(L.SCORES)
    assert 1 <= len(pages) <= 3
    for i in pages:
        width, height = scored_pdf.sizes[i]
        assert (round(width), round(height)) == (595, 842), "A4 portrait"
        body = [w for w in scored_pdf.words[i] if 60 < w[1] < height - 60]  # without header and footer
        # the left and the right columns on the same page: the sheet was not split across pages
        assert min(w[0] for w in body) < width * 0.2 and max(w[2] for w in body) > width * 0.75
    text = "\n".join(scored_pdf.pages[i] for i in pages)
    assert scored_pdf.pages[0] == scored_pdf.pages[pages[0]]  # 评分汇总 prints first
    # label/value pairs apart, not run together; the hash on a line of its own, whole
    assert re.search(r"总分\s+98\.57\s{2,}评价等级\s+优", text)
    assert re.search(r"错误\s+4\s*条\s{2,}提醒\s+3\s*条", text)
    sha = re.search(r"输入文件 SHA-256\s+([0-9a-f]{64})\s*$", text, re.M)
    assert sha, text[-600:]
    assert re.search(r"计分时间\s+\d{4}-\d\d-\d\d \d\d:\d\d\s*$", text, re.M)
    assert re.search(r"月均一般公共预算支出执行率\s+100\.00", text) and "执行数 ÷ 全年预算数" in text


@pytest.mark.slow
def test_blank_template_prints_its_labels_whole_and_readable(tmp_path: Path) -> None:
    blank = ROOT / "workbook_templates" / BLANK_NAME
    r = render(blank, tmp_path)
    spending = "\n".join(r.pages[i] for i in r.sheet_pages(L.SPENDING))
    assert "年度平均执行率（只在没有月度数时填写）" in spending and "月均执行率（自动计算）" in spending
    # each 子项 text whole in its own column (the strip between its neighbours' headings)
    for k in (1, 2, 3):
        column = ""
        for i in r.sheet_pages(L.MANAGEMENT):
            heads = {w[4]: w for w in r.words[i]}
            if f"子项{k}" not in heads:
                continue
            left = heads["分值" if k == 1 else f"子项{k - 1}答复"][2]
            right = heads[f"子项{k}答复"][0]
            column += flat(
                subprocess.run(
                    [
                        "pdftotext",
                        "-f",
                        str(i + 1),
                        "-l",
                        str(i + 1),
                        "-x",
                        str(int(left)),
                        "-y",
                        "0",
                        "-W",
                        str(int(right - left)),
                        "-H",
                        str(int(r.sizes[i][1])),
                        str(r.pdf),
                        "-",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
        items = [
            f"{FW.item_text(spec.items[k - 1])}（{spec.items[k - 1].points}分）"
            for spec in FW.management()
            if len(spec.items) >= k
        ]
        assert items and column
        for text in items:
            assert flat(text) in column, (k, text)
    readme = flat("".join(r.pages[i] for i in r.sheet_pages(L.README)))
    assert "这些工作表不加保护，因为Excel不允许在受保护的工作表中扩展表格。" in readme
    outputs = r.sheet_pages(L.OUTPUTS)
    assert len(outputs) >= 2
    # two bands, 序号 and 指标名称 on both: one with the targets, one with the results and reasons
    assert all("指标名称" in r.pages[i] for i in outputs)
    assert any("年度目标值" in r.pages[i] for i in outputs)
    assert any("未达标原因" in r.pages[i] and "年度目标值" not in r.pages[i] for i in outputs)
    for i in outputs:  # and at a size a reviewer can read (18 columns on one page made it about 4 pt)
        heights = sorted(w[3] - w[1] for w in r.words[i] if w[4] in ("序号", "指标名称", "实际值", "类型"))
        assert heights and heights[0] >= 6.5, heights


def test_the_fast_path_of_text_width_counts_as_unicodedata_does() -> None:
    """text_width counts the common wide ranges without looking at each character: every code point
    there must be wide or full-width and not combining, and mixed text must count as char by char."""
    import unicodedata

    from xlperf.workbook.printing import ALWAYS_WIDE_RANGES, text_width

    for first, last in ALWAYS_WIDE_RANGES:
        for code in range(first, last + 1):
            ch = chr(code)
            assert unicodedata.east_asian_width(ch) in ("W", "F") and not unicodedata.combining(ch), hex(code)

    def slow(s: str, wide: tuple[str, ...]) -> int:
        return sum(
            0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in wide else 1
            for ch in s
        )

    for text in ("预算执行率 96.19%", "①“项目”×÷…é\u0301한국어", "ｱｲｳ全角ＡＢＣ　〇〻", "abc", ""):
        assert text_width(text) == slow(text, ("W", "F", "A")), text
        assert text_width(text, ambiguous_wide=False) == slow(text, ("W", "F")), text
