"""Limits a stolen password or a broken client runs into, and the message
path's treatment of awkward bytes, checked at the upstream."""

import os
import smtplib
import socket
import struct
import time

import pytest

from conftest import PASSWORDS, PKI, base_config, free_port
from scenarios import Lines, connect, tls_context
from upstream import Upstream

CA = os.path.join(PKI, "ca.pem")
AUTH_ALICE = b"AUTH PLAIN AGFsaWNlAGFsaWNlIHNlY3JldA==\r\n"


@pytest.fixture
def limited(run_postlet):
    """postlet with small limits in front of a recording upstream."""
    started = []

    def start(*extra):
        up = Upstream(free_port()).__enter__()
        started.append(up)
        sub, imp = free_port(), free_port()
        p = run_postlet(base_config(
            sub, imp, relay="smtp+plain://127.0.0.1:%d" % up.port,
            extra=extra))
        p.implicit, p.submission, p.upstream = imp, sub, up
        return p

    yield start
    for up in started:
        up.__exit__(None, None, None)


def session(p):
    s = tls_context(CA).wrap_socket(connect("127.0.0.1", p.implicit),
                                    server_hostname="localhost")
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"EHLO l.test\r\n" + AUTH_ALICE)
    r.expect("250 ")
    r.expect("235 ")
    return s, r


def start_data(s, r, mail_params=b""):
    """MAIL, one RCPT and DATA, each accepted: the message may follow."""
    s.sendall(b"MAIL FROM:<alice@example.test>" + mail_params +
              b"\r\nRCPT TO:<b@x.test>\r\nDATA\r\n")
    r.expect("250 ")
    r.expect("250 ")
    r.expect("354 ")


def test_size_declared_and_actual(limited):
    p = limited("max_message_size 2000")
    s, r = session(p)
    s.sendall(b"MAIL FROM:<alice@example.test> SIZE=5000\r\n")
    r.expect("552 5.3.4")
    start_data(s, r)
    s.sendall(b"From: alice@example.test\r\n\r\n" +
              (b"x" * 70 + b"\r\n") * 60 + b".\r\n")
    r.expect("552 5.3.4")
    # The session goes on, and nothing reached the upstream.
    s.sendall(b"NOOP\r\n")
    r.expect("250 ")
    assert p.upstream.recorder.messages == []


def test_overlong_line_refused(limited):
    p = limited()
    s, r = session(p)
    start_data(s, r)
    s.sendall(b"From: alice@example.test\r\n\r\n" + b"y" * 1200 +
              b"\r\n.\r\n")
    r.expect("554 5.6.0")
    assert p.upstream.recorder.messages == []


def test_awkward_bytes_arrive_canonical(limited):
    p = limited()
    s, r = session(p)
    start_data(s, r, b" BODY=8BITMIME")
    # Bare LF and CR, a stuffed dot, 8-bit bytes, and "\n.\n", which
    # must not end the message (SMTP smuggling).
    s.sendall(b"From: alice@example.test\r\nSubject: bytes\r\n\r\n"
              b"A\nB\r\n..dot\r\nC\rD\r\n\n.\nMAIL FROM:<evil@x.test>\r\n"
              b"caf\xc3\xa9\r\n.\r\n")
    r.expect("250 ")
    s.sendall(b"QUIT\r\n")
    r.expect("221 ")
    got = p.upstream.recorder.wait()
    body = got["data"].split(b"\r\n\r\n", 1)[1]
    assert body == (b"A\r\nB\r\n.dot\r\nC\r\nD\r\n\r\n.\r\n"
                    b"MAIL FROM:<evil@x.test>\r\ncaf\xc3\xa9\r\n"), body
    time.sleep(0.2)
    assert len(p.upstream.recorder.messages) == 1


