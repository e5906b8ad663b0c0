"""``xlperf intake``: take the mailed submissions in, check them, file them, and write 汇总.

Output folder layout::

    DIR/收件台账.sqlite                       the ledger (idempotent re-runs, supersession, 回执)
    DIR/<年度>/<部门>/<received>_<id>/         one submission: message.eml, the attachments as sent,
                                              scorecard.json (re-scored), intake.json (status, reason)
    DIR/<年度>/<部门>/项目/<项目名称>/<received>_<id>/   one project's submission (issue 27), the same files
    DIR/未识别/<received>_<id>/                messages that are not an xlperf submission (kept as sent)
    DIR/汇总.xlsx, DIR/汇总.csv               the batch 汇总 over the current submission of each
                                              department and year, plus a 收件记录 sheet of every message
    DIR/项目自评汇总.xlsx, .csv                 batch's 项目自评汇总 over the current project submissions
                                              (when any project was taken in)

A submission folder is written complete in a hidden temporary folder and renamed into place; its
ledger row is written after that, so an interrupted run leaves nothing half-filed and the next run
takes the message in again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from xlperf.batch import BLANK, Outcome, fill_scored
from xlperf.files import OutputError, atomic_write_bytes, atomic_write_text, sha256_bytes
from xlperf.intake.ledger import (
    SENDER_NOT_LISTED,
    Entry,
    Ledger,
    LedgerError,
    current,
    is_ranked,
    sender_changes,
    summary_outcomes,
)
from xlperf.intake.sources import MAX_MESSAGE_MB, RawMessage, Source, SourceError
from xlperf.intake.verify import (
    MESSAGE_FILE,
    NOT_SUBMISSION,
    UNREADABLE,
    VALID,
    Checked,
    Parsed,
    manifest_text,
    package_hash,
    parse_message,
    safe_name,
)
from xlperf.submission.package import safe_filename

UNKNOWN_FOLDER = "未识别"
PROJECTS_FOLDER = "项目"  # below a department's folder: one folder per project (issue 27)
SKIPPED = "已收过"


@dataclass
class Taken:
    """What happened to one message in this run."""

    source: str
    status: str  # an intake status, or SKIPPED
    reason: str
    department: str = ""
    year: int | None = None
    folder: str = ""
    key: str = ""
    project: str = ""  # a 项目支出绩效自评表's 项目名称

    @property
    def who(self) -> str:
        """The department, and a project's name: how the terminal names the submission."""
        return f"{self.department}“{self.project}”" if self.project else self.department


@dataclass
class IntakeReport:
    taken: list[Taken] = field(default_factory=list)
    summary_xlsx: Path | None = None
    summary_csv: Path | None = None
    #: 项目自评汇总.xlsx when the ledger holds project submissions
    project_summary: Path | None = None
    receipts: list[tuple[str, str]] = field(default_factory=list)  # (department, what happened)
    sender_changes: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (department, before, now), new ones
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.taken)

    @property
    def exit_code(self) -> int:
        """0: every new message was a 有效 submission (or nothing new); 1: some were not."""
        new = [t for t in self.taken if t.status != SKIPPED]
        return 0 if all(t.status == VALID for t in new) else 1


def _received(parsed: Parsed, raw: RawMessage) -> datetime:
    """When the bureau got the message: the IMAP server's INTERNALDATE (the sender cannot set it), else
    the message's Date: header (.eml and mbox files keep nothing better), else now. A Date: in the
    future counts as now: a sender must not keep a submission "latest" (current) by dating it 2099."""
    now = datetime.now().astimezone()
    when = (raw.received or parsed.date or now).astimezone()
    return min(when, now)


def _message_id(parsed: Parsed, data: bytes) -> str:
    return parsed.message_id or f"<无 Message-ID:{sha256_bytes(data)[:32]}>"


