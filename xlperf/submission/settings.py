"""SMTP settings for 报送: where the package is emailed and how.

Sources, highest precedence first:

1. ``options`` — what the command line (or the Excel add-in) passed; ``None`` values count as absent;
2. the environment — ``XLPERF_SMTP_HOST``, ``XLPERF_SMTP_PORT``, ``XLPERF_SMTP_SECURITY``
   (``none`` | ``starttls`` | ``ssl``), ``XLPERF_SMTP_USER``, ``XLPERF_SMTP_FROM``, ``XLPERF_SUBMIT_TO``
   and the optional ``XLPERF_SMTP_TIMEOUT``, ``XLPERF_SMTP_MAX_ATTACHMENT_MB``, ``XLPERF_SMTP_CAFILE``,
   ``XLPERF_SMTP_VERIFY_TLS``;
3. the ``[smtp]`` table of the user config file (TOML, default
   ``platformdirs.user_config_dir("xlperf")/config.toml``).

The password is special: it comes only from ``XLPERF_SMTP_PASSWORD`` or from the system keyring
(service ``xlperf-smtp``, the user name as account). A password in the config file or in the options
is refused — a workbook or a config file is copied around, a keyring entry is not. The password
never appears in ``repr``/``str`` of the settings nor in any log line.

Problems are collected, not raised one by one, so that the user sees everything to fix at once.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, Literal, cast, get_args

import platformdirs
from loguru import logger

Security = Literal["none", "starttls", "ssl"]
SECURITY_VALUES: tuple[str, ...] = get_args(Security)

#: The keyring service name; ``keyring set xlperf-smtp <user>`` stores the password.
KEYRING_SERVICE = "xlperf-smtp"

DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MIB = 1024 * 1024

ENV_HOST = "XLPERF_SMTP_HOST"
ENV_PORT = "XLPERF_SMTP_PORT"
ENV_SECURITY = "XLPERF_SMTP_SECURITY"
ENV_USER = "XLPERF_SMTP_USER"
ENV_PASSWORD = "XLPERF_SMTP_PASSWORD"
ENV_FROM = "XLPERF_SMTP_FROM"
ENV_TO = "XLPERF_SUBMIT_TO"
ENV_TIMEOUT = "XLPERF_SMTP_TIMEOUT"
ENV_MAX_MB = "XLPERF_SMTP_MAX_ATTACHMENT_MB"
ENV_CAFILE = "XLPERF_SMTP_CAFILE"
ENV_VERIFY_TLS = "XLPERF_SMTP_VERIFY_TLS"

#: Setting name -> (command-line flag shown in messages, environment variable, accepted config keys).
#: The flags are only used in messages; the CLI maps its options onto the setting names.
_SOURCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "host": ("--smtp-host", ENV_HOST, ("host",)),
    "port": ("--smtp-port", ENV_PORT, ("port",)),
    "security": ("--smtp-security", ENV_SECURITY, ("security",)),
    "user": ("--smtp-user", ENV_USER, ("user", "username")),
    "sender": ("--from", ENV_FROM, ("from", "sender")),
    "to": ("--to", ENV_TO, ("to",)),
    "timeout": ("--smtp-timeout", ENV_TIMEOUT, ("timeout",)),
    "max_attachment_mb": ("--max-attachment-mb", ENV_MAX_MB, ("max_attachment_mb",)),
    "cafile": ("--smtp-cafile", ENV_CAFILE, ("cafile",)),
    "verify_tls": ("--smtp-verify-tls", ENV_VERIFY_TLS, ("verify_tls",)),
}
_OPTION_ALIASES = {"from": "sender", "username": "user"}
_TRUE = {"1", "true", "yes", "on", "是"}
_FALSE = {"0", "false", "no", "off", "否"}


@dataclass(frozen=True)
class SmtpSettings:
    """Everything needed to deliver one message. ``password`` is hidden from ``repr``/``str``."""

    host: str
    port: int
    security: Security
    sender: str
    to: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)
    timeout: float = DEFAULT_TIMEOUT
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    verify_tls: bool = True
    cafile: Path | None = None

    def __post_init__(self) -> None:
        if self.security not in SECURITY_VALUES:
            raise ValueError(f"security 必须是 none、starttls 或 ssl 之一，而不是 {self.security!r}")
        if not 0 < int(self.port) < 65536:
            raise ValueError(f"端口必须在 1–65535 之间，而不是 {self.port}")
        if isinstance(self.to, str):
            object.__setattr__(self, "to", tuple(_split_addresses(self.to)))
        else:
            object.__setattr__(self, "to", tuple(self.to))
        if self.cafile is not None and not isinstance(self.cafile, Path):
            object.__setattr__(self, "cafile", Path(self.cafile))

    @property
    def has_password(self) -> bool:
        """Whether a password is available (without revealing it)."""
        return bool(self.password)

    @property
    def address(self) -> str:
        """``host:port`` for messages."""
        return f"{self.host}:{self.port}"


def default_config_path() -> Path:
    """The user config file: ``user_config_dir("xlperf")/config.toml``."""
    return Path(platformdirs.user_config_dir("xlperf", appauthor=False)) / "config.toml"


def keyring_password(user: str) -> str | None:
    """The password stored in the system keyring for ``user``, or ``None``.

    Having no keyring backend (normal on a headless Linux) or a locked keyring is not an error.
    """
    try:
        import keyring

        return cast(str | None, keyring.get_password(KEYRING_SERVICE, user))
    except Exception as exc:  # keyring.errors.KeyringError, backend import errors, D-Bus errors …
        logger.debug("system keyring unavailable ({})", type(exc).__name__)
        return None


def resolve_settings(
    options: Mapping[str, Any] | None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    *,
    password_lookup: Callable[[str], str | None] | None = keyring_password,
) -> tuple[SmtpSettings | None, list[str]]:
    """Merge options > environment > config file into :class:`SmtpSettings`.

    ``env`` defaults to ``os.environ``; ``config_path`` ``None`` means :func:`default_config_path`
    (a missing default file is fine, a missing explicit one is a problem). ``password_lookup`` is
    asked for the password of ``user`` when ``XLPERF_SMTP_PASSWORD`` is not set (``None`` disables
    the keyring). Returns ``(settings, [])`` or ``(None, problems)`` with every problem in Chinese.
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    opts = {_OPTION_ALIASES.get(k, k): v for k, v in (options or {}).items() if v is not None and v != ""}
    if any("pass" in k.lower() for k in opts):
        problems.append(
            f"不接受通过选项传入密码；请设置环境变量 {ENV_PASSWORD}，"
            f"或运行 `keyring set {KEYRING_SERVICE} <用户名>` 存入系统钥匙串。"
        )
    file_values = _read_config(config_path, problems)

    def pick(name: str) -> tuple[Any, str] | None:
        """The first value found for ``name`` and a description of where it came from."""
        flag, env_name, keys = _SOURCES[name]
        if name in opts:
            return opts[name], f"选项 {flag}"
        if name == "max_attachment_mb" and "max_attachment_bytes" in opts:
            return float(opts["max_attachment_bytes"]) / MIB, "选项 max_attachment_bytes"
        if env.get(env_name, "").strip():
            return env[env_name].strip(), f"环境变量 {env_name}"
        for key in keys:
            if key in file_values:
                return file_values[key], f"配置文件的 [smtp] {key}"
        return None

    def missing(name: str, what: str) -> None:
        flag, env_name, keys = _SOURCES[name]
        problems.append(
            f"缺少{what}：请使用选项 {flag}，或设置环境变量 {env_name}，或在配置文件 [smtp] 中写 {keys[0]}。"
        )

    host = _text(pick("host"))
    if not host:
        missing("host", "邮件服务器地址")

    security: str | None = None
    if (found := pick("security")) is not None:
        security = str(found[0]).strip().lower()
        if security not in SECURITY_VALUES:
            problems.append(f"{found[1]} 的值 {found[0]!r} 无效：应为 none、starttls 或 ssl。")
            security = None

    port: int | None = None
    if (found := pick("port")) is not None:
        port = _as_int(found, problems, 1, 65535)
    if security is None:
        security = "ssl" if port == 465 else "starttls"
    if port is None:
        port = DEFAULT_PORTS[security]

    user = _text(pick("user"))
    sender_found = pick("sender")
    sender = _text(sender_found)
    if not sender:
        missing("sender", "发件人地址")
    elif sender_found is not None and not _valid_address(sender):
        problems.append(f"{sender_found[1]} 的发件人地址 {sender!r} 无效。")

    to: list[str] = []
    if (found := pick("to")) is not None:
        raw = found[0]
        to = (
            _split_addresses(raw) if isinstance(raw, str) else [str(x).strip() for x in raw if str(x).strip()]
        )
        bad = [a for a in to if not _valid_address(a)]
        if bad:
            problems.append(f"{found[1]} 中的收件人地址无效：{'、'.join(bad)}。")
    if not to:
        missing("to", "收件人（财政局）地址")

    timeout = DEFAULT_TIMEOUT
    if (found := pick("timeout")) is not None:
        timeout = _as_float(found, problems) or DEFAULT_TIMEOUT
    max_bytes = DEFAULT_MAX_ATTACHMENT_BYTES
    if (found := pick("max_attachment_mb")) is not None:
        mb = _as_float(found, problems)
        if mb:
            max_bytes = int(mb * MIB)
    verify_tls = True
    if (found := pick("verify_tls")) is not None:
        verify_tls = _as_bool(found, problems)
    cafile: Path | None = None
    if (found := pick("cafile")) is not None:
        cafile = Path(str(found[0])).expanduser()
        if not cafile.is_file():
            problems.append(f"{found[1]} 指定的 CA 证书文件不存在：{cafile}")

    password: str | None = env.get(ENV_PASSWORD) or None
    if password is None and user and password_lookup is not None:
        password = password_lookup(user)
    if user and not password:
        problems.append(
            f"已设置登录用户 {user}，但找不到密码：请设置环境变量 {ENV_PASSWORD}，"
            f"或运行 `keyring set {KEYRING_SERVICE} {user}` 存入系统钥匙串"
            "（部分邮箱须使用“授权码”而非登录密码）。"
        )

    if problems:
        return None, problems
    assert host and sender  # for mypy: checked above
    settings = SmtpSettings(
        host=host,
        port=port,
        security=cast(Security, security),
        sender=sender,
        to=tuple(to),
        user=user,
        password=password if user else None,
        timeout=timeout,
        max_attachment_bytes=max_bytes,
        verify_tls=verify_tls,
        cafile=cafile,
    )
    logger.debug("SMTP settings: {}", settings)
    return settings, []