def test_recipient_limit(limited):
    p = limited("max_recipients 5")
    s, r = session(p)
    s.sendall(b"MAIL FROM:<alice@example.test>\r\n")
    r.expect("250 ")
    for i in range(5):
        s.sendall(b"RCPT TO:<r%d@x.test>\r\n" % i)
        r.expect("250 ")
    s.sendall(b"RCPT TO:<r5@x.test>\r\n")
    r.expect("452 4.5.3")
    s.sendall(b"DATA\r\n")
    r.expect("354 ")
    s.sendall(b"From: alice@example.test\r\n\r\nhi\r\n.\r\n")
    r.expect("250 ")
    assert len(p.upstream.recorder.wait()["rcpts"]) == 5


def test_message_rate_limit(limited):
    p = limited("rate_messages 1")
    c = smtplib.SMTP_SSL("127.0.0.1", p.implicit, timeout=20,
                         context=tls_context(CA))
    c.login("alice", PASSWORDS["alice"])
    c.sendmail("alice@example.test", ["b@x.test"],
               b"From: alice@example.test\r\n\r\none\r\n")
    code, msg = c.mail("alice@example.test")
    assert code == 450 and b"4.7.1" in msg, (code, msg)
    c.quit()


def test_failed_logins_slow_down(limited):
    p = limited()
    s = tls_context(CA).wrap_socket(connect("127.0.0.1", p.implicit),
                                    server_hostname="localhost")
    s.settimeout(30)
    r = Lines(s)
    r.expect("220 ")
    s.sendall(b"EHLO l.test\r\n")
    r.expect("250 ")
    bad = b"AUTH PLAIN AGFsaWNlAHdyb25n\r\n"  # alice / wrong
    for _ in range(3):
        s.sendall(bad)
        r.expect("535 5.7.8")
    # Past the free failures the answer is held back (a lower bound
    # only: a slow machine can never make this fail).
    start = time.monotonic()
    s.sendall(bad)
    r.expect("535 5.7.8")
    assert time.monotonic() - start >= 0.9
    p.wait_log("result=fail")


def test_sessions_per_client(limited):
    p = limited("max_sessions_per_client 2")
    held = []
    for _ in range(2):
        s = connect("127.0.0.1", p.submission)
        Lines(s).expect("220 ")
        held.append(s)
    s = connect("127.0.0.1", p.submission)
    Lines(s).expect("421 ")
    p.wait_log("reason=max-sessions-per-client")


def test_abrupt_disconnects_leave_the_daemon_serving(limited):
    """Clients that vanish at every stage of a session (a fault closes one
    session, never the daemon); run under ASan by integration-asan."""
    p = limited()
    p.upstream.recorder.rcpt_delay = 0.5
    stages = [
        b"",                                   # right after the greeting
        AUTH_ALICE[:20],                       # inside an AUTH line
        b"AUTH LOGIN\r\n",                     # in the SASL exchange
        b"MAIL FROM:<alice@example.test>\r\n",  # while the upstream opens
        b"MAIL FROM:<alice@example.test>\r\nRCPT TO:<b@x.test>\r\n",
        b"MAIL FROM:<alice@example.test>\r\nRCPT TO:<b@x.test>\r\n"
        b"DATA\r\nFrom: alice@example.test\r\n\r\nhalf a mess",
    ]
    for stage in stages:
        for _ in range(3):
            s, r = session(p)
            if stage:
                s.sendall(stage)
            time.sleep(0.05)
            s.close()
    # Plain TCP connections that never start TLS, and a reset.
    for _ in range(3):
        s = connect("127.0.0.1", p.implicit)
        s.sendall(b"\x16\x03\x01")
        s.close()
    s = connect("127.0.0.1", p.submission)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    s.close()
    time.sleep(1.5)
    # The daemon still delivers.
    p.upstream.recorder.rcpt_delay = 0
    c = smtplib.SMTP_SSL("127.0.0.1", p.implicit, timeout=20,
                         context=tls_context(CA))
    c.login("alice", PASSWORDS["alice"])
    c.sendmail("alice@example.test", ["b@x.test"],
               b"From: alice@example.test\r\n\r\nstill here\r\n")
    c.quit()
    assert p.upstream.recorder.wait()["data"].endswith(b"still here\r\n")
    assert p.proc.poll() is None
