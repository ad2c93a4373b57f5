"""Fixtures that run the real postlet binary for integration tests."""

import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# POSTLET_BINARY runs the suite against another build (a sanitizer one).
BINARY = os.environ.get("POSTLET_BINARY",
                        os.path.join(ROOT, "build", "postlet"))
PKI = os.path.join(ROOT, "build", "test", "pki")


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Postlet:
    """One postlet process in the foreground, its log collected."""

    def __init__(self, workdir, lines, prefix=None):
        self.dir = workdir
        self.conf = os.path.join(workdir, "postlet.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.prefix = prefix or []
        self.proc = None
        self.log = []
        self.cond = threading.Condition()
        self.done = False

    def start(self, wait_for="start version="):
        self.proc = subprocess.Popen(
            self.prefix + [BINARY, "-f", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace")
        threading.Thread(target=self._reader, daemon=True).start()
        if wait_for:
            self.wait_log(wait_for)
        return self

    def _reader(self):
        for line in self.proc.stdout:
            with self.cond:
                self.log.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def text(self):
        with self.cond:
            return "\n".join(self.log)

    def wait_log(self, needle, timeout=15):
        """Wait until a log line contains needle; return that line."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.log:
                    if needle in line:
                        return line
                left = end - time.monotonic()
                if left <= 0 or self.done:
                    raise AssertionError(
                        "no %r in postlet's log (exit %r):\n%s" %
                        (needle, self.proc.poll(), "\n".join(self.log)))
                self.cond.wait(min(left, 0.2))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=35):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("postlet did not stop on SIGTERM:\n" +
                                 self.text())


USERS = os.path.join(ROOT, "build", "test", "users")
PASSWORDS = {"alice": "alice secret", "bob": "b0b:pass"}
GRANTS = {"alice": "alice@example.test,*@alice.test",
          "bob": "bob@example.test"}


def make_users_file():
    """The test users, hashed by openssl the way an administrator would."""
    lines = []
    for name, pw in sorted(PASSWORDS.items()):
        flag = "-6" if name == "alice" else "-5"
        h = subprocess.run(["openssl", "passwd", flag, "-stdin"],
                           input=pw, capture_output=True, text=True,
                           check=True).stdout.strip()
        lines.append("%s:%s:%s" % (name, h, GRANTS[name]))
    with open(USERS + ".tmp", "w") as f:
        f.write("# test users\n" + "\n".join(lines) + "\n")
    os.replace(USERS + ".tmp", USERS)


make_users_file()


def base_config(submission, implicit, host="127.0.0.1", extra=(),
                relay="smtp+plain://127.0.0.1:9"):
    h = "[%s]" % host if ":" in host else host
    return [
        "hostname mail.test",
        "domain example.test",
        "listen %s:%d starttls" % (h, submission),
        "listen %s:%d tls" % (h, implicit),
        "certificate %s/chain.pem" % PKI,
        "key %s/server.key" % PKI,
        "users %s" % USERS,
        "relay %s" % relay,
        "log_level debug",
    ] + list(extra)


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="postlet-test-") as d:
        yield d


@pytest.fixture
def run_postlet(workdir):
    """Start postlet with a list of config lines; stopped at teardown."""
    started = []

    def start(lines, prefix=None, wait_for="start version="):
        p = Postlet(workdir, lines, prefix)
        started.append(p)
        return p.start(wait_for)

    yield start
    # Every daemon must have lived to exit cleanly on SIGTERM: a crash, or
    # a sanitizer's abort, fails the test that caused it.
    for p in started:
        rc = p.stop()
        assert rc == 0, "postlet exited with %r:\n%s" % (rc, p.text())


@pytest.fixture
def ca():
    return os.path.join(PKI, "ca.pem")


@pytest.fixture
def host_postlet(run_postlet):
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(sub, imp))
    p.host, p.submission, p.implicit = "127.0.0.1", sub, imp
    return p
