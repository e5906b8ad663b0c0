"""The package: a zip of parts, their relationships and content types (ECMA-376 Part 2, OPC).

Two views of one package, both here:

* :class:`Parts` — an input package as read: each part decompressed once and kept (up to
  :data:`KEEP_BYTES`), shared by the pre-open checks, the stream reader and the writer; every XML
  part it hands out checked for a DTD first; read-only parsed trees of the small parts (content
  types, workbook, relationships) memoised, so the checks and the reader parse them once.
* :class:`Package` — the same package being edited: parts put, replaced or removed, XML parts
  parsed on demand and serialised on save, every part left alone copied into the output zip as its
  compressed bytes were (no second compression: pictures, charts, whatever a newer Excel adds).

Part names are zip names without the leading ``/`` (``xl/workbook.xml``); relationships of a part
live in ``<folder>/_rels/<name>.rels`` (:func:`rels_part`); the workbook part is found by its content
type, as openpyxl finds it (:func:`workbook_part`), so the reader, the writer and openpyxl agree.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import IO

from lxml import etree

from xlperf.ooxml.constants import CONTENT_TYPES_PART, PKG_REL, TYPES, WORKBOOK_TYPES
from xlperf.ooxml.parser import DTD_HEAD, Element, check_no_dtd, parse, parse_part, q, serialise

#: decompressed parts kept in memory for the reader and the writer, in all (beyond it a part is
#: decompressed again where it is needed, streamed); a standard workbook expands to well under 1 MB
KEEP_BYTES = 64 << 20


# ------------------------------------------------------------------------------- part names


def rels_part(name: str) -> str:
    """The relationships part of ``name`` (``""``: the package's own, ``_rels/.rels``)."""
    folder, base = posixpath.split(name)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def source_of(rels: str) -> str:
    """The part whose relationships ``rels`` holds (the reverse of :func:`rels_part`)."""
    folder, base = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))


def resolve(source: str, target: str) -> str:
    """The part a relationship of ``source`` points at (``target`` as written), as a zip name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


# ---------------------------------------------------------------------------- relationships


@dataclass
class Rel:
    """One relationship: ``target`` as written (relative to its source part, or a URL when external)."""

    id: str
    type: str
    target: str
    external: bool = False

    def is_a(self, rel_type: str) -> bool:
        """Whether this is a relationship of ``rel_type`` (one of :class:`~xlperf.ooxml.constants.RT`),
        compared on the last segment so that Strict OOXML's types match too."""
        return self.type.rsplit("/", 1)[-1] == rel_type.rsplit("/", 1)[-1]


def relationships(root: Element) -> list[Rel]:
    """The relationships in a parsed ``.rels`` part, in document order."""
    return [
        Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""), el.get("TargetMode") == "External")
        for el in root.iter(q("Relationship", PKG_REL))
    ]


# ---------------------------------------------------------------------------- content types


def content_type_of(types: Element, name: str) -> str:
    """A part's content type from a parsed ``[Content_Types].xml`` ('' when none is declared)."""
    for el in types.iter(q("Override", TYPES)):
        if el.get("PartName") == "/" + name:
            return str(el.get("ContentType", ""))
    ext = name.rsplit(".", 1)[-1].lower()
    for el in types.iter(q("Default", TYPES)):
        if (el.get("Extension") or "").lower() == ext:
            return str(el.get("ContentType", ""))
    return ""


def overrides(types: Element) -> list[tuple[str, str]]:
    """(part name, content type) of every ``Override``, in document order."""
    return [
        (el.get("PartName", "").lstrip("/"), el.get("ContentType", ""))
        for el in types.iter(q("Override", TYPES))
    ]


def workbook_part(types: Element) -> str | None:
    """The workbook part, as openpyxl finds it: the first ``Override`` of a workbook content type (in
    the order of :data:`~xlperf.ooxml.constants.WORKBOOK_TYPES`), else ``xl/workbook.xml`` when a
    ``Default`` declares one; None when the package has no workbook."""
    declared = overrides(types)
    found = next((p for ct in WORKBOOK_TYPES for p, t in declared if t == ct), None)
    if found is None and {d.get("ContentType", "") for d in types.iter(q("Default", TYPES))} & set(
        WORKBOOK_TYPES
    ):
        found = "xl/workbook.xml"
    return found


# ------------------------------------------------------------------------------ the input


