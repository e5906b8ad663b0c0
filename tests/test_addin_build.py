"""Build checks for xlperf.xlam: independent readers (olefile, olevba, openpyxl, LibreOffice) must
accept what the pure-Python writers produce. See docs/EXCEL.md section 2."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import olefile
import pytest
import xlwings
from oletools.olevba import VBA_Parser, decompress_stream

from xlperf.excel import addin
from xlperf.excel.registry import BUTTONS, UDFS
from xlperf.excel.vba import ovba
from xlperf.excel.vba.cfb import BLACK, NOSTREAM, RED, build_compound_file, cfb_name_key
from xlperf.excel.vba.sources import addin_modules, udf_wrapper_source, vba_string_expr

GOLDEN = Path(__file__).parent / "golden"
XLWINGS_DIR = Path(xlwings.__file__).parent
SOFFICE = shutil.which("soffice")
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("addin")
    return {
        "xlam": addin.build_addin(out),
        "xlsm": addin.build_xlsm(out / "full.xlsm"),
        "xlsm_lo": addin.build_xlsm(out / "lo.xlsm", include_xlwings=False),
    }


def _vba_bin(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/vbaProject.bin")


def _records(data: bytes) -> list[tuple[int, bytes]]:
    """Split a decompressed dir stream into (id, payload) records (MS-OVBA 2.3.4.2)."""
    out, i = [], 0
    while i < len(data):
        rec_id, size = struct.unpack_from("<HI", data, i)
        if rec_id == 0x0009:  # PROJECTVERSION: Size says 4, but 6 bytes follow
            size = 6
        out.append((rec_id, data[i + 6 : i + 6 + size]))
        i += 6 + size
    assert i == len(data)
    return out


# --- compound file ----------------------------------------------------------------------------


def test_olefile_parses_strictly(built: dict[str, Path]) -> None:
    for key in ("xlam", "xlsm"):
        ole = olefile.OleFileIO(_vba_bin(built[key]), raise_defects=olefile.DEFECT_INCORRECT)
        names = {"/".join(e) for e in ole.listdir()}
        assert {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"} <= names
        assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
        ole.close()


def _check_rb_tree(ole: olefile.OleFileIO, sid: int) -> None:
    """Sibling trees are binary search trees in CFB order and valid red-black trees (MS-CFB 2.6.4)."""
    entries = ole.direntries

    def walk(node: int, parent_red: bool) -> tuple[list[str], int]:
        if node == NOSTREAM:
            return [], 1
        e = entries[node]
        red = e.color == RED
        assert not (red and parent_red), "red node with red parent"
        left, bh_left = walk(e.sid_left, red)
        right, bh_right = walk(e.sid_right, red)
        assert bh_left == bh_right, "unequal black height"
        return [*left, e.name, *right], bh_left + (0 if red else 1)

    child = entries[sid].sid_child
    if child == NOSTREAM:
        return
    assert entries[child].color == BLACK
    names, _ = walk(child, False)
    assert names == sorted(names, key=cfb_name_key)
    for name in names:
        kid = next(i for i, e in enumerate(entries) if e is not None and e.name == name and i != sid)
        _check_rb_tree(ole, kid)


def test_directory_trees_are_valid(built: dict[str, Path]) -> None:
    ole = olefile.OleFileIO(_vba_bin(built["xlam"]), raise_defects=olefile.DEFECT_INCORRECT)
    _check_rb_tree(ole, 0)
    assert all(e.createTime == 0 and e.modifyTime == 0 for e in ole.direntries if e is not None)


def _compoundfiles_streams(data: bytes, tmp_path: Path) -> dict[str, bytes]:
    """Every stream as the second CFB reader, ``compoundfiles``, reads it, with its warnings as errors."""
    import warnings

    import compoundfiles

    path = tmp_path / "cfb.bin"
    path.write_bytes(data)  # a real file: from a BytesIO it warns about an emulated mmap
    out: dict[str, bytes] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with path.open("rb") as fh, compoundfiles.CompoundFileReader(fh) as doc:

            def walk(entry: object, prefix: str) -> None:
                for child in entry:  # type: ignore[attr-defined]
                    name = prefix + child.name
                    if child.isdir:
                        assert child.size == 0
                        walk(child, name + "/")
                    else:
                        with doc.open(child) as stream:
                            out[name] = stream.read()

            walk(doc.root, "")
    return out


def test_compoundfiles_reads_the_project_without_warnings(built: dict[str, Path], tmp_path: Path) -> None:
    for key in ("xlam", "xlsm"):
        data = _vba_bin(built[key])
        streams = _compoundfiles_streams(data, tmp_path)
        ole = olefile.OleFileIO(data)
        assert streams == {"/".join(e): ole.openstream(e).read() for e in ole.listdir()}
        # MS-CFB 2.6.3: storages have Starting Sector Location 0 and Stream Size 0.
        storages = [e for e in ole.direntries if e is not None and e.entry_type == olefile.STGTY_STORAGE]
        assert [e.name for e in storages] == ["VBA"]
        assert all(e.isectStart == 0 and e.size == 0 for e in storages)


@pytest.mark.parametrize("n_streams", [1, 2, 3, 5, 8, 13])
def test_cfb_round_trips_streams_of_all_sizes(n_streams: int, tmp_path: Path) -> None:
    rnd = random.Random(n_streams)
    sizes = [0, 1, 63, 64, 65, 511, 512, 4095, 4096, 4097, 70000]
    streams = {
        f"{rnd.choice(['', 'VBA/', 'A/b/'])}s{i}{'x' * rnd.randrange(20)}": rnd.randbytes(rnd.choice(sizes))
        for i in range(n_streams)
    }
    data = build_compound_file(streams)
    assert len(data) % 512 == 0
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    assert {"/".join(e) for e in ole.listdir()} == set(streams)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content
    _check_rb_tree(ole, 0)
    assert _compoundfiles_streams(data, tmp_path) == streams


# --- MS-OVBA ------------------------------------------------------------------------------------


def _sample(kind: str, size: int) -> bytes:
    if kind == "random":
        return random.Random(size).randbytes(size)
    if kind == "repetitive":
        return (b'Attribute VB_Name = "x"\r\n' * (size // 25 + 1))[:size]
    return ((XLWINGS_DIR / "xlwings_custom_addin.bas").read_bytes() * 2)[:size]


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 20000])
@pytest.mark.parametrize("kind", ["random", "repetitive", "vba"])
def test_compression_round_trips_through_oletools(kind: str, size: int) -> None:
    data = _sample(kind, size)
    if kind == "random" and size == 4095:
        # A short final chunk that does not compress must be stored raw, and a raw chunk always
        # holds 4096 bytes (MS-OVBA 2.4.1.3.10): the spec pads it with zeros, so exact mode refuses.
        with pytest.raises(ValueError, match="zero padding"):
            ovba.compress(data)
        assert decompress_stream(bytearray(ovba.compress(data, exact=False))) == data + b"\0"
        return
    packed = ovba.compress(data)
    assert packed[0] == 1
    assert decompress_stream(bytearray(packed)) == data
    if kind != "random" and size >= 4096:
        assert len(packed) < size / 2  # copy tokens are really used


def test_encryption_matches_office(tmp_path: Path) -> None:
    # CMG/DPB/GC written by Office in xlwings' quickstart add-in: decrypt, then re-encrypt.
    with zipfile.ZipFile(XLWINGS_DIR / "quickstart_addin_ribbon.xlam") as zf:
        ole = olefile.OleFileIO(zf.read("xl/vbaProject.bin"))
    project = ole.openstream("PROJECT").read().decode("cp1252")
    values = dict(re.findall(r'^(ID|CMG|DPB|GC)="([^"]*)"', project, re.MULTILINE))
    expected = {"CMG": bytes(4), "DPB": b"\0", "GC": b"\xff"}
    for key, data in expected.items():
        seed, ignored, plain = ovba.decrypt_data(values[key])
        assert plain == data
        assert ovba.encrypt_data(values["ID"], plain, seed=seed, ignored=ignored) == values[key]


def test_project_and_dir_streams(built: dict[str, Path]) -> None:
    ole = olefile.OleFileIO(_vba_bin(built["xlam"]))
    project = ole.openstream("PROJECT").read().decode("cp1252")
    lines = project.split("\r\n")
    for line in (
        "Document=ThisWorkbook/&H00000000",
        "Document=Sheet1/&H00000000",
        "Module=xlwings",
        "Class=Dictionary",
        "Module=xlperf_Ribbon",
        "Module=xlperf_udfs",
        'Name="xlperf"',
    ):
        assert line in lines
    project_id = re.search(r'^ID="(\{[0-9A-F-]{36}\})"', project)
    assert project_id
    for key, data in {"CMG": bytes(4), "DPB": b"\0", "GC": b"\xff"}.items():
        hex_value = re.search(rf'^{key}="([0-9A-F]+)"', project, re.MULTILINE)
        assert hex_value
        assert ovba.decrypt_data(hex_value.group(1))[2] == data

    records = _records(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    by_id: dict[int, list[bytes]] = {}
    for rec_id, payload in records:
        by_id.setdefault(rec_id, []).append(payload)
    assert by_id[0x0001] == [struct.pack("<I", 3)]  # win64, as xlwings.xlam
    assert by_id[0x0002] == [struct.pack("<I", 0x409)]
    assert by_id[0x0003] == [struct.pack("<H", 1252)]
    assert by_id[0x0004] == [b"xlperf"]
    assert by_id[0x0016] == [b"stdole", b"Office"]
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in by_id[0x000D][1]  # Office: IRibbonControl
    assert all(p == bytes(4) for p in by_id[0x0031])  # MODULEOFFSET 0: source only
    kinds = {}
    name = b""
    for rec_id, payload in records:
        if rec_id == 0x0019:
            name = payload
        elif rec_id in (0x0021, 0x0022):
            kinds[name.decode()] = rec_id
    assert kinds == {
        "ThisWorkbook": 0x22,
        "Sheet1": 0x22,
        "xlwings": 0x21,
        "Dictionary": 0x22,
        "xlperf_Ribbon": 0x21,
        "xlperf_udfs": 0x21,
    }
    assert records[-1] == (0x0010, b"")


def test_olevba_returns_every_module_exactly(built: dict[str, Path]) -> None:
    # olevba's extract_macros returns the stored text verbatim, Attribute lines included, so the
    # comparison is exact (no normalisation needed).
    expected = {m.name: m.source for m in addin_modules()}
    parser = VBA_Parser(str(built["xlam"]), relaxed=False)
    try:
        assert parser.detect_vba_macros()
        got = {Path(vba_name).stem: code for _, _, vba_name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert got == expected
    for name, source in expected.items():
        assert source.isascii(), name
        assert "\n" not in source.replace("\r\n", ""), f"{name}: bare LF"


def test_xlwings_module_is_the_pinned_wheel_with_project_name(built: dict[str, Path]) -> None:
    module = next(m for m in addin_modules() if m.name == "xlwings")
    original = (XLWINGS_DIR / "xlwings_custom_addin.bas").read_bytes().decode("ascii")
    assert 'Public Const PROJECT_NAME As String = "xlperf"\r\n' in module.source
    assert module.source == original.replace(
        'Public Const PROJECT_NAME As String = "myaddin"', 'Public Const PROJECT_NAME As String = "xlperf"'
    )


# --- generated VBA and ribbon ------------------------------------------------------------------


def test_udf_wrapper_module_matches_golden() -> None:
    generated = udf_wrapper_source()
    assert generated.isascii()
    assert generated.replace("\r\n", "\n") == (GOLDEN / "xlperf_udfs.bas").read_text(encoding="ascii")
    for udf in UDFS:
        assert f'XLPy.CallUDF("xlperf.excel.udfs", "{udf.name}", ' in generated
        assert f"'!{udf.name}\", _" in generated  # help registered for every UDF


def test_vba_string_expr() -> None:
    assert vba_string_expr('a"b') == '"a""b"'
    assert vba_string_expr("绩效 1") == 'ChrW(&H7EE9) & ChrW(&H6548) & " 1"'
    assert vba_string_expr("") == '""'


def test_ribbon_is_generated_from_registry(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["xlam"]) as zf:
        names = zf.namelist()
        rels = ET.fromstring(zf.read("_rels/.rels"))
        ui = ET.fromstring(zf.read("customUI/customUI14.xml"))
        content_types = zf.read("[Content_Types].xml").decode()
    assert "customUI/customUI14.xml" in names
    assert any(
        r.get("Type") == addin.REL_UI_EXTENSIBILITY and r.get("Target") == "customUI/customUI14.xml"
        for r in rels
    )
    assert (
        'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.addin.macroEnabled.main+xml"'
        in (content_types)
    )
    ns = {"ui": addin.CUSTOMUI_NS}
    assert ui.tag == f"{{{addin.CUSTOMUI_NS}}}customUI"
    tabs = ui.findall(".//ui:tab", ns)
    assert [t.get("label") for t in tabs] == ["绩效自评"]
    buttons = ui.findall(".//ui:button", ns)
    assert [b.get("id") for b in buttons] == [b.id for b in BUTTONS]
    assert [b.get("label") for b in buttons] == [b.label for b in BUTTONS]
    # Every onAction names a public Sub with the ribbon callback signature in the VBA project.
    sources = {m.name: m.source for m in addin_modules()}
    for b in buttons:
        module, _, proc = (b.get("onAction") or "").partition(".")
        assert module in sources, b.get("onAction")
        pattern = rf"^Public Sub {re.escape(proc)}\(control As IRibbonControl\)\r$"
        assert re.search(pattern, sources[module], re.MULTILINE), b.get("onAction")


def test_registry_is_consistent() -> None:
    ids = [b.id for b in BUTTONS]
    assert ids == [
        "xlperf_validate",
        "xlperf_score",
        "xlperf_report",
        "xlperf_package",
        "xlperf_send",
        "xlperf_new",
        "xlperf_upgrade",
        "xlperf_help",
    ]
    assert all(i.isascii() and i.isidentifier() for i in ids)
    assert all(b.help.endswith("。") and b.label for b in BUTTONS)
    assert [u.name for u in UDFS] == [
        "XLPERF_COMPLETION",
        "XLPERF_SECTION_SCORE",
        "XLPERF_RATING",
        "XLPERF_RATIO",
    ]
    for u in UDFS:
        optional = [a.optional for a in u.args]
        assert optional == sorted(optional), f"{u.name}: optional arguments must come last"
        assert all(a.help for a in u.args) and u.help


def test_config_sheet(built: dict[str, Path]) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(built["xlsm"], keep_vba=True)
    assert wb.sheetnames == ["xlperf.conf"]  # the name xlwings' VBA reads: PROJECT_NAME & ".conf"
    rows = [tuple(c.value for c in r) for r in wb["xlperf.conf"].iter_rows()]
    assert rows == [("UDF Modules", "xlperf.excel.udfs")]
    assert addin.config_rows({"Interpreter_Win": r"C:\py\pythonw.exe", "PYTHONPATH": ""}) == [
        ("UDF Modules", "xlperf.excel.udfs"),
        ("Interpreter_Win", r"C:\py\pythonw.exe"),
    ]
    with pytest.raises(ValueError, match="unknown xlwings config key"):
        addin.config_rows({"UDF_MODULES": "x"})


def test_two_builds_are_byte_identical(tmp_path: Path, built: dict[str, Path]) -> None:
    again = addin.build_addin(tmp_path / "other-name.xlam")
    assert again.read_bytes() == built["xlam"].read_bytes()
    assert addin.build_xlsm(tmp_path).read_bytes() == built["xlsm"].read_bytes()
    with zipfile.ZipFile(io.BytesIO(again.read_bytes())) as zf:
        assert zf.namelist() == sorted(zf.namelist())
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --- LibreOffice ------------------------------------------------------------------------------

_UNO_SCRIPT = r"""
import json, sys, time
import uno
from com.sun.star.beans import PropertyValue

