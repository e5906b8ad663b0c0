"""The ribbon XML of xlperf.xlam against Microsoft's own definitions, not against our writer.

* ``customUI14.xml`` is validated with lxml against Microsoft's ``customui14.xsd``. No PyPI, npm or
  Debian package ships that file, and it may not be committed here (it is third-party material), so
  the test reads it from ``$XLPERF_CUSTOMUI14_XSD`` or ``../shared/schemas/customui14.xsd`` (the
  ``shared/`` folder beside the checkout) and is skipped, saying so, when neither exists. A copy with
  its licence is in the public repository fernandreu/office-ribbonx-editor,
  ``src/OfficeRibbonXEditor/Resources/Schemas/customui14.xsd``. libxml2 refuses the published file
  because some types re-declare attributes their base type already has; :func:`load_customui_schema`
  removes exactly those duplicate uses (the ones libxml2 names), nothing else.
* Every ``imageMso`` must be a built-in Excel image name. :data:`VERIFIED_IMAGE_MSO` lists the ones
  xlperf uses, each checked by hand in Microsoft's published list of Excel control identifiers
  (OfficeDev/office-fluent-ui-command-identifiers, ``Microsoft 365/Current Channel/excelcontrols.xlsx``);
  ``CreateReport``, used before, is an Access control and is not in it. When that workbook is
  provided (``$XLPERF_EXCEL_CONTROLS`` or ``../shared/schemas/excelcontrols.xlsx``) the test also
  checks every name against it.
"""

from __future__ import annotations

import copy
import os
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from xlperf.excel import addin
from xlperf.excel.registry import BUTTONS

ROOT = Path(__file__).resolve().parents[1]
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
_NS = {"xsd": XSD_NS}

# Checked by hand against Microsoft's excelcontrols.xlsx (Current Channel); see the module docstring.
VERIFIED_IMAGE_MSO = frozenset(
    {
        "DataValidation",
        "CalculateNow",
        "FileProperties",
        "FileSaveAs",
        "FileSendAsAttachment",
        "FileNew",
        "UpgradeWorkbook",
        "Help",
    }
)


def _third_party(env: str, name: str) -> Path | None:
    given = os.environ.get(env)
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.fail(f"${env} names {path}, which does not exist")
        return path
    path = SHARED_SCHEMAS / name
    return path if path.is_file() else None


def _schema_path() -> Path:
    path = _third_party("XLPERF_CUSTOMUI14_XSD", "customui14.xsd")
    if path is None:
        pytest.skip(
            "Microsoft's customui14.xsd is not available: no registry package ships it and it may not be "
            f"committed. Place it at {SHARED_SCHEMAS / 'customui14.xsd'} (from "
            "fernandreu/office-ribbonx-editor, "
            "src/OfficeRibbonXEditor/Resources/Schemas/customui14.xsd) or set $XLPERF_CUSTOMUI14_XSD."
        )
    return path


