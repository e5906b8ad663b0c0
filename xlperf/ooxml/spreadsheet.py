"""SpreadsheetML parts edited element by element (lxml), on a :class:`~xlperf.ooxml.package.Package`.

xlperf's outputs are the clerk's own file plus what xlperf adds: every part xlperf does not change
is copied byte for byte (pictures, charts, data-validation extensions, cached formula results,
printer settings, whatever a later Excel adds), and the parts it changes are edited element by
element, never rebuilt from a model. New parts are written as SpreadsheetML directly (the three
output sheets, :func:`xlperf.workbook.writer.sheet_xml`); openpyxl's style and document-property
classes only serialise the elements they model (a font, a fill, ``docProps/core.xml``).

The pieces, one of each: :class:`WorkbookXml` (the workbook part: sheets, defined names, views),
:class:`Styles` (``xl/styles.xml``: fonts, fills, borders, number formats and cell formats, appended
once and reused — re-scoring never grows the styles), :class:`SheetXml` (one worksheet: cells, child
elements in schema order) and :class:`Comments` (a sheet's notes with their VML shapes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from lxml import etree
from openpyxl.xml.functions import tostring

from xlperf.ooxml.constants import BUILTIN_FORMATS, CT, EXCEL, MAIN, OFFICE, RT, VML, XML, R
from xlperf.ooxml.package import Package
from xlperf.ooxml.parser import Element, local, namespace, parse_part, q, serialise
from xlperf.ooxml.refs import cell_name, coordinate, destinations


def style_key(el: Element) -> tuple[Any, ...]:
    """A comparison key for a style element that ignores namespace prefixes and attribute order."""
    return (
        local(el),
        tuple(sorted((k.rsplit("}", 1)[-1], v) for k, v in el.attrib.items())),
        (el.text or "").strip(),
        tuple(style_key(c) for c in el if isinstance(c.tag, str)),
    )


# --------------------------------------------------------------------------------- workbook


@dataclass
class SheetRef:
    name: str
    part: str
    element: Element  # the <sheet> element in workbook.xml

    @property
    def hidden(self) -> bool:
        return bool(self.element.get("state", "visible") != "visible")


class WorkbookXml:
    """The workbook part (``xl/workbook.xml``) of a package: its sheets in order and its defined names."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self.part = pkg.workbook_part()
        self.root = pkg.peek(self.part)

    def edit(self) -> Element:
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

    def defined_names(self) -> list[Element]:
        names = self.root.find(q("definedNames"))
        return list(names) if names is not None else []

    def name_cell(self, name: str) -> tuple[str, str] | None:
        """(sheet, cell) a global defined name points at, when it is one cell."""
        for el in self.defined_names():
            if el.get("name") == name and el.get("localSheetId") is None:
                text = (el.text or "").strip()
                try:
                    found = (
                        destinations(name, text) if "[" not in text and "#REF!" not in text.upper() else []
                    )
                except Exception:  # openpyxl's tokenizer on a formula it cannot parse
                    found = []
                if len(found) == 1 and ":" not in found[0][1]:
                    return found[0][0].replace("''", "'"), found[0][1].replace("$", "")
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
        rel_id = self.pkg.add_rel(self.part, RT.WORKSHEET, part)
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


def insert_in_order(parent: Element, el: Element, order: tuple[str, ...]) -> None:
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


