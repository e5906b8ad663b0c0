"""Every part xlperf writes or edits validates against the ECMA-376 Transitional schemas (issue 17).

The schemas are third-party files that may not be committed: the test looks for a folder holding
``sml.xsd`` and the schemas it imports at ``$XLPERF_OOXML_SCHEMAS`` or ``../shared/schemas/ecma376``
(beside the checkout) and skips, saying so, when there is none. The set used is the one in the public
repository ``splittist/docxfix`` under ``schemas/`` (Apache-2.0, with its LICENSE): Transitional
(target namespace ``http://schemas.openxmlformats.org/spreadsheetml/2006/main``, which Excel writes).
That ``sml.xsd`` was extended by its author to import WordprocessingML, charts and document
properties, and imports markup compatibility under a misspelt namespace, which libxml2 refuses
("failed to add the schema bucket"); the test therefore keeps, in memory, only the imports
SpreadsheetML itself uses (relationships, shared types, spreadsheet drawing, the 2014/2015
revision namespaces, markup compatibility) and drops the one foreign top-level element
(``Properties``). Nothing of the schema files is changed or copied into the project.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

HERE = Path(__file__).resolve().parent
XSD = "http://www.w3.org/2001/XMLSchema"
SML_IMPORTS = {
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes",
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "http://schemas.microsoft.com/office/spreadsheetml/2014/revision",
    "http://schemas.microsoft.com/office/spreadsheetml/2015/revision2",
    "http://schemas.openxmlformats.org/markup-compatibility/2006",
}


def _folder() -> Path | None:
    for candidate in (
        os.environ.get("XLPERF_OOXML_SCHEMAS"),
        HERE.parent.parent / "shared" / "schemas" / "ecma376",
    ):
        if candidate and (Path(candidate) / "sml.xsd").is_file():
            return Path(candidate)
    return None


FOLDER = _folder()
pytestmark = pytest.mark.skipif(
    FOLDER is None,
    reason="The ECMA-376 schemas are third-party and not committed: place the schemas/ folder of "
    "splittist/docxfix (with its LICENSE) at ../shared/schemas/ecma376 or set $XLPERF_OOXML_SCHEMAS.",
)


def _sml() -> etree.XMLSchema:
    assert FOLDER is not None
    doc = etree.parse(str(FOLDER / "sml.xsd"))
    root = doc.getroot()
    seen: set[str] = set()
    for imp in root.findall(f"{{{XSD}}}import"):
        ns = imp.get("namespace", "")
        if ns not in SML_IMPORTS or ns in seen:
            root.remove(imp)
        else:
            seen.add(ns)
            imp.set("schemaLocation", str(FOLDER / imp.get("schemaLocation", "")))
    for el in root.findall(f"{{{XSD}}}element"):
        if el.get("name") == "Properties":
            root.remove(el)
    return etree.XMLSchema(doc)


def _schema(name: str) -> etree.XMLSchema:
    assert FOLDER is not None
    return etree.XMLSchema(etree.parse(str(FOLDER / name)))


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {
        "sml": _sml(),
        "ct": _schema("opc-contentTypes.xsd"),
        "rels": _schema("opc-relationships.xsd"),
        "core": _schema("opc-coreProperties.xsd"),
        "custom": _schema("shared-documentPropertiesCustom.xsd"),
    }


def _which(name: str) -> str | None:
    if name == "[Content_Types].xml":
        return "ct"
    if name.endswith(".rels"):
        return "rels"
    if name == "docProps/core.xml":
        return "core"
    if name == "docProps/custom.xml":
        return "custom"
    if (
        name.startswith("xl/")
        and name.endswith(".xml")
        and not name.startswith(("xl/theme/", "xl/drawings/"))
    ):
        return "sml"
    return None


def _outputs(tmp_path: Path) -> list[Path]:
    from test_package_writer import _score, _with_extras

    from xlperf.submission.package import export_package

    src = _with_extras(tmp_path)
    scored = _score(src, tmp_path / "scored.xlsx")
    again = _score(scored, tmp_path / "again.xlsx")
    frozen = export_package(src, tmp_path / "报送包", force=True, reason="测试").workbook
    return [scored, again, frozen]


def _invalid(schema: etree.XMLSchema, data: bytes) -> list[str]:
    doc = etree.fromstring(data)
    return [] if schema.validate(doc) else [str(e) for e in schema.error_log][:5]


def test_every_part_xlperf_writes_validates(tmp_path: Path, schemas: dict[str, Any]) -> None:
    src_parts: dict[str, bytes] = {}
    from test_package_writer import _with_extras

    (tmp_path / "src").mkdir()
    with zipfile.ZipFile(_with_extras(tmp_path / "src")) as zf:
        src_parts = {n: zf.read(n) for n in zf.namelist()}
    checked = 0
    for out in _outputs(tmp_path):
        with zipfile.ZipFile(out) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                kind = _which(name)
                if kind is None or src_parts.get(name) == data:
                    continue  # a part copied as it was is the clerk's, not ours
                errors = _invalid(schemas[kind], data)
                assert not errors, (out.name, name, errors)
                checked += 1
    assert checked >= 20


def test_a_part_out_of_schema_order_is_refused(tmp_path: Path, schemas: dict[str, Any]) -> None:
    """Negative control: the validation can fail (sheetProtection after pageMargins)."""
    outputs = _outputs(tmp_path)
    with zipfile.ZipFile(outputs[2]) as zf:
        sheet = next(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        root = etree.fromstring(zf.read(sheet))
    ns = root.nsmap.get(None)
    protection = root.find(f"{{{ns}}}sheetProtection")
    assert protection is not None
    root.remove(protection)
    root.append(protection)  # after pageMargins/extLst: out of CT_Worksheet's order
    assert _invalid(schemas["sml"], etree.tostring(root))
