"""The clerk's side of ``xlperf serve``: one uploaded workbook = one :class:`Job`.

A job runs the same pipeline as ``xlperf run`` (``load_input`` with the pre-open checks of
``xlperf.ooxml.checks`` → ``assess`` → ``write_scored`` / ``write_scorecard`` /
``write_report_docx``), so the page shows the very figures of the score card. The 报送包 and
发送财政局 go through ``xlperf.submission.package`` and the outbox, exactly as ``xlperf submit``.

Every upload lives in its own folder inside one private temporary folder (mode 0700, made by
``tempfile.mkdtemp``). A failed upload's folder is removed at once; a job's folder is removed when
the job is dropped (more than ``max_jobs`` jobs, or idle longer than ``ttl`` seconds) and the whole
temporary folder when the server stops.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from xlperf.core.errors import XlperfError
from xlperf.web.view import result_view

if TYPE_CHECKING:
    from xlperf.core.project.result import ProjectResult
    from xlperf.core.result import Result
    from xlperf.submission.package import PackageResult


class UploadError(XlperfError):
    """The upload cannot be processed; ``str()`` is the Chinese message shown on the page."""


# ------------------------------------------------------------------------------ jobs


@dataclass
class SendState:
    """发送财政局 for one job: idle → sending → sent | failed (a failed send can be retried once more
    at a time, always with the same outbox message, so the bureau never gets two)."""

    state: str = "idle"
    step: str = ""
    message: str = ""
    to: list[str] = field(default_factory=list)
    outbox_id: str = ""
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "step": self.step,
            "message": self.message,
            "to": self.to,
            "outbox_id": self.outbox_id,
            "attempts": self.attempts,
        }


@dataclass
class Job:
    id: str
    name: str  # the name the clerk's file had (shown, never used as a path)
    folder: Path
    input: Path
    result: Result | ProjectResult
    sheet_order: list[str]
    scored: Path
    scorecard: Path
    docx: Path
    touched: float = field(default_factory=time.monotonic)
    created: float = field(default_factory=time.time)
    #: made from an older template (or its structure needed finding): the page offers 升级到当前模板
    outdated: bool = False
    template_version: str = ""
    upgraded: Path | None = None
    upgrade_lines: list[str] = field(default_factory=list)
    package: PackageResult | None = None
    package_zip: Path | None = None
    package_forced: bool = False
    send: SendState = field(default_factory=SendState)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    _view: dict[str, Any] | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        """The page's values (computed once: the result does not change)."""
        if self._view is None:
            self._view = result_view(self.result, self.sheet_order)
        return self._view


def _operator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name on some locked-down machines: not a reason to stop
        return ""