port, paths = sys.argv[1], sys.argv[2:]
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
deadline = time.time() + 60
while True:
    try:
        ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.3)
desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p

results = []
for path in paths:
    # MacroExecutionMode 4 = ALWAYS_EXECUTE_NO_WARN
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                       (prop("Hidden", True), prop("MacroExecutionMode", 4)))
    out = {"path": path, "libraries": list(doc.BasicLibraries.getElementNames())}
    libs = doc.BasicLibraries
    if libs.hasByName("xlperf"):
        libs.loadLibrary("xlperf")
        lib = libs.getByName("xlperf")
        out["sources"] = {n: lib.getByName(n) for n in lib.getElementNames()}
    try:
        # The Basic library is named after the VBA project (PROJECTNAME), not "VBAProject".
        script = doc.getScriptProvider().getScript(
            "vnd.sun.star.script:xlperf.xlperf_Test.xlperf_SelfTest?language=Basic&location=document")
        script.invoke((), (), ())
        out["error"] = None
    except Exception as exc:
        out["error"] = repr(exc)
    sheet = doc.Sheets.getByIndex(0)
    out["sheet"] = sheet.Name
    out["D1"] = sheet.getCellRangeByName("D1").getString()
    out["D2"] = sheet.getCellRangeByName("D2").getString()
    results.append(out)
    doc.close(True)
