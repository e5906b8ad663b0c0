"""A SpreadsheetML package edited part by part (zipfile + lxml).

xlperf's outputs are the clerk's own file plus what xlperf adds: every part xlperf does not change
is copied byte for byte (pictures, charts, data-validation extensions, cached formula results,
printer settings, whatever a later Excel adds), and the parts it changes are edited element by
element, never rebuilt from a model. New parts are written as SpreadsheetML directly (the three
output sheets, :func:`xlperf.workbook.writer.sheet_xml`); openpyxl's style and document-property
classes only serialise the elements they model (a font, a fill, ``docProps/core.xml``).

The pieces, one of each: :class:`Package` (parts, content types, relationships), :class:`Book`
(``xl/workbook.xml``: sheets, defined names, views), :class:`Styles` (``xl/styles.xml``: fonts,
fills, borders, number formats and cell formats, appended once and reused — re-scoring never
grows the styles), :class:`SheetXml` (one worksheet: cells, child elements in schema order) and
:class:`Comments` (a sheet's notes with their VML shapes).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import IO, Any, ClassVar

from lxml import etree

from xlperf.ooxml.checks import Parts

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = R  # relationship types are R + "/worksheet" etc.
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CONTENT_TYPES = "[Content_Types].xml"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
#: VML from older Excel versions is not always well-formed XML
_VML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def q(tag: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{tag}"


def parse(data: bytes, *, vml: bool = False) -> etree._Element:
    return etree.fromstring(data, _VML_PARSER if vml else _PARSER)


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def style_key(el: etree._Element) -> tuple[Any, ...]:
    """A comparison key for a style element that ignores namespace prefixes and attribute order."""
    return (
        local(el),
        tuple(sorted((k.rsplit("}", 1)[-1], v) for k, v in el.attrib.items())),
        (el.text or "").strip(),
        tuple(style_key(c) for c in el if isinstance(c.tag, str)),
    )


# ------------------------------------------------------------------------------------ package


@dataclass
class Rel:
    id: str
    type: str
    target: str
    external: bool = False


class _RawParts(MutableMapping[str, bytes]):
    """Part name → bytes: the source package's parts, decompressed when first asked for (the reader
    has usually done it already), and the parts put or replaced since."""

    def __init__(self, source: Parts) -> None:
        self.source = source
        self.own: dict[str, bytes] = {}
        self.gone: set[str] = set()

    def __getitem__(self, name: str) -> bytes:
        if name in self.own:
            return self.own[name]
        if name in self.gone or name not in self.source:
            raise KeyError(name)
        return self.source.read(name)

    def __setitem__(self, name: str, data: bytes) -> None:
        self.own[name] = data

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.own.pop(name, None)
        if name in self.source:
            self.gone.add(name)

    def __contains__(self, name: object) -> bool:
        return name in self.own or (isinstance(name, str) and name in self.source and name not in self.gone)

    def __iter__(self) -> Iterator[str]:
        yield from (n for n in self.source.infos if n not in self.gone)
        yield from (n for n in self.own if n not in self.source.infos or n in self.gone)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def unchanged(self, name: str) -> bool:
        """Still the source's part, as it was (its compressed bytes can be copied)."""
        return name not in self.own and name not in self.gone and name in self.source


