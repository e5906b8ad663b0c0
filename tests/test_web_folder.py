"""The reviewer's reading of a batch folder (xlperf/web/folder.py), without a browser: what is listed,
what is refused, and that a request can only name files found inside DIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED_TOTAL

from xlperf.web.folder import Folder


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    example = root / "example.xlsx"
    for args in (
        ["example", "-o", str(example)],
        ["batch", str(example), "-o", str(root / "out"), "--jobs", "1"],
    ):
        run = subprocess.run([sys.executable, "-m", "xlperf.cli", *args], capture_output=True, text=True)
        assert run.returncode in (0, 1), run.stdout + run.stderr
    return root / "out"


def test_score_cards_are_read_and_ranked(batch_out: Path) -> None:
    f = Folder.scan(batch_out)
    assert [e.total for e in f.entries] == [SEED_TOTAL]
    e = f.entries[0]
    assert e.rank == 1 and e.rating == "优" and e.errors == 4
    assert e.scored_file is not None and e.scored_file.path.name == "example.scored.xlsx"
    assert len(e.indicators("management")) == 22
    assert [(s["代码"], s["条数"]) for s in f.finding_statistics()][:2] == [("V13", 3), ("V16", 2)]
    assert f.notes == []  # read through 汇总.json: the statuses are the batch's


def test_a_finding_code_of_a_newer_xlperf_is_kept(batch_out: Path, tmp_path: Path) -> None:
    card = json.loads((batch_out / "example.scorecard.json").read_text(encoding="utf-8"))
    card["findings"].insert(
        0,
        {
            "code": "X99",
            "severity": "error",
            "sheet": "问题与措施",
            "cell": "B9",
            "path": "",
            "message": "新规则",
        },
    )
    (tmp_path / "new.scorecard.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    f = Folder.scan(tmp_path)
    rows = f.entries[0].finding_rows()
    assert rows[-1] == {
        "code": "X99",
        "level": "错误",
        "severity": "error",
        "where": "问题与措施!B9",
        "message": "新规则",
        "title": "",
    }
    assert {
        "代码": "X99",
        "级别": "错误",
        "问题": "",
        "部门数": 1,
        "条数": 1,
        "涉及部门": card["department"],
    } in f.finding_statistics()
    assert f.notes and "没有 汇总.json" in f.notes[0]  # a folder of cards: its statuses are inferred


def test_unreadable_cards_are_reported_and_outside_files_never_listed(
    batch_out: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    for p in batch_out.iterdir():
        if p.name != "汇总.json":  # a folder of cards (an older batch): every card is read
            (folder / p.name).write_bytes(p.read_bytes())
    (folder / "broken.scorecard.json").write_text("{not json", encoding="utf-8")
    (folder / "other.scorecard.json").write_text(json.dumps({"schema": "something/1"}), encoding="utf-8")
    secret = tmp_path / "secret.csv"
    secret.write_text("机密\n", encoding="utf-8")
    os.symlink(secret, folder / "link.csv")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.csv").write_text("x", encoding="utf-8")
    f = Folder.scan(folder)
    assert len(f.entries) == 1
    assert len(f.problems) == 2 and any("broken.scorecard.json" in p and "无法读取" in p for p in f.problems)
    assert any("other.scorecard.json" in p and "不是 xlperf 计分卡" in p for p in f.problems)
    names = [x.relative for x in f.files]
    assert "link.csv" not in names and ".hidden/x.csv" not in names and "汇总.csv" in names
    assert f.file(-1) is None and f.file(len(f.files)) is None
    rows = f.entries[0].finding_rows()
    assert [r["where"] for r in rows][:3] == [
        "产出指标!J9",
        "产出指标!J10",
        "产出指标!R12",
    ]  # sheet, then row
    # a listed file replaced afterwards by a link to the outside is refused when asked for
    index = names.index("汇总.csv")
    (folder / "汇总.csv").unlink()
    os.symlink(secret, folder / "汇总.csv")
    assert f.file(index) is None


def test_serve_usage_errors_are_chinese_and_exit_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "xlperf.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 2 and f"端口 {port} 已被占用" in run.stderr and "--port 0" in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "xlperf.cli", "serve", "--port", "0", "--dir", str(tmp_path / "无")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "找不到该文件夹" in run.stderr


# ------------------------------------------------------------------------------ an intake folder


def make_intake_dir(root: Path) -> Path:
    """A real `xlperf intake` output: the clean seed submitted twice (the second, with one reason
    reworded, supersedes the first) and a second department's forced submission, as .eml drafts."""
    from xlperf.core.framework import get_framework
    from xlperf.examples import example_evaluation
    from xlperf.workbook.template import build_workbook, save_workbook

    def clean(reason: str) -> object:
        ev = example_evaluation()
        ev.outputs[21].shortfall_reason = reason
        for i in (7, 16, 20):
            ev.outputs[i].excess_reason = "年初目标设置偏保守，实际需求超出预期"
        return ev

    other = example_evaluation()
    other.department.name, other.department.short_name = "广州市白云区示例局", "示例局"
    other.outputs[1].actual_value = type(other.outputs[1].target_value)("2")  # a lower total
    mails = root / "mails"
    mails.mkdir()
    env = {
        **os.environ,
        "XLPERF_HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XLPERF_SMTP_FROM": "kgs@example.cn",
        "XLPERF_SUBMIT_TO": "czj@example.gov.cn",
    }
    fw = get_framework("guangzhou-2023")
    for i, (ev, extra) in enumerate(
        [
            (clean("受征拆进度影响"), []),
            (clean("受征拆进度影响，顺延至次年"), []),
            (other, ["--force", "--reason", "待财政确认"]),
        ]
    ):
        folder = root / f"wb{i}"
        folder.mkdir()
        wb = save_workbook(build_workbook(fw, ev), folder / "自评表.xlsx")  # type: ignore[arg-type]
        run = subprocess.run(
            [sys.executable, "-m", "xlperf.cli", "submit", str(wb), "--eml", str(mails / f"{i}.eml"), *extra],
            capture_output=True,
            text=True,
            env=env,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        time.sleep(1.1)  # Date headers a second apart: the later submission is the current one
    out = root / "intake"
    run = subprocess.run(
        [sys.executable, "-m", "xlperf.cli", "intake", str(mails), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return out


@pytest.fixture(scope="module")
def intake_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_intake_dir(tmp_path_factory.mktemp("intake"))


@pytest.mark.slow
def test_an_intake_folder_ranks_the_current_submission_of_each_department(intake_out: Path) -> None:
    f = Folder.scan(intake_out)
    assert len(f.entries) == 3 and len(f.current) == 2, [(e.card_file.relative, e.status) for e in f.entries]
    superseded = [e for e in f.entries if not e.current]
    assert len(superseded) == 1 and superseded[0].rank is None
    clean_current = next(e for e in f.current if "科技工业" in e.department)
    assert (
        superseded[0].received < clean_current.received
        and superseded[0].department == clean_current.department
    )
    assert clean_current.status == "有效" and clean_current.total == SEED_TOTAL and clean_current.rank == 1
    other = next(e for e in f.current if e.department == "广州市白云区示例局")
    assert other.rank == 2 and other.total < SEED_TOTAL and other.errors > 0
    assert clean_current.scored_file is not None
    assert clean_current.scored_file.path.name.endswith("_部门整体支出绩效自评.xlsx")
    assert clean_current.scored_file.path.parent == clean_current.card_file.path.parent
    assert sum(n for _, n in f.distribution()) == 2
    assert any(x.path.name == "汇总.xlsx" for x in f.summaries)


def test_cards_whose_figures_are_not_numbers_are_problems_not_entries(
    batch_out: Path, tmp_path: Path
) -> None:
    card = json.loads((batch_out / "example.scorecard.json").read_text(encoding="utf-8"))
    bad = {
        "total.scorecard.json": {"total": "abc"},
        "nan.scorecard.json": {"total": float("nan")},
        "sections.scorecard.json": {"sections": {"output": "x"}},
        "indicator.scorecard.json": {
            "indicators": [{"section": "output", "full": 1, "deduction": "?", "score": 1}]
        },
        "errors.scorecard.json": {"errors": True},
    }
    for name, change in bad.items():
        (tmp_path / name).write_text(json.dumps({**card, **change}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "good.scorecard.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "deep.scorecard.json").write_text(
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8"
    )
    f = Folder.scan(tmp_path)
    assert [e.card_file.relative for e in f.entries] == ["good.scorecard.json"]
    assert sorted(p.split("：", 1)[0] for p in f.problems) == sorted([*bad, "deep.scorecard.json"])
    assert any("总分（total）不是数字：abc" in p for p in f.problems)


def test_an_intake_ledger_of_a_newer_xlperf_is_a_problem_and_nothing_is_ranked(
    batch_out: Path, tmp_path: Path
) -> None:
    import sqlite3

    for p in batch_out.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    db = sqlite3.connect(tmp_path / "收件台账.sqlite")
    db.execute("CREATE TABLE submissions (key TEXT)")
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    f = Folder.scan(tmp_path)
    assert f.entries == [] and len(f.problems) == 1 and "较新版本的 xlperf" in f.problems[0]
