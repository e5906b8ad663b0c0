"""Real SMTP servers for the tests (aiosmtpd on 127.0.0.1, trustme certificates), shared by the mail,
submission and ribbon tests. Fixtures built on these live in conftest.py."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    content: bytes
    mail_from: str
    rcpt_tos: list[str]
    login: str | None

    def parsed(self) -> EmailMessage:
        msg = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Recorder:
    """aiosmtpd handler that keeps every message it accepts, byte for byte."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        content = envelope.original_content or envelope.content
        self.messages.append(Received(bytes(content), envelope.mail_from, list(envelope.rcpt_tos), login))
        return "250 OK"

    def parsed(self) -> list[EmailMessage]:
        return [m.parsed() for m in self.messages]

    def message_ids(self) -> list[str]:
        return [str(m.parsed()["Message-ID"]) for m in self.messages]


@dataclass
class Misbehaving(Recorder):
    """A recorder that misbehaves on purpose after (or instead of) storing the message.

    ``mode``: ``"ok"``; ``"slow_quit"`` (250 to the message, then QUIT waits ``delay`` seconds);
    ``"drop_after_data"`` (stores the message, then drops the connection without a reply);
    ``"hold_reply"`` (stores the message, then waits ``delay`` seconds before its 250);
    ``"451"`` / ``"554"`` (refuses the message with that code, stores nothing).
    ``stored`` is set once a message is stored, ``quitting`` once a QUIT arrives; ``on_stored``
    runs (in the server thread) right after storing, before any reply.
    """

    mode: str = "ok"
    delay: float = 30.0
    on_stored: Callable[[], None] | None = None
    stored: threading.Event = field(default_factory=threading.Event)
    quitting: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode in ("451", "554"):
            return (
                f"{self.mode} 5.7.1 refused on purpose" if self.mode == "554" else "451 4.3.0 try again later"
            )
        status = await super().handle_DATA(server, session, envelope)
        if self.on_stored is not None:
            self.on_stored()
        self.stored.set()
        if self.mode == "drop_after_data":
            server.transport.abort()
        elif self.mode == "hold_reply":
            await asyncio.sleep(self.delay)
        return status

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quitting.set()
        if self.mode == "slow_quit":
            await asyncio.sleep(self.delay)
        return "221 Bye"


def make_authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    """An authenticator accepting exactly ``user`` / ``password`` (LOGIN or PLAIN)."""

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticator


@dataclass
class Server:
    port: int
    recorder: Recorder


@dataclass
class Tls:
    server_context: ssl.SSLContext
    cafile: Path


def make_tls(folder: Path) -> Tls:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost; the client trusts ``cafile``."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    cafile = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return Tls(context, cafile)


def run_controller(
    port: int | None = None, recorder: Recorder | None = None, **kwargs: Any
) -> Iterator[Server]:
    """Start an aiosmtpd server (kwargs go to its Controller); stop it when the generator closes."""
    recorder = recorder if recorder is not None else Recorder()
    port = port or free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server(port, recorder)
    finally:
        controller.stop()


def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never says a word (for timeouts)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
