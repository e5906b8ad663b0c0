"""One received message → one checked submission.

1. Parse the message (anything at all: a message that is not MIME is simply "not a submission").
2. Collect its attachments; names are decoded (RFC 2231 ``filename*=`` and RFC 2047 ``name="=?…?="``,
   as xlperf's mail writes them) and reduced to a bare, safe file name, so ``../`` or ``C:\\`` in a
   name can never place a file outside the submission folder.
3. Find the xlperf package manifest (schema ``xlperf.package/1``, what ``xlperf submit`` writes); check
   every listed file's size and SHA-256 against the attachment of that name.
4. Only then run the workbook through the same pre-open checks as everywhere
   (:func:`xlperf.ooxml.stream.read_package`, via :func:`xlperf.pipeline.load_any`), re-score it
   with the rules it embeds, and compare with the manifest's total, rating, sections and error count.
   A 部门整体 and a 项目支出绩效自评表 are both taken: the workbook decides its form (issue 27).

5. Department and year (and a project's 项目名称) are the re-scored workbook's, never the manifest's:
   a manifest naming another department, year, project or form than its own workbook is 清单与工作簿不符
   (it never supersedes anything).

Statuses (:mod:`xlperf.intake.ledger` owns them): 有效 · 文件与清单不符 · 得分与重算不符 · 清单与工作簿不符 ·
发件人未登记 · 无法读取 · 不是报送邮件. Every manifest field is read through :func:`manifest_text` /
:func:`manifest_year`, so a value of any type or size becomes a problem of that field, not an error.
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any

from xlperf.core.errors import XlperfError
from xlperf.core.evaluation import DEFAULT_FRAMEWORK as DEFAULT_ID
from xlperf.files import sha256_bytes
from xlperf.intake.ledger import (
    CONFLICT,
    INTAKE_STATUSES,
    MISMATCH,
    NOT_SUBMISSION,
    RESCORED,
    UNREADABLE,
    VALID,
)
from xlperf.submission.mail import header_text
from xlperf.submission.package import MANIFEST_SUFFIX, PACKAGE_SCHEMA, safe_filename

__all__ = ["CONFLICT", "INTAKE_STATUSES", "MISMATCH", "NOT_SUBMISSION", "RESCORED", "UNREADABLE", "VALID"]
MAX_FIELD_CHARS = 200  # a department name is far shorter; longer text from a manifest is cut
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MESSAGE_FILE = "message.eml"


@dataclass
class Attachment:
    name: str  # safe, bare file name used on disk
    original: str  # the name as the message gave it (decoded)
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)


@dataclass
class Parsed:
    """What the message says about itself, before any checking."""

    message_id: str
    sender: str  # addr-spec of From (or Reply-To)
    sender_display: str
    subject: str
    date: datetime | None
    attachments: list[Attachment] = field(default_factory=list)
    manifest: Attachment | None = None
    problem: str = ""  # why it could not be parsed as mail at all


def safe_name(name: str, fallback: str = "附件") -> str:
    """The last path component of ``name`` (``/`` and ``\\`` both separate), made a safe file name."""
    bare = PurePosixPath(name.replace("\\", "/")).name.strip()
    if bare in ("", ".", ".."):
        bare = fallback
    return safe_filename(bare, fallback)


def parse_message(data: bytes) -> Parsed:
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the stdlib parser is lenient; this is a safety net
        return Parsed("", "", "", "", None, problem=f"无法解析邮件（{type(exc).__name__}）")
    mid = str(msg.get("Message-ID", "") or "").strip()
    reply = str(msg.get("Reply-To", "") or "") or str(msg.get("From", "") or "")
    display, addr = parseaddr(reply)
    date = None
    if msg.get("Date"):
        try:
            date = parsedate_to_datetime(str(msg["Date"]))
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = date.astimezone()
    parsed = Parsed(mid, addr, display, str(msg.get("Subject", "") or ""), date)
    used: set[str] = set()
    for part in _parts(msg):
        filename = _filename(part)
        if filename is None:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = safe_name(filename)
        stem, dot, suffix = name.rpartition(".")
        n = 2
        while name.casefold() in used:
            name = f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}"
            n += 1
        used.add(name.casefold())
        att = Attachment(name, filename, payload)
        parsed.attachments.append(att)
        if parsed.manifest is None and _is_manifest(att):
            parsed.manifest = att
    return parsed


def _parts(msg: Message) -> list[Message]:
    if not msg.is_multipart():
        return []
    return [p for p in msg.walk() if not p.is_multipart()]


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # a malformed parameter
        name = None
    if name:
        return str(name)
    if part.get_content_disposition() == "attachment":
        return "附件"
    return None


def _is_manifest(att: Attachment) -> bool:
    if att.name.endswith(MANIFEST_SUFFIX):
        return True
    if att.name.lower().endswith(".json") and len(att.data) <= MAX_MANIFEST_BYTES:
        return f'"{PACKAGE_SCHEMA}"'.encode() in att.data[:4096]
    return False


def package_hash(parsed: Parsed, raw: bytes) -> str:
    """The identity of what was sent: the manifest's SHA-256 (or the whole message's, for other mail)."""
    return parsed.manifest.sha256 if parsed.manifest is not None else sha256_bytes(raw)


@dataclass
class Checked:
    """The outcome of checking one message's package."""

    status: str
    reason: str
    manifest: dict[str, Any] = field(default_factory=dict)
    workbook: str = ""  # attachment name of the frozen workbook
    loaded: Any = None
    result: Any = None
    card: dict[str, Any] | None = None

    @property
    def department(self) -> str:
        """The re-scored workbook's department; the manifest's (made safe) only when no workbook was read."""
        if self.card is not None:
            return manifest_text(self.card.get("department"))
        return manifest_text(self.manifest.get("department")) or manifest_text(
            self.manifest.get("short_name")
        )

    @property
    def year(self) -> int | None:
        if self.card is not None:
            return manifest_year(self.card.get("year"))
        return manifest_year(self.manifest.get("year"))

    @property
    def form(self) -> str:
        """``project`` or ``department``: the re-scored workbook's form; the manifest's only when no
        workbook was read."""
        stated = self.card if self.card is not None else self.manifest
        return "project" if stated.get("form") == "project" else "department"

    @property
    def project(self) -> str:
        """A project's 项目名称 (the re-scored workbook's; "" for a department's submission)."""
        if self.form != "project":
            return ""
        stated = self.card if self.card is not None else self.manifest
        return manifest_text(stated.get("project"))

    @property
    def claimed(self) -> str:
        """Department and year (and a project's name) as the manifest states them (for the ledger),
        one safe line."""
        if not self.manifest:
            return ""
        project = (
            manifest_text(self.manifest.get("project")) if self.manifest.get("form") == "project" else ""
        )
        return " ".join(
            t
            for t in (
                manifest_text(self.manifest.get("department")),
                f"“{project}”" if project else "",
                manifest_text(self.manifest.get("year")),
            )
            if t
        )


