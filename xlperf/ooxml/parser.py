"""The one lxml parser configuration, and the small helpers every XML part is handled with.

Every parser here resolves no entities, loads no DTD, reaches no network and keeps ``huge_tree`` off;
a part that declares a DTD is refused before any parser sees it (:func:`check_no_dtd`, called by
:class:`xlperf.ooxml.package.Parts` for every part it hands out). Three variants of that one
configuration, by purpose:

* reading (:func:`parse`, :func:`iterparse`): comments and processing instructions dropped, as
  openpyxl's reader drops them, so a value reads the same in both;
* editing (:func:`parse_part`): kept, so a part xlperf edits is written back with them;
* VML (``vml=True``): older Excel versions wrote VML that is not always well-formed XML; recovered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any, TypeAlias

from lxml import etree

from xlperf.ooxml.constants import MAIN
from xlperf.ooxml.errors import WorkbookReadError

_SAFE: dict[str, Any] = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
_READ = etree.XMLParser(**_SAFE, remove_comments=True, remove_pis=True)
_EDIT = etree.XMLParser(**_SAFE)
_VML = etree.XMLParser(**_SAFE, recover=True)

#: lxml's element type (lxml ships no type information: to mypy this is ``Any``)
Element: TypeAlias = etree._Element


def parse(data: bytes) -> Element:
    """A part parsed for reading (comments and processing instructions dropped)."""
    return etree.fromstring(data, _READ)


def parse_part(data: bytes, *, vml: bool = False) -> Element:
    """A part parsed for editing: written back as it was except where it is changed."""
    return etree.fromstring(data, _VML if vml else _EDIT)


def iterparse(fh: IO[bytes], events: tuple[str, ...], tag: Any) -> Iterator[tuple[str, Element]]:
    """Stream a part's elements (the reading configuration)."""
    events_: Iterator[tuple[str, Element]] = etree.iterparse(
        fh, events=events, tag=tag, **_SAFE, remove_comments=True, remove_pis=True
    )
    return events_


def serialise(root: Element) -> bytes:
    """A part's bytes as Excel writes them: UTF-8, declared, standalone."""
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def q(tag: str, ns: str = MAIN) -> str:
    """A qualified tag name, ``{namespace}tag``."""
    return f"{{{ns}}}{tag}"


def local(el: Element) -> str:
    """An element's tag without its namespace ('' for comments and processing instructions)."""
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(el: Element) -> str:
    """An element's namespace (SpreadsheetML's main one when it has none)."""
    tag = el.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else MAIN


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_TAG = re.compile(rb"<[A-Za-z_]")
#: how much of a part :func:`check_no_dtd` needs: a DTD can only stand before the root element
DTD_HEAD = 64 * 1024


def check_no_dtd(head: bytes, part: str, name: str) -> None:
    """Refuse a part that declares a DTD (the "billion laughs" entity bomb). A DTD may only stand
    before the root element (``head``: the part's first :data:`DTD_HEAD` bytes); OOXML parts never
    have one. ``name`` is the file's, for the message."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    root = _ROOT_TAG.search(head)
    prolog = head[: root.start()] if root else head
    if _DTD.search(prolog):
        raise WorkbookReadError(
            f"{name} 的 {part} 含有 XML 实体/DTD 定义（可能是恶意构造的“实体炸弹”），已拒绝打开；"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx"
        )