class Parts:
    """An input package's parts, each decompressed once and kept (up to :data:`KEEP_BYTES`) for the
    pre-open checks, the stream reader and the package writer, which so share one decompression.

    Every XML part handed out by :meth:`xml`, :meth:`open_xml` and :meth:`tree` has been checked for
    a DTD first, whoever asks (the reader does not depend on having been called after the checks).
    """

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.name = data, name
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.infos: dict[str, zipfile.ZipInfo] = {
            i.filename: i for i in self.zip.infolist() if not i.is_dir()
        }
        self.cells = 0  # counted by the pre-open checks: what max_workbook_cells bounds
        self._kept: dict[str, bytes] = {}
        self._room = KEEP_BYTES
        self._vetted: set[str] = set()
        self._trees: dict[str, Element] = {}

    def __contains__(self, part: str) -> bool:
        return part in self.infos

    def read(self, part: str) -> bytes:
        """The part's bytes (``KeyError`` when it is missing); its CRC is checked on the way."""
        kept = self._kept.get(part)
        if kept is not None:
            return kept
        data = self.zip.read(self.infos[part])
        if len(data) <= self._room:
            self._kept[part] = data
            self._room -= len(data)
        return data

    def fits(self, part: str) -> bool:
        """Whether the part is kept in memory, or can still be."""
        return part in self._kept or self.infos[part].file_size <= self._room

    def open(self, part: str) -> IO[bytes]:
        """The part as a file: from memory when it is (or can be) kept, else streamed from the zip."""
        if self.fits(part):
            return io.BytesIO(self.read(part))
        return self.zip.open(self.infos[part])

    def head(self, part: str, size: int) -> bytes:
        """The part's first ``size`` bytes (all of it, decompressed once and kept, when it fits)."""
        if self.fits(part):
            return self.read(part)[:size]
        with self.zip.open(self.infos[part]) as fh:
            return fh.read(size)

    def xml(self, part: str) -> bytes:
        self.vet(part)
        return self.read(part)

    def open_xml(self, part: str) -> IO[bytes]:
        self.vet(part)
        return self.open(part)

    def tree(self, part: str) -> Element:
        """The part parsed for reading, once (never change it: it is shared)."""
        tree = self._trees.get(part)
        if tree is None:
            tree = self._trees[part] = parse(self.xml(part))
        return tree

    def vet(self, part: str) -> None:
        """Refuse the part if it declares a DTD (once per part)."""
        if part not in self._vetted:
            check_no_dtd(self.head(part, DTD_HEAD), part, self.name)
            self._vetted.add(part)

    def rels(self, part: str) -> list[Rel]:
        """The relationships of ``part`` (none when it has no relationships part)."""
        name = rels_part(part)
        return relationships(self.tree(name)) if name in self else []

    def workbook_part(self) -> str | None:
        return workbook_part(self.tree(CONTENT_TYPES_PART))

    def raw(self, part: str) -> bytes:
        """The part's compressed bytes as they stand in the zip (after its local header)."""
        src = self.infos[part]
        start = src.header_offset
        fields = struct.unpack("<4s5H3L2H", self.data[start : start + 30])
        if fields[0] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header of {part}")
        begin = start + 30 + fields[9] + fields[10]
        return self.data[begin : begin + src.compress_size]


def _write_compressed(out: zipfile.ZipFile, info: zipfile.ZipInfo, src: zipfile.ZipInfo, raw: bytes) -> None:
    """Write an entry whose bytes are already compressed (``src`` describes them) into ``out`` under
    ``info``'s name, date and attributes. zipfile has no public way to do this: the one place xlperf
    writes its internals. The bytes are not decompressed here: an input's parts were all read to
    their end, CRC checked, by the pre-open checks; other packages are xlperf's own."""
    info.compress_type, info.CRC = src.compress_type, src.CRC
    info.compress_size, info.file_size = src.compress_size, src.file_size
    info.flag_bits = src.flag_bits & 0x800  # UTF-8 names; sizes are in the local header, no data descriptor
    assert out.fp is not None
    info.header_offset = out.fp.tell()
    out.fp.write(info.FileHeader())
    out.fp.write(raw)
    out.filelist.append(info)
    out.NameToInfo[info.filename] = info
    out.start_dir = out.fp.tell()
    out._didModify = True  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------- the output


