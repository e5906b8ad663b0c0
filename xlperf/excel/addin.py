"""Build ``xlperf.xlam`` (the Excel add-in) and a twin ``.xlsm`` in pure Python, reproducibly.

The package is a minimal OOXML workbook: one config sheet named ``xlperf.conf`` (the name the
xlwings VBA looks for: ``PROJECT_NAME & ".conf"``), ``xl/vbaProject.bin`` written by
:mod:`xlperf.excel.vba`, and the ribbon ``customUI/customUI14.xml`` generated from
:mod:`xlperf.excel.registry`. Zip entries are sorted and carry a fixed timestamp, so building twice
from the same sources gives identical bytes. See docs/EXCEL.md sections 1-2.

Run ``python -m xlperf.excel.addin OUTPUT_DIR`` to build both files.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from xlperf.excel.registry import BUTTONS, GROUPS, RIBBON_TAB_ID, RIBBON_TAB_LABEL, UDF_MODULE
from xlperf.excel.vba.ovba import build_vba_project
from xlperf.excel.vba.sources import CONFIG_SHEET_CODENAME, PROJECT_NAME, RIBBON_MODULE, addin_modules
from xlperf.ooxml.constants import CT, MAIN, RT, R

__all__ = [
    "ADDIN_FILENAME",
    "CONFIG_SHEET_NAME",
    "RIBBON_CALLBACK",
    "build_addin",
    "build_xlsm",
    "config_rows",
    "ribbon_xml",
    "vba_project_bytes",
]

ADDIN_FILENAME = "xlperf.xlam"
CONFIG_SHEET_NAME = f"{PROJECT_NAME}.conf"
RIBBON_CALLBACK = f"{RIBBON_MODULE}.OnRibbon"

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
REL_UI_EXTENSIBILITY = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
CT_ADDIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # earliest date a zip entry can carry

# Config keys the xlwings VBA reads (GetConfig calls in xlwings_custom_addin.bas, upper-cased).
_KNOWN_CONFIG_KEYS = frozenset(
    {
        "INTERPRETER",
        "INTERPRETER_WIN",
        "INTERPRETER_MAC",
        "PYTHONPATH",
        "UDF MODULES",
        "DEBUG UDFS",
        "USE UDF SERVER",
        "SHOW CONSOLE",
        "CONDA PATH",
        "CONDA ENV",
        "LICENSE_KEY",
        "TEMP DIR",
        "ADD_WORKBOOK_TO_PYTHONPATH",
        "SHOW_ERROR_POPUPS",
        "ONEDRIVE_CONSUMER_WIN",
        "ONEDRIVE_COMMERCIAL_WIN",
        "SHAREPOINT_WIN",
        "ONEDRIVE_CONSUMER_MAC",
        "ONEDRIVE_COMMERCIAL_MAC",
        "SHAREPOINT_MAC",
    }
)


def ribbon_xml() -> str:
    """The ``customUI14.xml`` ribbon: one tab, its groups, one button per registry entry."""

    # Unqualified tags plus an explicit xmlns attribute: no global ET.register_namespace state.
    root = ET.Element("customUI", {"xmlns": CUSTOMUI_NS})
    tabs = ET.SubElement(ET.SubElement(root, "ribbon"), "tabs")
    tab = ET.SubElement(tabs, "tab", {"id": RIBBON_TAB_ID, "label": RIBBON_TAB_LABEL})
    for group in GROUPS:
        members = [b for b in BUTTONS if b.group == group.id]
        if not members:
            continue
        grp = ET.SubElement(tab, "group", {"id": group.id, "label": group.label})
        for b in members:
            ET.SubElement(
                grp,
                "button",
                {
                    "id": b.id,
                    "label": b.label,
                    "size": "large",
                    "imageMso": b.image_mso,
                    "screentip": b.label,
                    "supertip": b.help,
                    "onAction": RIBBON_CALLBACK,
                },
            )
    unknown = {b.group for b in BUTTONS} - {g.id for g in GROUPS}
    if unknown:
        raise ValueError(f"ribbon buttons refer to unknown groups: {sorted(unknown)}")
    ET.indent(root, space="  ")
    return _XML_DECL + ET.tostring(root, encoding="unicode") + "\n"


def config_rows(config: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Key/value rows of the ``xlperf.conf`` sheet.

    ``UDF Modules`` is always ``xlperf.excel.udfs``. Other keys (``Interpreter_Win``,
    ``Interpreter_Mac``, ``PYTHONPATH``, ...) are written only when given a non-empty value: the xlwings
    VBA stops at the first layer that has a key (sheet, then directory, then
    ``%USERPROFILE%\\.xlperf\\xlperf.conf``), so an empty cell would hide the user's config file.
    """
    rows: dict[str, tuple[str, str]] = {"UDF MODULES": ("UDF Modules", UDF_MODULE)}
    for key, value in (config or {}).items():
        norm = key.strip().upper()
        if norm not in _KNOWN_CONFIG_KEYS:
            raise ValueError(
                f"unknown xlwings config key {key!r}; known: {', '.join(sorted(_KNOWN_CONFIG_KEYS))}"
            )
        if norm == "UDF MODULES" and value != UDF_MODULE:
            raise ValueError(f"UDF Modules must be {UDF_MODULE!r} (the VBA wrappers call that module)")
        if value:
            rows[norm] = (key.strip(), value)
    return list(rows.values())


def vba_project_bytes(
    *, macros_dir: Path | None = None, selftest: bool = False, include_xlwings: bool = True
) -> bytes:
    """``vbaProject.bin`` of the add-in; the keywords are for the LibreOffice test (see addin_modules)."""
    modules = addin_modules(macros_dir=macros_dir, selftest=selftest, include_xlwings=include_xlwings)
    return build_vba_project(PROJECT_NAME, modules)


