"""Issue 8: every file in the generated bad-input corpus gets exit code 2 (unreadable) or 1 (content
findings) from ``xlperf check`` and ``xlperf run``, a Chinese message that names the file (and the
sheet and cell where one applies), no traceback, the input unchanged and no partial output.

The corpus is generated at test time by ``tests/bad_inputs/make_corpus.py`` (no binaries in git).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from bad_inputs.make_corpus import (
    LONG_TEXT,
    TYPED_FORMS,
    Case,
    example_book,
    formula_text,
    input_text_cells,
    make_corpus,
    put_form,
    sheet_part,
)
from click.testing import CliRunner
from office import convert

from xlperf.cli import main
from xlperf.core.errors import InputError
from xlperf.ooxml.errors import WorkbookReadError
from xlperf.ooxml.limits import Limits
from xlperf.pipeline import assess, load_input, write_report_docx, write_scored
from xlperf.workbook import layout as L
from xlperf.workbook.book import open_workbook
from xlperf.workbook.template import save_workbook

CJK = re.compile(r"[\u4e00-\u9fff]")
XLPERF = [sys.executable, "-c", "from xlperf.cli import main; main()"]  # the installed `xlperf` command


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(autouse=True)
def _quiet_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "250")  # rich must not fold 工作表!单元格 across lines


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def isolated(case: Case, tmp_path: Path) -> Path:
    """The case file alone in a fresh folder, so that anything written beside it shows."""
    folder = tmp_path / "in"
    folder.mkdir()
    return Path(shutil.copy(case.path, folder / case.path.name))


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


CASE_NAMES = [
    "random_bytes",
    "text_file",
    "empty",
    "truncated",
    "zip_not_workbook",
    "legacy_xls",
    "wps_et",
    "encrypted",
    "zip_entry_password",
    "billion_laughs",
    "doctype_in_sheet",
    "expanded_too_big",
    "too_many_rows_option",
    "huge_table_ref",
    "missing_sheet",
    "renamed_sheet",
    "deleted_name",
    "removed_table",
    "renamed_headers",
    "merged_inputs",
    "typed_forms",
    "formulas_and_errors",
    "formula_texts",
    "long_texts",
]


def test_corpus_names_are_all_tested(corpus: dict[str, Case]) -> None:
    big = {"million_rows", "million_rows_no_dimension", "zip_bomb", "zip_bomb_lying", "encrypted_real"}
    assert set(corpus) - big == set(CASE_NAMES)


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "long_texts" else n for n in CASE_NAMES]
)
def test_case(corpus: dict[str, Case], tmp_path: Path, name: str, command: str) -> None:
    case = corpus[name]
    src = isolated(case, tmp_path)
    before = sha256(src)
    result = invoke(command, str(src), *case.args)
    out, err = result.stdout, result.stderr
    assert result.exit_code == case.exit_code, (out, err, result.exception)
    assert isinstance(result.exception, SystemExit | None)  # handled, not a crash
    assert "Traceback" not in out + err
    assert "内部错误" not in err
    if case.exit_code == 2:
        assert err.startswith("错误："), err
        assert CJK.search(err)
        assert src.name in err  # the message names the file
        text = err
    else:
        text = out
        if case.sheet and case.cell:
            assert f"{case.sheet}!{case.cell}" in out
        elif case.sheet:
            assert case.sheet in out
    for word in case.words:
        assert word in text, (word, text)
    assert sha256(src) == before
    left = sorted(p.name for p in src.parent.iterdir())
    if command == "run" and case.exit_code == 1:
        scored = src.with_name(f"{src.stem}.scored.xlsx")
        assert left == sorted([src.name, scored.name])
        openpyxl.load_workbook(scored).close()  # complete
    else:
        assert left == [src.name]  # nothing written, no temp file left


@pytest.mark.slow
@pytest.mark.parametrize("name", ["million_rows", "million_rows_no_dimension", "zip_bomb", "zip_bomb_lying"])
def test_big_case_is_refused_quickly(corpus: dict[str, Case], tmp_path: Path, name: str) -> None:
    """A real process, timed: refusing must not mean reading the whole thing first."""
    case = corpus[name]
    src = isolated(case, tmp_path)
    before = sha256(src)
    env = {**os.environ, "XLPERF_HOME": str(tmp_path / "home"), "PYTHONIOENCODING": "utf-8"}
    for command in ("check", "run"):
        start = time.monotonic()
        proc = subprocess.Popen(
            [*XLPERF, command, str(src)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = (b.decode("utf-8") for b in proc.communicate(timeout=120))
        elapsed = time.monotonic() - start
        assert proc.returncode == 2, (out, err)
        assert "Traceback" not in out + err
        assert src.name in err
        for word in case.words:
            assert word in err
        assert elapsed < 30, f"{name}: {elapsed:.1f} s"
    assert sha256(src) == before
    assert [p.name for p in src.parent.iterdir()] == [src.name]


@pytest.mark.slow
def test_big_cases_bounded_memory(corpus: dict[str, Case], tmp_path: Path) -> None:
    """Peak resident memory of xlperf refusing a million-row sheet and a zip bomb stays small."""
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from xlperf.core.errors import InputError\nfrom xlperf.pipeline import load_input\n"
        "try:\n"
        "    load_input(Path(sys.argv[1]))\n"
        "except InputError as exc:\n"
        "    print(exc)\n"
        "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    baseline = _peak_kb(script, corpus["deleted_name"].path)  # a normal workbook, fully read
    for name in ("million_rows", "million_rows_no_dimension", "zip_bomb", "zip_bomb_lying"):
        peak = _peak_kb(script, corpus[name].path)
        assert peak < baseline + 60_000, f"{name}: peak {peak} KB against {baseline} KB for a normal workbook"


def _peak_kb(script: str, path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    return int(re.search(r"peak_kb (\d+)", done.stdout).group(1))  # type: ignore[union-attr]


def test_debug_shows_the_traceback(corpus: dict[str, Case], tmp_path: Path) -> None:
    src = isolated(corpus["truncated"], tmp_path)
    result = invoke("--debug", "check", str(src))
    assert isinstance(result.exception, InputError)
    assert result.exit_code != 0


def test_limits_are_configurable(corpus: dict[str, Case], tmp_path: Path) -> None:
    """The same file passes with a larger limit: the refusal really comes from the option."""
    src = isolated(corpus["too_many_rows_option"], tmp_path)
    assert invoke("check", str(src), "--max-rows", "20").exit_code == 2
    assert invoke("check", str(src), "--max-rows", "1000").exit_code == 1  # the example's own findings


def test_check_names_the_file_for_content_findings(corpus: dict[str, Case], tmp_path: Path) -> None:
    src = isolated(corpus["merged_inputs"], tmp_path)
    assert src.name in invoke("check", str(src)).stdout


# ------------------------------------------------------------------------- XML entity bombs


def test_defusedxml_is_what_openpyxl_uses() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_entity_bomb_refused_by_defusedxml_itself(corpus: dict[str, Case]) -> None:
    """Even without xlperf's own pre-check, openpyxl (through defusedxml) refuses to expand entities."""
    from defusedxml import EntitiesForbidden

    with pytest.raises(ValueError) as info:
        openpyxl.load_workbook(corpus["billion_laughs"].path)
    assert isinstance(info.value.__cause__, EntitiesForbidden)