print("RESULT " + json.dumps(results), flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lo_code(source: str) -> str:
    """Module code as LibreOffice shows it, without the lines it adds or the Attribute lines it drops."""
    lines = source.replace("\r\n", "\n").split("\n")
    dropped = re.compile(
        r"^(Rem Attribute VBA_ModuleType=|Option VBASupport 1$|Option ClassModule$|Attribute (\w+\.)?VB_)"
    )
    keep = [ln for ln in lines if not dropped.match(ln)]
    return "\n".join(keep).strip("\n")


@pytest.mark.slow
def test_libreoffice_imports_and_runs_the_project(built: dict[str, Path], tmp_path: Path) -> None:
    if SOFFICE is None:
        pytest.fail(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc python3-uno: .ci/run "
            'installs it (apt-get install libreoffice-calc python3-uno; pip install -e ".[test]")'
        )
    assert Path(SYSTEM_PYTHON).exists(), "python3-uno needs the system python /usr/bin/python3"
    script = tmp_path / "uno_check.py"
    script.write_text(_UNO_SCRIPT, encoding="utf-8")
    port = _free_port()
    profile = tmp_path / "lo-profile"
    office = subprocess.Popen(
        [
            SOFFICE,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"--accept=socket,host=127.0.0.1,port={port};urp;",
            f"-env:UserInstallation={profile.as_uri()}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        run = subprocess.run(
            [SYSTEM_PYTHON, str(script), str(port), str(built["xlsm"]), str(built["xlsm_lo"])],
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        os.killpg(office.pid, signal.SIGKILL)  # the group holds oosplash and soffice.bin
        office.wait(timeout=30)
    result_line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert result_line, f"UNO script failed (rc {run.returncode}):\n{run.stdout}\n{run.stderr}"
    full, lo = json.loads(result_line.removeprefix("RESULT "))

    # 1. LibreOffice's own MS-OVBA reader imports every module of the full project, source intact.
    assert "xlperf" in full["libraries"]
    expected = {m.name: m.source for m in addin_modules(selftest=True)}
    assert set(full["sources"]) == set(expected)
    for name, source in expected.items():
        assert _lo_code(full["sources"][name]) == _lo_code(source), name

    # 2. It runs a macro. LibreOffice Basic cannot compile xlwings' module, and one module it cannot
    # compile silently stops every macro of the project, so this twin leaves xlwings out.
    assert lo["error"] is None, lo["error"]
    assert set(lo["sources"]) == set(expected) - {"xlwings", "Dictionary"}
    assert lo["sheet"] == "xlperf.conf"
    assert lo["D1"] == "ok", "xlperf_SelfTest did not run (a module LibreOffice cannot compile?)"
    assert lo["D2"] == "绩效"  # ChrW, as used for the Chinese UDF help, decodes as expected