class Package:
    """The zip's parts in their order; XML parts are parsed on demand and written back on save.

    Built on the input's :class:`~xlperf.ooxml.checks.Parts` (or its bytes): a part is
    decompressed only when xlperf reads it, and a part it leaves alone is written back as its
    compressed bytes were."""

    def __init__(self, data: bytes | Parts) -> None:
        source = data if isinstance(data, Parts) else Parts(data, "")
        self.infos = dict(source.infos)
        self.raw = _RawParts(source)
        self.order = list(self.infos)
        self._xml: dict[str, etree._Element] = {}
        self._read: dict[str, etree._Element] = {}  # parsed for reading only; never changed in place

    # parts
    def __contains__(self, name: str) -> bool:
        return name in self.raw or name in self._xml

    def xml(self, name: str, *, vml: bool = False) -> etree._Element:
        """The parsed part; changes to it are saved (the part is then no longer copied as it was)."""
        if name not in self._xml:
            read = self._read.pop(name, None)
            self._xml[name] = read if read is not None and not vml else parse(self.raw[name], vml=vml)
        return self._xml[name]

    def peek(self, name: str) -> etree._Element:
        """The parsed part for reading only (its bytes stay as they are)."""
        if name in self._xml:
            return self._xml[name]
        if name not in self._read:
            self._read[name] = parse(self.raw[name])
        return self._read[name]

    def put(self, name: str, data: bytes | etree._Element, content_type: str | None = None) -> None:
        if name not in self.order:
            self.order.append(name)
        self._read.pop(name, None)
        if isinstance(data, bytes):
            self._xml.pop(name, None)
            self.raw[name] = data
        else:
            self._xml[name] = data
        if content_type:
            self.set_override(name, content_type)

    def remove(self, name: str) -> None:
        for store in (self.raw, self._xml, self._read):
            store.pop(name, None)
        if name in self.order:
            self.order.remove(name)
        self.remove_override(name)
        rels = rels_part(name)
        if rels in self:
            self.remove(rels)

    def free_name(self, pattern: str) -> str:
        """The first unused part name for ``pattern`` (with ``{n}``)."""
        n = 1
        while pattern.format(n=n) in self:
            n += 1
        return pattern.format(n=n)

    def write_to(self, fh: IO[bytes]) -> None:
        """Write the package as a zip into ``fh``: changed parts serialised, the others as they were."""
        zf = zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        try:
            for name in self.order:
                old = self.infos.get(name)
                info = zipfile.ZipInfo(name, date_time=old.date_time if old else (1980, 1, 1, 0, 0, 0))
                info.compress_type = old.compress_type if old is not None else zipfile.ZIP_DEFLATED
                info.external_attr = old.external_attr if old is not None else 0o600 << 16
                if name not in self._xml and self.raw.unchanged(name):
                    self.raw.source.copy_raw(name, zf, info)
                    continue
                data = serialise(self._xml[name]) if name in self._xml else self.raw[name]
                # deflate's fastest level: half the time of the default 6 for ~14 % larger parts
                # (a scored workbook of 75 KB becomes 86 KB); the parts left alone keep their bytes
                zf.writestr(info, data, compresslevel=1)
            zf.close()
        except BaseException:
            zf.fp = None  # a half-written zip is abandoned: close() (and __del__) must not write more
            raise

    # content types
    def content_type(self, name: str) -> str:
        root = self.peek(CONTENT_TYPES)
        for el in root.iter(q("Override", CT)):
            if el.get("PartName") == "/" + name:
                return el.get("ContentType", "")
        ext = name.rsplit(".", 1)[-1].lower()
        for el in root.iter(q("Default", CT)):
            if (el.get("Extension") or "").lower() == ext:
                return el.get("ContentType", "")
        return ""

    def set_override(self, name: str, content_type: str) -> None:
        root = self.xml(CONTENT_TYPES)
        for el in root.iter(q("Override", CT)):
            if el.get("PartName") == "/" + name:
                el.set("ContentType", content_type)
                return
        etree.SubElement(root, q("Override", CT), PartName="/" + name, ContentType=content_type)

    def ensure_default(self, ext: str, content_type: str) -> None:
        root = self.peek(CONTENT_TYPES)
        if any((el.get("Extension") or "").lower() == ext for el in root.iter(q("Default", CT))):
            return
        root = self.xml(CONTENT_TYPES)
        el = etree.Element(q("Default", CT), Extension=ext, ContentType=content_type)
        defaults = list(root.iter(q("Default", CT)))
        (defaults[-1].addnext(el) if defaults else root.insert(0, el))

    def remove_override(self, name: str) -> None:
        if name == CONTENT_TYPES or CONTENT_TYPES not in self:
            return
        root = self.peek(CONTENT_TYPES)
        if any(el.get("PartName") == "/" + name for el in root.iter(q("Override", CT))):
            root = self.xml(CONTENT_TYPES)
            for el in list(root.iter(q("Override", CT))):
                if el.get("PartName") == "/" + name:
                    root.remove(el)

    # relationships
    def rels(self, source: str) -> list[Rel]:
        name = rels_part(source)
        if name not in self:
            return []
        return [
            Rel(
                el.get("Id", ""), el.get("Type", ""), el.get("Target", ""), el.get("TargetMode") == "External"
            )
            for el in self.peek(name).iter(q("Relationship", PKG_REL))
        ]

    def target(self, source: str, rel: Rel) -> str:
        """The part a relationship of ``source`` points at, as a zip name."""
        if rel.target.startswith("/"):
            return rel.target.lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(source), rel.target))

    def add_rel(self, source: str, rel_type: str, target_part: str, *, rel_id: str | None = None) -> str:
        name = rels_part(source)
        if name not in self:
            self.put(name, etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL}))
        root = self.xml(name)
        used = {el.get("Id") for el in root}
        if rel_id is None or rel_id in used:
            n = len(used) + 1
            while f"rId{n}" in used:
                n += 1
            rel_id = f"rId{n}"
        target = posixpath.relpath(target_part, posixpath.dirname(source) or ".")
        etree.SubElement(root, q("Relationship", PKG_REL), Id=rel_id, Type=rel_type, Target=target)
        return rel_id

    def add_external_rel(self, source: str, rel: Rel) -> None:
        name = rels_part(source)
        if name not in self:
            self.put(name, etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL}))
        etree.SubElement(
            self.xml(name),
            q("Relationship", PKG_REL),
            Id=rel.id,
            Type=rel.type,
            Target=rel.target,
            TargetMode="External",
        )

    def remove_rel(self, source: str, rel_id: str) -> None:
        root = self.xml(rels_part(source))
        for el in list(root):
            if el.get("Id") == rel_id:
                root.remove(el)

    def remove_tree(self, name: str, keep: set[str]) -> None:
        """Remove a part and the parts only it points at (its notes, VML, printer settings)."""
        for rel in self.rels(name):
            if not rel.external:
                child = self.target(name, rel)
                if child in self and child not in keep and not self._referenced_elsewhere(child, name):
                    self.remove_tree(child, keep)
        self.remove(name)

    def _referenced_elsewhere(self, part: str, besides: str) -> bool:
        for rels in [n for n in self.order if n.endswith(".rels")]:
            source = source_of(rels)
            if source == besides or source not in self:
                continue
            if any(not r.external and self.target(source, r) == part for r in self.rels(source)):
                return True
        return False


