"""The subcommands an administrator uses: passwd, check, test; and a
users file reloaded with SIGHUP."""

import os
import signal
import smtplib
import subprocess

from conftest import BINARY, PKI, base_config, free_port
from scenarios import tls_context
from upstream import Upstream


def run(args, **kw):
    return subprocess.run([BINARY] + args, capture_output=True, text=True,
                          timeout=30, **kw)


def test_passwd_line_logs_in(run_postlet, workdir):
    r = run(["passwd", "carol", "carol@example.test,*@carol.test"],
            input="carol's pw\n")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    name, hashed, senders = line.split(":")
    assert name == "carol" and hashed.startswith("$6$")
    assert senders == "carol@example.test,*@carol.test"
    r5 = run(["passwd", "-5", "carol", "carol@example.test"], input="x\n")
    assert r5.stdout.split(":")[1].startswith("$5$")
    users = os.path.join(workdir, "users")
    with open(users, "w") as f:
        f.write(line + "\n")
    with Upstream(free_port()) as up:
        sub, imp = free_port(), free_port()
        lines = [l for l in base_config(sub, imp,
                                        relay="smtp+plain://127.0.0.1:%d" %
                                        up.port)
                 if not l.startswith("users ")] + ["users %s" % users]
        run_postlet(lines)
        c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=20,
                             context=tls_context(PKI + "/ca.pem"))
        c.login("carol", "carol's pw")
        c.sendmail("x@carol.test", ["d@example.test"],
                   b"From: x@carol.test\r\n\r\nhi\r\n")
        c.quit()
        assert up.recorder.wait()["from"] == "x@carol.test"


def test_passwd_refuses_bad_senders():
    r = run(["passwd", "carol", "not an address"], input="pw\n")
    assert r.returncode != 0
    assert r.stderr.strip(), r


def test_check_prints_srv_records(workdir):
    conf = os.path.join(workdir, "c.conf")
    with open(conf, "w") as f:
        f.write("\n".join(base_config(587, 465)) + "\n")
    r = run(["check", "-c", conf])
    assert r.returncode == 0, r.stderr
    # RFC 8314 5.1: implicit TLS is preferred, so it has priority 0.
    assert "_submissions._tcp.example.test. SRV 0 1 465 mail.test." in \
        r.stdout, r.stdout
    assert "_submission._tcp.example.test. SRV 10 1 587 mail.test." in \
        r.stdout, r.stdout
    assert "users " in r.stdout and "2 users" in r.stdout


def test_postlet_test_diagnoses(workdir):
    with Upstream(free_port()) as up:
        conf = os.path.join(workdir, "ok.conf")
        with open(conf, "w") as f:
            f.write("\n".join(base_config(
                free_port(), free_port(),
                relay="smtp+plain://127.0.0.1:%d" % up.port)) + "\n")
        r = run(["test", "-c", conf, "friend@example.test"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "< 220" in r.stdout and "> EHLO" in r.stdout
        assert up.recorder.wait()["rcpts"] == ["friend@example.test"]
    dead = os.path.join(workdir, "dead.conf")
    port = free_port()
    with open(dead, "w") as f:
        f.write("\n".join(base_config(
            free_port(), free_port(),
            relay="smtp+plain://127.0.0.1:%d" % port)) + "\n")
    r = run(["test", "-c", dead])
    assert r.returncode != 0
    last = r.stdout.strip().splitlines()[-1]
    assert "connection refused" in last and str(port) in last, r.stdout


def test_sighup_reloads_users(run_postlet, workdir):
    users = os.path.join(workdir, "users")
    with open(users, "w") as f:
        f.write("# nobody yet\n")
    sub, imp = free_port(), free_port()
    lines = [l for l in base_config(sub, imp) if not l.startswith("users ")]
    p = run_postlet(lines + ["users %s" % users])
    ctx = tls_context(PKI + "/ca.pem")
    c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=20, context=ctx)
    try:
        c.login("dave", "dave pw")
        raise AssertionError("login before the user existed")
    except smtplib.SMTPAuthenticationError:
        pass
    c.close()
    line = run(["passwd", "dave", "dave@example.test"],
               input="dave pw\n").stdout
    with open(users, "w") as f:
        f.write(line)
    p.signal(signal.SIGHUP)
    p.wait_log("reload result=ok")
    c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=20, context=ctx)
    c.login("dave", "dave pw")
    c.quit()
    # A broken users file is refused with file:line and changes nothing.
    with open(users, "a") as f:
        f.write("broken line\n")
    p.signal(signal.SIGHUP)
    line = p.wait_log("result=refused")
    assert users + ":2:" in line, line


def test_sighup_applies_limits(run_postlet):
    sub, imp = free_port(), free_port()
    p = run_postlet(base_config(sub, imp))
    ctx = tls_context(PKI + "/ca.pem")
    c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=20, context=ctx)
    c.ehlo("a.test")
    assert c.esmtp_features["size"] == "26214400"
    c.quit()
    with open(p.conf, "a") as f:
        f.write("max_message_size 2000\n")
    p.signal(signal.SIGHUP)
    p.wait_log("reload result=ok")
    c = smtplib.SMTP_SSL("127.0.0.1", imp, timeout=20, context=ctx)
    c.ehlo("a.test")
    assert c.esmtp_features["size"] == "2000"
    c.quit()