class Workspace:
    """The private temporary folder and the jobs in it (thread-safe)."""

    def __init__(
        self,
        limits: Any = None,
        max_jobs: int = 20,
        ttl: float = 4 * 3600,
        settings_options: dict[str, Any] | None = None,
        config_path: Path | None = None,
    ) -> None:
        from xlperf.ooxml.limits import Limits

        self.limits = limits or Limits()
        self.max_jobs = max_jobs
        self.ttl = ttl
        self.settings_options = settings_options or {}
        self.config_path = config_path
        self.root = Path(tempfile.mkdtemp(prefix="xlperf-serve-"))
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._sending = threading.Lock()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.limits.max_file_mb * 1024 * 1024)

    def close(self) -> None:
        with self._lock:
            self._jobs.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- uploads ---------------------------------------------------------------------------
    def reserve(self, filename: str) -> tuple[str, Path]:
        """A new job id and the path its upload is written to (the name sanitised, inside the job folder)."""
        from xlperf.submission.package import safe_filename

        name = Path(filename.replace("\\", "/")).name
        suffix = Path(name).suffix.lower()
        if suffix == ".json":
            raise UploadError(
                f"{name} 是数据文件；网页只接受填好的自评表（Excel 工作簿 .xlsx）。请选择工作簿文件。"
            )
        job_id = secrets.token_hex(8)
        folder = self.root / job_id
        (folder / "input").mkdir(parents=True)
        safe = safe_filename(name, "自评表.xlsx")
        if (
            Path(safe).suffix.lower() == ".json"
        ):  # cannot happen after the check above; keep the pipeline on workbooks
            safe += ".xlsx"
        return job_id, folder / "input" / safe

    def discard(self, job_id: str) -> None:
        shutil.rmtree(self.root / job_id, ignore_errors=True)

    def process(self, job_id: str, path: Path, display_name: str) -> Job:
        """Score the uploaded workbook (in a worker thread). Raises :class:`UploadError`."""
        from xlperf.core.errors import InputError
        from xlperf.files import OutputError
        from xlperf.pipeline import (
            Loaded,
            assess,
            load_any,
            output_stem,
            write_report_docx,
            write_scorecard,
            write_scored,
        )

        folder = self.root / job_id
        try:
            loaded = load_any(path, self.limits)  # either form: the workbook's own rules decide
            result = assess(loaded)
            sheet_order = list(loaded.book.sheetnames) if loaded.book is not None else []
            out = folder / "out"
            stem = output_stem(path.name)
            scored = write_scored(loaded, result, out / f"{stem}.scored.xlsx")
            card = write_scorecard(loaded, result, out / f"{stem}.scorecard.json")
            docx = write_report_docx(result, out / f"{stem}_自评报告.docx", loaded)
        except InputError as exc:
            self.discard(job_id)
            raise UploadError(str(exc)) from exc
        except OutputError as exc:
            self.discard(job_id)
            raise UploadError(f"无法写出结果：{exc}") from exc
        except BaseException:
            self.discard(job_id)
            raise
        job = Job(job_id, display_name, folder, path, result, sheet_order, scored, card, docx)
        if isinstance(loaded, Loaded) and loaded.book is not None:  # the project form has one template
            from xlperf.workbook.reader import outdated, template_version

            job.template_version = template_version(loaded.book)
            job.outdated = outdated(loaded.book, list(result.findings))
        with self._lock:
            self._jobs[job_id] = job
        self._expire()
        logger.info("web: scored {} as job {}", display_name, job_id)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.touched = time.monotonic()
        return job

    def jobs(self) -> Iterator[Job]:
        with self._lock:
            yield from list(self._jobs.values())

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.touched)
            drop = [j for j in jobs if now - j.touched > self.ttl and j.send.state != "sending"]
            keep = [j for j in jobs if j not in drop]
            while len(keep) > self.max_jobs and keep[0].send.state != "sending":
                drop.append(keep.pop(0))
            for j in drop:
                self._jobs.pop(j.id, None)
        for j in drop:
            shutil.rmtree(j.folder, ignore_errors=True)

    # -- 升级到当前模板 ------------------------------------------------------------------------
    def upgrade(self, job: Job) -> Job:
        """The uploaded workbook moved into the current template (as ``xlperf upgrade``), once per
        job: ``job.upgraded`` and the report's lines. Raises :class:`UploadError`."""
        from xlperf.core.errors import InputError
        from xlperf.files import OutputError
        from xlperf.pipeline import upgrade_workbook, upgraded_name

        with job.lock:
            if job.upgraded is not None and job.upgraded.exists():
                return job
            target = job.folder / "out" / upgraded_name(job.input).name
            try:
                report = upgrade_workbook(job.input, target, self.limits)
            except (InputError, OutputError) as exc:
                raise UploadError(str(exc)) from exc
            job.upgraded, job.upgrade_lines = target, report.lines()
            logger.info("web: upgraded job {} to the current template", job.id)
        return job

    # -- 报送包 and 发送财政局 -----------------------------------------------------------------
    def export(self, job: Job, force: bool = False, reason: str = "") -> PackageResult:
        """Export (once per force/reason) the 报送包 of ``job``; raises ``PackageError`` subclasses."""
        from xlperf.submission.package import export_package

        reason = reason.strip() if force else ""
        if job.package is not None and (job.package.reason or "") == reason:
            return job.package
        job.package = export_package(
            job.input,
            None,
            force=force,
            reason=reason,
            operator=_operator(),
            overwrite=True,
            limits=self.limits,
        )
        job.package_zip = None
        job.package_forced = force
        return job.package

    def package_zip(self, job: Job, force: bool = False, reason: str = "") -> Path:
        """The 报送包 folder as one zip (``报送包_<简称>_<年度>.zip``, the folder inside it)."""
        from xlperf.files import atomic_path

        with job.lock:
            package = self.export(job, force, reason)
            if job.package_zip is not None and job.package_zip.exists():
                return job.package_zip
            target = job.folder / "out" / f"{package.folder.name}.zip"
            with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in package.files:
                    zf.write(path, f"{package.folder.name}/{path.name}")
            job.package_zip = target
            return target

    def recipients(self) -> tuple[list[str], list[str]]:
        """(the bureau's addresses, problems) from the SMTP settings, as ``xlperf submit`` resolves them."""
        from xlperf.submission.settings import resolve_settings

        try:
            settings, problems = resolve_settings(self.settings_options, None, self.config_path)
        except Exception as exc:  # a broken config file must not break the page
            return [], [str(exc)]
        return (list(settings.to) if settings is not None else []), problems

    def start_send(self, job: Job, force: bool = False, reason: str = "") -> SendState:
        """Start 发送财政局 in a thread unless a send is under way or done (at most once)."""
        with job.lock:
            if job.send.state in ("sending", "sent"):
                return job.send
            job.send = SendState(
                "sending", "正在导出报送包……", outbox_id=job.send.outbox_id, attempts=job.send.attempts + 1
            )
            state = job.send
        threading.Thread(
            target=self._send, args=(job, force, reason), name=f"send-{job.id}", daemon=True
        ).start()
        return state

    def _send(self, job: Job, force: bool, reason: str) -> None:
        from xlperf.files import sha256_file
        from xlperf.submission.mail import SendError
        from xlperf.submission.package import (
            DeliveryError,
            PackageError,
            default_outbox,
            resolve,
            send_package,
        )

        state = job.send
        try:
            with job.lock:
                package = self.export(job, force, reason)
            # at most once per workbook content and department (and project), not per upload (two
            # uploads of one file)
            key = f"{sha256_file(job.input)}|{package.department}" + (
                f"|{package.project}" if package.project else ""
            )
            state.step = "报送包已导出，正在放入发件箱并连接邮件服务器……"
            if state.outbox_id:  # a retry: the same message again, never a second one
                box = default_outbox()
                item = box.get(state.outbox_id)
                if item is None:
                    raise PackageError(f"发件箱中找不到邮件 {state.outbox_id}；请重新上传工作簿后再发送")
                settings = resolve(self.settings_options, None, self.config_path)
                try:
                    item = box.send(item, settings)
                except SendError as exc:
                    raise DeliveryError(exc, box.get(item.id) or item) from exc
            else:
                with self._sending:  # the look-up and the queueing of one key are one step
                    item = send_package(
                        package, self.settings_options, config_path=self.config_path, content_key=key
                    )
            state.to, state.outbox_id = list(item.to), item.id
            state.message = f"已发送给 {'、'.join(item.to)}（发件箱编号 {item.id}）。"
            state.step, state.state = "已发送", "sent"
        except DeliveryError as exc:
            state.outbox_id = exc.item.id
            if exc.kind == "already_sent":  # this workbook's mail left before (maybe from another upload)
                state.to = list(exc.item.to)
                state.message = (
                    f"这份工作簿（内容相同）已于 {(exc.item.sent_at or '')[:16].replace('T', ' ')} "
                    f"发送给 {'、'.join(exc.item.to)}（发件箱编号 {exc.item.id}），不再重复发送。"
                )
                state.step, state.state = "已发送", "sent"
                return
            state.message = str(exc).replace(
                "运行 xlperf submit --retry（或在 Excel 中再次点击“发送财政局”）",
                "点击本页的“重新发送”（或运行 xlperf submit --retry）",
            )
            state.step, state.state = "发送失败", "failed"
        except PackageError as exc:
            state.message = str(exc)
            state.step, state.state = "未发送", "failed"
        except Exception as exc:  # pragma: no cover - a bug; said so, and logged
            logger.opt(exception=exc).error("web: send of job {} failed", job.id)
            state.message = f"内部错误：{type(exc).__name__}: {exc}。邮件可能未发送；请把日志发给维护人员。"
            state.step, state.state = "未发送", "failed"
