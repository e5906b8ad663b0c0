"""The VBA modules of xlperf.xlam: where each one comes from and how generated ones are written.

* ``xlwings`` and ``Dictionary``: taken from the installed (pinned) xlwings wheel,
  ``xlwings_custom_addin.bas`` with ``PROJECT_NAME`` set, and ``addin/Dictionary.cls`` (needed on Mac).
* ``xlperf_Ribbon``, ``ThisWorkbook``, ``xlperf_Test``: hand-written sources in ``xlperf/excel/macros/``
  (package data: they travel in the wheel, so ``xlperf addin build`` works from a plain ``pip install``).
* ``xlperf_udfs``: generated from :data:`xlperf.excel.registry.UDFS` in the shape of xlwings'
  ``generate_vba_wrapper`` (xlwings/udfs.py), plus a sub that registers the Chinese help texts.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

from xlperf.excel.registry import (
    BUTTONS,
    NO_WORKBOOK_MESSAGE,
    PROTECTED_VIEW_MESSAGE,
    UDF_CATEGORY,
    UDF_MODULE,
    UDFS,
    Udf,
)
from xlperf.excel.vba.ovba import WORKBOOK_BASE, WORKSHEET_BASE, Module, ModuleKind, module_source

__all__ = [
    "CONFIG_SHEET_CODENAME",
    "PROJECT_NAME",
    "RIBBON_MODULE",
    "SELFTEST_MODULE",
    "UDF_VBA_MODULE",
    "addin_modules",
    "chrw_function_text",
    "default_macros_dir",
    "dictionary_module",
    "read_macro",
    "ribbon_module",
    "udf_wrapper_source",
    "vba_string_expr",
    "xlwings_module",
]

PROJECT_NAME = "xlperf"
RIBBON_MODULE = "xlperf_Ribbon"
UDF_VBA_MODULE = "xlperf_udfs"
SELFTEST_MODULE = "xlperf_Test"
CONFIG_SHEET_CODENAME = "Sheet1"

_PROJECT_NAME_RE = re.compile(r'^(Public Const PROJECT_NAME As String = )"[^"\r\n]*"(\r?)$', re.MULTILINE)
_XLWINGS_VERSION_RE = re.compile(r'^Public Const XLWINGS_VERSION As String = "([^"]*)"', re.MULTILINE)


def default_macros_dir() -> Path:
    """``xlperf/excel/macros/``: the hand-written VBA sources, installed with the package."""
    return Path(__file__).resolve().parents[1] / "macros"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def read_macro(name: str, macros_dir: Path | None = None) -> str:
    """Read one VBA source from the macros folder as ASCII text with CRLF line endings."""
    path = (macros_dir or default_macros_dir()) / name
    if not path.is_file():
        raise FileNotFoundError(
            f"VBA source {path} not found: the xlperf installation is incomplete (reinstall it)"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} must be ASCII (write Chinese text as ChrW(&H....)): {exc}") from exc
    return _crlf(text)


_NO_WORKBOOK_RE = re.compile(r'^Private Const NO_WORKBOOK_BUTTONS As String = "([^"]*)"\r$', re.MULTILINE)


def ribbon_module(macros_dir: Path | None = None) -> Module:
    """``xlperf_Ribbon`` from ``xlperf_ribbon.bas``, checked against the registry.

    Its ``NO_WORKBOOK_BUTTONS`` constant (the buttons ``OnRibbon`` runs when no workbook is open)
    must list exactly the registry's buttons with ``needs_workbook=False``.
    """
    source = read_macro("xlperf_ribbon.bas", macros_dir)
    found = _NO_WORKBOOK_RE.findall(source)
    expected = "|" + "".join(f"{b.id}|" for b in BUTTONS if not b.needs_workbook)
    if found != [expected]:
        raise ValueError(f"xlperf_ribbon.bas: NO_WORKBOOK_BUTTONS is {found}, the registry says {expected!r}")
    for function, text in (
        ("NoWorkbookMessage", NO_WORKBOOK_MESSAGE),
        ("ProtectedViewMessage", PROTECTED_VIEW_MESSAGE),
    ):
        spelled = chrw_function_text(source, function)
        if spelled != text:
            raise ValueError(f"xlperf_ribbon.bas: {function} spells {spelled!r}, the registry says {text!r}")
    return Module(RIBBON_MODULE, source)


def chrw_function_text(source: str, function: str) -> str | None:
    """The text a ``Private Function <function>() As String`` made only of ChrW(&H....) returns."""
    m = re.search(
        rf"^Private Function {function}\(\) As String\r\n    {function} = (.*?)\r\nEnd Function",
        source,
        re.MULTILINE | re.DOTALL,
    )
    if m is None:
        return None
    expr = m.group(1).replace(" _\r\n", " ")
    if not re.fullmatch(r"ChrW\(&H[0-9A-F]{4}\)( +& +ChrW\(&H[0-9A-F]{4}\))*", expr.strip()):
        return None
    return "".join(chr(int(h, 16)) for h in re.findall(r"&H([0-9A-F]{4})", expr))


def _xlwings_dir() -> Path:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("xlwings is not installed; the add-in embeds its VBA module")
    return Path(next(iter(spec.submodule_search_locations)))


def xlwings_module(project_name: str = PROJECT_NAME) -> Module:
    """The xlwings VBA module (``RunPython``, ``XLPy``) from the installed wheel, for this project.

    ``xlwings_custom_addin.bas`` reads its config sheet and file names from ``PROJECT_NAME``;
    the constant must appear exactly once, and the module must be the one of the installed xlwings
    version (its ``Declare`` lines name ``xlwings64-<version>.dll``).
    """
    path = _xlwings_dir() / "xlwings_custom_addin.bas"
    text = _crlf(path.read_bytes().decode("ascii"))
    text, count = _PROJECT_NAME_RE.subn(lambda m: f'{m.group(1)}"{project_name}"{m.group(2)}', text)
    if count != 1:
        raise RuntimeError(f"{path}: expected exactly one 'Public Const PROJECT_NAME' line, found {count}")
    version = _XLWINGS_VERSION_RE.search(text)
    installed = importlib.metadata.version("xlwings")
    if version is None or version.group(1) != installed:
        raise RuntimeError(f"{path}: XLWINGS_VERSION does not match the installed xlwings {installed}")
    if not text.startswith('Attribute VB_Name = "xlwings"\r\n'):
        raise RuntimeError(f"{path}: unexpected first line, expected the xlwings module name")
    return Module("xlwings", text, ModuleKind.STANDARD)


def dictionary_module() -> Module:
    """xlwings' ``Dictionary`` class (VBA-Dictionary), used by the xlwings module on Mac.

    An exported ``.cls`` starts with a ``VERSION 1.0 CLASS`` / ``BEGIN`` ... ``END`` header that the
    stored module does not have; the stored attribute block also carries VB_Base, VB_TemplateDerived
    and VB_Customizable (as in the modules of xlwings' own add-ins).
    """
    path = _xlwings_dir() / "addin" / "Dictionary.cls"
    lines = _crlf(path.read_bytes().decode("ascii")).split("\r\n")
    try:
        end = lines.index("END")
    except ValueError as exc:
        raise RuntimeError(f"{path}: no VERSION/BEGIN/END class header") from exc
    lines = lines[end + 1 :]
    n_attr = 0
    while n_attr < len(lines) and lines[n_attr].startswith("Attribute VB_"):
        n_attr += 1
    attrs, rest = lines[:n_attr], lines[n_attr:]
    if not attrs or attrs[0] != 'Attribute VB_Name = "Dictionary"':
        raise RuntimeError(f"{path}: unexpected attribute lines {attrs[:1]}")
    out = [attrs[0], 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"']
    for line in attrs[1:]:
        out.append(line)
        if line.startswith("Attribute VB_Exposed"):
            out += ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return Module("Dictionary", "\r\n".join(out + rest), ModuleKind.CLASS)


# -------------------------------------------------------------------------------------------- UDF wrappers


def vba_string_expr(text: str) -> str:
    """A VBA expression for ``text`` that keeps the source ASCII: non-ASCII characters become ChrW()."""
    parts: list[str] = []
    literal = ""
    for ch in text:
        if " " <= ch <= "~":
            literal += '""' if ch == '"' else ch
        else:
            if literal:
                parts.append(f'"{literal}"')
                literal = ""
            parts.append(f"ChrW(&H{ord(ch):04X})")
    if literal or not parts:
        parts.append(f'"{literal}"')
    return " & ".join(parts)


def _wrapper(udf: Udf, lines: list[str]) -> None:
    # Same text as xlwings.udfs.generate_vba_wrapper for a Function with call_in_wizard=True,
    # volatile=False, no varargs, in an .xlam (so ActiveWorkbook, not ThisWorkbook).
    sig = ", ".join(("Optional " if a.optional else "") + a.name for a in udf.args)
    args = "Array(" + ", ".join([*(a.name for a in udf.args), *(["Nothing"] if udf.caller else [])]) + ")"
    name = udf.name
    lines += [
        f"Function {name}({sig})",
        '    #If App = "Microsoft Excel" Then',
        "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
        f'        {name} = XLPy.CallUDF("{UDF_MODULE}", "{name}", {args}, ActiveWorkbook, '
        "Application.Caller)",
        "        Exit Function",
        "    #Else",
        f'        {name} = XLPy.CallUDF("{UDF_MODULE}", "{name}", {args})',
        "        Exit Function",
        "    #End If",
        "failed:",
        f"    {name} = Err.Description",
        "End Function",
        "",
    ]


def udf_wrapper_source(udfs: Sequence[Udf] = UDFS) -> str:
    """The complete stored text of the ``xlperf_udfs`` module (CRLF, ASCII).

    Besides one wrapper per UDF it defines ``xlperf_RegisterUdfHelp``, called from
    ``Workbook_Open``, which gives each function its Chinese description, category and argument
    help in Excel's function wizard (``Application.MacroOptions``, Excel 2010+).
    """
    lines = [
        f'Attribute VB_Name = "{UDF_VBA_MODULE}"',
        "'Autogenerated by xlperf from xlperf/excel/registry.py - changes will be lost with next build!",
        '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel',
    ]
    for udf in udfs:
        _wrapper(udf, lines)
    lines += [
        "Public Sub xlperf_RegisterUdfHelp()",
        "    ' Help texts are Chinese; ChrW keeps this module ASCII whatever the project code page.",
        "    Dim category As String",
        "    Dim args() As Variant",
        "    On Error Resume Next",
        f"    category = {vba_string_expr(UDF_CATEGORY)}",
    ]
    for udf in udfs:
        lines.append(f"    ReDim args(0 To {len(udf.args) - 1})")
        lines += [f"    args({i}) = {vba_string_expr(a.help)}" for i, a in enumerate(udf.args)]
        lines += [
            f'    Application.MacroOptions Macro:="\'" & ThisWorkbook.Name & "\'!{udf.name}", _',
            f"        Description:={vba_string_expr(udf.help)}, _",
            "        Category:=category, ArgumentDescriptions:=args",
        ]
    lines += ["End Sub", ""]
    text = "\r\n".join(lines)
    for line in lines:
        if len(line) > 1023:  # VBA's physical line limit
            raise ValueError(f"generated VBA line too long ({len(line)} characters): {line[:60]}...")
    return text


def addin_modules(
    *, macros_dir: Path | None = None, selftest: bool = False, include_xlwings: bool = True
) -> list[Module]:
    """All modules of the xlperf VBA project, in project order.

    ``selftest`` adds the ``xlperf_Test`` module used by the LibreOffice smoke test;
    ``include_xlwings=False`` leaves out the ``xlwings`` and ``Dictionary`` modules (only for that
    test: LibreOffice Basic cannot compile them, and one module it cannot compile stops every macro
    of the project from running).
    """
    modules = [
        Module(
            "ThisWorkbook",
            module_source(
                "ThisWorkbook",
                read_macro("ThisWorkbook.vba", macros_dir),
                ModuleKind.DOCUMENT,
                base=WORKBOOK_BASE,
            ),
            ModuleKind.DOCUMENT,
        ),
        Module(
            CONFIG_SHEET_CODENAME,
            module_source(CONFIG_SHEET_CODENAME, "", ModuleKind.DOCUMENT, base=WORKSHEET_BASE),
            ModuleKind.DOCUMENT,
        ),
        *([xlwings_module(), dictionary_module()] if include_xlwings else []),
        ribbon_module(macros_dir),
        Module(UDF_VBA_MODULE, udf_wrapper_source()),
    ]
    if selftest:
        modules.append(Module(SELFTEST_MODULE, read_macro("xlperf_selftest.bas", macros_dir)))
    return modules
