"""Write a :class:`~xlperf.core.narrative.Report` as a Word document (.docx) with python-docx.

Layout after the usual Chinese official-document practice (GB/T 9704): A4, margins top 37 mm,
bottom 35 mm, left 28 mm, right 26 mm; title 二号 (22 pt) centred; 一、 in 黑体, （一） in 楷体,
1. in 仿宋 bold, body and （1）/① in 仿宋, all 三号 (16 pt); line spacing exactly 28 pt; first-line
indent two characters; the page number "— N —" centred in the footer (a PAGE field).

Fonts: Chinese text needs the East Asian font set explicitly (``w:rFonts/@w:eastAsia``), otherwise
Word and LibreOffice draw it in the Latin font's fallback. :func:`choose_fonts` takes, for each role,
the first installed font of a list (仿宋 → FangSong → 仿宋_GB2312 → 宋体 → Noto Serif CJK SC …), so a
Linux server without the Windows fonts writes a document that still renders; pass
``fonts=OFFICIAL`` to always name the Windows fonts.

Numbers and numerals: a minus sign is written as U+2212 MINUS SIGN, which line breaking keeps with
its number (Unicode line-break class PR before a digit; a hyphen-minus is a break opportunity for
Word and LibreOffice, and a lone "-" at a line end reads as a hyphen). No invisible character is
added: what a reader copies out of the report is what it shows. Circled numerals ① … ㊿ get a
run of their own in one font that has all of them (``FontSet.numeral``): the Chinese body fonts
cover ①–⑳ but not ㉑ onwards, which Word and LibreOffice would then draw in some other font.

A draft (``Report.draft``: produced while errors remain) says so twice: "草稿" in the page header
of every page and the notice in red above the title. The closing block (评价单位（盖章）, 填报人, 日期)
is set flush right after 四、.

The file is written atomically (:mod:`xlperf.files`: a temporary file in the same folder, then
``os.replace``) and is byte-for-byte reproducible for a given ``when``: core properties and zip
entry times come from it (a naive datetime is local time; default: the ``SOURCE_DATE_EPOCH``
environment variable, else now — never a made-up date such as 2000-01-01).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

from xlperf.core.narrative import Paragraph, Report
from xlperf.core.report import Role

BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
PAGE_NUMBER_SIZE = Pt(14)  # 四号
LINE = Pt(28)  # 固定值 28 磅
DRAFT_COLOR = RGBColor(0xC0, 0x00, 0x00)


@dataclass(frozen=True)
class FontSet:
    """East Asian font names by role. ``latin`` (digits, Latin letters) defaults to each role's own
    font: with a Latin font such as Times New Roman, Word and LibreOffice draw “” and ‘’ as narrow
    Western quotes in Chinese text."""

    title: str
    heading1: str
    heading2: str
    body: str
    page_number: str
    latin: str | None = None
    title_bold: bool = False
    numeral: str | None = None  # circled numerals ① … ㊿; None: the role's own font


#: The fonts Chinese official documents name (Windows ships all but 方正小标宋简体).
OFFICIAL = FontSet(title="方正小标宋简体", heading1="黑体", heading2="楷体", body="仿宋", page_number="宋体")

#: Candidates per role, best first; the first one installed wins (see :func:`choose_fonts`).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "title": (
        "方正小标宋简体",
        "方正小标宋_GBK",
        "华文中宋",
        "STZhongsong",
        "宋体",
        "SimSun",
        "Noto Serif CJK SC",
        "Source Han Serif SC",
        "Noto Sans CJK SC",
    ),
    "heading1": ("黑体", "SimHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei"),
    "heading2": (
        "楷体",
        "KaiTi",
        "楷体_GB2312",
        "KaiTi_GB2312",
        "STKaiti",
        "AR PL UKai CN",
        "Noto Serif CJK SC",
        "Source Han Serif SC",
        "Noto Sans CJK SC",
    ),
    "body": (
        "仿宋",
        "FangSong",
        "仿宋_GB2312",
        "FangSong_GB2312",
        "STFangsong",
        "宋体",
        "SimSun",
        "Noto Serif CJK SC",
        "Source Han Serif SC",
        "AR PL UMing CN",
        "Noto Sans CJK SC",
    ),
    "page_number": ("宋体", "SimSun", "Noto Serif CJK SC", "Source Han Serif SC", "Noto Sans CJK SC"),
    # fonts with every circled numeral ① … ㊿ (U+2460–2473, U+3251–325F, U+32B1–32BF)
    "numeral": (
        "Noto Serif CJK SC",
        "Source Han Serif SC",
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "Yu Mincho",
        "MS Mincho",
        "Arial Unicode MS",
    ),
}
CIRCLED = "\u2460-\u2473\u3251-\u325f\u32b1-\u32bf"
_NUMERAL_CHARSET = "2460-2473 3251-325f 32b1-32bf"  # the same, as fontconfig writes a charset

# Windows font files of the families above (the Fonts folder holds files, not family names).
_WINDOWS_FILES = {
    "黑体": "simhei.ttf",
    "SimHei": "simhei.ttf",
    "楷体": "simkai.ttf",
    "KaiTi": "simkai.ttf",
    "仿宋": "simfang.ttf",
    "FangSong": "simfang.ttf",
    "宋体": "simsun.ttc",
    "SimSun": "simsun.ttc",
    "方正小标宋简体": "FZXBSJW.TTF",
    "方正小标宋_GBK": "FZXBSK.TTF",
    "华文中宋": "STZHONGS.TTF",
    "仿宋_GB2312": "FS_GB2312.ttf",
    "楷体_GB2312": "KT_GB2312.ttf",
    "Yu Mincho": "yumin.ttf",
    "MS Mincho": "msmincho.ttc",
    "Arial Unicode MS": "ARIALUNI.TTF",
}


def installed_font_families(charset: str = "") -> frozenset[str] | None:
    """Font family names installed here (with ``charset``: only those having all of it, as
    fontconfig ranges), or None when this machine cannot tell (no fc-list)."""
    if sys.platform == "win32":
        folders = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
        local = os.environ.get("LOCALAPPDATA")
        if local:
            folders.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
        files = {p.name.lower() for folder in folders if folder.is_dir() for p in folder.iterdir()}
        names = frozenset(name for name, file in _WINDOWS_FILES.items() if file.lower() in files)
        # coverage unknown on Windows: only the numeral candidates are known to have all numerals
        return names & frozenset(CANDIDATES["numeral"]) if charset else names
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        pattern = f":charset={charset}" if charset else ":"
        done = subprocess.run(
            [fc_list, pattern, "family"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(
        name.strip() for line in done.stdout.splitlines() for name in line.split(",") if name.strip()
    )


@cache
def choose_fonts() -> FontSet:
    """For each role the first installed candidate; :data:`OFFICIAL` when installation is unknown."""
    families = installed_font_families()
    if families is None:
        return OFFICIAL

    def pick(role: str) -> str:
        return next((f for f in CANDIDATES[role] if f in families), CANDIDATES[role][0])

    title, body = pick("title"), pick("body")
    covering = installed_font_families(_NUMERAL_CHARSET) or frozenset()
    numeral = body if body in covering else next((f for f in CANDIDATES["numeral"] if f in covering), None)
    return FontSet(
        title=title,
        heading1=pick("heading1"),
        heading2=pick("heading2"),
        body=body,
        page_number=pick("page_number"),
        title_bold=not title.startswith("方正小标宋"),
        numeral=numeral,
    )


def _set_fonts(element: Any, east_asia: str, latin: str) -> None:
    """Set ascii/hAnsi/cs to ``latin`` and eastAsia to ``east_asia`` on a style or run, no theme fonts."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):
        del fonts.attrib[key]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _first_line_chars(ppr_owner: Any, chars: int) -> None:
    """First-line indent in characters (w:firstLineChars, hundredths) with a twips fallback."""
    ppr = ppr_owner.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    for key in list(ind.attrib):
        del ind.attrib[key]
    if chars:
        ind.set(qn("w:firstLineChars"), str(chars * 100))
        ind.set(qn("w:firstLine"), str(int(BODY_SIZE.pt * 20 * chars)))