def rels_part(name: str) -> str:
    folder, base = posixpath.split(name)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def source_of(rels: str) -> str:
    folder, base = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))


# --------------------------------------------------------------------------------- workbook


@dataclass
class SheetRef:
    name: str
    part: str
    element: etree._Element  # the <sheet> element in workbook.xml

    @property
    def hidden(self) -> bool:
        return self.element.get("state", "visible") != "visible"


class Book:
    """``xl/workbook.xml`` of a package: its sheets in order and its defined names."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        root_rels = pkg.rels("")
        office = next(r for r in root_rels if r.type.endswith("/officeDocument"))
        self.part = pkg.target("", office)
        self.root = pkg.peek(self.part)

    def edit(self) -> etree._Element:
        self.root = self.pkg.xml(self.part)
        return self.root

    def sheets(self) -> list[SheetRef]:
        rels = {r.id: r for r in self.pkg.rels(self.part)}
        out = []
        sheets = self.root.find(q("sheets"))
        for el in sheets if sheets is not None else []:
            rel = rels.get(el.get(q("id", R), ""))
            if rel is not None:
                out.append(SheetRef(el.get("name", ""), self.pkg.target(self.part, rel), el))
        return out

    def sheet(self, name: str) -> SheetRef | None:
        return next((s for s in self.sheets() if s.name == name), None)

    def defined_names(self) -> list[etree._Element]:
        names = self.root.find(q("definedNames"))
        return list(names) if names is not None else []

    def name_cell(self, name: str) -> tuple[str, str] | None:
        """(sheet, cell) a global defined name points at, when it is one cell."""
        for el in self.defined_names():
            if el.get("name") == name and el.get("localSheetId") is None:
                m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]{1,3})\$?(\d+)", (el.text or "").strip())
                if m:
                    return m.group(1).replace("''", "'"), f"{m.group(2)}{m.group(3)}"
        return None

    def remove_sheets(self, names: Iterable[str]) -> None:
        """Remove sheets with their parts, renumbering ``localSheetId`` and dropping the names
        that belong to or point into a removed sheet."""
        gone = set(names)
        if not any(s.name in gone for s in self.sheets()):
            return
        root = self.edit()
        sheets = self.sheets()
        keep = {s.part for s in sheets if s.name not in gone}
        index: dict[int, int] = {}
        for i, s in enumerate(sheets):
            if s.name in gone:
                self.pkg.remove_rel(self.part, s.element.get(q("id", R), ""))
                self.pkg.remove_tree(s.part, keep)
                s.element.getparent().remove(s.element)
            else:
                index[i] = len(index)
        for el in self.defined_names():
            local_id = el.get("localSheetId")
            if local_id is not None:
                if int(local_id) not in index:
                    el.getparent().remove(el)
                    continue
                el.set("localSheetId", str(index[int(local_id)]))
            if any(f"{n}!" in (el.text or "") for n in gone):  # 'name'! or name!
                el.getparent().remove(el)
        names_el = root.find(q("definedNames"))
        if names_el is not None and not len(names_el):
            root.remove(names_el)

    def insert_sheet(self, position: int, name: str, part: str) -> None:
        root = self.edit()
        rel_id = self.pkg.add_rel(self.part, REL_TYPE + "/worksheet", part)
        sheets = root.find(q("sheets"))
        assert sheets is not None
        ids = [int(el.get("sheetId", "0")) for el in sheets]
        el = etree.Element(q("sheet"), nsmap={"r": R} if "r" not in (sheets.nsmap or {}) else None)
        el.set("name", name)
        el.set("sheetId", str(max(ids, default=0) + 1))
        el.set(q("id", R), rel_id)
        sheets.insert(position, el)
        for dn in self.defined_names():
            local_id = dn.get("localSheetId")
            if local_id is not None and int(local_id) >= position:
                dn.set("localSheetId", str(int(local_id) + 1))

    def add_defined_name(self, name: str, text: str, local_sheet: int | None = None) -> None:
        root = self.edit()
        names = root.find(q("definedNames"))
        if names is None:
            names = etree.Element(q("definedNames"))
            insert_in_order(root, names, WORKBOOK_ORDER)
        for el in list(names):
            if el.get("name") == name and el.get("localSheetId") == (
                None if local_sheet is None else str(local_sheet)
            ):
                names.remove(el)
        el = etree.SubElement(names, q("definedName"), name=name)
        if local_sheet is not None:
            el.set("localSheetId", str(local_sheet))
        el.text = text

    def activate(self, index: int) -> None:
        root = self.edit()
        for view in root.iter(q("workbookView")):
            view.set("activeTab", str(index))
            view.set("firstSheet", "0")


WORKBOOK_ORDER = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
    "definedNames",
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)

#: CT_Worksheet's children in schema order (ECMA-376 Part 1, 18.3.1.99)
SHEET_ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


def insert_in_order(parent: etree._Element, el: etree._Element, order: tuple[str, ...]) -> None:
    """Insert ``el`` right after the last child that the schema puts before it (elements the
    order does not name, such as ``mc:AlternateContent``, stay where they are)."""
    rank = order.index(local(el))
    after = None
    for child in parent:
        name = local(child)
        if name in order and order.index(name) < rank:
            after = child
    if after is None:
        parent.insert(0, el)
    else:
        after.addnext(el)


# ------------------------------------------------------------------------------------ styles


class Styles:
    """``xl/styles.xml``: append an element or reuse an equal one, and map cell formats."""

    LISTS: ClassVar[dict[str, str]] = {
        "numFmts": "numFmt",
        "fonts": "font",
        "fills": "fill",
        "borders": "border",
        "cellXfs": "xf",
    }
    ORDER = (
        "numFmts",
        "fonts",
        "fills",
        "borders",
        "cellStyleXfs",
        "cellXfs",
        "cellStyles",
        "dxfs",
        "tableStyles",
        "colors",
        "extLst",
    )

    def __init__(self, pkg: Package, part: str) -> None:
        self.pkg, self.part = pkg, part
        self.root = pkg.peek(part)
        self._keys: dict[str, dict[tuple[Any, ...], int]] = {}
        self.edited = False

    def items(self, kind: str) -> list[etree._Element]:
        holder = self.root.find(q(kind))
        return [] if holder is None else [c for c in holder if local(c) == self.LISTS[kind]]

    def edit(self) -> None:
        """From now on changes are saved with the package (the same content, parsed for editing)."""
        if not self.edited:
            self.root = self.pkg.xml(self.part)
            self.edited = True

    def snapshot(self) -> tuple[bytes, dict[str, dict[tuple[Any, ...], int]]]:
        """The part as it stands and the keys of its items, for :meth:`restore` into another package."""
        return serialise(self.root), {kind: dict(keys) for kind, keys in self._keys.items()}

    def restore(self, data: bytes, keys: dict[str, dict[tuple[Any, ...], int]]) -> None:
        """Make the part ``data`` (a :meth:`snapshot` of an equal part with formats added)."""
        self.pkg.put(self.part, parse(data))
        self.root = self.pkg.xml(self.part)
        self.edited = True
        self._keys = {kind: dict(k) for kind, k in keys.items()}

    def _holder(self, kind: str) -> etree._Element:
        self.edit()
        holder = self.root.find(q(kind))
        if holder is None:
            holder = etree.Element(q(kind))
            insert_in_order(self.root, holder, self.ORDER)
        return holder

    def add(self, kind: str, el: etree._Element, k: tuple[Any, ...] | None = None) -> int:
        """The index of an element equal to ``el`` in ``kind`` (``k``: its style_key, when known),
        appending a copy when there is none."""
        if kind not in self._keys:
            self._keys[kind] = {}
            for i, item in enumerate(self.items(kind)):
                self._keys[kind].setdefault(style_key(item), i)
        k = style_key(el) if k is None else k
        if k in self._keys[kind]:
            return self._keys[kind][k]
        holder = self._holder(kind)
        copy = etree.fromstring(etree.tostring(el))
        for child in copy.iter():  # openpyxl's elements carry no namespace; the holder's is used
            if isinstance(child.tag, str) and (
                child.tag.startswith("{" + MAIN + "}") or "}" not in child.tag
            ):
                child.tag = q(local(child), _ns(holder))
        holder.append(copy)
        holder.set("count", str(len(self.items(kind))))
        index = len(self.items(kind)) - 1
        self._keys[kind][k] = index
        return index

    def number_format_id(self, code: str) -> int:
        from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE

        if code in BUILTIN_FORMATS_REVERSE:
            return int(BUILTIN_FORMATS_REVERSE[code])
        for el in self.items("numFmts"):
            if el.get("formatCode") == code:
                return int(el.get("numFmtId", "0"))
        used = [int(el.get("numFmtId", "0")) for el in self.items("numFmts")]
        new = max([163, *used]) + 1
        el = etree.Element(q("numFmt"), numFmtId=str(new), formatCode=code)
        self.add("numFmts", el)
        return new

    def xf(self, index: int) -> etree._Element:
        xfs = self.items("cellXfs")
        return xfs[index] if 0 <= index < len(xfs) else xfs[0]

    def derived(self, index: int, **ids: int) -> int:
        """A cell format like ``index`` with some of fontId/fillId/borderId/numFmtId replaced."""
        copy = etree.fromstring(etree.tostring(self.xf(index)))
        apply = {
            "fontId": "applyFont",
            "fillId": "applyFill",
            "borderId": "applyBorder",
            "numFmtId": "applyNumberFormat",
        }
        for attr, value in ids.items():
            copy.set(attr, str(value))
            copy.set(apply[attr], "1")
        return self.add("cellXfs", copy)


def styles_part(pkg: Package, book: Book) -> str:
    rel = next(r for r in pkg.rels(book.part) if r.type.endswith("/styles"))
    return pkg.target(book.part, rel)


def _ns(el: etree._Element) -> str:
    return el.tag[1:].split("}", 1)[0] if el.tag.startswith("{") else MAIN


# ------------------------------------------------------------------------------------- sheets


_COORD = re.compile(r"([A-Z]{1,3})(\d+)")


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


class SheetXml:
    """One worksheet part, parsed; cells found and made by reference."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.ns = _ns(root)
        data = root.find(f"{{{self.ns}}}sheetData")
        if data is None:
            data = etree.Element(f"{{{self.ns}}}sheetData")
            insert_in_order(root, data, SHEET_ORDER)
        self.data = data
        self._rows: dict[int, etree._Element] | None = None

    def child(self, name: str) -> etree._Element | None:
        return self.root.find(f"{{{self.ns}}}{name}")

    def put_child(self, el: etree._Element) -> None:
        """Replace the child of the same name, or insert ``el`` where the schema wants it."""
        old = self.child(local(el))
        if old is not None:
            old.addprevious(el)
            self.root.remove(old)
        else:
            insert_in_order(self.root, el, SHEET_ORDER)

    def rows(self) -> dict[int, etree._Element]:
        if self._rows is None:
            self._rows = {}
            last = 0
            for row in self.data:
                if local(row) == "row":
                    last = int(row.get("r") or last + 1)
                    self._rows[last] = row
        return self._rows

    def cell(self, coord: str, *, create: bool = False) -> etree._Element | None:
        m = _COORD.fullmatch(coord)
        if m is None:
            return None
        col, r = column_number(m.group(1)), int(m.group(2))
        row = self.rows().get(r)
        if row is None:
            if not create:
                return None
            row = etree.Element(f"{{{self.ns}}}row", r=str(r))
            after = [n for n in self.rows() if n < r]
            if after:
                self.rows()[max(after)].addnext(row)
            else:
                self.data.insert(0, row)
            self.rows()[r] = row
        last_col = 0
        for c in row:
            ref = c.get("r")
            cm = _COORD.fullmatch(ref) if ref else None
            n = column_number(cm.group(1)) if cm else last_col + 1
            if n == col:
                return c
            if n > col:
                if not create:
                    return None
                new = etree.Element(f"{{{self.ns}}}c", r=coord)
                c.addprevious(new)
                return new
            last_col = n
        if not create:
            return None
        return etree.SubElement(row, f"{{{self.ns}}}c", r=coord)

    def set_text(self, coord: str, text: str) -> None:
        c = self.cell(coord, create=True)
        assert c is not None
        for child in list(c):
            c.remove(child)
        c.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(c, f"{{{self.ns}}}is"), f"{{{self.ns}}}t")
        t.text = text
        if text != text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")

    def refresh_dimension(self) -> None:
        """Set ``<dimension>`` to the cells really present: readers that trust it (openpyxl's
        read-only mode) would otherwise miss cells beyond a stale one."""
        from openpyxl.utils.cell import get_column_letter

        cols: list[int] = []
        rows = [r for r, row in self.rows().items() if len(row)]
        for r in rows:
            for c in self.rows()[r]:
                m = _COORD.fullmatch(c.get("r", ""))
                if m:
                    cols.append(column_number(m.group(1)))
        if not rows or not cols:
            return
        ref = f"{get_column_letter(min(cols))}{min(rows)}:{get_column_letter(max(cols))}{max(rows)}"
        el = self.child("dimension")
        if el is None:
            el = etree.Element(f"{{{self.ns}}}dimension")
            insert_in_order(self.root, el, SHEET_ORDER)
        el.set("ref", ref)


