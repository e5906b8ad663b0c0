"""Pictures, charts and every other drawing in an input sheet reach the scored copy and the 报送
workbook (issue 12, case 5; issue 17).

Both are written by the package writer, which copies the clerk's parts byte for byte, so nothing is
refused any more: shapes, text boxes and pictures Pillow cannot read (which an openpyxl re-save
dropped, so xlperf refused them) are kept too. What is kept is checked byte for byte in the zip, by
openpyxl, and by LibreOffice (PDF export, then poppler's ``pdfimages``), a reader that is not openpyxl.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from office import convert
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.image import Image
from PIL import Image as PillowImage

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

SEAL = (180, 20, 30)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def png() -> bytes:
    buf = io.BytesIO()
    PillowImage.new("RGB", (120, 80), SEAL).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def with_pictures(tmp_path: Path) -> Path:
    """The clean seed with a "scanned seal" picture and a chart on 填表说明."""
    from test_submit import clean_evaluation

    ev = clean_evaluation()
    wb = build_workbook(get_framework(ev.framework), ev)
    ws = wb[L.README]
    ws.add_image(Image(io.BytesIO(png())), "H2")
    chart = BarChart()
    chart.title = "示意图"
    chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=3))
    ws.add_chart(chart, "H20")
    return save_workbook(wb, tmp_path / "work" / "白云区科工商信局_2023.xlsx")


def media(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        return [zf.read(n) for n in sorted(zf.namelist()) if n.startswith("xl/media/")]


def kept(path: Path) -> None:
    assert media(path) == [png()]  # the picture, byte for byte
    wb = openpyxl.load_workbook(path)
    assert len(wb[L.README]._images) == 1 and len(wb[L.README]._charts) == 1
    with zipfile.ZipFile(path) as zf:
        [chart] = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        assert "示意图" in zf.read(chart).decode("utf-8")


def pdf_images(path: Path, tmp_path: Path) -> list[str]:
    pdf = convert(path, "pdf", tmp_path / "pdf", tmp_path / "lo-profile")
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in listing.splitlines()[2:] if line.strip()]


@pytest.mark.slow
def test_pictures_and_charts_reach_the_scored_copy(with_pictures: Path, tmp_path: Path) -> None:
    result: Any = CliRunner().invoke(main, ["run", str(with_pictures)])
    assert result.exit_code == 0, result.output
    scored = with_pictures.with_name(f"{with_pictures.stem}.scored.xlsx")
    kept(scored)
    assert len(pdf_images(scored, tmp_path)) >= 1  # LibreOffice finds the picture too


@pytest.mark.slow
def test_pictures_and_charts_reach_the_submitted_workbook(with_pictures: Path, tmp_path: Path) -> None:
    result: Any = CliRunner().invoke(
        main, ["submit", str(with_pictures), "--eml", str(tmp_path / "草稿.eml")]
    )
    assert result.exit_code == 0, result.output
    [frozen] = (with_pictures.parent / "报送包_区科工商信局_2023").glob("*.xlsx")
    kept(frozen)
    assert len(pdf_images(frozen, tmp_path)) >= 1


A = "http://schemas.openxmlformats.org/drawingml/2006/main"
SHAPE = (
    "<twoCellAnchor><from><col>8</col><colOff>0</colOff><row>40</row><rowOff>0</rowOff></from>"
    '<to><col>12</col><colOff>0</colOff><row>44</row><rowOff>0</rowOff></to><sp macro="" textlink="">'
    '<nvSpPr><cNvPr id="9" name="TextBox 1"/><cNvSpPr txBox="1"/></nvSpPr>'
    f'<spPr><a:prstGeom xmlns:a="{A}" prst="rect"><a:avLst/></a:prstGeom></spPr>'
    f'<txBody><a:bodyPr xmlns:a="{A}"/><a:p xmlns:a="{A}"><a:r><a:t>已审核</a:t></a:r></a:p></txBody></sp>'
    "<clientData/></twoCellAnchor>"
).encode()


def rewrite(src: Path, dest: Path, change: Any) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info)))
    return dest


def drawing_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.startswith(("xl/drawings/drawing", "xl/media/"))}


@pytest.mark.parametrize("what", ["text box", "unreadable picture"])
def test_what_openpyxl_would_drop_is_kept_byte_for_byte(
    with_pictures: Path, tmp_path: Path, what: str
) -> None:
    def change(name: str, data: bytes) -> bytes:
        if what == "text box" and re.fullmatch(r"xl/drawings/drawing\d+\.xml", name):
            assert data.endswith(b"</wsDr>")
            return data.replace(b"</wsDr>", SHAPE + b"</wsDr>")
        if what == "unreadable picture" and name.startswith("xl/media/"):
            return b"not a picture Pillow can read"
        return data

    (tmp_path / "bad").mkdir()
    src = rewrite(with_pictures, tmp_path / "bad" / "wb.xlsx", change)
    before = drawing_parts(src)
    assert (SHAPE in b"".join(before.values())) == (what == "text box")
    result: Any = CliRunner().invoke(main, ["check", str(src)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["run", str(src)])
    assert result.exit_code == 0, result.output
    assert drawing_parts(src.with_name(f"{src.stem}.scored.xlsx")) == before
    result = CliRunner().invoke(main, ["submit", str(src), "--eml", str(tmp_path / "草稿.eml")])
    assert result.exit_code == 0, result.output
    [frozen] = (src.parent / "报送包_区科工商信局_2023").glob("*.xlsx")
    assert drawing_parts(frozen) == before
    assert "Traceback" not in result.output


def test_pdfimages_is_there() -> None:
    assert shutil.which("pdfimages"), "poppler-utils is required (apt-get install poppler-utils)"