def _reset_run_properties(style: Any) -> None:
    rpr = style.element.get_or_add_rPr()
    for child in list(rpr):
        rpr.remove(child)


def _paragraph_style(
    doc: DocumentObject,
    name: str,
    base: str | None,
    east_asia: str,
    latin: str,
    *,
    size: Length = BODY_SIZE,
    bold: bool = False,
    indent: int = 2,
    keep_with_next: bool = False,
    outline: int | None = None,
) -> None:
    styles = doc.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base is not None:
        style.base_style = styles[base]
    _reset_run_properties(style)
    ppr = style.element.get_or_add_pPr()
    for tag in ("w:pBdr", "w:contextualSpacing"):
        for el in ppr.findall(qn(tag)):
            ppr.remove(el)
    _set_fonts(style.element, east_asia, latin)
    font = style.font
    font.size = size
    font.bold = bold
    font.italic = False
    font.color.rgb = RGBColor(0, 0, 0)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    style.element.get_or_add_rPr().append(lang)
    pf = style.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing = LINE
    pf.keep_with_next = keep_with_next
    pf.widow_control = True
    _first_line_chars(style.element, indent)
    if outline is not None:
        for el in ppr.findall(qn("w:outlineLvl")):
            ppr.remove(el)
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), str(outline))
        ppr.append(lvl)


