"""The relay client against upstreams with TLS and AUTH."""

import os
import subprocess

import pytest

from conftest import PASSWORDS, PKI, base_config, free_port
from upstream import RELAY_PASSWORD, RELAY_USER, Upstream
from scenarios import tls_context

import smtplib

HERE = os.path.dirname(os.path.abspath(__file__))


def credentials(workdir, mode=0o600):
    path = os.path.join(workdir, "relay-credentials")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write("%s:%s\n" % (RELAY_USER, RELAY_PASSWORD))
    os.chmod(path, mode)
    return path


def pin_of(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey",
                          "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                         input=pub, capture_output=True, check=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()


def submit(port):
    c = smtplib.SMTP_SSL("127.0.0.1", port, timeout=30,
                         context=tls_context(PKI + "/ca.pem"))
    c.login("alice", PASSWORDS["alice"])
    code, msg = c.mail("alice@example.test")
    if code == 250:
        c.rcpt("bob@example.test")
        code, msg = c.data(b"From: alice@example.test\r\n\r\nhi\r\n")
    c.quit()
    return code, msg


@pytest.mark.parametrize("mode,scheme", [("smtps", "smtps"),
                                         ("starttls", "smtp")])
def test_pinned_upstream_with_auth(run_postlet, workdir, mode, scheme):
    port = free_port()
    with Upstream(port, mode, PKI) as up:
        sub, imp = free_port(), free_port()
        run_postlet(base_config(sub, imp, relay="%s://127.0.0.1:%d" %
                                (scheme, port)) + [
            "relay_credentials %s" % credentials(workdir),
            "relay_pin %s" % pin_of(PKI + "/server.pem")])
        code, msg = submit(imp)
        assert code == 250, msg
        got = up.recorder.wait()
        assert got["auth"] and got["tls"]


def test_wrong_pin_is_temporary_failure(run_postlet, workdir):
    port = free_port()
    with Upstream(port, "smtps", PKI) as up:
        sub, imp = free_port(), free_port()
        p = run_postlet(base_config(sub, imp, relay="smtps://127.0.0.1:%d" %
                                    port) + [
            "relay_credentials %s" % credentials(workdir),
            "relay_pin %s" % ("ab" * 32)])
        code, msg = submit(imp)
        assert code == 451 and msg.startswith(b"4.7.5"), msg
        p.wait_log("pin")
        assert up.recorder.messages == []


def test_credentials_readable_by_others_refused(run_postlet, workdir):
    sub, imp = free_port(), free_port()
    path = credentials(workdir, 0o644)
    conf = os.path.join(workdir, "bad.conf")
    with open(conf, "w") as f:
        f.write("\n".join(base_config(sub, imp,
                                      relay="smtps://127.0.0.1:1") +
                          ["relay_credentials %s" % path,
                           "relay_pin %s" % ("ab" * 32)]) + "\n")
    from conftest import BINARY
    r = subprocess.run([BINARY, "-f", "-c", conf], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2, r
    assert path in r.stderr and "chmod" in r.stderr, r.stderr


def test_names_and_certificates_in_namespace(workdir):
    """CA verification by name: good, name mismatch, expired; and an
    upstream found by its RFC 6186 SRV record."""
    if os.geteuid() != 0:
        pytest.skip("needs root for unshare --net --mount")
    r = subprocess.run(["unshare", "--net", "--mount", "/usr/bin/python3",
                        os.path.join(HERE, "relay_names.py"), workdir],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ok ") == 5, r.stdout


def test_sighup_reloads_relay_credentials(run_postlet, workdir):
    """A provider password changed on the router takes effect on SIGHUP."""
    import signal

    port = free_port()
    with Upstream(port, "smtps", PKI) as up:
        path = os.path.join(workdir, "relay-credentials")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("%s:old password\n" % RELAY_USER)
        sub, imp = free_port(), free_port()
        p = run_postlet(base_config(sub, imp, relay="smtps://127.0.0.1:%d" %
                                    port) + [
            "relay_credentials %s" % path,
            "relay_pin %s" % pin_of(PKI + "/server.pem")])
        code, msg = submit(imp)
        assert code == 451 and msg.startswith(b"4.7.0"), msg
        credentials(workdir)
        p.signal(signal.SIGHUP)
        p.wait_log("reload result=ok")
        code, msg = submit(imp)
        assert code == 250, msg
        assert up.recorder.wait()["auth"]
        # A credentials file others can read is refused on reload too,
        # with the reason, and the working settings stay.
        os.chmod(path, 0o644)
        p.signal(signal.SIGHUP)
        line = p.wait_log("result=refused")
        assert "chmod" in line, line
        assert submit(imp)[0] == 250
