"""Writer for MS-OVBA VBA projects (the ``vbaProject.bin`` inside ``.xlsm`` / ``.xlam``).

The project is stored source-only: ``_VBA_PROJECT`` carries no performance cache and every
module has MODULEOFFSET 0, so Office compiles the modules from source when it loads them.
Section numbers refer to [MS-OVBA] (Office VBA File Format Structure).
"""

from __future__ import annotations

import enum
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from xlperf.excel.vba.cfb import build_compound_file

__all__ = [
    "CODEPAGE",
    "Module",
    "ModuleKind",
    "Reference",
    "build_vba_project",
    "compress",
    "decrypt_data",
    "encrypt_data",
    "module_source",
]

# PROJECTCODEPAGE (2.3.4.2.1.5): Windows-1252 like xlwings' own add-in. Module sources must stay
# ASCII (or at least cp1252); Chinese text in VBA is written as ChrW() calls instead.
CODEPAGE = 1252
_CODEC = "cp1252"
# PROJECTSYSKIND (2.3.4.2.1.1): 3 = 64-bit Windows, what xlwings' shipped xlwings.xlam declares.
# The project has no compiled code, so 32-bit Office recompiles it the same way.
SYSKIND_WIN64 = 3
LCID_EN_US = 0x0409

# Host extender for Excel and the empty "no protection" values, as Office writes them (2.3.1).
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
_VERSION_COMPATIBLE32 = "393222000"

# Attribute blocks Office puts at the top of each kind of module stream (copied from the modules
# of xlwings' shipped add-in). VB_Base GUIDs: 00020819 = Excel Workbook, 00020820 = Worksheet,
# FCFB3D2A = VBA class module.
_DOC_ATTRIBUTES = (
    'Attribute VB_Base = "0{{{base}}}"',
    "Attribute VB_GlobalNameSpace = False",
    "Attribute VB_Creatable = False",
    "Attribute VB_PredeclaredId = True",
    "Attribute VB_Exposed = True",
    "Attribute VB_TemplateDerived = False",
    "Attribute VB_Customizable = True",
)
WORKBOOK_BASE = "00020819-0000-0000-C000-000000000046"
WORKSHEET_BASE = "00020820-0000-0000-C000-000000000046"
CLASS_BASE = "FCFB3D2A-A0FA-1068-A738-08002B3371B5"


class ModuleKind(enum.Enum):
    """How a module appears in the PROJECT stream and its MODULETYPE record."""

    STANDARD = "Module"  # .bas, MODULETYPE procedural (0x0021)
    DOCUMENT = "Document"  # ThisWorkbook, Sheet1: MODULETYPE document/class (0x0022)
    CLASS = "Class"  # .cls, MODULETYPE document/class (0x0022)


@dataclass(frozen=True)
class Module:
    """One VBA module: its name and its full stored source (``Attribute VB_Name`` line included).

    Build the source with :func:`module_source` unless you import an exported ``.bas`` file
    that already starts with its attribute lines.
    """

    name: str
    source: str
    kind: ModuleKind = ModuleKind.STANDARD


@dataclass(frozen=True)
class Reference:
    """A REFERENCEREGISTERED record (2.3.4.2.2.5): a type library by LIBID."""

    name: str
    libid: str


# The two references of xlwings' shipped add-in, byte for byte. The Office library (MSO.DLL)
# provides IRibbonControl; the path is only a hint, Office resolves the library by GUID/version.
DEFAULT_REFERENCES: tuple[Reference, ...] = (
    Reference(
        "stdole",
        r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation",
    ),
    Reference(
        "Office",
        r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared"
        r"\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library",
    ),
)


