"""The guard in front of every request of ``xlperf serve`` (a local server, as Jupyter's).

- **Token**: a random token is printed in the start URL. A request must carry it, either as
  ``?token=`` (the first request; the token then goes into an HttpOnly, SameSite=Strict cookie and
  the browser is redirected to the same address without it, so the token does not stay in the
  address bar, the history or a Referer) or as that cookie. Anything else gets 403.
- **Host**: the Host header must name the bound address and port (``127.0.0.1:PORT`` or
  ``localhost:PORT``), so a page of another site cannot reach the server by DNS rebinding.
- **CSRF**: every POST carries the per-server CSRF token (header ``X-CSRF-Token``, or ``?csrf=`` in
  a form's action), and an ``Origin`` header, when present, must be the server's own.
- Every response forbids framing, sniffing, caching and loading anything from elsewhere (CSP).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD")

HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


@dataclass(frozen=True)
class Secrets:
    """The server's token (in the start URL) and its CSRF token (in every page)."""

    port: int
    host: str = "127.0.0.1"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def cookie_name(self) -> str:
        # cookies do not tell ports apart: two servers on one machine must not share a name
        return f"xlperf_token_{self.port}"

    @property
    def hosts(self) -> frozenset[str]:
        names = {self.host, "localhost"} if self.host in ("127.0.0.1", "localhost") else {self.host}
        return frozenset(f"{n}:{self.port}" for n in names)

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}" for h in self.hosts)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}?{urlencode({'token': self.token})}"


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class Guard:
    """ASGI middleware enforcing token, Host and CSRF (see the module docstring)."""

    def __init__(self, app: ASGIApp, keys: Secrets) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await _plain(send, 403, "不支持的连接类型。")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if host not in self.keys.hosts:
            await _plain(
                send,
                403,
                f"拒绝访问：地址 {host or '（空）'} 不是本机服务的地址；"
                f"请使用 xlperf serve 启动时显示的链接（http://{self.keys.host}:{self.keys.port}/…）。",
            )
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is simply no cookie
            cookie = SimpleCookie()
        morsel = cookie.get(self.keys.cookie_name)
        by_cookie = _same(morsel.value if morsel is not None else None, self.keys.token)
        by_query = _same(query.get("token"), self.keys.token)
        if not (by_cookie or by_query):
            await _plain(
                send,
                403,
                "拒绝访问：缺少或错误的访问令牌。请使用 xlperf serve 启动时在终端显示的完整链接"
                "（含 ?token=…）打开本页。",
            )
            return
        method = scope.get("method", "GET").upper()
        if method not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin not in self.keys.origins:
                await _plain(send, 403, "拒绝访问：请求来自其他网站。")
                return
            if not (
                _same(headers.get(CSRF_HEADER), self.keys.csrf) or _same(query.get("csrf"), self.keys.csrf)
            ):
                await _plain(send, 403, "拒绝访问：请求缺少有效的表单校验码（CSRF）。请刷新页面后重试。")
                return
        if by_query and method in SAFE_METHODS:
            rest = urlencode(
                [
                    (k, v)
                    for k, v in parse_qsl(
                        scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
                    )
                    if k != "token"
                ]
            )
            target = scope.get("path", "/") + (f"?{rest}" if rest else "")
            await _redirect(send, target, self.keys.cookie_name, self.keys.token)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.decode("latin-1").lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(send: Send, status: int, text: str) -> None:
    body = (
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>拒绝访问</title>'
        f"<p>{_escape(text)}</p></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *[(k.encode(), v.encode()) for k, v in HEADERS.items()],
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, target: str, cookie: str, token: str) -> None:
    from urllib.parse import quote

    location = quote(target, safe="/?=&%:")
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"content-length", b"0"),
                (b"set-cookie", f"{cookie}={token}; Path=/; HttpOnly; SameSite=Strict".encode()),
                *[(k.encode(), v.encode()) for k, v in HEADERS.items()],
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _escape(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
