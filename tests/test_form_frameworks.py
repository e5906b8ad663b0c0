"""``--framework`` where inputs of both forms meet (issue 27).

``batch`` over a folder holding a department's 部门整体 workbook, one of its project forms and the
project form's JSON takes ``--framework`` once per form, as ``intake`` does: each input is scored by
the rules of its own form, the other form by its embedded rules. Before, ``batch --framework
national-project`` was refused as an unknown framework, and a department framework was forced onto the
project workbooks too. An unknown id names both forms' ids on every command that takes either form.

Golden totals: the seed's 98.57 (docs/DOMAIN.md) and the 重庆 arithmetic 97.6 (76 % → 7.6, plus 90).
The bureau's files are the bundled rules with a stricter 优, so the same totals rate 良.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_project_intake import media
from test_submit import clean_evaluation

from xlperf.cli import main
from xlperf.core.framework import get_framework, parse_framework
from xlperf.core.project.framework import get_project_framework, parse_project_framework
from xlperf.project.template import build_project_workbook
from xlperf.workbook.template import build_workbook, save_workbook

ROOT = Path(__file__).parents[1]
GUANGZHOU = (ROOT / "xlperf" / "frameworks" / "guangzhou-2023.toml").read_text(encoding="utf-8")
NATIONAL = (ROOT / "xlperf" / "frameworks" / "project" / "national-project.toml").read_text(encoding="utf-8")
SEED_TOTAL = 98.57  # docs/DOMAIN.md: the seed report's total
MEDIA_TOTAL = 97.6  # the 重庆 arithmetic


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))


@pytest.fixture
def rules(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "rules"
    folder.mkdir()
    strict_department = GUANGZHOU.replace('{ name = "优", min = 90 }', '{ name = "优", min = 99 }')
    strict_project = NATIONAL.replace('{ name = "优", min = 90 }', '{ name = "优", min = 98 }')
    assert strict_department != GUANGZHOU and strict_project != NATIONAL
    assert parse_framework(strict_department, "t").rate(SEED_TOTAL) == "良"
    assert parse_project_framework(strict_project, "t").rate(MEDIA_TOTAL) == "良"
    files = {"department": folder / "本局部门整体.toml", "project": folder / "本局项目支出.toml"}
    files["department"].write_text(strict_department, encoding="utf-8")
    files["project"].write_text(strict_project, encoding="utf-8")
    return files


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A department's own workbook, a project form and the same project's JSON."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    save_workbook(build_workbook(get_framework("guangzhou-2023"), clean_evaluation()), folder / "部门.xlsx")
    build_project_workbook(get_project_framework("national-project"), media()).save(folder / "融媒体.xlsx")
    ev = media()
    ev.project.name = "融媒体（数据）"
    (folder / "融媒体数据.json").write_text(ev.model_dump_json(), encoding="utf-8")
    return folder


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def cards(out: Path) -> dict[str, dict[str, Any]]:
    return {
        p.name.removesuffix(".scorecard.json"): json.loads(p.read_text(encoding="utf-8"))
        for p in out.glob("*.scorecard.json")
    }


def sha(path: Path, project: bool) -> str:
    parse = parse_project_framework if project else parse_framework
    return parse(path.read_text(encoding="utf-8"), "t").sha256


def test_one_framework_per_form_scores_each_input_by_its_own(
    inputs: Path, rules: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = invoke(
        "batch",
        inputs,
        "-o",
        out,
        "-j",
        "1",
        "--framework",
        rules["project"],
        "--framework",
        rules["department"],
    )
    assert res.exit_code in (0, 1), res.output
    got = cards(out)
    assert set(got) == {"部门", "融媒体", "融媒体数据"}, got.keys()
    assert got["部门"]["framework_sha256"] == sha(rules["department"], project=False)
    assert float(got["部门"]["total"]) == SEED_TOTAL and got["部门"]["rating"] == "良"
    for name in ("融媒体", "融媒体数据"):  # the workbook and the JSON alike
        assert got[name]["framework_sha256"] == sha(rules["project"], project=True), name
        assert float(got[name]["total"]) == MEDIA_TOTAL and got[name]["rating"] == "良", name


def test_a_project_framework_alone_binds_only_the_project_forms(inputs: Path, tmp_path: Path) -> None:
    """``batch --framework national-project`` (refused as unknown before) leaves the department's
    workbook to its own embedded rules instead of reading it as a project form."""
    out = tmp_path / "out"
    res = invoke("batch", inputs, "-o", out, "-j", "1", "--framework", "national-project")
    assert res.exit_code in (0, 1), res.output
    got = cards(out)
    assert got["部门"]["framework_sha256"] == get_framework("guangzhou-2023").sha256
    assert float(got["部门"]["total"]) == SEED_TOTAL and got["部门"]["rating"] == "优"
    assert got["融媒体"]["framework_sha256"] == get_project_framework("national-project").sha256
    assert float(got["融媒体"]["total"]) == MEDIA_TOTAL


def test_a_department_framework_alone_leaves_the_project_forms_to_their_rules(
    inputs: Path, rules: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = invoke("batch", inputs, "-o", out, "-j", "1", "--framework", rules["department"])
    assert res.exit_code in (0, 1), res.output
    got = cards(out)
    assert got["部门"]["rating"] == "良"
    assert got["融媒体"]["framework_sha256"] == get_project_framework("national-project").sha256
    assert float(got["融媒体"]["total"]) == MEDIA_TOTAL and got["融媒体"]["rating"] == "优"


def test_two_frameworks_of_one_form_are_refused_before_anything_is_written(
    inputs: Path, rules: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = invoke(
        "batch", inputs, "-o", out, "--framework", rules["department"], "--framework", "guangzhou-2023"
    )
    assert res.exit_code == 2, res.output
    message = " ".join(res.output.split())
    assert "--framework" in message and "部门整体支出" in message and "只能给一个" in message, message
    assert not out.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["check", "{wb}"],
        ["run", "{wb}", "-o", "{out}"],
        ["report", "{wb}", "-o", "{out}"],
        ["new", "-o", "{out}/新.xlsx"],
        ["batch", "{wb}", "-o", "{out}"],
        ["submit", "{wb}", "--eml", "{out}/报送.eml"],
    ],
    ids=lambda c: c[0],
)
def test_an_unknown_id_names_both_forms_ids(command: list[str], inputs: Path, tmp_path: Path) -> None:
    wb, out = inputs / "融媒体.xlsx", tmp_path / "out"
    args = [a.format(wb=wb, out=out) for a in command]
    res = invoke(*args, "--framework", "no-such-rules")
    assert res.exit_code == 2, res.output
    message = " ".join(res.output.split())
    for said in ("no-such-rules", "本机没有", "部门整体支出：guangzhou-2023", "项目支出：national-project"):
        assert said in message, (command[0], message)
    assert "Traceback" not in res.output and "内部错误" not in res.output