def take_in(
    raw: RawMessage,
    out_dir: Path,
    ledger: Ledger,
    limits: Any = None,
    senders: Mapping[str, frozenset[str]] | None = None,
    frameworks: tuple[Any, ...] = (),
) -> Taken:
    """Check and file one message (or skip it when the ledger has it already).

    The error boundary of one message: anything unexpected while checking or filing it becomes its
    status (无法读取, with the reason) and the message is filed as sent; only a full disk or an
    unwritable ledger (OutputError, LedgerError) stops the run."""
    parsed = parse_message(raw.data)
    mid = _message_id(parsed, raw.data)
    phash = package_hash(parsed, raw.data)
    key = Ledger.make_key(mid, phash)
    if ledger.has(key):
        return Taken(raw.source, SKIPPED, "此前已收下（同一 Message-ID 与报送包），未重复收取", key=key)
    try:
        received = _received(parsed, raw)
    except (ValueError, OverflowError, OSError):  # a Date: header at the edge of the calendar
        received = datetime.now().astimezone()
    try:
        return _file(
            raw,
            parsed,
            key,
            received,
            out_dir,
            ledger,
            lambda tmp: _checked(raw, parsed, tmp, limits, senders, frameworks),
        )
    except (OutputError, LedgerError):
        raise
    except Exception as exc:  # one strange message never stops the intake
        logger.exception("intake: message {} could not be checked", raw.source)
        failed = Checked(UNREADABLE, _unexpected(exc))
        parsed.attachments = []  # kept as sent inside message.eml
        return _file(raw, parsed, key, received, out_dir, ledger, lambda tmp: failed)


def _unexpected(exc: BaseException) -> str:
    return (
        f"处理这封邮件时发生意外错误（{type(exc).__name__}: {manifest_text(str(exc))[:200]}）；"
        "邮件已原样保存为 message.eml，请发给维护人员"
    )


def _checked(
    raw: RawMessage,
    parsed: Parsed,
    tmp: Path,
    limits: Any,
    senders: Mapping[str, frozenset[str]] | None,
    frameworks: tuple[Any, ...] = (),
) -> Checked:
    if raw.too_large:
        return Checked(
            UNREADABLE,
            f"邮件有 {raw.too_large / 1048576:.0f} MB，超过上限 {MAX_MESSAGE_MB} MB，"
            "只读取了邮件头、未读取附件；报送包通常不到 1 MB，请与发件单位核实",
        )
    if not raw.data.strip():
        return Checked(UNREADABLE, "邮件是空的（0 字节）")
    checked = _check(parsed, tmp, limits, frameworks)
    listed = (senders or {}).get(checked.department)
    if checked.status == VALID and listed is not None and parsed.sender.casefold() not in listed:
        checked = replace(
            checked,
            status=SENDER_NOT_LISTED,
            reason=f"发件人 {manifest_text(parsed.sender) or '（空）'} 不在 --senders "
            f"文件为“{checked.department}”"
            f"登记的地址中（{'、'.join(sorted(listed)) or '无'}）；本报送不予采用。若该部门换了邮箱，"
            "请核实后把新地址加入该文件，再运行 xlperf intake",
        )
    return checked


def _file(
    raw: RawMessage,
    parsed: Parsed,
    key: str,
    received: datetime,
    out_dir: Path,
    ledger: Ledger,
    check: Callable[[Path], Checked],
) -> Taken:
    """Write the message, its attachments and records into a hidden folder, rename it into place, then
    add its ledger row."""
    mid, phash = key.rsplit("|", 1)
    ident = sha256_bytes(key.encode())[:8]
    stamp = f"{received:%Y%m%d-%H%M%S}_{ident}"
    tmp = out_dir / f".收件-{ident}-{uuid.uuid4().hex[:6]}.tmp"
    tmp.mkdir(parents=True)
    sender, subject = manifest_text(parsed.sender), manifest_text(parsed.subject)
    try:
        atomic_write_bytes(tmp / MESSAGE_FILE, raw.data)
        for n, att in enumerate(parsed.attachments, start=1):
            if att.name in (MESSAGE_FILE, "scorecard.json", "intake.json"):
                att.name = safe_name("附件_" + att.name)
            if (tmp / att.name).resolve().parent != tmp.resolve():  # safe_name() leaves no separators
                att.name = f"附件{n}"
            atomic_write_bytes(tmp / att.name, att.data)
        checked = check(tmp)
        department = checked.department
        if department and checked.status != NOT_SUBMISSION:
            rel = Path(safe_filename(str(checked.year or "未填年度"))) / safe_filename(department)
            if checked.form == "project":
                rel = rel / PROJECTS_FOLDER / safe_filename(checked.project, "未填项目名称")
            rel = rel / stamp
        else:
            rel = Path(UNKNOWN_FOLDER) / stamp
        outcome = _outcome(checked, rel, received) if checked.card is not None else None
        if checked.card is not None:
            atomic_write_text(
                tmp / "scorecard.json", json.dumps(checked.card, ensure_ascii=False, indent=2) + "\n"
            )
        record = {
            "status": checked.status,
            "reason": checked.reason,
            "message_id": mid,
            "package_hash": phash,
            "source": raw.source,
            "received": received.isoformat(timespec="seconds"),
            "sender": sender,
            "subject": subject,
            "department": department,
            "year": checked.year,
            "claimed": checked.claimed,
            "form": checked.form,
            "project": checked.project,
        }
        atomic_write_text(tmp / "intake.json", json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        final = out_dir / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # left by a run that stopped before its ledger row: replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    ledger.add(
        Entry(
            key,
            mid,
            phash,
            raw.source,
            received.isoformat(timespec="seconds"),
            datetime.now().astimezone().isoformat(timespec="seconds"),
            sender,
            subject,
            checked.status,
            checked.reason,
            department,
            checked.year,
            rel.as_posix(),
            outcome,
            claimed=checked.claimed,
            form=checked.form,
            project=checked.project,
        )
    )
    return Taken(
        raw.source,
        checked.status,
        checked.reason,
        department,
        checked.year,
        rel.as_posix(),
        key,
        checked.project,
    )


