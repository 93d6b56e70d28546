"""A real IMAP server for tests: a private Dovecot instance on a free port.

``imap_server`` (a fixture) writes its own dovecot.conf into a fresh temporary
directory and runs ``dovecot -F -c <that file>`` in the foreground as a
subprocess, so the system configuration in /etc/dovecot and the system service
are never touched. Helpers: ``host``, ``port``, ``user``, ``password``,
``deliver(raw, folder="INBOX")`` (an IMAP APPEND through the real server) and
``messages(folder)`` (``[(uid, flags, raw)]``, fetched with BODY.PEEK so the
\\Seen flag is left alone).

Why the config looks the way it does (we run as root in CI):
- ``imap-login`` refuses to run as root ("This process must not be run as
  root"), and the ``imap`` process refuses a userdb uid of 0 ("userdb returned
  0 as uid"). So as root every Dovecot user is ``nobody`` (present on every
  Debian machine, unlike ``dovenull`` whose existence depends on the package
  scripts): default_login_user, default_internal_user and the userdb uid/gid.
  The mail directory is chowned to it, and the temporary directory is created
  under /tmp with mode 0755 (pytest's tmp_path lives below a 0700 directory
  that ``nobody`` cannot traverse; unix socket paths in base_dir must also stay
  short, under 108 bytes).
- Run as a normal user, every Dovecot user is that user (Dovecot's documented
  non-root mode); chroot is switched off for imap-login and anvil, since only
  root may chroot (harmless for a test instance).
- ssl = no, disable_plaintext_auth = no: plaintext LOGIN on 127.0.0.1 only.
- auth_failure_delay = 0 so wrong-password tests don't wait 2 seconds.

Needs Debian's dovecot-imapd (bin/system-packages installs it).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "support@northwind.example"
PASSWORD = "imap-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accounts() -> Tuple[str, int, int]:
    """(system user name, uid, gid) that Dovecot's processes and mail run as."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return "nobody", nobody.pw_uid, nobody.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_uid, me.pw_gid


_CONFIG = """\
# Written by tests/imap_server.py: a private test instance, not the system one.
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {account}
default_login_user = {account}
default_internal_group = {group}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class ImapServer:
    """One running Dovecot instance; see the module docstring."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.user = USER
        self.password = PASSWORD
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
        self.process: Optional[subprocess.Popen] = None

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        if not os.path.exists(DOVECOT):
            pytest.fail(
                "Dovecot is not installed (no /usr/sbin/dovecot). Run bin/system-packages "
                "(installs Debian's dovecot-imapd)."
            )
        account, uid, gid = _accounts()
        group = grp.getgrgid(gid).gr_name
        os.chmod(self.root, 0o755)
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir()
        os.chown(self.root / "mail", uid, gid)
        users = self.root / "users"
        users.write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        os.chmod(users, 0o644)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            _CONFIG.format(root=self.root, account=account, group=group, uid=uid, gid=gid, port=self.port)
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() can end all its children
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                pytest.fail(f"dovecot exited with {self.process.returncode}: {output}\n{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as conn:
                    conn.settimeout(2)
                    if conn.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"dovecot did not answer on port {self.port} within {timeout}s\n{self.log()}")
            time.sleep(0.05)

    def stop(self, graceful: bool = False) -> None:
        """Stop the server and delete its files.

        By default the whole process group (master, login, auth, imap, log...)
        gets SIGKILL: instant, where a graceful SIGTERM costs a second per test
        because the Dovecot master waits for its children. The mailbox is deleted
        anyway, so nothing is lost; it also behaves like a crashed server for
        tests that stop it mid-session.
        """
        if self.process is not None and self.process.poll() is None:
            if graceful:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            if self.process.poll() is None or not graceful:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)  # own session: see start()
                except ProcessLookupError:
                    pass
                self.process.wait()
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else "(no dovecot log)"

    # -- helpers that go through the real server ---------------------------

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """APPEND ``raw`` to ``folder`` (created when missing); returns the new UID."""
        if b"\r\n" not in raw:
            raw = raw.replace(b"\n", b"\r\n")
        client = self.connect()
        try:
            if folder.upper() != "INBOX":
                client.create(folder)  # NO when it exists: fine
            typ, data = client.append(folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", (typ, data)
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return int(match.group(1)) if match else -1
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> List[Tuple[int, Tuple[str, ...], bytes]]:
        """Every message in ``folder`` as (uid, flags, raw), oldest first."""
        client = self.connect()
        try:
            typ, _ = client.select(folder, readonly=True)
            assert typ == "OK", typ
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            result = []
            for item in data:
                if not isinstance(item, tuple):
                    continue
                meta, raw = item
                uid = int(re.search(rb"UID (\d+)", meta).group(1))
                flags_text = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode()
                result.append((uid, tuple(flags_text.split()), raw))
            return sorted(result)
        finally:
            client.logout()

    def settings(self) -> dict:
        """Connection values for the code under test."""
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password}


@pytest.fixture
def imap_server():
    server = ImapServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