def module_source(name: str, code: str, kind: ModuleKind = ModuleKind.STANDARD, *, base: str = "") -> str:
    """Return the stored text of a module: its ``Attribute`` header followed by ``code``.

    ``base`` is the VB_Base GUID of a document module (:data:`WORKBOOK_BASE` or
    :data:`WORKSHEET_BASE`); class modules always use the VBA class GUID. Line endings become CRLF.
    """
    lines = [f'Attribute VB_Name = "{name}"']
    if kind is ModuleKind.DOCUMENT:
        if not base:
            raise ValueError(f"document module {name!r} needs a VB_Base GUID")
        lines += [a.format(base=base) for a in _DOC_ATTRIBUTES]
    elif kind is ModuleKind.CLASS:
        lines += [
            f'Attribute VB_Base = "0{{{CLASS_BASE}}}"',
            "Attribute VB_GlobalNameSpace = False",
            "Attribute VB_Creatable = False",
            "Attribute VB_PredeclaredId = False",
            "Attribute VB_Exposed = False",
            "Attribute VB_TemplateDerived = False",
            "Attribute VB_Customizable = False",
        ]
    body = code.replace("\r\n", "\n").replace("\r", "\n")
    text = "\r\n".join(lines) + "\r\n" + body.replace("\n", "\r\n")
    return text if text.endswith("\r\n") else text + "\r\n"


# --------------------------------------------------------------------------------------------
# 2.4.1 Compression


def _copy_token_help(difference: int) -> tuple[int, int]:
    """2.4.1.3.19.1 CopyToken Help: (bit count of the length field, maximum length)."""
    bit_count = max((difference - 1).bit_length(), 4)  # ceil(log2(difference)), at least 4
    return bit_count, (0xFFFF >> bit_count) + 3


def _compress_chunk(chunk: bytes) -> bytes:
    """Compress one decompressed chunk (at most 4096 bytes) into token sequences (2.4.1.3.7)."""
    out = bytearray()
    pos = 0
    end = len(chunk)
    # Positions of earlier 3-byte prefixes, newest last, to find matches quickly.
    seen: dict[bytes, list[int]] = {}

    def remember(i: int) -> None:
        if i + 3 <= end:
            seen.setdefault(chunk[i : i + 3], []).append(i)

    while pos < end:
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            offset_bits, max_length = _copy_token_help(pos) if pos > 0 else (4, 0)
            best_len, best_off = 0, 0
            if pos > 0 and pos + 3 <= end:
                limit = min(max_length, end - pos)
                # Longest match, nearest first on ties, as in the spec's backwards search
                # (2.4.1.3.19.4). Office's own compressor picks matches differently (its output
                # is not byte-identical), but any valid token sequence decompresses the same.
                for cand in reversed(seen.get(chunk[pos : pos + 3], ())):
                    length = 3
                    while length < limit and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == limit:
                            break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - offset_bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                for i in range(pos, pos + best_len):
                    remember(i)
                pos += best_len
            else:
                out.append(chunk[pos])
                remember(pos)
                pos += 1
        out[flag_index] = flags
    return bytes(out)


