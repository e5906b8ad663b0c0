"""The web page (``xlperf serve``) in a real Chromium with a 项目支出绩效自评表: 新建自评表 offers the
project frameworks, an upload is scored as a project form (the 安徽 table: 90, 优, J03 on the empty
total row), the scored copy and the report download; its 报送包 is refused while errors remain and
exported when forced; a clean project form (the 重庆 arithmetic, 97.6) is sent to a real aiosmtpd."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from smtp_servers import run_controller
from test_project_core import anhui
from test_project_submit import DEP, NAMES, PROJECT, chongqing
from test_web import CHROMIUM, SHOTS, browser, open_home, page, start_serve, upload_one  # noqa: F401 (fixtures)

from xlperf.core.project.framework import get_project_framework
from xlperf.project import layout as P
from xlperf.project.template import build_project_workbook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]


def test_project_form_on_the_web_page(page: Any, tmp_path: Path) -> None:  # noqa: F811 (fixture)
    server = start_serve(tmp_path / "serve")
    try:
        open_home(page, server)
        page.select_option("#framework", "national-project")
        with page.expect_download() as info:
            page.click("#new-workbook")
        blank = tmp_path / "blank.xlsx"
        info.value.save_as(blank)
        assert openpyxl.load_workbook(blank).sheetnames[0] == P.FORM_SHEET

        path = tmp_path / "棠溪镇委托业务.xlsx"
        build_project_workbook(get_project_framework(), anhui()).save(path)
        upload_one(page, server, path)
        assert page.inner_text("#total") == "90.00" and page.inner_text("#rating") == "优"
        assert "委托业务 2022 年度项目支出绩效自评" in page.inner_text("h1")
        # its template (P1) is the project form's current one: no 升级到当前模板 (a department template's)
        assert page.locator("#upgrade-box").count() == 0
        codes = [c.strip() for c in page.locator("#findings td.code").all_inner_texts()]
        assert "J03" in codes and "J04" in codes
        where = page.locator("#findings tr.error td.where").all_inner_texts()
        assert f"{P.FORM_SHEET}!D6" in [w.strip() for w in where]
        assert "按项目名称打包" in page.inner_text("#project-note")
        # 导出报送包 refuses while error findings remain … and exports with 强制报送 and a reason
        page.click("#package")
        page.wait_for_selector("#message:not([hidden])")
        assert "不能报送" in page.inner_text("#message") and "J03" in page.inner_text("#message")
        page.check("#force")
        page.fill("#reason", "年度资金总额行待主管部门确认")
        with page.expect_download() as info:
            page.click("#package")
        package = tmp_path / "package.zip"
        info.value.save_as(package)
        assert info.value.suggested_filename == "报送包_委托业务_2022.zip"
        with zipfile.ZipFile(package) as zf:
            names = sorted(zf.namelist())
            manifest = json.loads(zf.read("报送包_委托业务_2022/委托业务_2022_manifest.json"))
        assert names == sorted(
            f"报送包_委托业务_2022/委托业务_2022{s}"
            for s in ("_项目支出绩效自评.xlsx", "_项目支出绩效自评报告.docx", "_manifest.json")
        )
        assert manifest["form"] == "project" and manifest["total"] == 90
        assert manifest["reason"] == "年度资金总额行待主管部门确认"
        assert "一、项目基本情况" in page.inner_text("#s-report")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "project_job.png"), full_page=True)
        with page.expect_download() as info:
            page.click("#dl-scored")
        scored = tmp_path / "scored.xlsx"
        info.value.save_as(scored)
        assert openpyxl.load_workbook(scored).sheetnames[:3] == list(P.OUTPUT_SHEETS)
        with page.expect_download() as info:
            page.click("#dl-docx")
        assert info.value.suggested_filename.endswith(".docx")
    finally:
        server.stop()


def test_a_project_form_is_sent_from_the_web_page(page: Any, tmp_path: Path) -> None:  # noqa: F811 (fixture)
    for smtp in run_controller():
        env = {
            "XLPERF_SMTP_HOST": "127.0.0.1",
            "XLPERF_SMTP_PORT": str(smtp.port),
            "XLPERF_SMTP_SECURITY": "none",
            "XLPERF_SMTP_FROM": "棠溪镇财政所 <czs@example.cn>",
            "XLPERF_SUBMIT_TO": "财政局绩效科 <czj@example.gov.cn>",
            "XLPERF_SMTP_TIMEOUT": "5",
        }
        server = start_serve(tmp_path / "serve", env=env)
        try:
            path = tmp_path / "融媒体.xlsx"
            build_project_workbook(get_project_framework(), chongqing()).save(path)
            upload_one(page, server, path)
            assert page.inner_text("#total") == "97.60" and page.inner_text("#n-errors") == "0"
            page.click("#send")
            page.wait_for_selector("#progress.sent", timeout=60_000)
            assert "已发送给" in page.inner_text("#progress") and page.is_disabled("#send")
            [received] = smtp.recorder.parsed()
            assert received["Subject"] == f"【绩效自评报送】{DEP} 2022 年度项目支出绩效自评：{PROJECT}"
            assert [a.get_filename() for a in received.iter_attachments()] == NAMES
            page.screenshot(path=str(SHOTS / "project_sent.png"), full_page=True)
        finally:
            server.stop()
