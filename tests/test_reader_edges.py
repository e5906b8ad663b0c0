"""Issue 24: a defined name that points at a range, at ``#REF!`` (what Excel and LibreOffice leave when
the row or sheet is deleted), at another workbook, at a missing sheet or at a formula the tokenizer
cannot parse is a finding on that name (R01; R02 for xp_framework) with the fix in Chinese — never
内部错误; a department JSON's number no figure can be is a P01 finding on its field."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from office import soffice

from xlperf.workbook import layout as L
from xlperf.workbook import reader

EXAMPLE = ROOT / "workbook_templates" / "examples" / "白云区科工商信局_2023.xlsx"
CASES = {
    "range": "'基本信息'!$H$2:$H$3",
    "ref": "'基本信息'!#REF!",
    "bare_ref": "#REF!",
    "external": "[1]基本信息!$B$5",
    "missing_sheet": "'不存在的表'!$B$5",
    "unparsable": "'基本信息'!$B$5 'x",
}


def with_name(path: Path, name: str, text: str) -> Path:
    """A copy of the example whose defined name ``name`` reads ``text`` (the rest byte for byte)."""
    out = path / f"{name}_{len(list(path.iterdir()))}.xlsx"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    with zipfile.ZipFile(EXAMPLE) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                xml = data.decode()
                xml, n = re.subn(
                    rf'(<definedName name="{name}"[^>]*>)[^<]*(</definedName>)',
                    lambda m: m.group(1) + escaped + m.group(2),
                    xml,
                )
                assert n == 1, name
                data = xml.encode()
            zout.writestr(item, data)
    return out


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlperf.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(path.parent)},
    )


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("name", "code"), [("xp_year", "R01"), ("xp_framework", "R02")])
def test_a_broken_defined_name_is_a_finding_on_that_name(
    tmp_path: Path, case: str, name: str, code: str
) -> None:
    run = check(with_name(tmp_path, name, CASES[case]))
    text = run.stdout + run.stderr
    assert run.returncode == 1, text  # scored with findings, not refused and not 内部错误
    assert "内部错误" not in text
    line = next((ln for ln in text.splitlines() if f"名称 {name}" in ln), "")
    assert f" {code} " in line, text
    assert "名称管理器" in text


@pytest.mark.slow
def test_a_ref_name_as_libreoffice_writes_it(tmp_path: Path) -> None:
    """LibreOffice saves a name whose target is gone as ``'基本信息'!#ref!`` (lower case)."""
    src = with_name(tmp_path, "xp_year", "'基本信息'!#REF!")
    out = tmp_path / "lo"
    subprocess.run(
        [
            soffice(),
            "--headless",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(src),
        ],
        capture_output=True,
        timeout=240,
        check=True,
    )
    written = out / src.name
    xml = zipfile.ZipFile(written).read("xl/workbook.xml").decode()
    [target] = re.findall(r'<definedName[^>]*name="xp_year"[^>]*>([^<]*)<', xml)
    assert "#ref!" in target.lower()
    run = check(written)
    assert run.returncode == 1 and "内部错误" not in run.stdout + run.stderr
    assert "名称 xp_year（评价年度）指向 #REF!" in run.stdout


@pytest.mark.parametrize("number", ["1e999999", "1e-999999", "NaN", "Infinity", "9" * 5000, "1e400"])
def test_a_json_number_no_figure_can_be_is_a_finding_on_its_field(tmp_path: Path, number: str) -> None:
    from xlperf.examples import example_evaluation

    data = json.loads(example_evaluation().model_dump_json())
    data["budget"]["total_budget"] = "__N__"
    path = tmp_path / "部门.json"
    path.write_text(json.dumps(data, ensure_ascii=False).replace('"__N__"', number), encoding="utf-8")
    run = check(path)
    text = run.stdout + run.stderr
    assert run.returncode == 1 and "内部错误" not in text and "不是有效的自评数据" not in text, text
    line = next(ln for ln in text.splitlines() if "budget.total_budget" in ln)
    assert " P01 " in line and "超出合理范围" in line


def test_json_numbers_are_read_exactly() -> None:
    from xlperf.core.evaluation import Evaluation
    from xlperf.examples import example_evaluation

    data = json.loads(example_evaluation().model_dump_json())
    data["budget"]["total_budget"] = "__N__"
    ev, found = Evaluation.read_json(json.dumps(data).replace('"__N__"', "79776.38000000000000001"))
    assert str(ev.budget.total_budget) == "79776.38000000000000001" and found == []


def test_every_input_type_has_exactly_one_reading_function() -> None:
    """The reader's dispatch tables cover every type a clerk fills in, and nothing that is never read:
    a new FieldType or ColumnType without a reading function fails here, not on a clerk's workbook."""
    assert set(reader._COLUMN_READERS) == {t for t in L.ColumnType if t.is_input}
    assert set(reader._FIELD_READERS) == set(L.FieldType) - {L.FieldType.COMPUTED}
    for f in L.all_fields():
        assert isinstance(f.type, L.FieldType), f.name
    for t in L.TABLES:
        for c in t.columns:
            assert isinstance(c.type, L.ColumnType), (t.table, c.header)


def test_an_openpyxl_book_without_its_cached_values_reads_a_formula_input_as_not_computed() -> None:
    """The openpyxl adapter with no ``data_only`` twin (an add-in snapshot, the tests' second reader
    given no loader): a formula in an input cell is P03 on that cell, as for a formula Excel never
    computed — not 内部错误 (it raised TypeError reading the twin's values)."""
    from xlperf.core.framework import get_framework
    from xlperf.examples import example_evaluation
    from xlperf.workbook.template import build_workbook

    ev = example_evaluation()
    wb = build_workbook(get_framework(ev.framework), ev)
    sheet, coord = next(
        dest
        for name, defined in wb.defined_names.items()
        if name == "xp_total_budget"
        for dest in defined.destinations
    )
    wb[sheet][coord.replace("$", "")] = "=1+1"
    _, findings, _ = reader.read_book(wb)
    p03 = [f for f in findings if f.code == "P03"]
    assert [(f.sheet, f.cell) for f in p03] == [(sheet, coord.replace("$", ""))], findings
    assert "没有可用的计算结果" in p03[0].message