def compress(data: bytes, *, exact: bool = True) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer (2.4.1.1.1).

    Each 4096-byte chunk is stored compressed, or raw when compression would not fit in a chunk
    (2.4.1.3.7). A raw chunk always holds 4096 bytes, so a final chunk shorter than that is
    zero-padded by the spec and would decompress with trailing NULs; with ``exact=True`` (the
    default, used for module sources) that case raises ``ValueError`` instead. It cannot happen
    for text, only for nearly incompressible data.
    """
    out = bytearray(b"\x01")  # SignatureByte
    for start in range(0, len(data), 4096):
        chunk = data[start : start + 4096]
        body = _compress_chunk(chunk)
        if len(body) <= 4096:
            # Header: size-3 in 12 bits, signature 0b011, flag 1 = compressed (2.4.1.1.5).
            out += struct.pack("<H", (len(body) + 2 - 3) | (0b011 << 12) | 0x8000)
            out += body
        else:
            if len(chunk) < 4096 and exact:
                raise ValueError("incompressible final chunk would need zero padding (MS-OVBA 2.4.1.3.10)")
            out += struct.pack("<H", 0x0FFF | (0b011 << 12))
            out += chunk.ljust(4096, b"\0")
    return bytes(out)


# --------------------------------------------------------------------------------------------
# 2.4.3 Data encryption (the CMG / DPB / GC values of the PROJECT stream)


def encrypt_data(project_id: str, data: bytes, *, seed: int = 0x00, ignored: bytes | None = None) -> str:
    """Obfuscate ``data`` as in 2.4.3.2 and return it as upper-case hex.

    The spec asks for a random seed and random ignored bytes; fixed ones keep builds
    reproducible. ``ignored`` must have ``(seed & 6) // 2`` bytes (zeros when omitted).
    """
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    ignored_length = (seed & 6) // 2
    if ignored is None:
        ignored = b"\0" * ignored_length
    if len(ignored) != ignored_length:
        raise ValueError(f"seed {seed:#x} needs {ignored_length} ignored bytes")
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    unencrypted1, encrypted1, encrypted2 = proj_key, out[2], out[1]
    for byte in ignored + struct.pack("<I", len(data)) + data:
        enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    return out.hex().upper()


def decrypt_data(hex_text: str) -> tuple[int, bytes, bytes]:
    """Reverse :func:`encrypt_data` (2.4.3.3): return ``(seed, ignored bytes, data)``."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, proj_key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("not MS-OVBA encrypted data (version is not 2)")
    proj_key = seed ^ proj_key_enc
    unencrypted1, encrypted1, encrypted2 = proj_key, proj_key_enc, version_enc
    plain = bytearray()
    for enc in raw[3:]:
        byte = enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(byte)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    n_ignored = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, n_ignored)
    data = bytes(plain[n_ignored + 4 :])
    if len(data) != length:
        raise ValueError(f"encrypted length {length} does not match data ({len(data)} bytes)")
    return seed, bytes(plain[:n_ignored]), data


# --------------------------------------------------------------------------------------------
# 2.3.4.2 dir stream


def _rec(rec_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rec_id, len(payload)) + payload


def _mbcs(text: str) -> bytes:
    return text.encode(_CODEC)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _dir_stream(project_name: str, modules: Sequence[Module], references: Sequence[Reference]) -> bytes:
    out = bytearray()
    # 2.3.4.2.1 PROJECTINFORMATION
    out += _rec(0x0001, struct.pack("<I", SYSKIND_WIN64))
    out += _rec(0x0002, struct.pack("<I", LCID_EN_US))  # PROJECTLCID
    out += _rec(0x0014, struct.pack("<I", LCID_EN_US))  # PROJECTLCIDINVOKE
    out += _rec(0x0003, struct.pack("<H", CODEPAGE))
    out += _rec(0x0004, _mbcs(project_name))
    out += _rec(0x0005, b"") + _rec(0x0040, b"")  # PROJECTDOCSTRING + unicode twin
    out += _rec(0x0006, b"") + _rec(0x003D, b"")  # PROJECTHELPFILEPATH 1 and 2
    out += _rec(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _rec(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    # PROJECTVERSION is the one record whose Size field is a fixed 4 that does not cover the
    # 6 bytes that follow (2.3.4.2.1.11).
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)
    out += _rec(0x000C, b"") + _rec(0x003C, b"")  # PROJECTCONSTANTS + unicode twin
    # 2.3.4.2.2 PROJECTREFERENCES
    for ref in references:
        out += _rec(0x0016, _mbcs(ref.name)) + _rec(0x003E, _utf16(ref.name))
        libid = _mbcs(ref.libid)
        out += _rec(0x000D, struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0))
    # 2.3.4.2.3 PROJECTMODULES
    out += _rec(0x000F, struct.pack("<H", len(modules)))
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE: MUST be 0xFFFF on write
    for mod in modules:
        out += _rec(0x0019, _mbcs(mod.name)) + _rec(0x0047, _utf16(mod.name))
        out += _rec(0x001A, _mbcs(mod.name)) + _rec(0x0032, _utf16(mod.name))  # MODULESTREAMNAME
        out += _rec(0x001C, b"") + _rec(0x0048, b"")  # MODULEDOCSTRING
        out += _rec(0x0031, struct.pack("<I", 0))  # MODULEOFFSET 0: source only, no p-code
        out += _rec(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _rec(0x0021 if mod.kind is ModuleKind.STANDARD else 0x0022, b"")  # MODULETYPE
        out += _rec(0x002B, b"")  # module terminator
    out += _rec(0x0010, b"")  # dir terminator
    return bytes(out)


def _project_stream(project_name: str, project_id: str, modules: Sequence[Module]) -> bytes:
    """The PROJECT stream (2.3.1): a CRLF text of properties plus the [Workspace] section."""
    lines = [f'ID="{project_id}"']
    for mod in modules:
        if mod.kind is ModuleKind.DOCUMENT:
            lines.append(f"Document={mod.name}/&H00000000")  # 2.3.1.4: DocClassVersion 0
        else:
            lines.append(f"{mod.kind.value}={mod.name}")
    # Fixed seed 0: no ignored bytes, so the values are a function of the project id only.
    not_protected, no_password, visible = bytes(4), b"\x00", b"\xff"
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        f'VersionCompatible32="{_VERSION_COMPATIBLE32}"',
        f'CMG="{encrypt_data(project_id, not_protected)}"',  # 2.3.1.15: not protected
        f'DPB="{encrypt_data(project_id, no_password)}"',  # 2.3.1.16: no password
        f'GC="{encrypt_data(project_id, visible)}"',  # 2.3.1.17: visible
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
        "",
        "[Workspace]",
    ]
    lines += [f"{mod.name}=0, 0, 0, 0, C" for mod in modules]
    return ("\r\n".join(lines) + "\r\n").encode(_CODEC)