def manifest_text(value: Any) -> str:
    """A manifest (or score-card) field as one line of text: any type, control characters (CR, LF, ESC …)
    replaced by a space (:func:`xlperf.submission.mail.header_text`, the one such rule), at most
    ``MAX_FIELD_CHARS`` characters. Never raises."""
    if value is None or isinstance(value, dict | list):
        return ""
    try:
        text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    except (ValueError, OverflowError):  # int too large to print
        return ""
    return header_text(text[:MAX_FIELD_CHARS])


def manifest_year(value: Any) -> int | None:
    """A year between 1900 and 2999, else None (10**30, "2023", 2023.5 and True are not years here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1900 <= value <= 2999 else None


def read_manifest(parsed: Parsed) -> tuple[dict[str, Any] | None, str]:
    """The manifest as a dict, or why it cannot be read."""
    att = parsed.manifest
    if att is None:
        if parsed.problem:
            return None, parsed.problem
        names = "、".join(a.name for a in parsed.attachments) or "没有附件"
        return None, f"邮件中没有 xlperf 报送包清单（*{MANIFEST_SUFFIX}）；附件：{names}"
    if len(att.data) > MAX_MANIFEST_BYTES:
        return None, f"清单 {att.name} 过大（{len(att.data) // 1024} KB），不是 xlperf 生成的清单"
    try:
        data = json.loads(att.data.decode("utf-8"))
    except RecursionError:
        return None, f"清单 {att.name} 嵌套过深，不是 xlperf 生成的清单；请该部门重新导出报送包后再发"
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"清单 {att.name} 不是有效的 JSON（{exc}）；请该部门重新导出报送包后再发"
    if not isinstance(data, dict) or data.get("schema") != PACKAGE_SCHEMA:
        return None, f"清单 {att.name} 不是 xlperf 报送包清单（schema 应为 {PACKAGE_SCHEMA}）"
    return data, ""


def check_files(parsed: Parsed, manifest: dict[str, Any]) -> tuple[str, str]:
    """Every file the manifest lists is attached, with its size and SHA-256;
    returns (workbook name, problem)."""
    by_name = {a.name.casefold(): a for a in parsed.attachments}
    problems: list[str] = []
    workbook = ""
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        return "", "清单中没有文件记录（files）"
    for entry in files:
        if not isinstance(entry, dict):
            problems.append("清单中的文件记录格式不对")
            continue
        listed = str(entry.get("name") or "")
        name = safe_name(listed)
        att = by_name.get(name.casefold())
        if att is None:
            problems.append(f"清单列出的 {manifest_text(listed)} 不在附件中")
            continue
        if entry.get("role") == "workbook":
            workbook = att.name
        if str(entry.get("sha256") or "").lower() != att.sha256:
            problems.append(f"附件 {att.name} 的 SHA-256 与清单记录不符（导出后被改动过，或传输中损坏）")
        elif entry.get("bytes") is not None and entry.get("bytes") != len(att.data):
            problems.append(
                f"附件 {att.name} 的大小 {len(att.data)} 字节与清单记录的 "
                f"{manifest_text(entry.get('bytes'))} 不符"
            )
    if not problems and not workbook:
        problems.append("清单中没有工作簿（role 为 workbook 的文件）")
    if len(problems) > 5:  # a manifest listing thousands of files: the reason stays readable
        problems = [*problems[:5], f"等共 {len(problems)} 处"]
    return workbook, "；".join(problems)


def _money(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


#: the score card's section ids in Chinese, for the reasons (a project's 一级 are named by its framework)
SECTION_NAMES = {
    "output": "产出",
    "benefit": "效益",
    "spending": "支出率",
    "duty": "履职效能",
    "management": "管理效率",
    "budget": "预算执行率得分",
    "satisfaction": "满意度",
}


def compare_scores(manifest: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """Differences between the manifest's score card and the recomputed one, in Chinese (empty: equal)."""
    diffs: list[str] = []
    claimed, computed = _money(manifest.get("total")), _money(card["total"])
    if claimed != computed:
        diffs.append(f"清单总分 {manifest_text(manifest.get('total')) or '（空）'}，重算 {card['total']:.2f}")
    if str(manifest.get("rating") or "") != card["rating"]:
        diffs.append(f"清单等级 {manifest_text(manifest.get('rating')) or '（空）'}，重算 {card['rating']}")
    found = manifest.get("scorecard")
    stated: dict[str, Any] = found if isinstance(found, dict) else {}
    found = stated.get("sections")
    sections: dict[str, Any] = found if isinstance(found, dict) else {}
    found = card.get("section_names")
    names: dict[str, Any] = found if isinstance(found, dict) else {}  # the re-scoring rules' own names
    for key, value in card["sections"].items():
        if key in sections and _money(sections[key]) != _money(value):
            diffs.append(f"清单中“{names.get(key, key)}” {manifest_text(sections[key])}，重算 {value:.2f}")
    if isinstance(stated.get("total"), int | float) and _money(stated["total"]) != computed:
        diffs.append(f"清单计分卡总分 {manifest_text(stated['total'])}，重算 {card['total']:.2f}")
    if manifest.get("errors") is not None and manifest.get("errors") != card["errors"]:
        diffs.append(f"清单错误数 {manifest_text(manifest.get('errors'))}，重算 {card['errors']}")
    return diffs