def draft_addresses(
    options: Mapping[str, Any] | None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> tuple[str, list[str]]:
    """Sender and recipients for an .eml draft, by the same precedence, with nothing required.

    A draft needs no server: whatever of ``from``/``to`` is configured is used, the rest left empty.
    """
    env = os.environ if env is None else env
    opts = {_OPTION_ALIASES.get(k, k): v for k, v in (options or {}).items() if v is not None and v != ""}
    file_values = _read_config(config_path, [])

    def pick(name: str) -> Any:
        _, env_name, keys = _SOURCES[name]
        if name in opts:
            return opts[name]
        if env.get(env_name, "").strip():
            return env[env_name].strip()
        return next((file_values[k] for k in keys if k in file_values), None)

    sender = str(pick("sender") or "").strip()
    raw = pick("to")
    if raw is None:
        to: list[str] = []
    elif isinstance(raw, str):
        to = _split_addresses(raw)
    else:
        to = [str(x).strip() for x in raw if str(x).strip()]
    return sender, to


def _read_config(config_path: Path | None, problems: list[str]) -> dict[str, Any]:
    """The ``[smtp]`` table of the config file; problems are appended, never raised."""
    explicit = config_path is not None
    path = config_path if config_path is not None else default_config_path()
    if not path.is_file():
        if explicit:
            problems.append(f"配置文件不存在：{path}")
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"无法读取配置文件 {path}：{exc}")
        return {}
    table = data.get("smtp", {})
    if not isinstance(table, dict):
        problems.append(f"配置文件 {path} 中的 smtp 必须是一个表（[smtp]）。")
        return {}
    known = {key for _, _, keys in _SOURCES.values() for key in keys}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if "pass" in key.lower() or "secret" in key.lower():
            problems.append(
                f"配置文件 {path} 的 [smtp] 中不允许保存密码（{key}）：请删除该项，改用环境变量 "
                f"{ENV_PASSWORD}，或运行 `keyring set {KEYRING_SERVICE} <用户名>` 存入系统钥匙串。"
            )
        elif key not in known:
            problems.append(
                f"配置文件 {path} 的 [smtp] 中有未知的键 {key!r}（可用：{'、'.join(sorted(known))}）。"
            )
        else:
            values[key] = value
    return values