def test_entity_bomb_message_when_only_defusedxml_catches_it(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlperf.workbook.book

    monkeypatch.setattr(xlperf.workbook.book, "check_file", lambda path, limits: None)
    with pytest.raises(WorkbookReadError, match="实体"):
        open_workbook(corpus["billion_laughs"].path, Limits())


def test_entity_bomb_is_refused_before_parsing(
    corpus: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl.reader.excel

    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl must not see the file")

    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", boom)
    monkeypatch.setattr(openpyxl, "load_workbook", boom)
    with pytest.raises(WorkbookReadError, match=r"xl/sharedStrings\.xml"):
        open_workbook(corpus["billion_laughs"].path, Limits())


# ------------------------------------------------------------------------- compound files


def test_generated_compound_files_are_valid(corpus: dict[str, Case]) -> None:
    """The hand-written CFB files are real compound files (olefile reads their directories)."""
    import olefile

    streams = {}
    for name in ("legacy_xls", "wps_et", "encrypted"):
        assert olefile.isOleFile(str(corpus[name].path))
        with olefile.OleFileIO(str(corpus[name].path)) as ole:
            streams[name] = {"/".join(p) for p in ole.listdir()}
            assert ole.openstream("Workbook" if name != "encrypted" else "EncryptionInfo").read(2) in (
                b"\x09\x08",
                b"\x04\x00",
            )
    assert "Workbook" in streams["legacy_xls"]
    assert {"Workbook", "ETExtData"} <= streams["wps_et"]
    assert {"EncryptionInfo", "EncryptedPackage", "\x06DataSpaces/DataSpaceMap"} <= streams["encrypted"]


def test_real_encrypted_workbook(corpus: dict[str, Case], tmp_path: Path) -> None:
    """A password-protected .xlsx made by msoffcrypto-tool (skipped when it is not installed)."""
    if "encrypted_real" not in corpus:
        pytest.fail(
            "msoffcrypto-tool is not installed: .ci/run installs it (apt-get install libreoffice-calc "
            'python3-uno; pip install -e ".[test]")'
        )
    src = isolated(corpus["encrypted_real"], tmp_path)
    result = invoke("run", str(src))
    assert result.exit_code == 2
    assert "密码" in result.stderr and src.name in result.stderr
    assert [p.name for p in src.parent.iterdir()] == [src.name]


# ------------------------------------------------------------------------- typed forms (docs/DOMAIN.md §3)

#: (sheet, cell, how the value is found in the Evaluation, expected per form name):
#: a number string = understood as exactly that; "cell" = rejected or flagged by a finding on that
#: very cell; "empty" = read as nothing (the finding then asks for the missing value).
KINDS: dict[str, tuple[str, str, Any, dict[str, str]]] = {
    "quantity": (
        L.OUTPUTS,
        "K5",
        lambda e: e.outputs[0].actual_value,
        {
            "plain": "1957",
            "thousands": "1957",
            "unit": "1957",
            "fullwidth": "1957",
            "percent": "cell",
            "fraction": "0.9213",
            "ge_percent": "cell",
            "not_less": "cell",
            "per_term": "cell",
            "formula": "cell",
            "error": "cell",
        },
    ),
    "amount": (
        L.BUDGET,
        "B8",
        lambda e: e.budget.executed,
        {
            "plain": "1957",
            "thousands": "1957",
            "unit": "cell",
            "fullwidth": "1957",
            "percent": "cell",
            "fraction": "0.9213",
            "ge_percent": "cell",
            "not_less": "cell",
            "per_term": "cell",
            "formula": "cell",
            "error": "cell",
        },
    ),
    "rate": (
        L.SPENDING,
        "B5",
        lambda e: e.spending.monthly[0],
        {
            "plain": "cell",
            "thousands": "cell",
            "unit": "cell",
            "fullwidth": "cell",
            "percent": "92.13",
            "fraction": "92.13",
            "ge_percent": "cell",
            "not_less": "cell",
            "per_term": "cell",
            "formula": "cell",
            "error": "cell",
        },
    ),
    "count": (
        L.MANAGEMENT,
        "K5",
        lambda e: e.management[0].count_total,
        {
            "plain": "1957",
            "thousands": "1957",
            "unit": "1957",
            "fullwidth": "1957",
            "percent": "cell",
            "fraction": "cell",
            "ge_percent": "cell",
            "not_less": "cell",
            "per_term": "cell",
            "formula": "cell",
            "error": "cell",
        },
    ),
}
for _spec in KINDS.values():
    _spec[3].update({"blank": "empty", "dash": "empty", "slash": "empty", "none_word": "empty"})
# in an amount cell "-", "/" and "无" are the accountant's zero (README "Percentages and amounts")
KINDS["amount"][3].update({"dash": "0", "slash": "0", "none_word": "0"})


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("form", "typed"), [(f[0], f[1]) for f in TYPED_FORMS])
def test_typed_form(tmp_path: Path, kind: str, form: str, typed: Any) -> None:
    sheet, coord, get, expected = KINDS[kind]
    wb = example_book()
    put_form(wb[sheet][coord], typed)
    path = save_workbook(wb, tmp_path / "forms.xlsx")
    loaded = load_input(path)
    result = assess(loaded)
    value = get(loaded.evaluation)
    on_cell = [f for f in result.findings if f.sheet == sheet and f.cell == coord]
    want = expected[form]
    if want == "empty":
        assert value is None
    elif want == "cell":
        assert on_cell, f"{typed!r} in {sheet}!{coord} gave {value!r} without a finding on the cell"
        assert all(CJK.search(f.message) for f in on_cell)
    else:
        assert value == Decimal(want), f"{typed!r} read as {value!r}"
        # an understood form may carry an advisory note, never a reading error (P01/P03)
        assert not [f for f in on_cell if f.code in ("P01", "P03")], on_cell
    if value is not None and want == "cell":
        assert any(f.is_error or f.code == "P02" for f in on_cell)


def test_formula_with_cached_value_uses_it_with_a_warning(corpus: dict[str, Case]) -> None:
    loaded = load_input(corpus["formulas_and_errors"].path)
    assert loaded.evaluation.budget.executed == Decimal("76740.31")
    codes = {(f.sheet, f.cell): f.code for f in loaded.findings}
    assert codes[(L.BUDGET, "B8")] == "P02"
    assert codes[(L.BUDGET, "B11")] == "P03"
    assert codes[(L.BUDGET, "B16")] == "P03"
    assert codes[(L.SPENDING, "B5")] == "P03"
    assert loaded.evaluation.budget.spend_general is None
    assert loaded.evaluation.budget.spend_project is None


# ------------------------------------------------------------------------- text that looks like a formula


def _expected_texts() -> dict[tuple[str, str], str]:
    wb = example_book()
    return {cell: formula_text(i, "=+-@"[i % 4]) for i, cell in enumerate(input_text_cells(wb))}


@pytest.fixture(scope="module")
def formula_outputs(corpus: dict[str, Case], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formula_out")
    loaded = load_input(corpus["formula_texts"].path)
    result = assess(loaded)
    out = write_scored(loaded, result, folder / "scored.xlsx")
    docx = write_report_docx(result, folder / "report.docx", loaded)
    return {"xlsx": out, "docx": docx}


def test_formula_texts_cover_every_prefix_and_field() -> None:
    texts = _expected_texts()
    assert {t[0] for t in texts.values()} == set("=+-@")
    sheets = {s for s, _ in texts}
    assert {L.BASIC, L.BUDGET, L.TASKS, L.OUTPUTS, L.BENEFITS, L.MANAGEMENT, L.PROBLEMS} <= sheets


def test_formula_texts_stay_text_in_scored_workbook(formula_outputs: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(formula_outputs["xlsx"])
    for (sheet, coord), text in _expected_texts().items():
        cell = wb[sheet][coord]
        assert cell.data_type == "s", (sheet, coord, cell.value)
        assert cell.value == text
    looks_like_formula = 0
    for title in L.OUTPUT_SHEETS:
        for row in wb[title].iter_rows():
            for cell in row:
                assert cell.data_type != "f", (title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s"
                    looks_like_formula += 1
    assert looks_like_formula >= 4  # the narrative really carries the hostile texts (task names, problems…)
    data = formula_outputs["xlsx"].read_bytes()
    with zipfile.ZipFile(formula_outputs["xlsx"]) as zf:
        for title in L.OUTPUT_SHEETS:
            assert b"<f>" not in zf.read(sheet_part(data, title)), title


def test_formula_texts_read_literally_by_calamine(formula_outputs: dict[str, Path]) -> None:
    import python_calamine as calamine

    wb = calamine.CalamineWorkbook.from_path(str(formula_outputs["xlsx"]))
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    sheets: dict[str, list[list[Any]]] = {}
    for (sheet, coord), text in _expected_texts().items():
        rows = sheets.setdefault(sheet, wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
        col, row = coordinate_from_string(coord)
        assert rows[row - 1][column_index_from_string(col) - 1] == text, (sheet, coord)
    report = wb.get_sheet_by_name(L.REPORT).to_python()
    assert any(isinstance(v, str) and v[:1] in "=+-@" for r in report for v in r)


@pytest.mark.slow
def test_formula_texts_read_literally_by_libreoffice(
    formula_outputs: dict[str, Path], tmp_path: Path
) -> None:
    converted = convert(formula_outputs["xlsx"], "xlsx", tmp_path / "lo", tmp_path / "profile")
    wb = openpyxl.load_workbook(converted)
    for (sheet, coord), text in _expected_texts().items():
        cell = wb[sheet][coord]
        assert (cell.data_type, cell.value) == ("s", text), (sheet, coord)
    for title in L.OUTPUT_SHEETS:
        for row in wb[title].iter_rows():
            for cell in row:
                assert cell.data_type != "f", (title, cell.coordinate, cell.value)


def test_formula_texts_literal_in_docx(formula_outputs: dict[str, Path]) -> None:
    import docx

    document = docx.Document(str(formula_outputs["docx"]))
    texts = [p.text for p in document.paragraphs]
    texts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    found = [t for t in texts if re.search(r"[=+\-@](HYPERLINK|1\+1|cmd\||SUM)\S*#\d+", t)]
    assert found, "the report should quote the clerk's texts"
    for t in _expected_texts().values():
        if any(t in x for x in texts):
            break
    else:
        pytest.fail("no hostile text appears verbatim in the report")
    with zipfile.ZipFile(formula_outputs["docx"]) as zf:
        body = zf.read("word/document.xml").decode()
    for instr in re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body):
        assert "example.invalid" not in instr and "cmd" not in instr and "SUM" not in instr
    assert "fldSimple" not in body or "example.invalid" not in body


# ------------------------------------------------------------------------- 32,767-character texts


@pytest.mark.slow
def test_long_texts_are_kept_whole(corpus: dict[str, Case], tmp_path: Path) -> None:
    loaded = load_input(corpus["long_texts"].path)
    assert len(loaded.evaluation.department.intro) == LONG_TEXT
    result = assess(loaded)
    out = write_scored(loaded, result, tmp_path / "scored.xlsx")
    wb = openpyxl.load_workbook(out)
    longest = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert len(cell.value) <= LONG_TEXT, (
                        ws.title,
                        cell.coordinate,
                    )  # Excel would refuse the file
                    longest = max(longest, len(cell.value))
    assert longest == LONG_TEXT
    name = wb.defined_names["xp_dept_intro"]
    sheet, coord = next(iter(name.destinations))
    assert len(wb[sheet][coord.replace("$", "")].value) == LONG_TEXT


@pytest.mark.slow
def test_long_texts_report_docx(corpus: dict[str, Case], tmp_path: Path) -> None:
    import docx

    loaded = load_input(corpus["long_texts"].path)
    out = write_report_docx(assess(loaded), tmp_path / "report.docx", loaded)
    body = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert loaded.evaluation.department.intro in body


def test_input_error_for_missing_file(tmp_path: Path) -> None:
    result = invoke("check", str(tmp_path / "不存在.xlsx"))
    assert result.exit_code == 2
    assert "不存在.xlsx" in result.stderr


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="文件夹"):
        load_input(tmp_path / ".")
