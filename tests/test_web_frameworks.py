"""The web page in a real Chromium: 新建自评表 offers this machine's frameworks, and an uploaded
workbook is scored by the rules it carries (the variant of test_frameworks_everywhere: 94.57, 优秀)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
from test_frameworks_everywhere import VARIANT_TOTAL, _filled, variant_toml
from test_web import CHROMIUM, SHOTS, browser, open_home, page, start_serve, upload_one  # noqa: F401 (fixtures)

from xlperf.core.framework import NO_RATING, get_framework, load_framework, parse_framework
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]


def test_new_workbook_for_a_chosen_framework_and_upload_scored_by_its_rules(
    page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    variant = tmp_path / "variant.toml"
    variant.write_text(variant_toml(), encoding="utf-8")
    home = tmp_path / "serve"
    (home / "home" / "frameworks").mkdir(parents=True)
    (home / "home" / "frameworks" / "variant-2024.toml").write_text(variant_toml(), encoding="utf-8")
    server = start_serve(home)
    try:
        open_home(page, server)
        options = page.eval_on_selector_all("#framework option", "els => els.map(e => e.value)")
        # the department frameworks, then the project forms' (issue 27)
        assert options == [
            "guangzhou-2023",
            "sichuan-example",
            "variant-2024",
            "national-project",
            "sichuan-project",
        ]
        page.select_option("#framework", "variant-2024")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "frameworks_new.png"))
        with page.expect_download() as info:
            page.click("#new-workbook")
        blank = tmp_path / "blank.xlsx"
        info.value.save_as(blank)
        wb = openpyxl.load_workbook(blank)
        cell = wb.defined_names["xp_framework_sha256"].attr_text.split("!")[1].replace("$", "")
        assert wb[L.HIDDEN][cell].value == load_framework(variant).sha256

        filled = _filled(variant, tmp_path / "测试局_2024.xlsx")
        upload_one(page, server, filled)
        assert page.inner_text("#total") == f"{VARIANT_TOTAL:.2f}" and page.inner_text("#rating") == "优秀"
        page.screenshot(path=str(SHOTS / "frameworks_upload.png"), full_page=True)
        # a request naming a path is refused: a framework is chosen by id only
        page.goto(f"{server.base}/new.xlsx?framework=/etc/passwd.toml")
        assert "框架" in page.content()
    finally:
        server.stop()


def test_the_bundled_example_and_rules_without_rating_in_the_browser(
    page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """sichuan-example (three sections, its own rating and grade names) and a framework that does not
    rate, each uploaded and scored by the rules its workbook carries; totals from the tests' calculator."""
    sichuan, hubei = sichuan_evaluation(), hubei_like_evaluation()
    want_sc, want_hb = expected(SICHUAN_TOML, sichuan), expected(HUBEI_LIKE_TOML, hubei)
    server = start_serve(tmp_path / "serve")
    try:
        open_home(page, server)
        page.select_option("#framework", SICHUAN)
        with page.expect_download() as info:
            page.click("#new-workbook")
        blank = tmp_path / "blank.xlsx"
        info.value.save_as(blank)
        wb = openpyxl.load_workbook(blank)
        cell = wb.defined_names["xp_framework_sha256"].attr_text.split("!")[1].replace("$", "")
        assert wb[L.HIDDEN][cell].value == get_framework(SICHUAN).sha256

        filled = save_workbook(build_workbook(get_framework(SICHUAN), sichuan), tmp_path / "示例县_2024.xlsx")
        upload_one(page, server, filled)
        assert page.inner_text("#total") == f"{want_sc.total:.2f}" and page.inner_text("#rating") == "优秀"
        for key in ("decision", "management", "performance"):
            assert page.inner_text(f'#scores td[data-key="{key}"]') == f"{want_sc.sections[key]:.2f}"
        listed = page.inner_text("table.management")
        assert "相关性" in listed and "社会公众满意度" in listed  # every section's sheet-answered indicators
        text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        assert "履职效能" not in text and "（优）" not in text and "完成率超过130%的原因" in text
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "frameworks_sichuan.png"), full_page=True)

        no_rating = save_workbook(
            build_workbook(parse_framework(HUBEI_LIKE_TOML, "t"), hubei), tmp_path / "湖北测试局_2024.xlsx"
        )
        upload_one(page, server, no_rating)
        assert page.inner_text("#total") == f"{want_hb.total:.2f}" and page.inner_text("#rating") == NO_RATING
        assert f"{want_hb.total:.2f}（{NO_RATING}）" in page.inner_text("#scores")
        page.screenshot(path=str(SHOTS / "frameworks_no_rating.png"))
    finally:
        server.stop()


def test_reviewer_pages_on_a_batch_of_the_example_and_rules_without_rating(
    page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The reviewer pages list every sheet-answered indicator of sichuan-example (部门决策's too), its
    rows by table, and 不评级 for a framework that does not rate."""
    from click.testing import CliRunner

    from xlperf.cli import main

    sichuan, hubei = sichuan_evaluation(), hubei_like_evaluation()
    want = expected(SICHUAN_TOML, sichuan)
    folder = tmp_path / "in"
    save_workbook(build_workbook(get_framework(SICHUAN), sichuan), folder / "示例县_2024.xlsx")
    save_workbook(
        build_workbook(parse_framework(HUBEI_LIKE_TOML, "t"), hubei), folder / "湖北测试局_2024.xlsx"
    )
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "-j", "1"]).exit_code == 0
    server = start_serve(tmp_path / "serve", "--dir", str(out))
    try:
        page.goto(server.url.replace("/?", "/review?"))
        ranking = page.inner_text("body")
        assert "优秀" in ranking and NO_RATING in ranking and "（优）" not in ranking
        page.goto(f"{server.base}/review/matrix")
        heads = page.inner_text("#matrix thead")
        assert "D01" in heads and "P06" in heads and "G16" in heads
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "frameworks_review_matrix.png"))
        page.goto(server.url.replace("/?", "/review?"))
        page.click(f"text={SICHUAN_DEPARTMENT}")
        detail = page.inner_text("body")
        assert f"{want.total:.2f}" in detail and "社会公众满意度" in detail and "相关性" in detail
        rows = page.inner_text("table.rows")
        assert "产出" in rows and "效益" in rows
        scores = page.inner_text("table.scores")
        for name in ("部门决策", "综合管理", "部门绩效情况"):
            assert name in scores
        assert "履职效能" not in scores and "管理效率" not in scores and "结转结余率" not in detail
        page.screenshot(path=str(SHOTS / "frameworks_review_dept.png"))
    finally:
        server.stop()