def _text(found: tuple[Any, str] | None) -> str | None:
    if found is None:
        return None
    return str(found[0]).strip() or None


def _as_int(found: tuple[Any, str], problems: list[str], low: int, high: int) -> int | None:
    value, origin = found
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.append(f"{origin} 的值 {value!r} 不是整数。")
        return None
    if not low <= number <= high:
        problems.append(f"{origin} 的值 {number} 超出范围 {low}–{high}。")
        return None
    return number


def _as_float(found: tuple[Any, str], problems: list[str]) -> float | None:
    value, origin = found
    try:
        number = float(str(value).strip())
    except ValueError:
        problems.append(f"{origin} 的值 {value!r} 不是数字。")
        return None
    if not math.isfinite(number) or number <= 0:
        problems.append(f"{origin} 的值 {value!r} 必须是大于 0 的有限数字。")
        return None
    return number


def _as_bool(found: tuple[Any, str], problems: list[str]) -> bool:
    value, origin = found
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems.append(f"{origin} 的值 {value!r} 应为 true 或 false。")
    return True


def _split_addresses(text: str) -> list[str]:
    """``"a@x.cn; 财政局 <b@y.cn>"`` -> ``["a@x.cn", "财政局 <b@y.cn>"]`` (commas, semicolons, ，；)."""
    text = text.replace("；", ";").replace("，", ",").replace(";", ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def _valid_address(address: str) -> bool:
    """A loose check: exactly one addr-spec with a local part and a dotted-or-not domain."""
    parsed = getaddresses([address])
    if len(parsed) != 1:
        return False
    addr = parseaddr(address)[1]
    local, at, domain = addr.rpartition("@")
    return bool(at and local and domain and " " not in addr)