def compare_identity(manifest: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """Where the manifest's form, department, project or year differs from its own re-scored
    workbook's (empty: agree). A manifest without ``form`` (before issue 27) states a department's."""
    problems: list[str] = []
    project = card.get("form") == "project"
    stated_form = "project" if manifest.get("form") == "project" else "department"
    if stated_form != ("project" if project else "department"):
        said = {"project": "项目支出绩效自评表", "department": "部门整体支出绩效自评表"}
        problems.append(
            f"清单所称为{said[stated_form]}，附件工作簿是{said['project' if project else 'department']}"
        )
        return problems
    stated, actual = manifest_text(manifest.get("department")), manifest_text(card.get("department"))
    if stated != actual:
        where = "工作簿的“主管部门”" if project else "工作簿“基本信息”表中"
        problems.append(f"清单的部门为“{stated or '（空）'}”，{where}为“{actual or '（空）'}”")
    if project:
        stated, actual = manifest_text(manifest.get("project")), manifest_text(card.get("project"))
        if stated != actual:
            problems.append(f"清单的项目名称为“{stated or '（空）'}”，工作簿中为“{actual or '（空）'}”")
    stated_year, actual_year = manifest.get("year"), card.get("year")
    if isinstance(stated_year, bool) or stated_year != actual_year:
        problems.append(
            f"清单的年度为 {manifest_text(stated_year) or '（空）'}，工作簿中为 {actual_year or '（空）'}"
        )
    return problems


def check_package(
    parsed: Parsed, folder: Path, limits: Any = None, frameworks: tuple[Any, ...] = ()
) -> Checked:
    """Steps 3–4 for a message whose attachments are already written to ``folder``.

    The workbook is re-scored by the rules it embeds, or by the one of ``frameworks`` of its form
    (``intake --framework``, at most one department and one project framework: the bureau's copy is
    binding). A manifest naming other rules than the workbook carries is a mismatch; rules differing
    from the bureau's copy of the same id are said in the reason (F01)."""
    from xlperf.core.errors import InputError
    from xlperf.pipeline import Loaded, assess, load_any

    manifest, problem = read_manifest(parsed)
    if manifest is None:
        status = NOT_SUBMISSION if parsed.manifest is None else UNREADABLE
        return Checked(status, problem)
    workbook, problem = check_files(parsed, manifest)
    if problem:
        return Checked(MISMATCH, problem, manifest, workbook)
    framework_id = str(manifest.get("framework") or "")
    if not framework_id or framework_id.lower().endswith(".toml") or any(c in framework_id for c in "/\\:"):
        # only a bundled framework: a path in a mailed manifest must never make us read a file here
        return Checked(
            UNREADABLE,
            f"清单中的评分框架编号 {manifest_text(framework_id) or '（空）'} 无效（应为如 "
            f"{DEFAULT_ID} 的编号）",
            manifest,
            workbook,
        )
    try:  # the pre-open checks run first, inside; the workbook decides its form
        loaded = load_any(folder / workbook, limits, tuple(frameworks), own_form=True)
    except InputError as exc:
        return Checked(UNREADABLE, f"附件工作簿无法读取：{exc}", manifest, workbook)
    if isinstance(loaded, Loaded):
        embedded: Any = loaded.source.own_framework if loaded.source is not None else None
    else:
        embedded = loaded.own_framework
    named_sha = str(manifest.get("framework_sha256") or "")
    if embedded is not None and (framework_id != embedded.id or (named_sha and named_sha != embedded.sha256)):
        return Checked(
            CONFLICT,
            "清单与工作簿不符：清单所称的评分框架 "
            f"{manifest_text(framework_id)[:40]}（{named_sha[:8] or '无校验值'}）"
            f"与工作簿内嵌的 {embedded.label} 不同；以工作簿为准，本报送不予采用",
            manifest,
            workbook,
        )
    result = assess(loaded)
    card = result.scorecard(workbook=workbook, sha256=loaded.sha256)
    conflict = compare_identity(manifest, card)
    if conflict:
        return Checked(
            CONFLICT,
            "清单与工作簿不符：" + "；".join(conflict) + "；以工作簿为准，本报送不予采用，"
            "请该部门用 xlperf 重新导出报送包后再发",
            manifest,
            workbook,
            loaded,
            result,
            card,
        )
    diffs = compare_scores(manifest, card)
    if diffs:
        return Checked(
            RESCORED, "重算得分与清单不符：" + "；".join(diffs), manifest, workbook, loaded, result, card
        )
    reason = f"文件与清单一致，重算得分 {card['total']:.2f}（{card['rating']}）与清单一致"
    rules = [f.message for f in result.findings if f.code == "F01"]
    if rules:
        reason += "；" + rules[0]
    if manifest.get("forced"):
        reason += f"；强制报送，原因：{manifest_text(manifest.get('reason')) or '（未写）'}"
    return Checked(VALID, reason, manifest, workbook, loaded, result, card)


class SendersError(XlperfError):
    """The ``--senders`` file cannot be used (exit 2, before anything is taken in)."""


def read_senders(path: Path) -> dict[str, frozenset[str]]:
    """The bureau's pinned sender addresses per department (``intake --senders FILE``), a TOML file::

        [senders]
        "广州市白云区科技工业商务和信息化局" = ["kgs@example.cn", "kgs2@example.cn"]

    Keys are department names as in 基本信息; addresses compare without regard to case."""
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SendersError(f"无法读取 --senders 文件 {path}：{exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SendersError(
            f"--senders 文件 {path} 不是 UTF-8 的 TOML 文件（{exc}）；格式见 README 的 xlperf intake 一节"
        ) from exc
    table = data.get("senders")
    if not isinstance(table, dict) or not table:
        raise SendersError(f'--senders 文件 {path} 中没有 [senders] 表；每行写 "部门全称" = ["地址", …]')
    pinned: dict[str, frozenset[str]] = {}
    for name, addresses in table.items():
        if (
            not isinstance(addresses, list)
            or not addresses
            or not all(isinstance(a, str) and "@" in a for a in addresses)
        ):
            raise SendersError(
                f"--senders 文件 {path} 中“{manifest_text(name)}”的值应为邮件地址的列表，"
                f'如 ["kgs@example.cn"]'
            )
        pinned[manifest_text(name)] = frozenset(a.strip().casefold() for a in addresses)
    return pinned