_BUILTIN_IDS = {code: fid for fid, code in BUILTIN_FORMATS.items()}


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

    def items(self, group: str) -> list[Element]:
        holder = self.root.find(q(group))
        return [] if holder is None else [c for c in holder if local(c) == self.LISTS[group]]

    def edit(self) -> None:
        """From now on changes are saved with the package (the same content, parsed for editing)."""
        if not self.edited:
            self.root = self.pkg.xml(self.part)
            self.edited = True

    def snapshot(self) -> tuple[bytes, dict[str, dict[tuple[Any, ...], int]]]:
        """The part as it stands and the keys of its items, for :meth:`restore` into another package."""
        return serialise(self.root), {group: dict(keys) for group, keys in self._keys.items()}

    def restore(self, data: bytes, keys: dict[str, dict[tuple[Any, ...], int]]) -> None:
        """Make the part ``data`` (a :meth:`snapshot` of an equal part with formats added)."""
        self.pkg.put(self.part, parse_part(data))
        self.root = self.pkg.xml(self.part)
        self.edited = True
        self._keys = {group: dict(k) for group, k in keys.items()}

    def _holder(self, group: str) -> Element:
        self.edit()
        holder = self.root.find(q(group))
        if holder is None:
            holder = etree.Element(q(group))
            insert_in_order(self.root, holder, self.ORDER)
        return holder

    def add(self, group: str, el: Element, k: tuple[Any, ...] | None = None) -> int:
        """The index of an element equal to ``el`` in the list ``group`` (``k``: its style_key, when known),
        appending a copy when there is none."""
        if group not in self._keys:
            self._keys[group] = {}
            for i, item in enumerate(self.items(group)):
                self._keys[group].setdefault(style_key(item), i)
        k = style_key(el) if k is None else k
        if k in self._keys[group]:
            return self._keys[group][k]
        holder = self._holder(group)
        copy = etree.fromstring(etree.tostring(el))
        for child in copy.iter():  # openpyxl's elements carry no namespace; the holder's is used
            if isinstance(child.tag, str) and (
                child.tag.startswith("{" + MAIN + "}") or "}" not in child.tag
            ):
                child.tag = q(local(child), namespace(holder))
        holder.append(copy)
        holder.set("count", str(len(self.items(group))))
        index = len(self.items(group)) - 1
        self._keys[group][k] = index
        return index

    def number_format_id(self, code: str) -> int:
        if code in _BUILTIN_IDS:
            return _BUILTIN_IDS[code]
        for el in self.items("numFmts"):
            if el.get("formatCode") == code:
                return int(el.get("numFmtId", "0"))
        used = [int(el.get("numFmtId", "0")) for el in self.items("numFmts")]
        new = max([163, *used]) + 1
        el = etree.Element(q("numFmt"), numFmtId=str(new), formatCode=code)
        self.add("numFmts", el)
        return new

    def xf(self, index: int) -> Element:
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


def styles_part(pkg: Package, book: WorkbookXml) -> str:
    rel = next(r for r in pkg.rels(book.part) if r.type.endswith("/styles"))
    return pkg.target(book.part, rel)


# ------------------------------------------------------------------------------------- sheets


def _position(coord: str) -> tuple[int, int] | None:
    """(row, column) of a cell reference, None when it is not one."""
    try:
        return coordinate(coord)
    except ValueError:
        return None