def _projectwm_stream(modules: Sequence[Module]) -> bytes:
    """PROJECTwm (2.3.3): each module name in MBCS and UTF-16, null-terminated."""
    out = bytearray()
    for mod in modules:
        out += _mbcs(mod.name) + b"\0" + _utf16(mod.name) + b"\0\0"
    return bytes(out + b"\0\0")


def build_vba_project(
    project_name: str,
    modules: list[Module],
    *,
    references: Sequence[Reference] = DEFAULT_REFERENCES,
) -> bytes:
    """Return ``vbaProject.bin`` bytes for a source-only VBA project.

    ``modules`` are stored in the given order; each source is encoded with the project code page
    (:data:`CODEPAGE`) and must round-trip through it. The project CLSID is derived from the
    project name, so the output is reproducible.
    """
    if not project_name.isidentifier() or not project_name.isascii():
        raise ValueError(f"VBA project name must be an ASCII identifier: {project_name!r}")
    names = [m.name.upper() for m in modules]
    if len(set(names)) != len(names):
        raise ValueError("duplicate VBA module names (VBA names are case-insensitive)")
    project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"xlperf:vba:{project_name}")).upper() + "}"
    streams: dict[str, bytes] = {
        "PROJECT": _project_stream(project_name, project_id, modules),
        "PROJECTwm": _projectwm_stream(modules),
        # 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF, Reserved2 0x00, Reserved3 (any), no cache.
        "VBA/_VBA_PROJECT": bytes.fromhex("CC61FFFF000100"),
        "VBA/dir": compress(_dir_stream(project_name, modules, references)),
    }
    for mod in modules:
        if not mod.name.isidentifier() or not mod.name.isascii() or len(mod.name) > 31:
            raise ValueError(f"invalid VBA module name {mod.name!r}")
        first = mod.source.split("\r\n", 1)[0]
        if first != f'Attribute VB_Name = "{mod.name}"':
            raise ValueError(f"module {mod.name!r} source must start with its Attribute VB_Name line")
        try:
            encoded = mod.source.encode(_CODEC)
        except UnicodeEncodeError as exc:
            raise ValueError(f"module {mod.name!r} is not encodable in code page {CODEPAGE}: {exc}") from exc
        streams[f"VBA/{mod.name}"] = compress(encoded)
    return build_compound_file(streams)
