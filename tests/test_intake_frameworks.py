# ruff: noqa: F811  (the module fixtures of test_intake are parameters here)
"""Intake and the rules a package carries (issue 23): the frozen workbook is re-scored by the rules it
embeds; a manifest naming other rules is 清单与工作簿不符; ``intake --framework`` makes the bureau's
copy binding. The packages are real ``xlperf submit`` mails delivered through aiosmtpd (test_intake)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_intake import (  # noqa: F401  (module fixtures)
    SENDERS,
    department,
    env_for,
    home,
    invoke,
    ledger,
    mail,
    smtp,
)
from test_intake_trust import eml_folder, forged, rows_by_subject

from xlperf.core.framework import get_framework

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
