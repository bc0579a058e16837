"""A real IMAP server for the tests: a private Dovecot instance per test session.

Each session (each pytest-xdist worker) starts its own ``dovecot -F -c <tmp>/dovecot.conf``:
its own config, runtime and log directory, a passwd-file with one test user, Maildir storage,
plain IMAP (with STARTTLS) and IMAPS on free ports on 127.0.0.1, and a self-signed
certificate for 127.0.0.1 made with ``cryptography``. The system's Dovecot config and service
are never touched. Tests that need it take the ``imap_server`` fixture (see conftest.py),
which hands over an empty INBOX.

Running as root (CI containers): Dovecot refuses to run its login processes as root and
refuses uid 0 for mail access, so login runs as ``dovenull`` (or ``nobody``) and the mailbox
belongs to ``nobody``; the auth process reads the passwd-file as root (internal user). As an
ordinary user every process runs as that user (and nothing chroots, which needs root).
"""
from __future__ import annotations

import contextlib
import datetime
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
USERNAME = "support@example.test"
PASSWORD = "correct horse battery staple"
# A second account whose password is not ASCII (sent with SASL PLAIN in UTF-8).
TURKISH_USERNAME = "destek"
TURKISH_PASSWORD = "gizli-şifre-ĞÜİ"
START_TIMEOUT = 15.0


