"""``xlperf intake --framework`` per form (issue 27): a bureau whose one mailbox receives both the
部门整体 and the 项目支出 forms gives one framework for each, and every submission is re-scored by the
one of its own form. Through the real servers of tests/test_intake.py: ``xlperf submit`` → aiosmtpd
→ IMAP APPEND into a real Dovecot → ``xlperf intake imaps://…``.

The bureau's rules are the bundled ones with a stricter 优 — the department's 优 from 99 (its seed
total 98.57, docs/DOMAIN.md, becomes 良), the project's from 98 (the 重庆 arithmetic's 97.6 becomes
良) — so which rules re-scored a submission shows in its status: by the rules its workbook carries
it is 有效, by the bureau's 得分与重算不符 with 良 in the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from imap_server import Imap, run_dovecot
from smtp_servers import Server, run_controller
from test_intake import department, env_for, invoke, ledger, submit
from test_project_intake import media
from test_submit import clean_evaluation

from xlperf.core.framework import get_framework, parse_framework
from xlperf.core.project.framework import get_project_framework, parse_project_framework
from xlperf.project.template import build_project_workbook
from xlperf.workbook.template import build_workbook, save_workbook

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[1]
GUANGZHOU = (ROOT / "xlperf" / "frameworks" / "guangzhou-2023.toml").read_text(encoding="utf-8")
NATIONAL = (ROOT / "xlperf" / "frameworks" / "project" / "national-project.toml").read_text(encoding="utf-8")
JIA = department("甲局")
SEED_TOTAL = 98.57  # docs/DOMAIN.md: the seed report's total
MEDIA_TOTAL = 97.6  # the 重庆 arithmetic: 76 % → 7.6, plus 90


@pytest.fixture(scope="module")
def smtp() -> Iterator[Server]:
    yield from run_controller()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Imap]:
    yield from run_dovecot()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bureau's two framework files (the bundled ids, a stricter 优) and the department's copy."""
    folder = tmp_path_factory.mktemp("bureau-rules")
    strict_department = GUANGZHOU.replace('{ name = "优", min = 90 }', '{ name = "优", min = 99 }')
    strict_project = NATIONAL.replace('{ name = "优", min = 90 }', '{ name = "优", min = 98 }')
    assert strict_department != GUANGZHOU and strict_project != NATIONAL
    files = {"department": folder / "本局部门整体.toml", "project": folder / "本局项目支出.toml"}
    files["department"].write_text(strict_department, encoding="utf-8")
    files["project"].write_text(strict_project, encoding="utf-8")
    # what the two files are: the stricter bands, so a total between them rates 良
    assert parse_framework(strict_department, "t").rate(SEED_TOTAL) == "良"
    assert parse_project_framework(strict_project, "t").rate(MEDIA_TOTAL) == "良"
    return files


@pytest.fixture(scope="module")
def mailbox(smtp: Server, dovecot: Imap, home: Path, tmp_path_factory: pytest.TempPathFactory) -> Imap:
    """One bureau mailbox holding a department's 部门整体 package and one of its project packages."""
    work = tmp_path_factory.mktemp("jia")
    ev = clean_evaluation()
    ev.department.name, ev.department.short_name = JIA, "甲局"
    own = save_workbook(build_workbook(get_framework("guangzhou-2023"), ev), work / "甲局自评表.xlsx")
    project = work / "融媒体.xlsx"
    build_project_workbook(get_project_framework("national-project"), media()).save(project)
    dovecot.append(submit(own, "甲局", smtp, home), submit(project, "甲局", smtp, home))
    return dovecot


def take(mailbox: Imap, home: Path, out: Path, *options: str | Path) -> tuple[Result, dict[str, Any]]:
    """``xlperf intake`` of the mailbox into ``out``; the ledger rows by form."""
    res = invoke(
        ["intake", mailbox.url, "-o", out, "--imap-cafile", mailbox.cafile, *options],
        env_for(home, XLPERF_IMAP_PASSWORD=mailbox.password),
    )
    rows = {r["form"]: r for r in ledger(out)} if (out / "收件台账.sqlite").exists() else {}
    return res, rows


def card(out: Path, row: dict[str, Any]) -> dict[str, Any]:
    return json.loads((out / row["folder"] / "scorecard.json").read_text(encoding="utf-8"))


