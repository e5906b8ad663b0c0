"""xlperf batch：混合输入的状态、汇总表（openpyxl / calamine / CSV 读回）、并行与串行一致、
LibreOffice 打开无错误值。
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from office import convert
from python_calamine import CalamineWorkbook

from xlperf.batch import SUMMARY_CSV, SUMMARY_XLSX, Outcome, collect_inputs, output_stems
from xlperf.cli import main
from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.summary import COLUMNS, SHEET_ORDER, rank
from xlperf.workbook.template import build_workbook, save_workbook

EVIL = "=cmd|' /C calc'!A0"
ERROR_VALUES = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "Err:")


def valid_evaluation(name: str, lower: int = 0) -> Evaluation:
    """The seed with every reason filled in (no error findings); ``lower`` rows scored at half."""
    ev = example_evaluation()
    ev.department.name = name
    ev.claims.total, ev.claims.rating = None, ""  # the seed's stated total would no longer match (V40)
    for row in ev.outputs + ev.benefits:
        row.shortfall_reason = row.shortfall_reason or "受客观因素影响未完成，已列入下年度整改。"
        row.excess_reason = row.excess_reason or "年初目标设置偏低。"
        row.scored_measure = row.scored_measure or "按第一个子目标计分。"
    for row in ev.outputs[:lower]:
        if row.target_value is not None:
            row.actual_value = row.target_value / 2
    ev.problems.append("、".join(r.name for r in ev.outputs + ev.benefits))
    return ev


def save(ev: Evaluation, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_workbook(build_workbook(get_framework(ev.framework), ev), path)


# What each input must come out as: status, and whether it is scored.
EXPECTED = {
    "a/部门.xlsx": "通过",
    "b/部门.xlsx": "通过",
    "b/部门.json": "通过",
    "c/公式名.xlsx": "通过",
    "有错误.xlsx": "有错误",
    "缺工作表.xlsx": "有错误",
    "截断.xlsx": "无法读取",
    "乱码.xlsx": "无法读取",
    "坏数据.json": "无法读取",
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch") / "inputs"
    save(valid_evaluation("甲局"), root / "a" / "部门.xlsx")
    save(valid_evaluation("乙局", lower=3), root / "b" / "部门.xlsx")
    (root / "b" / "部门.json").write_text(
        valid_evaluation("丙局").to_json(), encoding="utf-8"
    )  # ties with 甲局
    save(valid_evaluation(EVIL, lower=1), root / "c" / "公式名.xlsx")
    save(example_evaluation(), root / "有错误.xlsx")  # the seed itself: V12/V13 errors
    ev = valid_evaluation("丁局")
    wb = build_workbook(get_framework(ev.framework), ev)
    del wb["产出指标"]
    save_workbook(wb, root / "缺工作表.xlsx")
    data = (root / "a" / "部门.xlsx").read_bytes()
    (root / "截断.xlsx").write_bytes(data[: len(data) // 2])
    (root / "乱码.xlsx").write_bytes(bytes(range(256)) * 40)
    (root / "坏数据.json").write_text('{"department": {"name": 1, "year": "明年"}}', encoding="utf-8")
    (root / "说明.txt").write_text("不是工作簿", encoding="utf-8")  # ignored: not an input type
    (root / "a" / "~$部门.xlsx").write_bytes(b"lock")  # Excel's lock file: ignored
    return root


def run_batch_cli(args: list[str]) -> Any:
    return CliRunner().invoke(main, ["batch", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(inputs: Path) -> dict[int, Path]:
    outs = {}
    for jobs in (1, 2):
        out = inputs.parent / f"out-j{jobs}"
        res = run_batch_cli([str(inputs), "-o", str(out), "--jobs", str(jobs)])
        assert res.exit_code == 1, res.output  # some have errors or are unreadable
        outs[jobs] = out
    return outs


def table_openpyxl(path: Path, sheet: str) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    return rows


def table_calamine(path: Path, sheet: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def records(path: Path) -> list[dict[str, Any]]:
    head, *body = table_openpyxl(path / SUMMARY_XLSX, "汇总")
    return [dict(zip(head, row, strict=True)) for row in body]


def by_file(path: Path, root: Path) -> dict[str, dict[str, Any]]:
    return {Path(r["文件"]).relative_to(root).as_posix(): r for r in records(path)}


# ------------------------------------------------------------------------------ statuses and rows


def test_statuses_rows_and_counts(runs: dict[int, Path], inputs: Path) -> None:
    rows = by_file(runs[1], inputs)
    assert {k: r["状态"] for k, r in rows.items()} == EXPECTED
    head = table_openpyxl(runs[1] / SUMMARY_XLSX, "汇总")[0]
    assert tuple(head) == COLUMNS
    for key, row in rows.items():
        assert row["说明"], key
        if EXPECTED[key] in ("通过", "有错误"):
            assert isinstance(row["总分"], float) and row["等级"] in "优良中差"
            assert row["sha256"] and len(row["sha256"]) == 64
        else:
            # no figure is "—", in every score, count, rank and rating column (issue 25)
            assert {row[c] for c in COLUMNS[2:12]} == {"—"}, key
            assert row["说明"].startswith("无法读取")
    assert rows["有错误.xlsx"]["错误数"] == 4 and rows["有错误.xlsx"]["提醒数"] == 3
    assert rows["a/部门.xlsx"]["错误数"] == 0
    assert "产出指标" in rows["缺工作表.xlsx"]["说明"] or rows["缺工作表.xlsx"]["错误数"] > 0
    assert "损坏" in rows["截断.xlsx"]["说明"] or "不是有效" in rows["截断.xlsx"]["说明"]
    assert rows["b/部门.xlsx"]["总分"] < rows["a/部门.xlsx"]["总分"]  # different totals
    # ordered by input path whatever the order of completion
    files = [r["文件"] for r in records(runs[1])]
    assert files == [str(p) for p in collect_inputs([inputs])[0]]


def test_rank_and_distribution(runs: dict[int, Path], inputs: Path) -> None:
    rows = by_file(runs[1], inputs)
    scored = {k: r for k, r in rows.items() if r["总分"] != "—"}
    for key, row in scored.items():
        assert row["排名"] == 1 + sum(o["总分"] > row["总分"] for o in scored.values()), key
    assert rows["a/部门.xlsx"]["排名"] == rows["b/部门.json"]["排名"]  # a tie shares the rank
    dist = dict(table_openpyxl(runs[1] / SUMMARY_XLSX, "等级分布")[1:])
    for grade in "优良中差":
        assert dist[grade] == sum(r["等级"] == grade for r in scored.values())
    assert dist["无法读取"] == 3 and dist["处理失败"] == 0 and dist["合计"] == len(EXPECTED)
    ranking = table_openpyxl(runs[1] / SUMMARY_XLSX, "排名")
    assert [r[0] for r in ranking[1:]] == sorted(r["排名"] for r in scored.values())
    wb = openpyxl.load_workbook(runs[1] / SUMMARY_XLSX)
    assert len(wb["总分图"]._charts) == 1  # the bar chart of totals, on its own sheet


def test_findings_sheet(runs: dict[int, Path], inputs: Path) -> None:
    head, *body = table_openpyxl(runs[1] / SUMMARY_XLSX, "问题清单")
    assert head == ["文件", "部门", "代码", "级别", "工作表", "单元格", "说明"]
    per_file: dict[str, int] = {}
    for row in body:
        per_file[row[0]] = per_file.get(row[0], 0) + 1
    for key, row in by_file(runs[1], inputs).items():  # 问题清单 names a file relative to the inputs
        if row["错误数"] != "—":
            assert per_file.get(str(Path(key)), 0) == row["错误数"] + row["提醒数"], key
    seed = [r for r in body if r[0].endswith("有错误.xlsx")]
    assert {r[2] for r in seed} >= {"V12", "V13"}
    assert ("产出指标", "Q26") in {(r[4], r[5]) for r in seed}


def test_totals_match_each_scorecard(runs: dict[int, Path], inputs: Path) -> None:
    for key, row in by_file(runs[1], inputs).items():
        if row["计分工作簿"] is None:
            continue
        card_name = row["计分工作簿"].removesuffix(".scored.xlsx") + ".scorecard.json"
        card = json.loads((runs[1] / card_name).read_text(encoding="utf-8"))
        assert card["schema"] == "xlperf.scorecard/1"
        assert row["总分"] == card["total"] and row["等级"] == card["rating"], key
        assert row["产出"] == card["sections"]["output"] and row["管理效率"] == card["sections"]["management"]
        assert row["sha256"] == card["sha256"] and row["部门"] == card["department"]
        assert (runs[1] / row["计分工作簿"]).is_file()


def test_unique_output_names(runs: dict[int, Path]) -> None:
    names = sorted(p.name for p in runs[1].iterdir())
    assert len([n for n in names if n.endswith(".scored.xlsx")]) == 6
    assert len(set(n.casefold() for n in names)) == len(names)
    assert not [n for n in names if n.startswith(".")]  # no temporaries left behind
    stems = output_stems(
        [Path("x/a/部门.xlsx"), Path("x/b/部门.xlsx"), Path("x/b/部门.json"), Path("y/其他.xlsx")]
    )
    assert len(set(stems)) == 4 and stems[3] == "其他"
    assert stems == output_stems(
        [Path("x/a/部门.xlsx"), Path("x/b/部门.xlsx"), Path("x/b/部门.json"), Path("y/其他.xlsx")]
    )


# ------------------------------------------------------------------------------ readers agree


def _norm(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def test_calamine_openpyxl_and_csv_agree(runs: dict[int, Path]) -> None:
    path = runs[1] / SUMMARY_XLSX
    for sheet in SHEET_ORDER:
        if sheet == "总分图":
            continue
        a = [[_norm(v) for v in row] for row in table_openpyxl(path, sheet)]
        b = [[_norm(v) for v in row] for row in table_calamine(path, sheet)]
        assert a == b, sheet
    raw = (runs[1] / SUMMARY_CSV).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    xlsx = table_openpyxl(path, "汇总")
    assert rows[0] == list(COLUMNS) and len(rows) == len(xlsx)
    df = pd.read_csv(runs[1] / SUMMARY_CSV, encoding="utf-8-sig")
    assert list(df.columns) == list(COLUMNS)
    for csv_row, x_row in zip(df.itertuples(index=False), xlsx[1:], strict=True):
        for c, (cv, xv) in enumerate(zip(csv_row, x_row, strict=True)):
            if xv is None:
                assert pd.isna(cv)
            elif isinstance(xv, str):
                assert cv in (xv, "'" + xv), COLUMNS[c]  # formula-looking text is defused with '
            else:
                assert float(cv) == pytest.approx(float(xv)), COLUMNS[c]


def test_jobs_1_and_2_identical(runs: dict[int, Path]) -> None:
    for sheet in SHEET_ORDER:
        assert table_openpyxl(runs[1] / SUMMARY_XLSX, sheet) == table_openpyxl(runs[2] / SUMMARY_XLSX, sheet)
    assert (runs[1] / SUMMARY_CSV).read_bytes() == (runs[2] / SUMMARY_CSV).read_bytes()
    names1 = sorted(p.name for p in runs[1].iterdir())
    assert names1 == sorted(p.name for p in runs[2].iterdir())
    for name in names1:
        if name.endswith(".json"):
            assert (runs[1] / name).read_bytes() == (runs[2] / name).read_bytes(), name


# ------------------------------------------------------------------------------ text stays text


def test_formula_looking_name_stays_text(runs: dict[int, Path], inputs: Path) -> None:
    path = runs[1] / SUMMARY_XLSX
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert len(cells) >= 2  # 汇总 and 排名
    assert all(c.data_type == "s" for c in cells)
    assert not [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert by_file(runs[1], inputs)["c/公式名.xlsx"]["部门"] == EVIL
    assert EVIL in [r[0] for r in table_calamine(path, "汇总")]
    csv_text = (runs[1] / SUMMARY_CSV).read_text(encoding="utf-8-sig")
    assert "'" + EVIL in csv_text


@pytest.mark.slow
def test_libreoffice_opens_without_error_values(runs: dict[int, Path], tmp_path: Path) -> None:
    converted = convert(runs[1] / SUMMARY_XLSX, "xlsx", tmp_path / "lo", tmp_path / "profile")
    book = CalamineWorkbook.from_path(str(converted))
    assert book.sheet_names == list(SHEET_ORDER)
    n = 0
    for sheet in book.sheet_names:
        for row in book.get_sheet_by_name(sheet).to_python():
            for v in row:
                n += 1
                assert not (isinstance(v, str) and v.startswith(ERROR_VALUES)), (sheet, v)
    assert n > 100
    assert EVIL in [r[0] for r in book.get_sheet_by_name("汇总").to_python()]
    original = table_calamine(runs[1] / SUMMARY_XLSX, "汇总")
    assert [[_norm(v) for v in r] for r in book.get_sheet_by_name("汇总").to_python()] == [
        [_norm(v) for v in r] for r in original
    ]


# ------------------------------------------------------------------------------ command line


def test_all_ok_exits_0_and_rerun_ignores_own_outputs(inputs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "good"
    shutil.copytree(inputs / "a", folder)
    shutil.copy(inputs / "b" / "部门.json", folder / "丙.json")
    for _ in range(2):  # outputs written into the input folder are not taken as inputs next time
        res = run_batch_cli([str(folder), "-o", str(folder), "--jobs", "2"])
        assert res.exit_code == 0, res.output
        assert len(records(folder)) == 2
    assert "通过 2" in res.output
    from xlperf.workbook.printing import text_width

    counts = next(line for line in res.output.splitlines() if line.startswith("共 "))
    assert text_width(counts, ambiguous_wide=False) <= 80, counts  # one line of an 80-column terminal
    assert "用时" in res.output


def test_globs_and_files(inputs: Path, tmp_path: Path) -> None:
    res = run_batch_cli(
        [str(inputs / "*" / "部门.xlsx"), str(inputs / "b" / "部门.json"), "-o", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert [Path(r["文件"]).relative_to(inputs).as_posix() for r in records(tmp_path)] == [
        "a/部门.xlsx",
        "b/部门.json",
        "b/部门.xlsx",
    ]


def test_no_inputs_is_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "空文件夹"
    empty.mkdir()
    res = CliRunner().invoke(
        main, ["batch", str(empty), str(tmp_path / "没有.xlsx"), "-o", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "没有找到" in res.output and "空文件夹" in res.output and "没有.xlsx" in res.output
    assert not (tmp_path / "o" / SUMMARY_XLSX).exists()
    res = CliRunner().invoke(main, ["batch", str(empty)])
    assert res.exit_code == 2  # -o is required


def test_missing_path_among_others_exits_1(inputs: Path, tmp_path: Path) -> None:
    res = run_batch_cli([str(inputs / "a"), str(tmp_path / "不存在"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "不存在" in res.output


def test_unexpected_exception_is_recorded_as_failed(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlperf.pipeline

    real = xlperf.pipeline.assess

    def flaky(loaded: Any, framework: Any = None) -> Any:
        if loaded.evaluation.department.name == "乙局":
            raise RuntimeError("模拟的内部错误")
        return real(loaded, framework)

    monkeypatch.setattr(xlperf.pipeline, "assess", flaky)
    res = run_batch_cli([str(inputs / "a"), str(inputs / "b"), "-o", str(tmp_path), "--jobs", "1"])
    assert res.exit_code == 1
    rows = by_file(tmp_path, inputs)
    assert rows["b/部门.xlsx"]["状态"] == "处理失败" and "模拟的内部错误" in rows["b/部门.xlsx"]["说明"]
    assert rows["a/部门.xlsx"]["状态"] == "通过" and rows["b/部门.json"]["状态"] == "通过"


def test_rank_ties_share() -> None:
    outs = [
        Outcome(i, f"{i}.xlsx", s, "", total=t)
        for i, (s, t) in enumerate(
            [
                ("通过", 90.0),
                ("有错误", 95.5),
                ("通过", 90.0),
                ("无法读取", None),
                ("通过", 80.0),
                ("未填写", 99.0),
                ("重复", 99.0),
            ]
        )
    ]
    assert rank(outs) == {1: 1, 0: 2, 2: 2, 4: 4}


def test_decimal_example_total_is_float_in_table(runs: dict[int, Path], inputs: Path) -> None:
    row = by_file(runs[1], inputs)["a/部门.xlsx"]
    assert Decimal(str(row["总分"])) == Decimal("98.57")


def test_every_summary_cell_has_its_columns_format(runs: dict[int, Path]) -> None:
    """Each body cell of a column carries the column's format (formats are made once per column and
    copied): numbers two decimals, text top-aligned and wrapped, the unprinted sha256 column unwrapped."""
    import openpyxl

    wb = openpyxl.load_workbook(runs[1] / SUMMARY_XLSX)
    ws = wb["汇总"]
    heads = [c.value for c in ws[1]]
    total, note, digest = (heads.index(h) + 1 for h in ("总分", "说明", "sha256"))
    body = range(2, ws.max_row + 1)
    assert len(body) >= 3
    numbers = [ws.cell(r, total) for r in body if isinstance(ws.cell(r, total).value, float)]
    assert numbers and all(c.number_format == "0.00" and c.alignment.wrap_text for c in numbers)
    assert all(
        ws.cell(r, note).alignment.wrap_text and ws.cell(r, note).alignment.vertical == "top" for r in body
    )
    assert all(
        not ws.cell(r, digest).alignment.wrap_text and ws.cell(r, digest).alignment.vertical == "top"
        for r in body
    )
    assert ws.cell(1, total).font.bold  # the heading keeps its own format


def test_a_blank_or_erroneous_intake_submission_is_never_ranked_as_clean() -> None:
    """Issue 25: intake decides as batch does — a genuine package of a blank workbook stays 未填写 (not
    ranked, no figure), one forced through with errors is ranked but marked 仅供参考."""
    from dataclasses import asdict

    from xlperf.intake.ledger import VALID, Entry, outcome_of
    from xlperf.summary import rank, status_counts, summary_rows

    def entry(status: str, outcome: Outcome) -> Entry:
        return Entry(
            key=outcome.file, message_id="m", package_hash="h", source="s", received="2024-01-01T00:00:00",
            taken_at="t", sender="a@b", subject="s", status=status, reason="文件与清单一致",
            department=outcome.department, year=2023, folder=outcome.file, outcome=asdict(outcome),
        )  # fmt: skip

    blank = Outcome(0, "空", "未填写", "", department="空局", year=2023, total=0.0, rating="差", errors=66)
    forced = Outcome(0, "强", "有错误", "", department="强局", year=2023, total=97.0, rating="优", errors=2)
    outcomes = [outcome_of(entry(VALID, o), i) for i, o in enumerate((blank, forced))]
    assert [o.status for o in outcomes] == ["未填写", VALID]
    assert [o.is_scored for o in outcomes] == [False, True] and rank(outcomes) == {1: 1}
    assert outcomes[1].standing == "有效（有 2 条错误，仅供参考）"
    row = summary_rows(outcomes)[0]
    assert [row[c] for c in ("总分", "等级", "错误数", "排名")] == ["—"] * 4
    assert dict(status_counts(outcomes))["未填写"] == 1
    assert dict(status_counts(outcomes))["其中有错误（仅供参考）"] == 1
