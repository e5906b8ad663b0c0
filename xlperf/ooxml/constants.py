"""The names SpreadsheetML packages are made of (ECMA-376): namespaces, content types, relationship
types, error values and built-in number formats — the one place xlperf writes them."""

from __future__ import annotations

from typing import Final

# -- namespaces ---------------------------------------------------------------------------------------
MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: relationship ids in a part (``r:id``) and the stem of the transitional relationship types
R: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES: Final = "http://schemas.openxmlformats.org/package/2006/content-types"
VML: Final = "urn:schemas-microsoft-com:vml"
OFFICE: Final = "urn:schemas-microsoft-com:office:office"
EXCEL: Final = "urn:schemas-microsoft-com:office:excel"
XML: Final = "http://www.w3.org/XML/1998/namespace"

#: the part that names every other part's content type
CONTENT_TYPES_PART: Final = "[Content_Types].xml"


class CT:
    """Content types."""

    WORKBOOK: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    WORKBOOK_MACRO: Final = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    TEMPLATE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
    TEMPLATE_MACRO: Final = "application/vnd.ms-excel.template.macroEnabled.main+xml"
    WORKSHEET: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    SHARED_STRINGS: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    COMMENTS: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
    VML_DRAWING: Final = "application/vnd.openxmlformats-officedocument.vmlDrawing"
    PRINTER_SETTINGS: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"
    CORE_PROPERTIES: Final = "application/vnd.openxmlformats-package.core-properties+xml"
    CUSTOM_PROPERTIES: Final = "application/vnd.openxmlformats-officedocument.custom-properties+xml"


#: the content types of a workbook part, in the order openpyxl (and so the stream reader) looks for them
WORKBOOK_TYPES: Final = (CT.TEMPLATE_MACRO, CT.TEMPLATE, CT.WORKBOOK_MACRO, CT.WORKBOOK)


class RT:
    """Relationship types. Matched on their last segment (:meth:`xlperf.ooxml.package.Rel.is_a`), so
    a Strict OOXML package's ``http://purl.oclc.org/ooxml/…`` types match too."""

    OFFICE_DOCUMENT: Final = f"{R}/officeDocument"
    WORKSHEET: Final = f"{R}/worksheet"
    CHARTSHEET: Final = f"{R}/chartsheet"
    STYLES: Final = f"{R}/styles"
    COMMENTS: Final = f"{R}/comments"
    VML_DRAWING: Final = f"{R}/vmlDrawing"
    HYPERLINK: Final = f"{R}/hyperlink"
    TABLE: Final = f"{R}/table"
    CALC_CHAIN: Final = f"{R}/calcChain"
    EXTERNAL_LINK: Final = f"{R}/externalLink"
    CUSTOM_PROPERTIES: Final = f"{R}/custom-properties"
    CORE_PROPERTIES: Final = f"{PKG_REL}/metadata/core-properties"
    VBA_PROJECT: Final = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"


#: Excel's error values: a cell of type ``e``, or a cached formula result, holding one is an error
ERROR_CODES: Final = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
    "#PYTHON!",
)

#: ECMA-376 Part 1, 18.8.30: the built-in number formats (the ids openpyxl knows)
BUILTIN_FORMATS: Final[dict[int, str]] = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}