class _Bytes(MutableMapping[str, bytes]):
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

    Built on the input's :class:`Parts` (or its bytes): a part is decompressed only when xlperf
    reads it, and a part it leaves alone is written back as its compressed bytes were."""

    def __init__(self, data: bytes | Parts) -> None:
        source = data if isinstance(data, Parts) else Parts(data, "")
        self.infos = dict(source.infos)
        self.raw = _Bytes(source)
        self.order = list(self.infos)
        self._xml: dict[str, Element] = {}
        self._read: dict[str, Element] = {}  # parsed for reading only; never changed in place

    # parts
    def __contains__(self, name: str) -> bool:
        return name in self.raw or name in self._xml

    def xml(self, name: str, *, vml: bool = False) -> Element:
        """The parsed part; changes to it are saved (the part is then no longer copied as it was)."""
        if name not in self._xml:
            read = self._read.pop(name, None)
            self._xml[name] = read if read is not None and not vml else parse_part(self.raw[name], vml=vml)
        return self._xml[name]

    def peek(self, name: str) -> Element:
        """The parsed part for reading only (its bytes stay as they are)."""
        if name in self._xml:
            return self._xml[name]
        if name not in self._read:
            self._read[name] = parse_part(self.raw[name])
        return self._read[name]

    def put(self, name: str, data: bytes | Element, content_type: str | None = None) -> None:
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
        self.raw.pop(name, None)
        self._xml.pop(name, None)
        self._read.pop(name, None)
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
        source = self.raw.source
        try:
            for name in self.order:
                old = self.infos.get(name)
                info = zipfile.ZipInfo(name, date_time=old.date_time if old else (1980, 1, 1, 0, 0, 0))
                info.compress_type = old.compress_type if old is not None else zipfile.ZIP_DEFLATED
                info.external_attr = old.external_attr if old is not None else 0o600 << 16
                if name not in self._xml and self.raw.unchanged(name):
                    _write_compressed(zf, info, source.infos[name], source.raw(name))
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
        return content_type_of(self.peek(CONTENT_TYPES_PART), name)

    def workbook_part(self) -> str:
        """The workbook part (:func:`workbook_part`); a package without one is not a workbook."""
        found = workbook_part(self.peek(CONTENT_TYPES_PART))
        if found is None:
            raise KeyError("no workbook part in [Content_Types].xml")
        return found

    def set_override(self, name: str, content_type: str) -> None:
        root = self.xml(CONTENT_TYPES_PART)
        for el in root.iter(q("Override", TYPES)):
            if el.get("PartName") == "/" + name:
                el.set("ContentType", content_type)
                return
        etree.SubElement(root, q("Override", TYPES), PartName="/" + name, ContentType=content_type)

    def ensure_default(self, ext: str, content_type: str) -> None:
        root = self.peek(CONTENT_TYPES_PART)
        if any((el.get("Extension") or "").lower() == ext for el in root.iter(q("Default", TYPES))):
            return
        root = self.xml(CONTENT_TYPES_PART)
        el = etree.Element(q("Default", TYPES), Extension=ext, ContentType=content_type)
        defaults = list(root.iter(q("Default", TYPES)))
        (defaults[-1].addnext(el) if defaults else root.insert(0, el))

    def remove_override(self, name: str) -> None:
        if name == CONTENT_TYPES_PART or CONTENT_TYPES_PART not in self:
            return
        root = self.peek(CONTENT_TYPES_PART)
        if any(el.get("PartName") == "/" + name for el in root.iter(q("Override", TYPES))):
            root = self.xml(CONTENT_TYPES_PART)
            for el in list(root.iter(q("Override", TYPES))):
                if el.get("PartName") == "/" + name:
                    root.remove(el)

    def remove_defaults(self, content_type_part: str) -> bool:
        """Remove the ``Default`` entries whose content type contains ``content_type_part``;
        whether any was."""
        types = self.peek(CONTENT_TYPES_PART)
        if not any(
            content_type_part in (el.get("ContentType") or "") for el in types.iter(q("Default", TYPES))
        ):
            return False
        root = self.xml(CONTENT_TYPES_PART)
        for el in list(root.iter(q("Default", TYPES))):
            if content_type_part in (el.get("ContentType") or ""):
                root.remove(el)
        return True

    # relationships
    def rels(self, source: str) -> list[Rel]:
        name = rels_part(source)
        return relationships(self.peek(name)) if name in self else []

    def target(self, source: str, rel: Rel) -> str:
        """The part a relationship of ``source`` points at, as a zip name."""
        return resolve(source, rel.target)

    def related(self, source: str, rel_type: str) -> str | None:
        """The part the first relationship of ``rel_type`` from ``source`` points at (None: none)."""
        rel = next((r for r in self.rels(source) if r.is_a(rel_type) and not r.external), None)
        return None if rel is None else resolve(source, rel.target)

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

    def remove_related(self, source: str, rel_type: str) -> None:
        """Remove every relationship of ``rel_type`` from ``source`` and the parts only they point at."""
        for rel in self.rels(source):
            if rel.is_a(rel_type):
                self.remove_rel(source, rel.id)
                self.remove_tree(self.target(source, rel), set())

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