_STYLE_OF_LEVEL = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3", 4: "Heading 4"}


def _setup_styles(doc: DocumentObject, fonts: FontSet) -> None:
    def latin(east_asia: str) -> str:
        return fonts.latin or east_asia

    _paragraph_style(doc, "Normal", None, fonts.body, latin(fonts.body))
    for level, font, bold in (
        (1, fonts.heading1, False),
        (2, fonts.heading2, False),
        (3, fonts.body, True),
        (4, fonts.body, False),
    ):
        _paragraph_style(
            doc,
            f"Heading {level}",
            "Normal",
            font,
            latin(font),
            bold=bold,
            keep_with_next=True,
            outline=level - 1,
        )
    _paragraph_style(
        doc,
        "Title",
        "Normal",
        fonts.title,
        latin(fonts.title),
        size=TITLE_SIZE,
        bold=fonts.title_bold,
        indent=0,
    )
    title = doc.styles["Title"].paragraph_format
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.line_spacing = Pt(36)
    title.space_after = LINE


def _page_setup(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)


def _field_runs(paragraph: DocxParagraph, instruction: str, placeholder: str) -> list[Run]:
    """A complex field (begin / instrText / separate / result / end) as runs of ``paragraph``."""
    runs = []
    for kind in ("begin", "instr", "separate", "result", "end"):
        run = paragraph.add_run()
        if kind == "instr":
            text = OxmlElement("w:instrText")
            text.set(qn("xml:space"), "preserve")
            text.text = f" {instruction} "
            run._r.append(text)
        elif kind == "result":
            run.text = placeholder
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        runs.append(run)
    return runs


def _page_number_footer(doc: DocumentObject, fonts: FontSet) -> None:
    footer = doc.sections[0].footer
    para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    para.style = doc.styles["Normal"]
    pf = para.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pf.first_line_indent = Pt(0)
    _first_line_chars(para._p, 0)
    pf.line_spacing = 1.0
    runs = [para.add_run("— "), *_field_runs(para, "PAGE", "1"), para.add_run(" —")]
    for run in runs:
        run.font.size = PAGE_NUMBER_SIZE
        _set_fonts(run._r, fonts.page_number, fonts.page_number)


def _draft_marks(doc: DocumentObject, notice: str, fonts: FontSet) -> None:
    """A draft says so on every page (the header: 草稿) and on the first (the notice, in red)."""
    header = doc.sections[0].header
    para = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
    para.style = doc.styles["Normal"]
    para.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _first_line_chars(para._p, 0)
    run = para.add_run("草稿")
    run.font.size, run.font.bold, run.font.color.rgb = PAGE_NUMBER_SIZE, True, DRAFT_COLOR
    _set_fonts(run._r, fonts.heading1, fonts.heading1)
    first = doc.add_paragraph(style="Normal")
    _first_line_chars(first._p, 0)
    for run in _add_text(first, notice, fonts):
        run.font.bold, run.font.color.rgb = True, DRAFT_COLOR


