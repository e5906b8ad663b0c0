"""The .docx writer: layout, fonts, page numbers, atomic and reproducible writes, LibreOffice renders it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from xlperf.core import evaluate
from xlperf.core.evaluation import Evaluation
from xlperf.core.narrative import SECTION_HEADINGS, Report, build_report
from xlperf.word import CIRCLED, OFFICIAL, FontSet, choose_fonts, render_docx, typeset, write_docx

WHEN = datetime(2024, 3, 31, 9, 0, tzinfo=UTC)


@pytest.fixture
def report(seed: Evaluation) -> Report:
    return build_report(evaluate(seed))


@pytest.fixture
def written(report: Report, tmp_path: Path) -> Path:
    return write_docx(report, tmp_path / "白云区科工商信局2023年自评报告.docx", when=WHEN)


def test_document_text_and_headings(report: Report, written: Path) -> None:
    doc = docx.Document(str(written))
    # the seed has 4 errors (docs/DOMAIN.md §2): its report is a draft, said above the title
    draft, *paras = doc.paragraphs
    assert report.draft and draft.text == report.draft and draft.text.startswith("草稿")
    assert paras[0].text == "部门整体支出绩效自评报告"
    assert paras[0].style is not None and paras[0].style.name == "Title"
    assert paras[0].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER or (
        paras[0].style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    )
    # every report paragraph, in order, one Word paragraph each (minus signs typeset)
    assert [p.text for p in paras[1:]] == [typeset(p.text) for p in report.paragraphs]
    by_style: dict[str, list[str]] = {}
    for p in paras:
        by_style.setdefault(p.style.name if p.style is not None else "", []).append(p.text)
    assert by_style["Heading 1"] == list(SECTION_HEADINGS)
    assert "（一）自评结论" in by_style["Heading 2"] and "（三）管理效率分析" in by_style["Heading 2"]
    assert "1.预算编制" in by_style["Heading 3"] and "7.运行成本" in by_style["Heading 3"]
    assert "①新增孵化育成平台数量" in by_style["Heading 4"]
    assert "经综合自评，我局2023年部门整体支出绩效自评结果为“优”，自评得分为98.57分。" in by_style["Normal"]


def test_page_setup_a4_and_margins(written: Path) -> None:
    section = docx.Document(str(written)).sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert abs(section.page_width.mm - 210) < 0.5 and abs(section.page_height.mm - 297) < 0.5
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins if m is not None] == [37, 35, 28, 26]


def test_page_number_field_in_footer(written: Path) -> None:
    with zipfile.ZipFile(written) as z:
        footers = [n for n in z.namelist() if re.fullmatch(r"word/footer\d*\.xml", n)]
        assert footers
        xml = "".join(z.read(n).decode("utf-8") for n in footers)
    assert 'w:fldCharType="begin"' in xml and re.search(r"<w:instrText[^>]*>\s*PAGE\s*</w:instrText>", xml)
    assert 'w:fldCharType="end"' in xml


def test_fonts_and_paragraph_format(written: Path) -> None:
    doc = docx.Document(str(written))
    fonts = choose_fonts()
    normal = doc.styles["Normal"]
    rfonts = normal.element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == fonts.body and rfonts.get(qn("w:ascii")) == (
        fonts.latin or fonts.body
    )
    assert rfonts.get(qn("w:eastAsiaTheme")) is None  # a theme font would override the name
    assert normal.font.size == Pt(16)
    pf = normal.paragraph_format
    assert pf.line_spacing == Pt(28) and pf.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    ind = normal.element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    h1 = doc.styles["Heading 1"].element.rPr.find(qn("w:rFonts"))
    assert h1.get(qn("w:eastAsia")) == fonts.heading1 and h1.get(qn("w:asciiTheme")) is None
    assert doc.styles["Heading 2"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == fonts.heading2


def test_official_fonts_can_be_forced(report: Report, tmp_path: Path) -> None:
    out = write_docx(report, tmp_path / "a.docx", fonts=OFFICIAL, when=WHEN)
    doc = docx.Document(str(out))
    assert doc.styles["Normal"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋"
    assert doc.styles["Heading 1"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"
    assert doc.styles["Heading 2"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "楷体"
    assert isinstance(choose_fonts(), FontSet)


def test_core_properties_and_reproducible_bytes(report: Report, written: Path, tmp_path: Path) -> None:
    props = docx.Document(str(written)).core_properties
    assert props.title == "部门整体支出绩效自评报告"
    assert props.author == "广州市白云区科技工业商务和信息化局"
    assert props.created == WHEN and props.modified == WHEN
    with zipfile.ZipFile(written) as z:
        assert "2024-03-31T09:00:00Z" in z.read("docProps/core.xml").decode("utf-8")
        assert {i.date_time for i in z.infolist()} == {(2024, 3, 31, 9, 0, 0)}
    again = write_docx(report, tmp_path / "again.docx", when=WHEN)
    assert again.read_bytes() == written.read_bytes()
    assert render_docx(report, when=WHEN) == written.read_bytes()


def test_write_is_atomic(report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.docx"
    target.write_bytes(b"old")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_docx(report, target, when=WHEN)
    assert target.read_bytes() == b"old"  # the old file is untouched …
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.docx"]  # … and no temporary file is left
    monkeypatch.undo()
    write_docx(report, target, when=WHEN)
    assert zipfile.is_zipfile(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.docx"]


@pytest.mark.slow
def test_libreoffice_converts_to_pdf(written: Path, tmp_path: Path) -> None:
    profile = tmp_path / "lo-profile"
    outdir = tmp_path / "pdf"
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(written),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    pdf = outdir / (written.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stdout + done.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    assert shutil.which("pdftotext"), "poppler-utils is required (.ci/run installs it)"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "部门整体支出绩效自评报告" in flat
    assert "自评结果为“优”，自评得分为98.57分。" in flat
    assert "预算执行率96.19%" in flat and "㉓完成市下达的扶贫协作资金拨付任务" in flat
    assert "—2—" in flat  # the page-number field was evaluated on page 2
    layout = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "\u221216.56%" in layout
    for line in layout.splitlines():  # no line ends in a sign whose number went to the next line
        assert not re.search(r"[-\u2212]\s*$", line), line
    assert shutil.which("pdftoppm"), "poppler-utils is required (.ci/run installs it)"
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        timeout=60,
        check=True,
    )
    pngs = list(tmp_path.glob("page*.png"))
    assert pngs and pngs[0].stat().st_size > 1000


def test_negative_numbers_cannot_break_after_their_sign(report: Report, written: Path) -> None:
    """ "控制率为-" / "10.00%" on the next line reads as a hyphen: the sign is U+2212, which line
    breaking keeps with its digits; no invisible U+2060 travels with a copy (issue 25)."""
    assert typeset("控制率为-16.56%，（2022-2024年）") == "控制率为\u221216.56%，（2022-2024年）"
    text = "\n".join(p.text for p in docx.Document(str(written)).paragraphs)
    assert "\u221216.56%" in text
    assert not re.search(r"(?<![0-9A-Za-z.])-[0-9]", text)  # no hyphen-minus left as a sign
    with zipfile.ZipFile(written) as z:
        assert not any("\u2060" in z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_every_circled_numeral_has_one_font(written: Path) -> None:
    """①–⑳ and ㉑–㉓ in runs of one font that has them all (the body fonts stop at ⑳)."""
    fonts = choose_fonts()
    assert fonts.numeral, "no installed font has every circled numeral (fonts-noto-cjk does)"
    used: dict[str, set[str]] = {}
    for p in docx.Document(str(written)).paragraphs:
        for run in p.runs:
            if re.search(f"[{CIRCLED}]", run.text):
                assert re.fullmatch(f"[{CIRCLED}]+", run.text), run.text  # a run of its own
                rfonts = run._r.rPr.find(qn("w:rFonts"))
                names = {rfonts.get(qn(k)) for k in ("w:eastAsia", "w:ascii", "w:hAnsi")}
                used[run.text] = names
    assert {"①", "⑳", "㉑", "㉓"} <= set(used)
    assert {n for names in used.values() for n in names} == {fonts.numeral}


def test_a_draft_says_so_and_a_final_report_does_not(seed: Evaluation, tmp_path: Path) -> None:
    """Issue 25: a report produced while errors remain carries 草稿 in the page header and a notice on
    its first page; one without errors carries neither. Its dates are the time it was written, never
    a made-up 2000-01-01."""
    draft = build_report(evaluate(seed))
    seed.outputs[21].shortfall_reason = "受征拆进度影响，部分点位顺延至次年整治"
    for i in (7, 16, 20):
        seed.outputs[i].excess_reason = "年初目标设置偏保守，实际需求超出预期"
    final = evaluate(seed)
    assert not final.errors and final.report.draft == ""
    for report, marked in ((draft, True), (final.report, False)):
        out = write_docx(report, tmp_path / f"{marked}.docx")
        doc = docx.Document(str(out))
        header = "".join(p.text for p in doc.sections[0].header.paragraphs)
        assert ("草稿" in header) is marked
        assert doc.paragraphs[0].text.startswith("草稿") is marked
        created = doc.core_properties.created
        assert created is not None and created.year >= 2024 and created.year != 2000