def find_dovecot() -> str | None:
    return shutil.which("dovecot") or next(
        (path for path in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(path, os.X_OK)),
        None,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    flags: frozenset[str]
    raw: bytes

    @property
    def seen(self) -> bool:
        return "\\Seen" in self.flags


def _self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP SAN, so hostname checks pass) and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _accounts() -> dict[str, str | int]:
    """Who the Dovecot processes run as (see the module docstring)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(os.getegid()).gr_name
        return {
            "internal_user": me.pw_name, "internal_group": group, "login_user": me.pw_name,
            "mail_uid": me.pw_uid, "mail_gid": os.getegid(),
        }
    nobody = pwd.getpwnam("nobody")
    login_user = "dovenull"
    try:
        pwd.getpwnam(login_user)
    except KeyError:
        login_user = "nobody"
    return {
        "internal_user": "root", "internal_group": "root", "login_user": login_user,
        "mail_uid": nobody.pw_uid, "mail_gid": nobody.pw_gid,
    }


class DovecotServer:
    """One private Dovecot. ``port`` speaks plain IMAP and offers STARTTLS, ``ssl_port`` is
    IMAPS; ``ssl_context()`` trusts the server's self-signed certificate."""

    host = HOST
    username = USERNAME
    password = PASSWORD

    def __init__(self, binary: str, directory: Path | None = None) -> None:
        self.binary = binary
        # Under /tmp (not pytest's 0700 tmp tree): the mail processes run as another user
        # when we are root and need to reach the mailbox.
        self.dir = directory or Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        self.dir.chmod(0o711)
        self.port = free_port()
        self.ssl_port = free_port()
        self.process: subprocess.Popen | None = None
        self.config_path = self.dir / "dovecot.conf"
        self.log_path = self.dir / "dovecot.log"
        self.cert_path, self.key_path = _self_signed_cert(self.dir)
        self._write_config()

    # ------------------------------------------------------------------ set-up

    def _write_config(self) -> None:
        accounts = _accounts()
        home = self.dir / "home"
        for sub in ("run", "state"):
            (self.dir / sub).mkdir(exist_ok=True)
        home.mkdir(exist_ok=True)
        os.chown(home, int(accounts["mail_uid"]), int(accounts["mail_gid"]))
        (self.dir / "passwd").write_text(
            f"{self.username}:{{PLAIN}}{self.password}::::::\n"
            f"{TURKISH_USERNAME}:{{PLAIN}}{TURKISH_PASSWORD}::::::\n",
            encoding="utf-8",
        )
        self.config_path.write_text(
            f"""\
# Private test instance: nothing here comes from /etc/dovecot.
protocols = imap
listen = {HOST}
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log_path}
instance_name = helpdesk-test-{self.port}
default_internal_user = {accounts["internal_user"]}
default_internal_group = {accounts["internal_group"]}
default_login_user = {accounts["login_user"]}
first_valid_uid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <{self.cert_path}
ssl_key = <{self.key_path}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={accounts["mail_uid"]} gid={accounts["mail_gid"]} home={home}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
# No chroot: only root may chroot, and this may run as an ordinary user.
# No growing delay after failed logins (the documented switch): tests fail logins on purpose.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.ssl_port}
    ssl = yes
  }}
}}
"""
        )

    def start(self) -> None:
        if self.running:
            return
        log = (self.dir / "dovecot.stderr").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends it and its children only
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._answers(self.port) and self._answers(self.ssl_port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not start within {START_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server: connections are refused until ``start()``. Mail is kept."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        # The process group may outlive the master for a moment (login/imap children).
        for _ in range(100):
            if not self._answers(self.port, greeting=False):
                break
            time.sleep(0.05)

    @contextlib.contextmanager
    def down(self):
        """``with server.down(): ...``: the server is stopped inside, started again after."""
        self.stop()
        try:
            yield self
        finally:
            self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _answers(self, port: int, *, greeting: bool = True) -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as sock:
                if not greeting:
                    return True
                if port == self.ssl_port:
                    with self.ssl_context().wrap_socket(sock, server_hostname=HOST) as tls:
                        return tls.recv(64).startswith(b"* OK")
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for path in (self.log_path, self.dir / "dovecot.stderr"):
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ clients

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (hostname checked)."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def settings(self, **overrides) -> dict:
        """Keyword arguments for ``imap_fetch``/``imap_check`` pointing at this server
        (plain IMAP); pass ``security="ssl", port=server.ssl_port, ssl_context=...`` etc."""
        values = {
            "host": self.host, "port": self.port, "security": "none",
            "username": self.username, "password": self.password, "timeout": 10,
        }
        values.update(overrides)
        return values

    @contextlib.contextmanager
    def client(self):
        """A logged-in ``imaplib.IMAP4`` (plain), logged out afterwards."""
        conn = imaplib.IMAP4(HOST, self.port, timeout=10)
        try:
            conn.login(self.username, self.password)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    # ------------------------------------------------------------------ mailbox helpers

    def deliver(self, raw: bytes, *, folder: str = "INBOX", flags: str = "") -> int:
        """Put a raw message into ``folder`` (created when missing) by IMAP APPEND, exactly
        as given; returns its UID."""
        with self.client() as conn:
            if folder.upper() != "INBOX":
                conn.create(_quote(folder))  # NO when it exists: fine
            typ, data = conn.append(_quote(folder), f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert match, data
            return int(match.group(1))

    def messages(self, folder: str = "INBOX") -> list[StoredMessage]:
        """Every message in ``folder`` with its flags and raw bytes, oldest first. Uses
        BODY.PEEK[] and a read-only EXAMINE, so looking changes nothing."""
        with self.client() as conn:
            typ, data = conn.select(_quote(folder), readonly=True)
            assert typ == "OK", data
            if int(data[0] or 0) == 0:
                return []
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            assert typ == "OK", data
        found = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, raw = item
            uid = int(re.search(rb"UID (\d+)", head).group(1))
            flags = re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()
            found.append(StoredMessage(uid=uid, flags=frozenset(flags) - {"\\Recent"}, raw=raw))
        return sorted(found, key=lambda message: message.uid)

    def reset(self) -> None:
        """Empty every folder and delete all but INBOX: each test starts from nothing."""
        with self.client() as conn:
            typ, data = conn.list()
            folders = [_folder_name(line) for line in data if line]
            for folder in folders:
                if folder.upper() == "INBOX":
                    continue
                conn.delete(_quote(folder))
            typ, data = conn.select("INBOX")
            if int(data[0] or 0):
                conn.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                conn.expunge()


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folder_name(line: bytes) -> str:
    # (\HasNoChildren) "." "Name"  or  (\HasNoChildren) "." Name
    match = re.match(rb'\([^)]*\) (?:"[^"]*"|NIL) (.*)$', line)
    name = match.group(1) if match else line
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    return name.decode()


@contextlib.contextmanager
def silent_port():
    """A port that accepts TCP connections but never says anything: for timeout tests."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen(16)
        yield sock.getsockname()[1]