def rescored(out: Path, row: dict[str, Any], path: Path) -> bool:
    """Whether the submission's filed score card was re-scored by the rules of ``path``."""
    fw = (parse_project_framework if row["form"] == "project" else parse_framework)(
        path.read_text(encoding="utf-8"), "t"
    )
    return bool(card(out, row)["framework_sha256"] == fw.sha256)


def test_without_the_bureau_s_rules_both_forms_are_valid(mailbox: Imap, home: Path, tmp_path: Path) -> None:
    res, rows = take(mailbox, home, tmp_path / "own")
    assert res.exit_code == 0, res.output
    assert {f: r["status"] for f, r in rows.items()} == {"department": "有效", "project": "有效"}
    assert card(tmp_path / "own", rows["department"])["total"] == SEED_TOTAL
    assert card(tmp_path / "own", rows["project"])["total"] == MEDIA_TOTAL


@pytest.mark.parametrize("order", ["department first", "project first"])
def test_one_framework_per_form_in_one_run(
    mailbox: Imap, home: Path, rules: dict[str, Path], tmp_path: Path, order: str
) -> None:
    given = [rules["department"], rules["project"]]
    if order == "project first":
        given.reverse()
    out = tmp_path / "both"
    res, rows = take(mailbox, home, out, "--framework", given[0], "--framework", given[1])
    assert res.exit_code == 1, res.output
    for form in ("department", "project"):
        row = rows[form]
        assert row["status"] == "得分与重算不符" and "良" in row["reason"], row
        assert rescored(out, row, rules[form]), form  # each by the bureau's rules of its own form
    assert card(out, rows["department"])["rating"] == "良" and card(out, rows["project"])["rating"] == "良"


@pytest.mark.parametrize("form", ["department", "project"])
def test_a_single_framework_binds_only_its_own_form(
    mailbox: Imap, home: Path, rules: dict[str, Path], tmp_path: Path, form: str
) -> None:
    out = tmp_path / form
    res, rows = take(mailbox, home, out, "--framework", rules[form])
    assert res.exit_code == 1, res.output
    other = "project" if form == "department" else "department"
    assert rows[form]["status"] == "得分与重算不符" and rescored(out, rows[form], rules[form])
    assert rows[other]["status"] == "有效", rows[other]  # by the rules its own workbook carries
    assert not rescored(out, rows[other], rules[other])


def test_the_same_rules_twice_are_taken_once(mailbox: Imap, home: Path, tmp_path: Path) -> None:
    """Bundled ids, given as a clerk of the bureau might: the project one twice (the same rules)."""
    out = tmp_path / "bundled"
    res, rows = take(
        mailbox,
        home,
        out,
        *("--framework", "national-project", "--framework", "guangzhou-2023"),
        *("--framework", "national-project"),
    )
    assert res.exit_code == 0, res.output
    assert {f: r["status"] for f, r in rows.items()} == {"department": "有效", "project": "有效"}


@pytest.mark.parametrize(
    ("values", "said"),
    [
        (
            ["department", "guangzhou-2023"],
            ["--framework", "两个部门整体支出", "guangzhou-2023", "每类表只能给一个"],
        ),
        (["national-project", "sichuan-project"], ["--framework", "两个项目支出", "sichuan-project"]),
        (["project", "national-project"], ["--framework", "两个项目支出", "本局项目支出.toml"]),
        (
            ["no-such-rules"],
            ["no-such-rules", "本机没有", "部门整体支出：guangzhou-2023", "项目支出：national-project"],
        ),
        (["没有的文件.toml"], ["没有的文件.toml", "无法读取"]),
    ],
)
def test_bad_framework_options_stop_before_anything_is_taken(
    mailbox: Imap, home: Path, rules: dict[str, Path], tmp_path: Path, values: list[str], said: list[str]
) -> None:
    out = tmp_path / "refused"
    options = [x for v in values for x in ("--framework", rules.get(v, v))]
    before = mailbox.state()
    res, rows = take(mailbox, home, out, *options)
    assert res.exit_code == 2, res.output
    message = " ".join(res.output.split())
    assert all(s in message for s in said), message
    assert "Traceback" not in res.output and "内部错误" not in res.output
    assert not out.exists() and not rows  # refused before the mailbox was opened or anything filed
    assert mailbox.state() == before
