# ruff: noqa: F811  (the fixtures of test_web and test_review_project_detail are parameters here)
"""The site header names what the page shows (issue 27): a page of one form names that form — the
部门整体 ranking, department, 管理效率 and 问题统计 pages 部门整体支出绩效自评, the 项目自评汇总 and a
project's page 项目支出绩效自评, a clerk's result the form of the workbook uploaded — and a page of
both forms (the clerk's home, the files, an error) names both. In real Chromium, on one ``xlperf serve --dir``
over a batch folder holding both forms (tests/test_review_project_detail.py's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_review_project_detail import FW, batch_dir, hostile  # noqa: F401 (fixture)
from test_web import CHROMIUM, SHOTS, Serve, browser, open_home, page, start_serve, upload_one  # noqa: F401

from xlperf.project.template import build_project_workbook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
DEPARTMENT = "xlperf · 部门整体支出绩效自评"
PROJECT = "xlperf · 项目支出绩效自评"
BOTH = "xlperf · 部门整体和项目支出绩效自评"


@pytest.fixture(scope="module")
def server(batch_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    s = start_serve(tmp_path_factory.mktemp("serve"), "--dir", str(batch_dir))
    try:
        yield s
    finally:
        s.stop()


def brand(pg: Any) -> str:
    return str(pg.inner_text("header.top #brand")).strip()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", BOTH),
        ("/review", DEPARTMENT),
        ("/review/dept/0", DEPARTMENT),
        ("/review/matrix", DEPARTMENT),
        ("/review/findings", DEPARTMENT),
        ("/review/files", BOTH),
        ("/review/projects", PROJECT),
        ("/review/project/0", PROJECT),
        ("/review/project/999", BOTH),  # 找不到这个项目: an error page names no form
        ("/no-such-page", BOTH),
    ],
)
def test_the_header_names_the_form_the_page_shows(page: Any, server: Serve, path: str, expected: str) -> None:
    open_home(page, server)
    page.goto(f"{server.base}{path}")
    assert brand(page) == expected
    if path == "/":
        assert page.inner_text("h1").startswith("部门整体和项目支出绩效自评")


def test_a_clerk_s_result_names_the_form_of_its_workbook(
    page: Any, server: Serve, batch_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "培训.xlsx"
    build_project_workbook(FW, hostile()).save(project)
    upload_one(page, server, project)
    assert brand(page) == PROJECT
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "header_project_job.png"))
    department = batch_dir.parent / "in" / "部门.xlsx"  # the seed department workbook of the batch
    upload_one(page, server, department)
    assert brand(page) == DEPARTMENT
    page.goto(f"{server.base}/review/projects")
    page.screenshot(path=str(SHOTS / "header_review_projects.png"))
