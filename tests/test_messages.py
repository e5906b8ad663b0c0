"""A message, never "内部错误" (issue 12, case 13): odd JSON, odd settings, odd names, an unusable data
folder. Each gets a Chinese message or finding naming the field, cell or option. Servers are real
aiosmtpd instances (tests/smtp_servers.py); the full disk cases are in tests/test_atomic.py and
tests/test_at_most_once.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from smtp_servers import Server

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.workbook.template import build_workbook, save_workbook

SENDER = "区科工商信局 <kgs@example.cn>"
TO = "czj@example.gov.cn"
SMTP_ENV = (
    "XLPERF_SMTP_HOST",
    "XLPERF_SMTP_PORT",
    "XLPERF_SMTP_SECURITY",
    "XLPERF_SMTP_USER",
    "XLPERF_SMTP_PASSWORD",
    "XLPERF_SMTP_FROM",
    "XLPERF_SUBMIT_TO",
    "XLPERF_SMTP_TIMEOUT",
    "XLPERF_SMTP_MAX_ATTACHMENT_MB",
    "XLPERF_SMTP_CAFILE",
    "XLPERF_SMTP_VERIFY_TLS",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)


def workbook(tmp_path: Path, name: str | None = None, short: str | None = None) -> Path:
    from test_submit import clean_evaluation

    ev = clean_evaluation()
    if name is not None:
        ev.department.name = name
    if short is not None:
        ev.department.short_name = short
    folder = tmp_path / "work"
    folder.mkdir(exist_ok=True)
    return save_workbook(build_workbook(get_framework(ev.framework), ev), folder / "自评.xlsx")


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def smtp(port: int, **extra: str) -> dict[str, str]:
    return {
        "XLPERF_SMTP_HOST": "127.0.0.1",
        "XLPERF_SMTP_PORT": str(port),
        "XLPERF_SMTP_SECURITY": "none",
        "XLPERF_SMTP_FROM": SENDER,
        "XLPERF_SUBMIT_TO": TO,
        "XLPERF_SMTP_TIMEOUT": "3",
        **extra,
    }


def no_internal_error(result: Any) -> None:
    assert "内部错误" not in result.output and "Traceback" not in result.output, result.output


# -- settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999"])
def test_max_attachment_mb_must_be_a_finite_number(plain_server: Server, tmp_path: Path, value: str) -> None:
    result = invoke(
        "submit", workbook(tmp_path), env=smtp(plain_server.port, XLPERF_SMTP_MAX_ATTACHMENT_MB=value)
    )
    no_internal_error(result)
    assert (
        result.exit_code == 2
        and "XLPERF_SMTP_MAX_ATTACHMENT_MB" in result.output
        and "有限数字" in result.output
    )
    assert plain_server.recorder.messages == []


def test_max_attachment_mb_option_inf(plain_server: Server, tmp_path: Path) -> None:
    result = invoke("submit", workbook(tmp_path), "--max-attachment-mb", "inf", env=smtp(plain_server.port))
    no_internal_error(result)
    assert result.exit_code == 2 and "--max-attachment-mb" in result.output


# -- JSON input --------------------------------------------------------------------------------------------


@pytest.fixture
def seed_json(tmp_path: Path) -> dict[str, Any]:
    from test_submit import clean_evaluation

    return dict(json.loads(clean_evaluation().model_dump_json()))


def write_json(tmp_path: Path, data: dict[str, Any] | str, bom: bool = False) -> Path:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    path = tmp_path / "自评.json"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_json_with_a_bom_is_read(seed_json: dict[str, Any], tmp_path: Path) -> None:
    result = invoke("check", write_json(tmp_path, seed_json, bom=True))
    no_internal_error(result)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("char", ["\x00", "\x01", "\ufffe", "\u202e"])
def test_json_text_with_invisible_characters_names_the_field(
    seed_json: dict[str, Any], tmp_path: Path, char: str
) -> None:
    seed_json["department"]["name"] = f"广州市白云区{char}科工商信局"
    out = tmp_path / "out.xlsx"
    result = invoke("run", write_json(tmp_path, seed_json), "-o", out)
    no_internal_error(result)
    assert result.exit_code == 2 and "department.name" in result.output
    assert f"U+{ord(char):04X}" in result.output
    assert not out.exists()


def test_json_numbers_out_of_range_name_the_field(seed_json: dict[str, Any], tmp_path: Path) -> None:
    text = json.dumps(seed_json, ensure_ascii=False)
    key = '"total_budget": '
    start = text.index(key) + len(key)
    end = text.index(",", start)
    huge = invoke("check", write_json(tmp_path, text[:start] + "1e999999" + text[end:]))
    no_internal_error(huge)
    # a finding on the field (issue 24), not a refusal of the whole file
    assert huge.exit_code == 1 and "budget.total_budget" in huge.output and "P01" in huge.output
    tiny = invoke("check", write_json(tmp_path, text[:start] + "1e-999999" + text[end:]))
    no_internal_error(tiny)
    assert tiny.exit_code == 1 and "budget.total_budget" in tiny.output and "P01" in tiny.output


# -- names ---------------------------------------------------------------------------------------------------


def test_department_name_with_a_line_break_is_sent(plain_server: Server, tmp_path: Path) -> None:
    result = invoke(
        "submit", workbook(tmp_path, name="广州市白云区科技工业\n商务和信息化局"), env=smtp(plain_server.port)
    )
    no_internal_error(result)
    assert result.exit_code == 0, result.output
    [msg] = plain_server.recorder.parsed()
    assert (
        str(msg["Subject"])
        == "【绩效自评报送】广州市白云区科技工业 商务和信息化局 2023 年度部门整体支出绩效自评"
    )


def test_a_300_character_short_name_fits_the_file_system(tmp_path: Path) -> None:
    result = invoke("submit", workbook(tmp_path, short="区" * 300), "--eml", tmp_path / "草稿.eml")
    no_internal_error(result)
    assert result.exit_code == 0, result.output
    [folder] = [p for p in (tmp_path / "work").iterdir() if p.is_dir()]
    assert len(folder.name.encode("utf-8")) <= 255
    for path in folder.iterdir():
        assert len(path.name.encode("utf-8")) <= 255
        assert path.name.startswith("区" * 10)


def test_right_to_left_override_never_reaches_a_file_name_or_the_subject(
    plain_server: Server, tmp_path: Path
) -> None:
    result = invoke(
        "submit",
        workbook(tmp_path, name="广州市白云区科工商信局\u202e", short="区科\u202exslx.exe"),
        env=smtp(plain_server.port),
    )
    no_internal_error(result)
    assert result.exit_code == 0, result.output
    [folder] = [p for p in (tmp_path / "work").iterdir() if p.is_dir()]
    names = [folder.name, *(p.name for p in folder.iterdir())]
    assert all("\u202e" not in n for n in names) and all(n.startswith(("报送包_区科", "区科")) for n in names)
    [msg] = plain_server.recorder.parsed()
    assert "\u202e" not in str(msg["Subject"])
    assert all("\u202e" not in (part.get_filename() or "") for part in msg.iter_attachments())


# -- defined names -------------------------------------------------------------------------------------------


def test_defined_name_pointing_at_ref_error_is_a_finding(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = workbook(tmp_path)
    wb = load_workbook(path)
    wb.defined_names["xp_dept_name"].attr_text = "#REF!"
    wb.save(path)
    result = invoke("check", path)
    no_internal_error(result)
    assert result.exit_code == 1 and "xp_dept_name" in result.output and "#REF!" in result.output
    # 位置 names the sheet where the name belongs, never a model path (issue 25)
    assert "│ 基本信息 " in result.output and "department.name" not in result.output


def test_defined_name_pointing_at_a_range_is_a_finding(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = workbook(tmp_path)
    wb = load_workbook(path)
    wb.defined_names["xp_dept_name"].attr_text = "'基本信息'!$B$5:$B$6"
    wb.save(path)
    result = invoke("check", path)
    no_internal_error(result)
    assert result.exit_code == 1 and "xp_dept_name" in result.output and "B5:B6" in result.output


# -- the data folder -----------------------------------------------------------------------------------------


def test_unusable_data_folder_is_a_message_and_nothing_is_sent(plain_server: Server, tmp_path: Path) -> None:
    home = tmp_path / "home-is-a-file"
    home.write_text("not a folder")
    result = invoke("submit", workbook(tmp_path), env={**smtp(plain_server.port), "XLPERF_HOME": str(home)})
    no_internal_error(result)
    assert result.exit_code == 2 and "发件箱" in result.output and "未发送" in result.output, result.output
    assert plain_server.recorder.messages == []
    # a draft needs no data folder
    shutil.rmtree(tmp_path / "work" / "报送包_区科工商信局_2023")
    result = invoke(
        "submit", workbook(tmp_path), "--eml", tmp_path / "草稿.eml", env={"XLPERF_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output


def test_full_data_folder_is_one_line_and_nothing_is_sent(plain_server: Server, tmp_path: Path) -> None:
    """A real full file system as the data folder (logs, outbox, locks): one Chinese line, no
    "Logging error" traceback for each log message, no ZipFile traceback, nothing sent."""
    import os
    import subprocess
    import sys

    home = tmp_path / "full"
    home.mkdir()
    if (
        sys.platform != "linux"
        or os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(home)], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a tmpfs here (needs root on Linux)")
    try:
        (home / "logs").mkdir()
        with open(home / "filler", "wb", buffering=0) as fh, pytest.raises(OSError):
            while True:
                fh.write(b"\0" * 4096)
        wb = workbook(tmp_path)
        env = {**os.environ, **smtp(plain_server.port), "XLPERF_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
        xlperf = Path(sys.executable).with_name("xlperf")
        done = subprocess.run(
            [str(xlperf), "submit", str(wb)], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("错误："), done.stderr
        assert "磁盘空间不足" in done.stderr and "未发送" in done.stderr
        assert plain_server.recorder.messages == []
        done = subprocess.run(
            [str(xlperf), "run", str(wb), "-o", str(tmp_path / "out.xlsx")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr  # logging quietly stops
    finally:
        subprocess.run(["umount", "-l", str(home)], capture_output=True)