def load_customui_schema(path: Path) -> tuple[etree.XMLSchema, dict[str, list[str]]]:
    """Microsoft's schema as lxml can load it, and what was removed (type → attribute names).

    libxml2 rejects a complex type whose extension declares an attribute the base type already has
    ("Duplicate attribute use"). For each type it names, the duplicated attributes are dropped from
    the extension: a direct ``xsd:attribute`` is removed; an ``xsd:attributeGroup`` reference is
    replaced by the group's other attributes. Each attribute stays allowed exactly once.
    """
    doc = etree.parse(str(path))
    root = doc.getroot()
    removed: dict[str, list[str]] = {}
    for _ in range(5):
        try:
            return etree.XMLSchema(doc), removed
        except etree.XMLSchemaParseError as exc:
            errors = [e.message for e in exc.error_log]
        dups: dict[str, set[str]] = {}
        for message in errors:
            m = re.fullmatch(r"complex type '(\w+)': Duplicate attribute use '(\w+)'\.", message)
            if m is None:
                raise AssertionError(f"{path}: unexpected schema error {message!r}")
            dups.setdefault(m.group(1), set()).add(m.group(2))
        groups = {g.get("name"): g for g in root.findall("xsd:attributeGroup", _NS)}
        for type_name, names in dups.items():
            (ctype,) = root.findall(f"xsd:complexType[@name='{type_name}']", _NS)
            for attr in ctype.findall(".//xsd:extension/xsd:attribute", _NS):
                if attr.get("name") in names:
                    attr.getparent().remove(attr)
                    removed.setdefault(type_name, []).append(attr.get("name"))
            for ref in ctype.findall(".//xsd:extension/xsd:attributeGroup", _NS):
                group = groups[ref.get("ref")]
                attrs = group.findall("xsd:attribute", _NS)
                hit = [a.get("name") for a in attrs if a.get("name") in names]
                if not hit:
                    continue
                parent = ref.getparent()
                at = parent.index(ref)
                parent.remove(ref)
                keep = [copy.deepcopy(a) for a in attrs if a.get("name") not in names]
                keep += [copy.deepcopy(r) for r in group.findall("xsd:attributeGroup", _NS)]
                for k, element in enumerate(keep):
                    parent.insert(at + k, element)
                removed.setdefault(type_name, []).extend(hit)
    raise AssertionError(f"{path}: still not loadable after removing duplicate attribute uses")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    loaded, removed = load_customui_schema(_schema_path())
    # Only re-declarations of the base type's own attributes were touched.
    assert set(removed) <= {
        "CT_ButtonRegular",
        "CT_EditBox",
        "CT_ComboBox",
        "CT_DropDownRegular",
        "CT_GalleryRegular",
        "CT_Menu",
        "CT_SplitButtonBase",
    }, removed
    return loaded


@pytest.fixture(scope="module")
def customui(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    xlam = addin.build_addin(tmp_path_factory.mktemp("ui"))
    with zipfile.ZipFile(xlam) as zf:
        return zf.read("customUI/customUI14.xml")


def test_customui_is_valid_against_microsofts_schema(schema: etree.XMLSchema, customui: bytes) -> None:
    doc = etree.fromstring(customui)
    assert schema.validate(doc), str(schema.error_log)


@pytest.mark.parametrize(
    ("old", "new"),
    [('size="large"', 'size="huge"'), ("onAction=", "onClick="), ("<group ", "<grop ")],
)
def test_schema_rejects_a_broken_ribbon(schema: etree.XMLSchema, customui: bytes, old: str, new: str) -> None:
    """Negative control: the schema really checks (an unknown value, attribute, element)."""
    text = customui.decode()
    assert old in text
    broken = text.replace(old, new, 1)
    if new == "<grop ":
        broken = broken.replace("</group>", "</grop>", 1)
    assert not schema.validate(etree.fromstring(broken.encode()))


def test_every_image_mso_is_a_verified_excel_image() -> None:
    used = {b.image_mso for b in BUTTONS}
    assert "CreateReport" not in used  # an Access control id: no icon in Excel
    assert used <= VERIFIED_IMAGE_MSO, sorted(used - VERIFIED_IMAGE_MSO)


def test_image_mso_against_microsofts_excel_control_list() -> None:
    path = _third_party("XLPERF_EXCEL_CONTROLS", "excelcontrols.xlsx")
    if path is None:
        pytest.skip(
            "Microsoft's Excel control list is not available (third-party, not committed): place "
            f"excelcontrols.xlsx from OfficeDev/office-fluent-ui-command-identifiers at {SHARED_SCHEMAS} "
            "or set $XLPERF_EXCEL_CONTROLS."
        )
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    rows = wb.worksheets[0].iter_rows(values_only=True)
    header = next(rows)
    assert header[0] == "Control Name", header
    names = {r[0] for r in rows if r[0]}
    wb.close()
    assert "CreateReport" not in names
    assert names >= VERIFIED_IMAGE_MSO, sorted(VERIFIED_IMAGE_MSO - names)
