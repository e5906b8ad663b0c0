"""A minimal, deterministic writer for MS-CFB (compound file binary format) version 3.

Only what a VBA project (``vbaProject.bin``) needs: storages and streams, 512-byte sectors,
a FAT that fits in the header's 109 DIFAT slots (files up to about 6.8 MB), a mini stream for
streams smaller than 4096 bytes.  Every timestamp is zero and every CLSID is fixed, so the
same input always gives the same bytes.

Section numbers refer to [MS-CFB] (Compound File Binary File Format).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["build_compound_file", "cfb_name_key"]

SECTOR_SIZE = 512  # version 3 (2.2: sector shift 9)
MINI_SECTOR_SIZE = 64  # 2.2: mini sector shift 6
MINI_STREAM_CUTOFF = 4096  # 2.2: streams smaller than this live in the mini stream
DIR_ENTRY_SIZE = 128
IDS_PER_SECTOR = SECTOR_SIZE // 4
HEADER_DIFAT_SLOTS = 109

# 2.1 special sector numbers
DIFSECT = 0xFFFFFFFC
FATSECT = 0xFFFFFFFD
ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
NOSTREAM = 0xFFFFFFFF

# 2.6.1 object types and colours
TYPE_UNUSED, TYPE_STORAGE, TYPE_STREAM, TYPE_ROOT = 0, 1, 2, 5
RED, BLACK = 0, 1

SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


def cfb_name_key(name: str) -> tuple[int, str]:
    """Sort key of sibling directory entries (2.6.4): shorter names first, then by upper case.

    The spec compares UTF-16 code points after a simple upper-case mapping; for the ASCII
    names a VBA project uses, ``str.upper`` is exactly that.
    """
    return (len(name), name.upper())


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Node] = field(default_factory=dict)
    sid: int = -1
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def _build_tree(streams: Mapping[str, bytes]) -> _Node:
    root = _Node("Root Entry", TYPE_ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        if any(not p for p in parts):
            raise ValueError(f"invalid stream path {path!r}")
        node = root
        for part in parts[:-1]:
            nxt = node.children.get(part)
            if nxt is None:
                # 2.6.3: a storage's Starting Sector Location and Stream Size MUST be zero.
                nxt = node.children[part] = _Node(part, TYPE_STORAGE, start=0, size=0)
            elif nxt.kind != TYPE_STORAGE:
                raise ValueError(f"{path!r}: {part!r} is a stream, not a storage")
            node = nxt
        leaf = parts[-1]
        if leaf in node.children:
            raise ValueError(f"duplicate entry {path!r}")
        node.children[leaf] = _Node(leaf, TYPE_STREAM, data=bytes(data), size=len(data))
    _check_names(root)
    return root


def _check_names(node: _Node) -> None:
    keys = [cfb_name_key(n) for n in node.children]
    if len(set(keys)) != len(keys):
        raise ValueError(f"sibling names differ only by case under {node.name!r}")
    for name, child in node.children.items():
        # 2.6.1: at most 31 UTF-16 code units plus the terminating null; '/', '\\', ':', '!' banned.
        if len(name) > 31 or any(c in name for c in "/\\:!"):
            raise ValueError(f"invalid CFB entry name {name!r}")
        _check_names(child)


def _assign_ids(root: _Node) -> list[_Node]:
    """Number entries breadth-first (root is 0) and link each storage's children as a tree."""
    order = [root]
    root.sid = 0
    i = 0
    while i < len(order):
        node = order[i]
        i += 1
        kids = sorted(node.children.values(), key=lambda n: cfb_name_key(n.name))
        for kid in kids:
            kid.sid = len(order)
            order.append(kid)
        if kids:
            node.child = _link_balanced(kids)
    return order


def _link_balanced(kids: list[_Node]) -> int:
    """Link sorted siblings as a balanced binary search tree coloured as a valid red-black tree.

    Splitting at the midpoint keeps every empty link on the last two levels, so colouring the
    deepest level red (when it is not the root) gives equal black heights on every path and no
    red node with a red parent (2.6.4).
    """
    depths: dict[int, int] = {}

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = kids[mid]
        depths[mid] = depth
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        return node.sid

    top = build(0, len(kids), 0)
    deepest = max(depths.values())
    perfect = (len(kids) + 1) & len(kids) == 0
    for idx, depth in depths.items():
        kids[idx].color = RED if depth == deepest and not perfect else BLACK
    return top


def _sectors(n_bytes: int, size: int) -> int:
    return (n_bytes + size - 1) // size


def _pad(data: bytes, size: int) -> bytes:
    rest = len(data) % size
    return data if rest == 0 else data + b"\0" * (size - rest)


