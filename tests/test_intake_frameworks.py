# ruff: noqa: F811  (the module fixtures of test_intake are parameters here)
"""Intake and the rules a package carries (issue 23): the frozen workbook is re-scored by the rules it
embeds; a manifest naming other rules is 清单与工作簿不符; ``intake --framework`` makes the bureau's
copy binding. The packages are real ``xlperf submit`` mails delivered through aiosmtpd (test_intake)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from framework_calc import expected
from framework_cases import (
    HUBEI_LIKE_TOML,
    SICHUAN,
    SICHUAN_DEPARTMENT,
    SICHUAN_TOML,
    hubei_like_evaluation,
    sichuan_evaluation,
)
from imap_server import Imap
from smtp_servers import Server
from test_intake import (  # noqa: F401  (module fixtures)
    SENDERS,
    department,
    dovecot,
    env_for,
    home,
    invoke,
    ledger,
    mail,
    smtp,
)
from test_intake_trust import eml_folder, forged, rows_by_subject

from xlperf.core.evaluation import Answer
from xlperf.core.framework import NO_RATING, get_framework, parse_framework
from xlperf.workbook.template import build_workbook, save_workbook

pytestmark = pytest.mark.slow
GUANGZHOU = (Path(__file__).parents[1] / "xlperf" / "frameworks" / "guangzhou-2023.toml").read_text(
    encoding="utf-8"
)


def test_a_manifest_naming_other_rules_than_its_workbook_is_never_taken(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    time.sleep(1.1)
    other_id = forged(mail["乙"], SENDERS["乙局"], "改框架", framework="variant-2024")
    other_hash = forged(mail["乙"], SENDERS["乙局"], "改校验值", framework_sha256="0" * 64)
    out = tmp_path / "out"
    res = invoke(
        ["intake", eml_folder(tmp_path / "eml", mail["乙"], other_id, other_hash), "-o", out], env_for(home)
    )
    assert res.exit_code == 1, res.output
    rows = rows_by_subject(out)
    for subject in ("改框架", "改校验值"):
        assert rows[subject]["status"] == "清单与工作簿不符", rows[subject]
        assert "评分框架" in rows[subject]["reason"] and get_framework().sha256[:8] in rows[subject]["reason"]
    valid = [r for r in ledger(out) if r["status"] == "有效"]
    assert [r["department"] for r in valid] == [department("乙局")]


def test_intake_framework_makes_the_bureau_s_rules_binding(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    # the bureau's rules: the same id, a stricter 优 (99): the packages' 优 no longer follows
    bureau = tmp_path / "本局.toml"
    bureau.write_text(
        GUANGZHOU.replace('{ name = "优", min = 90 }', '{ name = "优", min = 99 }'), encoding="utf-8"
    )
    plain_out, bound_out = tmp_path / "plain", tmp_path / "bound"
    folder = eml_folder(tmp_path / "eml", mail["乙"])
    assert invoke(["intake", folder, "-o", plain_out], env_for(home)).exit_code == 0
    [row] = ledger(plain_out)
    assert row["status"] == "有效"  # by the rules the workbook carries
    res = invoke(["intake", folder, "-o", bound_out, "--framework", bureau], env_for(home))
    assert res.exit_code == 1, res.output
    [row] = ledger(bound_out)
    assert row["status"] == "得分与重算不符" and "良" in row["reason"], row


def test_the_bundled_example_and_rules_without_rating_through_smtp_and_dovecot(
    smtp: Server, dovecot: Imap, home: Path, tmp_path: Path
) -> None:
    """Packages made by ``xlperf submit`` for sichuan-example (two departments) and for a framework that
    does not rate go through a real aiosmtpd, into a real Dovecot, and ``xlperf intake imaps://…``
    re-scores each by the rules its workbook carries: totals from the tests' calculator, each framework
    ranked on its own, 汇总 in the frameworks' own words."""
    second = sichuan_evaluation()
    second.department.name, second.department.short_name = "示例县发展和改革局", "示例县发改局"
    second.management[0].answers = [Answer.NO, Answer.NO]  # D01: loses its 5 points
    cases = [
        (sichuan_evaluation(), get_framework(SICHUAN), SICHUAN_TOML, "sc1@example.cn"),
        (second, get_framework(SICHUAN), SICHUAN_TOML, "sc2@example.cn"),
        (hubei_like_evaluation(), parse_framework(HUBEI_LIKE_TOML, "t"), HUBEI_LIKE_TOML, "hb@example.cn"),
    ]
    want = {}
    raws = []
    for ev, fw, text, sender in cases:
        wb = save_workbook(build_workbook(fw, ev), tmp_path / ev.department.short_name / "自评表.xlsx")
        want[ev.department.name] = expected(text, ev)
        before = len(smtp.recorder.messages)
        env = env_for(
            home,
            XLPERF_SMTP_HOST="127.0.0.1",
            XLPERF_SMTP_PORT=str(smtp.port),
            XLPERF_SMTP_SECURITY="none",
            XLPERF_SMTP_FROM=f"{ev.department.short_name} <{sender}>",
            XLPERF_SUBMIT_TO="财政局绩效科 <czj@example.gov.cn>",
        )
        res = invoke(["submit", wb], env)
        assert res.exit_code == 0, res.output
        assert len(smtp.recorder.messages) == before + 1
        raws.append(smtp.recorder.messages[-1].content)
    assert want["示例县发展和改革局"].total == want[SICHUAN_DEPARTMENT].total - 5
    dovecot.append(*raws)
    out = tmp_path / "bureau"
    res = invoke(
        ["intake", dovecot.url, "-o", out, "--imap-cafile", dovecot.cafile],
        env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
    )
    assert res.exit_code == 0, res.output
    rows = {r["department"]: r for r in ledger(out)}
    assert {d: r["status"] for d, r in rows.items()} == dict.fromkeys(want, "有效")
    summary = openpyxl.load_workbook(out / "汇总.xlsx")
    head = [c.value for c in summary["汇总"][1]]
    got = {
        r["部门"]: r
        for r in (
            dict(zip(head, (c.value for c in row), strict=False))
            for row in summary["汇总"].iter_rows(min_row=2)
        )
    }
    for dept, w in want.items():
        row = got[dept]
        assert Decimal(str(row["总分"])) == w.total, dept
        assert row["等级"] == (w.rating or NO_RATING) and row["排名"] == 1 + (dept == "示例县发展和改革局")
    assert {"部门决策", "综合管理", "部门绩效情况", "预算执行情况", "效益指标和满意度指标"} <= set(head)
    assert not {"履职效能", "管理效率"} & set(head)
    spread = dict(summary["等级分布"].iter_rows(min_row=2, values_only=True))
    assert spread["优秀"] == 2 and spread[NO_RATING] == 1 and "优" not in spread