class SheetXml:
    """One worksheet part, parsed; cells found and made by reference."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.ns = namespace(root)
        data = root.find(f"{{{self.ns}}}sheetData")
        if data is None:
            data = etree.Element(f"{{{self.ns}}}sheetData")
            insert_in_order(root, data, SHEET_ORDER)
        self.data = data
        self._rows: dict[int, Element] | None = None

    def child(self, name: str) -> Element | None:
        return self.root.find(f"{{{self.ns}}}{name}")

    def put_child(self, el: Element) -> None:
        """Replace the child of the same name, or insert ``el`` where the schema wants it."""
        old = self.child(local(el))
        if old is not None:
            old.addprevious(el)
            self.root.remove(old)
        else:
            insert_in_order(self.root, el, SHEET_ORDER)

    def rows(self) -> dict[int, Element]:
        if self._rows is None:
            self._rows = {}
            last = 0
            for row in self.data:
                if local(row) == "row":
                    last = int(row.get("r") or last + 1)
                    self._rows[last] = row
        return self._rows

    def cell(self, coord: str, *, create: bool = False) -> Element | None:
        position = _position(coord)
        if position is None:
            return None
        r, col = position
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
            at = _position(ref) if ref else None
            n = at[1] if at else last_col + 1
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
            t.set(q("space", XML), "preserve")

    def refresh_dimension(self) -> None:
        """Set ``<dimension>`` to the cells really present: readers that trust it (openpyxl's
        read-only mode) would otherwise miss cells beyond a stale one."""
        cols: list[int] = []
        rows = [r for r, row in self.rows().items() if len(row)]
        for r in rows:
            for c in self.rows()[r]:
                at = _position(c.get("r", ""))
                if at:
                    cols.append(at[1])
        if not rows or not cols:
            return
        ref = f"{cell_name(min(rows), min(cols))}:{cell_name(max(rows), max(cols))}"
        el = self.child("dimension")
        if el is None:
            el = etree.Element(f"{{{self.ns}}}dimension")
            insert_in_order(self.root, el, SHEET_ORDER)
        el.set("ref", ref)


# ----------------------------------------------------------------------------------- comments


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
        authors = [a.text or "" for a in root.iter(q("author", namespace(root)))]
        out = {}
        for c in root.iter(q("comment", namespace(root))):
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
            self.pkg.put(self.part, root, CT.COMMENTS)
            self.pkg.add_rel(self.sheet_part, RT.COMMENTS, self.part)
        root = self.pkg.xml(self.part)
        ns = namespace(root)
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
            t.set(q("space", XML), "preserve")
        self._shapes([c.get("ref", "") for c in listing])

    def _shapes(self, refs: list[str]) -> None:
        """One VML note shape per note: the shapes of other notes are rebuilt, any other shape
        (a form control) is kept."""
        if self.vml_part is None or self.vml_part not in self.pkg:
            self.vml_part = self.pkg.free_name("xl/drawings/commentsDrawing{n}.vml")
            root = etree.Element("xml", nsmap={"v": VML, "o": OFFICE, "x": EXCEL})
            self.pkg.ensure_default("vml", CT.VML_DRAWING)
            self.pkg.put(self.vml_part, root)
            self.vml_id = self.pkg.add_rel(self.sheet_part, RT.VML_DRAWING, self.vml_part)
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
            shape_type = etree.SubElement(
                root,
                f"{{{VML}}}shapetype",
                {
                    "id": "_x0000_t202",
                    "coordsize": "21600,21600",
                    f"{{{OFFICE}}}spt": "202",
                    "path": "m,l,21600r21600,l21600,xe",
                },
            )
            etree.SubElement(shape_type, f"{{{VML}}}stroke", joinstyle="miter")
            etree.SubElement(
                shape_type, f"{{{VML}}}path", {"gradientshapeok": "t", f"{{{OFFICE}}}connecttype": "rect"}
            )
        for i, ref in enumerate(refs, start=1025):
            at = _position(ref)
            if at is None:
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
            etree.SubElement(data, f"{{{EXCEL}}}Row").text = str(at[0] - 1)
            etree.SubElement(data, f"{{{EXCEL}}}Column").text = str(at[1] - 1)


def make_plain_workbook(book: WorkbookXml) -> None:
    """A macro-free .xlsx: the VBA project (and its signature) removed, the workbook's content type
    that of an ordinary workbook (Excel refuses a .xlsx whose workbook says it holds macros)."""
    pkg = book.pkg
    pkg.remove_related(book.part, RT.VBA_PROJECT)
    if pkg.content_type(book.part) in (CT.WORKBOOK_MACRO, CT.TEMPLATE, CT.TEMPLATE_MACRO):
        pkg.set_override(book.part, CT.WORKBOOK)
    if pkg.remove_defaults("vbaProject"):
        for name in pkg.order:  # printer settings that relied on that default keep a type of their own
            if name.startswith("xl/printerSettings/") and not pkg.content_type(name):
                pkg.set_override(name, CT.PRINTER_SETTINGS)


def fill_element(fill: Any) -> Element:
    """An openpyxl style object (PatternFill, Font) as an lxml element."""
    return etree.fromstring(tostring(fill.to_tree()))