def _check(parsed: Parsed, folder: Path, limits: Any, frameworks: tuple[Any, ...] = ()) -> Checked:
    """check_package, with anything unexpected recorded for this message instead of stopping the run."""
    from xlperf.intake.verify import check_package

    try:
        return check_package(parsed, folder, limits, frameworks)
    except OutputError:
        raise
    except Exception as exc:  # one strange message never stops the intake
        logger.exception("intake: checking a package failed")
        return Checked(UNREADABLE, _unexpected(exc))


def _outcome(checked: Checked, rel: Path, received: datetime) -> dict[str, Any]:
    """The batch Outcome of a re-scored submission (links relative to the output folder)."""
    out = Outcome(index=0, file=(rel / checked.workbook).as_posix(), status="", message="")
    if checked.form == "project":
        from xlperf.project.batch import fill_project

        fill_project(out, checked.loaded.evaluation, checked.result, checked.card or {})
    else:
        fill_scored(out, checked.loaded, checked.result, checked.card or {})
    scoring = out.message
    # a genuine package of a blank workbook is filed as 有效 but never ranked: its outcome says 未填写
    out.status = BLANK if out.status == BLANK and checked.status == VALID else checked.status
    out.message = f"{checked.reason}；{scoring}"
    out.sha256 = checked.loaded.sha256
    out.scored = checked.workbook
    out.link = (rel / checked.workbook).as_posix()
    out.label = rel.as_posix()
    out.modified = received.timestamp()
    data = asdict(out)
    data["findings"] = out.findings
    return data


# ------------------------------------------------------------------------------ whole run


def run_intake(
    sources: Sequence[Source],
    out_dir: Path,
    *,
    limits: Any = None,
    frameworks: tuple[Any, ...] = (),
    on_start: Callable[[Source], None] | None = None,
    on_done: Callable[[Taken], None] | None = None,
    receipts: Callable[[Ledger, list[Taken]], list[tuple[str, str]]] | None = None,
    senders: Mapping[str, frozenset[str]] | None = None,
) -> IntakeReport:
    """Take in every message of every source, then write 汇总 over the current submissions.

    ``frameworks`` are the bureau's rules (``intake --framework``), at most one per form: each
    submission is re-scored by the one of its form, or by the rules its workbook embeds.

    Raises :class:`SourceError` when a source cannot be opened or breaks off — after every other
    source was taken in and 汇总 written (what the failed one gave before stays filed and recorded)."""
    start = time.perf_counter()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出文件夹 {out_dir}：{exc.strerror or exc}；请换一个可写的位置") from exc
    from xlperf.batch import SUMMARY_XLSX
    from xlperf.intake.ledger import LEDGER_NAME

    if (out_dir / SUMMARY_XLSX).exists() and not (out_dir / LEDGER_NAME).exists():
        raise OutputError(
            f"输出文件夹 {out_dir} 已有不是 xlperf intake 写的 {SUMMARY_XLSX}（如 xlperf batch 的结果），"
            "intake 会用收件的汇总替换它；请用 -o 指定另一个输出文件夹"
        )
    report = IntakeReport()
    ledger = Ledger(out_dir)
    failed: list[SourceError] = []
    try:
        for source in sources:
            try:  # a mailbox that cannot be read (or breaks off) stops only itself: the others are taken in
                source.open()
                try:
                    if on_start is not None:
                        on_start(source)
                    for raw in source:
                        taken = take_in(raw, out_dir, ledger, limits, senders, frameworks)
                        report.taken.append(taken)
                        if on_done is not None:
                            on_done(taken)
                finally:
                    source.close()
            except SourceError as exc:
                failed.append(exc)
        if failed and len(failed) == len(sources):  # nothing could be read: nothing to summarise
            raise failed[0]
        entries = ledger.entries()
        changed = sender_changes(entries)
        new = {t.key for t in report.taken if t.status != SKIPPED}
        report.sender_changes = [
            (e.department, changed[e.key], e.sender) for e in entries if e.key in new and e.key in changed
        ]
        if receipts is not None:
            report.receipts = receipts(ledger, report.taken)
        report.summary_xlsx, report.summary_csv = write_intake_summary(ledger, out_dir)
        report.project_summary = write_intake_project_summary(ledger, out_dir)
    finally:
        ledger.close()
    report.seconds = time.perf_counter() - start
    if failed:  # said after 汇总 covers everything that could be taken in
        raise SourceError(
            "；".join(str(e) for e in failed) + f"。其余邮件已收取（{len(report.taken)} 封），汇总已更新："
            f"{report.summary_xlsx}"
        )
    return report