def _dir_entry(node: _Node | None) -> bytes:
    if node is None:  # 2.6.3: unused entries are zero with NOSTREAM links
        return b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 48
    encoded = node.name.encode("utf-16-le") + b"\0\0"
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), node.kind, node.color)
        + struct.pack("<III", node.left, node.right, node.child)
        + b"\0" * 16  # CLSID: fixed zero
        + struct.pack("<I", 0)  # state bits
        + struct.pack("<QQ", 0, 0)  # creation and modified time: zero for reproducibility
        + struct.pack("<IQ", node.start, node.size)  # v3: high 32 bits of size are zero
    )


def build_compound_file(streams: Mapping[str, bytes]) -> bytes:
    """Return a CFB v3 file holding ``streams``.

    Keys are slash-separated paths (``"VBA/dir"``); the storages on the way are created.
    Entry order, timestamps and CLSIDs are fixed, so equal input gives identical bytes.
    """
    root = _build_tree(streams)
    entries = _assign_ids(root)
    stream_nodes = [n for n in entries if n.kind == TYPE_STREAM]

    # Mini stream (2.5): small streams packed in 64-byte mini sectors, chained in the mini FAT.
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for node in stream_nodes:
        if 0 < node.size < MINI_STREAM_CUTOFF:
            first = len(mini_fat)
            count = _sectors(node.size, MINI_SECTOR_SIZE)
            mini_fat.extend(range(first + 1, first + count))
            mini_fat.append(ENDOFCHAIN)
            node.start = first
            mini_stream += _pad(node.data, MINI_SECTOR_SIZE)
    big = [n for n in stream_nodes if n.size >= MINI_STREAM_CUTOFF]

    n_dir = _sectors(len(entries) * DIR_ENTRY_SIZE, SECTOR_SIZE)
    n_minifat = _sectors(len(mini_fat) * 4, SECTOR_SIZE)
    n_ministream = _sectors(len(mini_stream), SECTOR_SIZE)
    n_big = sum(_sectors(n.size, SECTOR_SIZE) for n in big)
    n_payload = n_dir + n_minifat + n_ministream + n_big
    n_fat = 1
    while n_fat * IDS_PER_SECTOR < n_fat + n_payload:
        n_fat += 1
    if n_fat > HEADER_DIFAT_SLOTS:
        raise ValueError("compound file too large for a header-only DIFAT (about 6.8 MB)")

    # Layout: FAT sectors, directory, mini FAT, mini stream, then the large streams.
    fat: list[int] = [FATSECT] * n_fat
    body = bytearray()

    def chain(data: bytes) -> int:
        if not data:
            return ENDOFCHAIN
        first = len(fat)
        count = _sectors(len(data), SECTOR_SIZE)
        fat.extend(range(first + 1, first + count))
        fat.append(ENDOFCHAIN)
        body.extend(_pad(data, SECTOR_SIZE))
        return first

    dir_start = len(fat)
    fat.extend(range(dir_start + 1, dir_start + n_dir))
    fat.append(ENDOFCHAIN)
    # Unused mini FAT entries in the last mini FAT sector are FREESECT, not zero.
    mini_fat += [FREESECT] * (n_minifat * IDS_PER_SECTOR - len(mini_fat))
    minifat_start = chain(struct.pack(f"<{len(mini_fat)}I", *mini_fat))
    root.start = chain(bytes(mini_stream))
    # 2.6.2: the root entry's size is the size of the mini stream (whole mini sectors).
    root.size = len(mini_stream)
    for node in big:
        node.start = chain(node.data)
    fat.extend([FREESECT] * (n_fat * IDS_PER_SECTOR - len(fat)))

    directory = b"".join(_dir_entry(n) for n in entries)
    directory += b"".join(
        _dir_entry(None) for _ in range(n_dir * SECTOR_SIZE // DIR_ENTRY_SIZE - len(entries))
    )

    difat = list(range(n_fat)) + [FREESECT] * (HEADER_DIFAT_SLOTS - n_fat)
    header = (
        SIGNATURE
        + b"\0" * 16  # header CLSID
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)  # minor, major v3, byte order, shifts
        + b"\0" * 6
        + struct.pack("<I", 0)  # number of directory sectors: MUST be 0 for v3
        + struct.pack("<I", n_fat)
        + struct.pack("<I", dir_start)
        + struct.pack("<I", 0)  # transaction signature
        + struct.pack("<I", MINI_STREAM_CUTOFF)
        + struct.pack("<II", minifat_start, n_minifat)
        + struct.pack("<II", ENDOFCHAIN, 0)  # no DIFAT sectors
        + struct.pack(f"<{HEADER_DIFAT_SLOTS}I", *difat)
    )
    assert len(header) == SECTOR_SIZE
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    out = header + fat_bytes + directory + bytes(body)
    assert len(out) == SECTOR_SIZE * (1 + n_fat + n_payload)
    return out