# ----------------------------------------------------------------------------------- comments


VML = "urn:schemas-microsoft-com:vml"
OFFICE = "urn:schemas-microsoft-com:office:office"
EXCEL = "urn:schemas-microsoft-com:office:excel"


class Comments:
    """The notes of one sheet (its comments part and the VML that shows them), edited in place."""

    def __init__(self, pkg: Package, sheet_part: str, sheet: SheetXml | None) -> None:
        self.pkg, self.sheet_part, self.sheet = pkg, sheet_part, sheet
        rels = pkg.rels(sheet_part)
        comments = next((r for r in rels if r.type.endswith("/comments")), None)
        vml = next((r for r in rels if r.type.endswith("/vmlDrawing")), None)
        self.part = pkg.target(sheet_part, comments) if comments else None
        self.vml_part = pkg.target(sheet_part, vml) if vml else None
        self.vml_id = vml.id if vml else None

    def authored(self) -> dict[str, str]:
        """ref → author of every note."""
        if self.part is None or self.part not in self.pkg:
            return {}
        root = self.pkg.peek(self.part)
        authors = [a.text or "" for a in root.iter(q("author", _ns(root)))]
        out = {}
        for c in root.iter(q("comment", _ns(root))):
            i = int(c.get("authorId", "0"))
            out[c.get("ref", "")] = authors[i] if i < len(authors) else ""
        return out

    def replace(self, author: str, notes: dict[str, str]) -> None:
        """Remove ``author``'s notes and add ``notes`` (ref → text) under that author."""
        if self.part is None:
            self.part = self.pkg.free_name("xl/comments{n}.xml")
            root = etree.Element(q("comments"), nsmap={None: MAIN})
            etree.SubElement(root, q("authors"))
            etree.SubElement(root, q("commentList"))
            self.pkg.put(self.part, root, COMMENTS_CT)
            self.pkg.add_rel(self.sheet_part, REL_TYPE + "/comments", self.part)
        root = self.pkg.xml(self.part)
        ns = _ns(root)
        authors_el = root.find(q("authors", ns))
        listing = root.find(q("commentList", ns))
        assert authors_el is not None and listing is not None
        names = [a.text or "" for a in authors_el]
        if author not in names:
            etree.SubElement(authors_el, q("author", ns)).text = author
            names.append(author)
        mine = str(names.index(author))
        for c in list(listing):
            if c.get("authorId") == mine:
                listing.remove(c)
        for ref, text in notes.items():
            c = etree.SubElement(listing, q("comment", ns), ref=ref, authorId=mine)
            t = etree.SubElement(etree.SubElement(c, q("text", ns)), q("t", ns))
            t.text = text
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        self._shapes([c.get("ref", "") for c in listing])

    def _shapes(self, refs: list[str]) -> None:
        """One VML note shape per note: the shapes of other notes are rebuilt, any other shape
        (a form control) is kept."""
        if self.vml_part is None or self.vml_part not in self.pkg:
            self.vml_part = self.pkg.free_name("xl/drawings/commentsDrawing{n}.vml")
            root = etree.Element("xml", nsmap={"v": VML, "o": OFFICE, "x": EXCEL})
            self.pkg.ensure_default("vml", VML_CT)
            self.pkg.put(self.vml_part, root)
            self.vml_id = self.pkg.add_rel(self.sheet_part, REL_TYPE + "/vmlDrawing", self.vml_part)
            assert self.sheet is not None, "a sheet's notes are added through its parsed part"
            legacy = etree.Element(f"{{{self.sheet.ns}}}legacyDrawing", nsmap={"r": R})
            legacy.set(q("id", R), self.vml_id)
            self.sheet.put_child(legacy)
        root = self.pkg.xml(self.vml_part, vml=True)
        for shape in list(root.iter(f"{{{VML}}}shape")):
            data = shape.find(f"{{{EXCEL}}}ClientData")
            if data is not None and data.get("ObjectType") == "Note":
                shape.getparent().remove(shape)
        if root.find(f"{{{VML}}}shapetype[@id='_x0000_t202']") is None:
            layout = etree.SubElement(root, f"{{{OFFICE}}}shapelayout", {f"{{{VML}}}ext": "edit"})
            etree.SubElement(layout, f"{{{OFFICE}}}idmap", {f"{{{VML}}}ext": "edit", "data": "1"})
            kind = etree.SubElement(
                root,
                f"{{{VML}}}shapetype",
                {
                    "id": "_x0000_t202",
                    "coordsize": "21600,21600",
                    f"{{{OFFICE}}}spt": "202",
                    "path": "m,l,21600r21600,l21600,xe",
                },
            )
            etree.SubElement(kind, f"{{{VML}}}stroke", joinstyle="miter")
            etree.SubElement(
                kind, f"{{{VML}}}path", {"gradientshapeok": "t", f"{{{OFFICE}}}connecttype": "rect"}
            )
        for i, ref in enumerate(refs, start=1025):
            m = _COORD.fullmatch(ref)
            if m is None:
                continue
            shape = etree.SubElement(
                root,
                f"{{{VML}}}shape",
                {
                    "id": f"_x0000_s{i:04d}",
                    "type": "#_x0000_t202",
                    "fillcolor": "#ffffe1",
                    "style": "position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:240pt;height:90pt;"
                    "z-index:1;visibility:hidden",
                    f"{{{OFFICE}}}insetmode": "auto",
                },
            )
            etree.SubElement(shape, f"{{{VML}}}fill", color2="#ffffe1")
            etree.SubElement(shape, f"{{{VML}}}shadow", color="black", obscured="t")
            etree.SubElement(shape, f"{{{VML}}}path", {f"{{{OFFICE}}}connecttype": "none"})
            box = etree.SubElement(shape, f"{{{VML}}}textbox", style="mso-direction-alt:auto")
            etree.SubElement(box, "div", style="text-align:left")
            data = etree.SubElement(shape, f"{{{EXCEL}}}ClientData", ObjectType="Note")
            etree.SubElement(data, f"{{{EXCEL}}}MoveWithCells")
            etree.SubElement(data, f"{{{EXCEL}}}SizeWithCells")
            etree.SubElement(data, f"{{{EXCEL}}}AutoFill").text = "False"
            etree.SubElement(data, f"{{{EXCEL}}}Row").text = str(int(m.group(2)) - 1)
            etree.SubElement(data, f"{{{EXCEL}}}Column").text = str(column_number(m.group(1)) - 1)


MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
TEMPLATE_WORKBOOKS = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
)
PRINTER_SETTINGS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"
PLAIN_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def make_plain_workbook(book: Book) -> None:
    """A macro-free .xlsx: the VBA project (and its signature) removed, the workbook's content type
    that of an ordinary workbook (Excel refuses a .xlsx whose workbook says it holds macros)."""
    pkg = book.pkg
    for rel in pkg.rels(book.part):
        if rel.type.endswith("/vbaProject"):
            pkg.remove_rel(book.part, rel.id)
            pkg.remove_tree(pkg.target(book.part, rel), set())
    if pkg.content_type(book.part) in (MACRO_WORKBOOK, *TEMPLATE_WORKBOOKS):
        pkg.set_override(book.part, PLAIN_WORKBOOK)
    types = pkg.peek(CONTENT_TYPES)
    vba = [el for el in types.iter(q("Default", CT)) if "vbaProject" in (el.get("ContentType") or "")]
    if vba:
        root = pkg.xml(CONTENT_TYPES)
        for el in list(root.iter(q("Default", CT))):
            if "vbaProject" in (el.get("ContentType") or ""):
                root.remove(el)
        for name in pkg.order:  # printer settings that relied on that default keep a type of their own
            if name.startswith("xl/printerSettings/") and not pkg.content_type(name):
                pkg.set_override(name, PRINTER_SETTINGS_CT)


def fill_element(fill: Any) -> etree._Element:
    """An openpyxl style object (PatternFill, Font) as an lxml element."""
    from openpyxl.xml.functions import tostring

    return etree.fromstring(tostring(fill.to_tree()))