LEDGER_COLUMNS = (
    "收到时间",
    "发件人",
    "发件人变更",
    "主题",
    "部门",
    "项目",
    "年度",
    "清单所称",
    "状态",
    "说明",
    "当前",
    "回执",
    "文件夹",
    "来源",
)


def ledger_rows(ledger: Ledger) -> list[dict[str, Any]]:
    entries = ledger.entries()
    chosen = {e.key for e in current(entries)}
    changed = sender_changes(entries)
    rows = []
    for e in entries:
        if e.status == NOT_SUBMISSION or not e.department:
            state = "—"
        elif e.key in chosen:
            state = "当前" if is_ranked(e) else "当前（未通过核验，不参与排名）"
        elif e.superseded_by:
            state = "已被后来的有效报送取代"
        else:
            state = (
                ("未采用（该项目另有有效报送）" if e.is_project else "未采用（该部门另有有效报送）")
                if e.status != VALID
                else "—"
            )
        rows.append(
            {
                "收到时间": e.received.replace("T", " ")[:16],
                "发件人": e.sender,
                "发件人变更": f"此前的有效报送来自 {changed[e.key]}" if e.key in changed else None,
                "主题": e.subject,
                "部门": e.department or None,
                "项目": e.project or None,
                "年度": e.year,
                "清单所称": e.claimed or None,
                "状态": e.status,
                "说明": e.reason,
                "当前": state,
                "回执": e.receipt or None,
                "文件夹": e.folder,
                "来源": e.source,
            }
        )
    return rows


def write_intake_summary(ledger: Ledger, out_dir: Path) -> tuple[Path, Path]:
    """汇总 over the current submission of each department and year (the same sheets as batch); only a
    有效 one is ranked (its Outcome keeps status 有效, the others their own status). Project
    submissions are not in it: :func:`write_intake_project_summary`."""
    from xlperf.summary import _frame, write_summary

    outcomes = [o for _, o in summary_outcomes(e for e in ledger.entries() if not e.is_project)]
    extra = {"收件记录": _frame(ledger_rows(ledger), LEDGER_COLUMNS)}
    return write_summary(outcomes, out_dir, extra=extra)


def write_intake_project_summary(ledger: Ledger, out_dir: Path) -> Path | None:
    """项目自评汇总 over the current project submissions (batch's, per department: count, average, rating
    distribution, rows below full with their reasons, 执行率), apart from the 部门整体 汇总; only 有效
    ones are counted. None when no project was ever taken in."""
    pairs = summary_outcomes(e for e in ledger.entries() if e.is_project)
    if not pairs:
        return None
    from xlperf.project.summary import write_project_summary

    outcomes = []
    for e, o in pairs:
        o.form = "project"
        o.project = o.project or (e.project or "")
        outcomes.append(o)
    return write_project_summary(outcomes, out_dir)[0]


def open_sources(texts: Sequence[str], **kwargs: Any) -> list[Source]:
    from xlperf.intake.sources import open_source

    return [open_source(t, **kwargs) for t in texts]


__all__ = ["IntakeReport", "SourceError", "Taken", "open_sources", "run_intake", "take_in"]