def _add_paragraph(doc: DocumentObject, p: Paragraph, fonts: FontSet) -> None:
    add = doc.add_paragraph
    if p.role == Role.HEADING and p.level in _STYLE_OF_LEVEL:
        _add_text(add(style=_STYLE_OF_LEVEL[p.level]), p.text, fonts)
        return
    para = add(style="Normal")
    if p.role == Role.META:  # the closing block: flush right, as a letter's signature
        para.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _first_line_chars(para._p, 0)
    if p.role == Role.LEAD and "。" in p.text:
        head, rest = p.text.split("。", 1)
        for run in _add_text(para, head + "。", fonts):
            run.bold = p.level in (0, 3)
        if rest:
            _add_text(para, rest, fonts)
    else:
        _add_text(para, p.text, fonts)


_MINUS = re.compile(r"(?<![0-9A-Za-z.])-(?=[0-9])")  # a minus sign, not the hyphen of 2022-2024
_NUMERALS = re.compile(f"([{CIRCLED}]+)")


def typeset(text: str) -> str:
    """Text as printed: a negative number's sign as U+2212 MINUS SIGN (kept with its digits)."""
    return _MINUS.sub("\u2212", text)


def _add_text(para: DocxParagraph, text: str, fonts: FontSet) -> list[Run]:
    """``text`` as runs of ``para``: circled numerals in runs of their own font, minus signs bound."""
    runs = []
    for i, part in enumerate(_NUMERALS.split(typeset(text))):
        if not part:
            continue
        run = para.add_run(part)
        if i % 2 and fonts.numeral:
            _set_fonts(run._r, fonts.numeral, fonts.numeral)
        runs.append(run)
    return runs


def _normalised_zip(data: bytes, when: datetime) -> bytes:
    """The same package with every entry's time set to ``when``: reproducible bytes."""
    stamp = max(when.astimezone(UTC), datetime(1980, 1, 1, tzinfo=UTC)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _default_time() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC).replace(microsecond=0)


def render_docx(report: Report, *, fonts: FontSet | None = None, when: datetime | None = None) -> bytes:
    """The .docx bytes of ``report`` (see the module docstring for layout and fonts)."""
    fonts = fonts or choose_fonts()
    when = (when or _default_time()).astimezone(UTC)  # a naive datetime is local time
    doc = Document()
    _page_setup(doc)
    _setup_styles(doc, fonts)
    _page_number_footer(doc, fonts)
    body = doc.element.body
    for child in list(body):  # the template's empty first paragraph
        if child.tag == qn("w:p"):
            body.remove(child)
    if report.draft:
        _draft_marks(doc, report.draft, fonts)
    doc.add_paragraph(report.title, style="Title")
    closing = False
    for p in report.paragraphs:
        if p.role == Role.META and not closing:
            doc.add_paragraph(style="Normal")  # a blank line before the closing block
            closing = True
        _add_paragraph(doc, p, fonts)
    props = doc.core_properties
    props.title = report.title
    # python-docx refuses core properties over 255 characters; a long department name is clipped here
    props.subject = " ".join(
        x for x in (report.department, f"{report.year}年度" if report.year else "") if x
    )[:255]
    props.author = (report.department or "xlperf")[:255]
    props.last_modified_by = "xlperf"
    props.comments = "由 xlperf 根据评分结果生成"
    props.keywords = "部门整体支出绩效自评"
    props.created = when
    props.modified = when
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return _normalised_zip(buffer.getvalue(), when)


def write_docx(
    report: Report, path: Path, *, fonts: FontSet | None = None, when: datetime | None = None
) -> Path:
    """Write ``report`` to ``path`` atomically (:func:`xlperf.files.atomic_write_bytes`; an OSError
    propagates for the caller to explain)."""
    from xlperf.files import atomic_write_bytes

    path = Path(path)
    data = render_docx(report, fonts=fonts, when=when)
    atomic_write_bytes(path, data, plain_errors=True)
    return path


__all__ = [
    "CANDIDATES",
    "OFFICIAL",
    "FontSet",
    "choose_fonts",
    "installed_font_families",
    "render_docx",
    "typeset",
    "write_docx",
]
