"""A real IMAP server for the tests: Dovecot (``dovecot-imapd``) in the foreground (``dovecot -F``) with a
generated configuration — 127.0.0.1 on a free port, IMAPS only, a trustme certificate, one passwd-file
user, Maildir in a temporary folder. Messages are put in with IMAP APPEND, as a mail server would.

As root (CI containers) Dovecot's own ``dovecot``/``dovenull`` users run the login and mail processes
(Dovecot never runs them as root); as an ordinary user, everything runs as that user.
"""

from __future__ import annotations

import contextlib
import getpass
import imaplib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

USER = "czj"
PASSWORD = "收件-secret-1"


@dataclass
class Imap:
    port: int
    user: str
    password: str
    cafile: Path
    root: Path
    log: Path

    @property
    def url(self) -> str:
        return f"imaps://{self.user}@127.0.0.1:{self.port}/INBOX"

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cafile))
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        plain = f"\0{self.user}\0{self.password}".encode()  # AUTHENTICATE PLAIN: UTF-8 passwords too
        conn.authenticate("PLAIN", lambda _: plain)
        return conn

    def append(self, *raws: bytes, mailbox: str = "INBOX") -> None:
        """IMAP APPEND each message, in order, over one connection."""
        conn = self.client()
        try:
            for raw in raws:
                typ, data = conn.append(mailbox, "", imaplib.Time2Internaldate(time.time()), raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def state(self, mailbox: str = "INBOX") -> list[tuple[int, bytes]]:
        """(UID, FLAGS) of every message: what an intake must leave as it found it."""
        conn = self.client()
        try:
            conn.select(mailbox, readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            found = []
            for item in data:
                if isinstance(item, bytes) and b"UID" in item:
                    uid = int(item.split(b"UID ")[1].split()[0].rstrip(b")"))
                    found.append((uid, item.split(b"FLAGS (")[1].split(b")")[0]))
            return sorted(found)
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, cert: Path, key: Path, as_root: bool) -> str:
    me = getpass.getuser()
    login, internal, mail = ("dovenull", "dovecot", "dovecot") if as_root else (me, me, me)
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail} gid={mail} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def run_dovecot(ca: trustme.CA | None = None) -> Iterator[Imap]:
    """Start Dovecot, wait until IMAPS answers, yield it; stop it (SIGTERM, then SIGKILL) afterwards."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    assert Path(binary).exists(), (
        "Dovecot is required (.ci/run installs dovecot-imapd); install it with apt-get"
    )
    as_root = os.geteuid() == 0
    # Outside pytest's 0700 tmp folders: Dovecot's unprivileged processes must reach the sockets and mail.
    root = Path(tempfile.mkdtemp(prefix="xlperf-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    if as_root:
        import pwd

        dove = pwd.getpwnam("dovecot")
        for sub in ("mail", "home"):
            os.chown(root / sub, dove.pw_uid, dove.pw_gid)
    ca = ca or trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, cafile = root / "cert.pem", root / "key.pem", root / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    ca.cert_pem.write_to_path(str(cafile))
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, cert, key, as_root), encoding="utf-8")
    log = root / "dovecot.log"
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    imap = Imap(port, USER, PASSWORD, cafile, root, log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                logged = log.read_text(errors="replace") if log.exists() else ""
                raise AssertionError(f"Dovecot exited ({proc.returncode}): {output}\n{logged}")
            with contextlib.suppress(OSError, imaplib.IMAP4.error, ssl.SSLError):
                imap.client().logout()
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"Dovecot did not answer on {port}: {log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield imap
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
        shutil.rmtree(root, ignore_errors=True)
