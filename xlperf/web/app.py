"""The ASGI app of ``xlperf serve`` (Starlette + Jinja2): the clerk's page and the reviewer's page.

Routes (all behind :class:`xlperf.web.security.Guard`)::

    GET  /                         clerk: choose or drop a workbook; 新建自评表
    POST /upload                   the workbook as the raw request body (X-Filename: its name, URL-encoded)
    GET  /job/{id}                 findings, score table, ratios, report paragraphs, downloads, 发送财政局
    GET  /job/{id}/file/{kind}     scored | docx | scorecard | upgraded
    POST /job/{id}/upgrade         move the workbook into the current template → {"url", "lines"}
    POST /job/{id}/package         export the 报送包 → {"url": …} of its zip
    GET  /job/{id}/package.zip
    POST /job/{id}/send            start 发送财政局 (at most once) → its state
    GET  /job/{id}/send            the state of the send (progress and outcome)
    GET  /new.xlsx                 the blank standard workbook (as ``xlperf new``)
    GET  /review …                 reviewer pages (only with --dir): ranking, /review/dept/{n},
                                   /review/matrix, /review/findings, /review/files, /review/file/{n},
                                   /review/projects (项目自评汇总, apart from the ranking),
                                   /review/project/{n} (one project: 项目资金, 绩效指标, findings)

Templates are autoescaped; nothing from a workbook is ever marked safe. Text that looks like a
formula (``=…``) is shown as the text it is: HTML has no formulas, and downloads are the workbooks
xlperf wrote, where such text is stored as text.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from loguru import logger
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from xlperf import __version__
from xlperf.web.clerk import Job, UploadError, Workspace
from xlperf.web.folder import Folder
from xlperf.web.security import Guard, Secrets

HERE = Path(__file__).resolve().parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = (
        "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name) or "download"
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(path: Path, name: str, media_type: str | None = None) -> FileResponse:
    return FileResponse(
        path, media_type=media_type, headers={"content-disposition": content_disposition(name)}
    )


def create_app(keys: Secrets, workspace: Workspace, review_dir: Path | None = None) -> Any:
    """The app wrapped in its guard; ``workspace`` holds the uploads, ``review_dir`` enables /review."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)
    templates.env.globals.update(version=__version__, csrf=keys.csrf, reviewer=review_dir is not None)
    folder_cache: dict[str, Folder] = {}

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def error_page(request: Request, status: int, message: str) -> Response:
        return page(request, "error.html", status=status, message=message)

    def job_or_404(request: Request) -> Job | Response:
        job = workspace.get(str(request.path_params["job_id"]))
        if job is None:
            return error_page(
                request, 404, "找不到这份工作簿的结果（可能已过期或服务已重启）；请回到首页重新上传。"
            )
        return job

    # -- clerk ------------------------------------------------------------------------------------
    async def home(request: Request) -> Response:
        max_mb = workspace.limits.max_file_mb
        recent = sorted(workspace.jobs(), key=lambda j: j.created, reverse=True)
        from xlperf.catalog import listing
        from xlperf.project.catalog import listing as project_listing

        frameworks = [(e.framework.id, e.framework.name) for e in listing()]
        frameworks += [(fw.id, f"{fw.name}（项目支出绩效自评表）") for fw, _ in project_listing()]
        return page(
            request,
            "clerk.html",
            max_bytes=workspace.max_upload_bytes,
            max_mb=f"{max_mb:g}",
            recent=recent,
            frameworks=frameworks,
        )

    async def upload(request: Request) -> Response:
        name = unquote(request.headers.get("x-filename", "")).strip() or "自评表.xlsx"
        limit = workspace.max_upload_bytes
        too_big = (
            f"{Path(name).name} 超过网页上传上限 {workspace.limits.max_file_mb:g} MB；"
            "标准自评表通常小于 1 MB，请检查是否粘贴了大量无关数据，或改用命令行 xlperf run（可用 "
            "--max-file-mb 调整上限）。"
        )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return JSONResponse({"error": too_big}, status_code=413)
        try:
            job_id, path = workspace.reserve(name)
        except UploadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        size = 0
        try:
            with path.open("wb") as fh:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise UploadError(too_big)
                    fh.write(chunk)
            if size == 0:
                raise UploadError(
                    f"{Path(name).name} 是空文件（0 字节），可能复制或下载不完整；请重新选择该文件。"
                )
        except UploadError as exc:
            workspace.discard(job_id)
            return JSONResponse({"error": str(exc)}, status_code=413 if size > limit else 422)
        except ClientDisconnect:  # the browser went away (closed, reloaded, network): nobody to answer
            workspace.discard(job_id)
            logger.warning("上传中断：{} 只收到 {} 字节，浏览器已断开连接；已丢弃", Path(name).name, size)
            return Response(status_code=400)
        except asyncio.CancelledError:  # the server is stopping (Ctrl+C, SIGTERM) while this upload streams
            workspace.discard(job_id)
            logger.warning("服务停止：{} 未传完（已收到 {} 字节），已丢弃", Path(name).name, size)
            return Response(status_code=503)
        except BaseException:
            workspace.discard(job_id)
            raise
        try:
            job = await run_in_threadpool(workspace.process, job_id, path, Path(name).name)
        except UploadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except Exception as exc:
            logger.opt(exception=exc).error("web: upload {} failed", name)
            return JSONResponse(
                {
                    "error": f"内部错误：{type(exc).__name__}: {exc}；文件未被保存。"
                    "请把该文件和日志发给维护人员。"
                },
                status_code=500,
            )
        view = job.view()
        return JSONResponse(
            {
                "job": job.id,
                "url": f"/job/{job.id}",
                "total": view["total"],
                "rating": view["rating"],
                "errors": view["errors"],
                "warnings": view["warnings"],
            }
        )

    async def job_page(request: Request) -> Response:
        job = job_or_404(request)
        if not isinstance(job, Job):
            return job
        to, problems = await run_in_threadpool(workspace.recipients)
        return page(
            request, "job.html", job=job, v=job.view(), to=to, smtp_problems=problems, send=job.send.to_json()
        )

    async def job_file(request: Request) -> Response:
        job = job_or_404(request)
        if not isinstance(job, Job):
            return job
        from xlperf.pipeline import output_stem

        kind = request.path_params["kind"]
        stem = output_stem(job.name) or "自评表"
        if kind == "scored":
            return download(job.scored, f"{stem}.scored.xlsx", XLSX)
        if kind == "docx":  # a report made while errors remain is named as the draft it is
            draft = "_草稿" if job.result.report.draft else ""
            return download(job.docx, f"{stem}_自评报告{draft}.docx", DOCX)
        if kind == "scorecard":
            return download(job.scorecard, f"{stem}.scorecard.json", "application/json")
        if kind == "upgraded" and job.upgraded is not None:
            return download(job.upgraded, f"{stem}_新模板.xlsx", XLSX)
        return error_page(request, 404, "没有这种文件。")

    async def options(request: Request) -> tuple[bool, str]:
        try:
            data = await request.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return bool(data.get("force")), str(data.get("reason") or "")

    async def package(request: Request) -> Response:
        from xlperf.submission.package import PackageError

        job = job_or_404(request)
        if not isinstance(job, Job):
            return JSONResponse({"error": "找不到这份工作簿的结果；请重新上传。"}, status_code=404)
        force, reason = await options(request)
        try:
            await run_in_threadpool(workspace.package_zip, job, force, reason)
        except PackageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"url": f"/job/{job.id}/package.zip"})

    async def upgrade(request: Request) -> Response:
        job = job_or_404(request)
        if not isinstance(job, Job):
            return JSONResponse({"error": "找不到这份工作簿的结果；请重新上传。"}, status_code=404)
        try:
            await run_in_threadpool(workspace.upgrade, job)
        except UploadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"url": f"/job/{job.id}/file/upgraded", "lines": job.upgrade_lines})

    async def package_zip(request: Request) -> Response:
        job = job_or_404(request)
        if not isinstance(job, Job):
            return job
        if job.package_zip is None or not job.package_zip.exists():
            return error_page(request, 404, "报送包尚未导出；请在结果页点击“导出报送包”。")
        return download(job.package_zip, job.package_zip.name, "application/zip")

    async def send(request: Request) -> Response:
        job = job_or_404(request)
        if not isinstance(job, Job):
            return JSONResponse({"error": "找不到这份工作簿的结果；请重新上传。"}, status_code=404)
        if request.method == "POST":
            force, reason = await options(request)
            state = await run_in_threadpool(
                workspace.start_send, job, force, reason
            )  # may wait for an export
        else:
            state = job.send
        return JSONResponse(state.to_json())

    async def new_workbook(request: Request) -> Response:
        from xlperf.catalog import by_id
        from xlperf.core.framework import DEFAULT_ID, FrameworkError
        from xlperf.project.catalog import find as find_project
        from xlperf.workbook.template import build_workbook, save_workbook

        # a framework by id only (bundled or added on this machine): never a path from the request

        project = find_project(request.query_params.get("framework") or "")
        if project is not None:  # the 项目支出绩效自评表 (issue 27)
            from xlperf.project.template import build_project_workbook

            target = workspace.root / "blank" / project.sha256[:16] / "项目支出绩效自评表.xlsx"
            if not target.exists():
                await run_in_threadpool(lambda: save_workbook(build_project_workbook(project), target))
            return download(target, target.name, XLSX)
        try:
            fw = by_id(request.query_params.get("framework") or DEFAULT_ID)
        except FrameworkError as exc:
            return JSONResponse({"error": "；".join(exc.problems)}, status_code=404)
        target = workspace.root / "blank" / fw.sha256[:16] / "部门整体支出绩效自评表.xlsx"
        if not target.exists():
            await run_in_threadpool(lambda: save_workbook(build_workbook(fw), target))
        return download(target, target.name, XLSX)

    # -- reviewer ---------------------------------------------------------------------------------
    def folder(rescan: bool = False) -> Folder:
        assert review_dir is not None
        if rescan or "folder" not in folder_cache:
            folder_cache["folder"] = Folder.scan(review_dir)
        return folder_cache["folder"]

    def needs_dir(request: Request) -> Response | None:
        if review_dir is None:
            return error_page(
                request,
                404,
                "审阅页面需要用 xlperf serve --dir 文件夹 启动（文件夹为批量计分或收件的输出文件夹）。",
            )
        return None

    async def review(request: Request) -> Response:
        if (missing := needs_dir(request)) is not None:
            return missing
        f = await run_in_threadpool(folder, True)
        q = request.query_params
        rating, year, errors, text = (
            q.get("rating", ""),
            q.get("year", ""),
            q.get("errors", ""),
            q.get("q", "").strip(),
        )
        everything = q.get("all", "") == "1"
        rows = [
            e
            for e in f.ranking(everything)
            if (not rating or e.rating == rating)
            and (not year or e.year == year)
            and (errors != "yes" or e.errors)
            and (errors != "no" or not e.errors)
            and (
                not text
                or text.casefold() in e.department.casefold()
                or text.casefold() in e.workbook.casefold()
            )
        ]
        return page(
            request,
            "review.html",
            f=f,
            rows=rows,
            ratings=f.rating_names(),
            filters={"rating": rating, "year": year, "errors": errors, "q": text, "all": everything},
        )

    def entry_or_404(request: Request) -> Any:
        try:
            key = int(request.path_params["key"])
        except ValueError:
            key = -1
        e = folder().entry(key)
        if e is None:
            return error_page(request, 404, "找不到这个部门（文件夹内容可能已变化）；请回到排名页面刷新。")
        return e

    async def review_dept(request: Request) -> Response:
        if (missing := needs_dir(request)) is not None:
            return missing
        e = entry_or_404(request)
        if isinstance(e, Response):
            return e
        return page(request, "review_dept.html", f=folder(), e=e, findings=e.finding_rows())

    async def review_matrix(request: Request) -> Response:
        if (missing := needs_dir(request)) is not None:
            return missing
        f = await run_in_threadpool(folder, True)
        return page(request, "review_matrix.html", f=f, columns=f.management_columns())

    async def review_findings(request: Request) -> Response:
        if (missing := needs_dir(request)) is not None:
            return missing
        f = await run_in_threadpool(folder, True)
        return page(request, "review_findings.html", f=f, stats=f.finding_statistics())

    async def review_projects(request: Request) -> Response:
        """项目自评汇总 per department (issue 27): the project forms' cards, apart from the ranking."""
        if (missing := needs_dir(request)) is not None:
            return missing
        from xlperf.project.summary import SUMMARY_CSV as PROJECT_CSV
        from xlperf.project.summary import SUMMARY_XLSX as PROJECT_XLSX
        from xlperf.web.projects import decimal_text, project_groups

        f = await run_in_threadpool(folder, True)
        everything = request.query_params.get("all", "") == "1"
        groups = await run_in_threadpool(project_groups, f, everything)
        summaries = [x for x in f.files if x.path.name in (PROJECT_XLSX, PROJECT_CSV)]
        return page(
            request,
            "review_projects.html",
            f=f,
            groups=groups,
            everything=everything,
            summaries=summaries,
            dec=decimal_text,
        )

    async def review_project(request: Request) -> Response:
        """One project's page: its 项目资金, 绩效指标, findings and files (from the card and the filed
        workbook; :func:`xlperf.web.projects.project_detail`)."""
        if (missing := needs_dir(request)) is not None:
            return missing
        from xlperf.web.projects import decimal_text, project_detail

        try:
            key = int(request.path_params["key"])
        except ValueError:
            key = -1
        detail = await run_in_threadpool(project_detail, folder(), key)
        if detail is None:
            return error_page(
                request, 404, "找不到这个项目（文件夹内容可能已变化）；请回到项目自评汇总页面刷新。"
            )
        return page(request, "review_project.html", f=folder(), d=detail, dec=decimal_text)

    async def review_files(request: Request) -> Response:
        if (missing := needs_dir(request)) is not None:
            return missing
        f = await run_in_threadpool(folder, True)
        return page(request, "review_files.html", f=f)

    async def review_file(request: Request) -> Response:
        if (missing := needs_dir(request)) is not None:
            return missing
        try:
            index = int(request.path_params["index"])
        except ValueError:
            index = -1
        link = folder().file(index)
        if link is None:
            return error_page(request, 404, "找不到这个文件（文件夹内容可能已变化）；请回到文件列表刷新。")
        return download(link.path, link.path.name)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            workspace.close()

    routes = [
        Route("/", home),
        Route("/upload", upload, methods=["POST"]),
        Route("/new.xlsx", new_workbook),
        Route("/job/{job_id:str}", job_page),
        Route("/job/{job_id:str}/file/{kind:str}", job_file),
        Route("/job/{job_id:str}/package", package, methods=["POST"]),
        Route("/job/{job_id:str}/upgrade", upgrade, methods=["POST"]),
        Route("/job/{job_id:str}/package.zip", package_zip),
        Route("/job/{job_id:str}/send", send, methods=["GET", "POST"]),
        Route("/review", review),
        Route("/review/dept/{key:str}", review_dept),
        Route("/review/matrix", review_matrix),
        Route("/review/findings", review_findings),
        Route("/review/projects", review_projects),
        Route("/review/project/{key:str}", review_project),
        Route("/review/files", review_files),
        Route("/review/file/{index:str}", review_file),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            404: lambda r, e: error_page(r, 404, "没有这个页面。"),
            405: lambda r, e: error_page(r, 405, "不支持这种请求。"),
        },
    )
    return Guard(app, keys)