def _sheet_xml(rows: list[tuple[str, str]]) -> str:
    cells = []
    for r, (key, value) in enumerate(rows, start=1):
        cells.append(
            f'<row r="{r}">'
            f'<c r="A{r}" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
            f'<c r="B{r}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
            "</row>"
        )
    return (
        f'{_XML_DECL}<worksheet xmlns="{MAIN}" xmlns:r="{R}">'
        f'<sheetPr codeName="{CONFIG_SHEET_CODENAME}"/>'
        '<cols><col min="1" max="1" width="28" customWidth="1"/><col min="2" max="2" width="60" '
        'customWidth="1"/></cols>'
        f"<sheetData>{''.join(cells)}</sheetData></worksheet>"
    )


def _package(
    main_content_type: str, vba: bytes, rows: list[tuple[str, str]], *, ribbon: bool
) -> dict[str, bytes]:
    overrides = [
        ("/xl/workbook.xml", main_content_type),
        (
            "/xl/worksheets/sheet1.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        ),
        ("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
    ]
    content_types = (
        f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        + "".join(f"<Override PartName={quoteattr(p)} ContentType={quoteattr(t)}/>" for p, t in overrides)
        + "</Types>"
    )
    root_rels = [("rId1", RT.OFFICE_DOCUMENT, "xl/workbook.xml")]
    if ribbon:
        root_rels.append(("rId2", REL_UI_EXTENSIBILITY, "customUI/customUI14.xml"))
    workbook = (
        f'{_XML_DECL}<workbook xmlns="{MAIN}" xmlns:r="{R}">'
        '<workbookPr codeName="ThisWorkbook"/>'
        "<bookViews><workbookView/></bookViews>"
        f'<sheets><sheet name={quoteattr(CONFIG_SHEET_NAME)} sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    styles = (
        f'{_XML_DECL}<styleSheet xmlns="{MAIN}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    wb_rels = [
        ("rId1", RT.WORKSHEET, "worksheets/sheet1.xml"),
        ("rId2", RT.STYLES, "styles.xml"),
        ("rId3", RT.VBA_PROJECT, "vbaProject.bin"),
    ]
    parts: dict[str, bytes] = {
        "[Content_Types].xml": content_types.encode(),
        "_rels/.rels": _rels(root_rels).encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": _rels(wb_rels).encode(),
        "xl/worksheets/sheet1.xml": _sheet_xml(rows).encode(),
        "xl/styles.xml": styles.encode(),
        "xl/vbaProject.bin": vba,
    }
    if ribbon:
        parts["customUI/customUI14.xml"] = ribbon_xml().encode()
    return parts


def _rels(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<Relationship Id={quoteattr(i)} Type={quoteattr(t)} Target={quoteattr(target)}/>"
        for i, t, target in rels
    )
    return f'{_XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>'


def _write_zip_atomic(output: Path, parts: Mapping[str, bytes]) -> Path:
    from xlperf.files import atomic_path

    with atomic_path(output, plain_errors=True) as tmp, tmp.open("wb") as fh, zipfile.ZipFile(fh, "w") as zf:
        # Sorted names ("[Content_Types].xml" sorts first) and fixed metadata: reproducible bytes.
        for name in sorted(parts):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, parts[name], compresslevel=9)
    return output


def _target(output: Path, default_name: str) -> Path:
    return output / default_name if output.is_dir() else output


def build_addin(
    output: Path,
    *,
    config: Mapping[str, str] | None = None,
    macros_dir: Path | None = None,
) -> Path:
    """Write the add-in and return its path.

    ``output`` is a file path or an existing directory (then ``xlperf.xlam`` inside it). ``config``
    adds rows to the ``xlperf.conf`` sheet, e.g. ``{"Interpreter_Win": sys.executable}``; see
    :func:`config_rows`. ``macros_dir`` defaults to ``macros/`` of the source tree. The file is written
    to a temporary name in the same directory and then renamed, so a reader never sees half a file.
    """
    parts = _package(CT_ADDIN, vba_project_bytes(macros_dir=macros_dir), config_rows(config), ribbon=True)
    return _write_zip_atomic(_target(Path(output), ADDIN_FILENAME), parts)


def build_xlsm(
    output: Path,
    *,
    config: Mapping[str, str] | None = None,
    macros_dir: Path | None = None,
    include_xlwings: bool = True,
) -> Path:
    """Write the add-in's VBA project as an ordinary macro-enabled workbook (``.xlsm``) and return its path.

    It holds the same modules plus ``xlperf_Test``, whose ``xlperf_SelfTest`` writes ``ok`` to D1 and
    ``绩效`` (built with ChrW) to D2 of the first sheet. LibreOffice cannot open an ``.xlam``; this twin
    lets it import and run the project (docs/EXCEL.md section 2). LibreOffice Basic cannot compile
    xlwings' module, and then runs no macro of the project at all, so the run check uses
    ``include_xlwings=False``. ``output`` is a file path or a directory (then ``xlperf_selftest.xlsm``).
    """
    vba = vba_project_bytes(macros_dir=macros_dir, selftest=True, include_xlwings=include_xlwings)
    parts = _package(CT.WORKBOOK_MACRO, vba, config_rows(config), ribbon=True)
    return _write_zip_atomic(_target(Path(output), "xlperf_selftest.xlsm"), parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m xlperf.excel.addin OUTPUT_DIR``: build ``xlperf.xlam`` and the test ``.xlsm``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m xlperf.excel.addin OUTPUT_DIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    print(build_addin(out))
    print(build_xlsm(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
